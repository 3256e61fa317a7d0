//! The tenant pool refuses, on every connection it opens, a session any of
//! whose roles — current, session, or the one it logged in as — skips
//! row-level security or can make itself a role that does, and a session
//! that starts as a tenant; with a message that says why and what to do. It
//! admits a privileged role only when told why, and then shows what the
//! refusal protects against.

use sqlx::{AssertSqlSafe, Connection, PgConnection};
use tenancy_sqlx::ddl::TableSet;
use tenancy_sqlx::testing::{APP_ROLE, OWNER_ROLE, RoleAttribute, TestDatabase, TestRole};
use tenancy_sqlx::{Error, Postgres, PrivilegedRole, TenantPool, TenantPoolOptions};
use tenancy_test::shop::tables::{Order, table_set};
use tenancy_test::shop::{A, B, pool_options, shop, tenant};
use tenancy_test::{BoxError, TestResult};

/// The part of every refusal that says how to fix it.
const FIX: &str = "Connect the tenant pool as a role created with NOSUPERUSER NOBYPASSRLS \
                   NOCREATEROLE that does not own the tables, or use `OwnerPool` for migrations \
                   (to accept this role anyway, say why with \
                   `TenantPoolOptions::allow_rls_bypassing_role`)";

/// The role, the problem and the message of a refusal (of a pool, or of a
/// session's check).
fn refusal<T>(result: Result<T, Error>) -> Result<(String, PrivilegedRole, String), BoxError> {
    match result {
        Err(error @ Error::PrivilegedRole { .. }) => {
            let message = error.to_string();
            let Error::PrivilegedRole { role, problem } = error else {
                return Err("the error changed its variant".into());
            };
            Ok((role, problem, message))
        }
        Err(other) => Err(format!("refused for another reason: {other}").into()),
        Ok(_) => Err("accepted".into()),
    }
}

/// Connects a tenant pool as `url`, with the shop's tables registered.
async fn connect(url: &str) -> Result<TenantPool, Error> {
    TenantPool::<Postgres>::connect(url, pool_options()).await
}

/// Runs `sql` as the superuser.
async fn as_admin(db: &TestDatabase, sql: String) -> TestResult {
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(&db.admin_pool().await?)
        .await?;
    Ok(())
}

/// A login role made for the test, with the application role's privileges
/// and policies (it is a member of it).
async fn application_like(db: &TestDatabase, name: &str) -> TestResult<TestRole> {
    let role = db.create_role(name, &[]).await?;
    as_admin(db, format!("GRANT {APP_ROLE} TO \"{}\"", role.name())).await?;
    Ok(role)
}

#[tokio::test]
async fn a_superuser_is_refused_with_the_reason_and_the_fix() -> TestResult {
    let db = shop(&[A, B]).await?;
    let (role, problem, message) = refusal(connect(&db.admin_url()).await)?;
    assert_eq!(problem, PrivilegedRole::Superuser);
    assert_eq!(
        message,
        format!(
            "role `{role}` is a superuser: PostgreSQL skips every row-level security policy \
             for it. {FIX}"
        )
    );
    Ok(())
}

#[tokio::test]
async fn a_bypassrls_role_is_refused_with_the_reason_and_the_fix() -> TestResult {
    let db = shop(&[A, B]).await?;
    let bypass = db
        .create_role("bypass", &[RoleAttribute::BypassRls])
        .await?;
    let (role, problem, message) = refusal(connect(bypass.url()).await)?;
    assert_eq!(
        (role.as_str(), &problem),
        (bypass.name(), &PrivilegedRole::BypassRls)
    );
    assert_eq!(
        message,
        format!(
            "role `{role}` has the BYPASSRLS attribute: PostgreSQL skips every row-level \
             security policy for it. {FIX}"
        )
    );
    Ok(())
}

#[tokio::test]
async fn the_tables_owner_is_refused_with_the_reason_and_the_fix() -> TestResult {
    let db = shop(&[A, B]).await?;
    let (role, problem, message) = refusal(connect(&db.owner_url()).await)?;
    let owned = ["customers", "order_items", "orders", "plans"].map(str::to_owned);
    assert_eq!(
        (role.as_str(), problem),
        (OWNER_ROLE, PrivilegedRole::OwnsTables(owned.to_vec()))
    );
    assert_eq!(
        message,
        format!(
            "role `{OWNER_ROLE}` owns (or has the privileges of the owner of) customers, \
             order_items, orders, plans: an owner can disable row-level security or drop the \
             policy, and skips the policies unless FORCE ROW LEVEL SECURITY is set. {FIX}"
        )
    );
    Ok(())
}

/// A member that inherits the owner's privileges is refused as an owner.
#[tokio::test]
async fn a_member_of_the_owner_role_is_refused() -> TestResult {
    let db = shop(&[]).await?;
    let member = db.create_role("member", &[]).await?;
    as_admin(&db, format!("GRANT {OWNER_ROLE} TO \"{}\"", member.name())).await?;
    let (_, problem, _) = refusal(connect(member.url()).await)?;
    assert!(
        matches!(problem, PrivilegedRole::OwnsTables(_)),
        "{problem:?}"
    );
    Ok(())
}

/// A member of the owner role that does not inherit its privileges: RLS
/// applies to it, but `SET ROLE` makes it the owner, who can disable RLS.
#[tokio::test]
async fn a_role_that_can_set_role_to_the_owner_is_refused() -> TestResult {
    let db = shop(&[]).await?;
    let member = db.create_role("noinherit", &[]).await?;
    as_admin(
        &db,
        format!(
            "ALTER ROLE \"{0}\" NOINHERIT; GRANT {OWNER_ROLE} TO \"{0}\"",
            member.name()
        ),
    )
    .await?;
    let (role, problem, _) = refusal(connect(member.url()).await)?;
    assert_eq!(
        (role.as_str(), problem),
        (
            member.name(),
            PrivilegedRole::MemberOf(vec![OWNER_ROLE.to_owned()])
        )
    );
    Ok(())
}

/// `BYPASSRLS` is never inherited, but a member can `SET ROLE` to it.
#[tokio::test]
async fn a_member_of_a_bypassrls_role_is_refused() -> TestResult {
    let db = shop(&[]).await?;
    let bypass = db
        .create_role("bypass", &[RoleAttribute::BypassRls])
        .await?;
    let member = db.create_role("member", &[]).await?;
    as_admin(
        &db,
        format!("GRANT \"{}\" TO \"{}\"", bypass.name(), member.name()),
    )
    .await?;
    let (role, problem, message) = refusal(connect(member.url()).await)?;
    assert!(
        message.contains(&format!(
            "role `{}` is a member of {}, which row-level security does not confine",
            member.name(),
            bypass.name()
        )),
        "{message}"
    );
    assert!(message.contains("revoke the membership"), "{message}");
    assert_eq!(
        (role.as_str(), problem),
        (
            member.name(),
            PrivilegedRole::MemberOf(vec![bypass.name().to_owned()])
        )
    );
    Ok(())
}

/// On PostgreSQL 15 a `CREATEROLE` role can grant itself the tables' owner,
/// and then turn `FORCE ROW LEVEL SECURITY` off: refused before it can.
#[tokio::test]
async fn a_createrole_role_is_refused() -> TestResult {
    let db = shop(&[A, B]).await?;
    let creator = db
        .create_role("creator", &[RoleAttribute::CreateRole])
        .await?;
    let (role, problem, message) = refusal(connect(creator.url()).await)?;
    assert_eq!(
        (role.as_str(), &problem),
        (creator.name(), &PrivilegedRole::CreateRole)
    );
    assert!(
        message.contains("has the CREATEROLE attribute"),
        "{message}"
    );

    // What the refusal prevents: the role makes itself the owner.
    let mut session = PgConnection::connect(creator.url()).await?;
    let granted = sqlx::raw_sql(AssertSqlSafe(format!(
        "GRANT {OWNER_ROLE} TO \"{}\"",
        creator.name()
    )))
    .execute(&mut session)
    .await;
    assert!(granted.is_ok(), "{granted:?}");
    let owner: bool = sqlx::query_scalar("SELECT pg_has_role(current_user, $1, 'USAGE')")
        .bind(OWNER_ROLE)
        .fetch_one(&mut session)
        .await?;
    assert!(owner, "the CREATEROLE role could not make itself the owner");
    session.close().await?;
    Ok(())
}

/// `ADMIN OPTION` on the owner lets a role grant the owner to anyone; it is
/// refused for that, ahead of its membership.
#[tokio::test]
async fn a_role_with_admin_option_on_the_owner_is_refused() -> TestResult {
    let db = shop(&[]).await?;
    let admin_of = db.create_role("admin_of", &[]).await?;
    as_admin(
        &db,
        format!(
            "ALTER ROLE \"{0}\" NOINHERIT; GRANT {OWNER_ROLE} TO \"{0}\" WITH ADMIN OPTION",
            admin_of.name()
        ),
    )
    .await?;
    let (role, problem, message) = refusal(connect(admin_of.url()).await)?;
    assert_eq!(
        (role.as_str(), problem),
        (
            admin_of.name(),
            PrivilegedRole::AdminOf(vec![OWNER_ROLE.to_owned()])
        )
    );
    assert!(
        message.contains(&format!("holds ADMIN OPTION on {OWNER_ROLE}")),
        "{message}"
    );
    Ok(())
}

/// A role that reads the server's files reads every tenant's rows from the
/// table files on disk, past any policy.
#[tokio::test]
async fn a_member_of_a_role_that_reads_the_servers_files_is_refused() -> TestResult {
    let db = shop(&[]).await?;
    let reader = application_like(&db, "files").await?;
    as_admin(
        &db,
        format!("GRANT pg_read_server_files TO \"{}\"", reader.name()),
    )
    .await?;
    let (role, problem, _) = refusal(connect(reader.url()).await)?;
    assert_eq!(
        (role.as_str(), problem),
        (
            reader.name(),
            PrivilegedRole::MemberOf(vec!["pg_read_server_files".to_owned()])
        )
    );
    Ok(())
}

/// A superuser login that switched to the application role: RLS applies to
/// the current role, but `RESET ROLE` in raw SQL would switch back.
#[tokio::test]
async fn a_superuser_session_that_set_role_to_the_application_role_is_refused() -> TestResult {
    let db = shop(&[]).await?;
    let admin: sqlx::postgres::PgConnectOptions = db.admin_url().parse()?;
    let superuser = admin.get_username().to_owned();
    let role_option = admin.options([("role", APP_ROLE)]);
    let pool =
        TenantPool::<Postgres>::connect_with(Default::default(), role_option, pool_options()).await;
    let (role, problem, _) = refusal(pool)?;
    assert_eq!((role, problem), (superuser, PrivilegedRole::Superuser));
    Ok(())
}

/// `SET SESSION AUTHORIZATION` changes both the current and the session
/// role; only the server's record of the session names the superuser it
/// logged in as, and `RESET SESSION AUTHORIZATION` gives it back.
#[tokio::test]
async fn a_superuser_login_behind_set_session_authorization_is_refused() -> TestResult {
    let db = shop(&[]).await?;
    let mut session = PgConnection::connect(&db.admin_url()).await?;
    let superuser: String = sqlx::query_scalar("SELECT session_user::text")
        .fetch_one(&mut session)
        .await?;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "SET SESSION AUTHORIZATION {APP_ROLE}"
    )))
    .execute(&mut session)
    .await?;
    let (current, session_role): (String, String) =
        sqlx::query_as("SELECT current_user::text, session_user::text")
            .fetch_one(&mut session)
            .await?;
    assert_eq!(
        (current.as_str(), session_role.as_str()),
        (APP_ROLE, APP_ROLE)
    );

    let verdict = tenancy_sqlx::audit::verify_session(&mut session, &table_set()).await;
    let (role, problem, _) = refusal(verdict)?;
    assert_eq!(
        (role.as_str(), problem),
        (superuser.as_str(), PrivilegedRole::Superuser)
    );

    // What the refusal prevents.
    sqlx::raw_sql("RESET SESSION AUTHORIZATION")
        .execute(&mut session)
        .await?;
    let is_superuser: bool =
        sqlx::query_scalar("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            .fetch_one(&mut session)
            .await?;
    assert!(is_superuser);
    session.close().await?;

    // The application role itself passes the same check.
    let mut app = PgConnection::connect(&db.app_url()).await?;
    tenancy_sqlx::audit::verify_session(&mut app, &table_set()).await?;
    app.close().await?;
    Ok(())
}

/// The owner of the tables, connecting with no tables registered: the
/// tables it owns that have row-level security are enough to refuse it.
#[tokio::test]
async fn the_owner_is_refused_even_when_no_table_is_registered() -> TestResult {
    let db = tenancy_test::shop::shop(&[]).await?;
    let pool =
        TenantPool::<Postgres>::connect(&db.owner_url(), TenantPoolOptions::new(&TableSet::new()))
            .await;
    let (role, problem, _) = refusal(pool)?;
    assert_eq!(
        (role.as_str(), problem),
        (
            OWNER_ROLE,
            PrivilegedRole::OwnsTables(
                ["customers", "order_items", "orders"]
                    .map(str::to_owned)
                    .to_vec()
            )
        )
    );
    Ok(())
}

/// The check runs on every connection the pool opens: a role that becomes
/// privileged after the pool was made is refused on the next connection,
/// and from then on the pool hands out no transaction at all, since the
/// attribute applies to its older sessions as well.
#[tokio::test]
async fn a_role_granted_bypassrls_after_the_pool_was_made_is_refused_on_the_next_connection()
-> TestResult {
    let db = shop(&[A, B]).await?;
    let late = application_like(&db, "late").await?;
    let pool = TenantPool::<Postgres>::connect_with(
        sqlx::postgres::PgPoolOptions::new().max_connections(2),
        late.url().parse()?,
        pool_options(),
    )
    .await?;
    let a = tenant(A);
    let mut first = pool.begin(&a).await?;
    let orders: Vec<Order> = first.fetch_all(Order::select(&a)).await?;
    assert_eq!(orders.len(), 4);

    as_admin(&db, format!("ALTER ROLE \"{}\" BYPASSRLS", late.name())).await?;
    // The first connection is still borrowed: this one is new.
    let second = pool.begin(&a).await;
    assert!(
        matches!(&second, Err(Error::PrivilegedRole { role, problem: PrivilegedRole::BypassRls })
            if role == late.name()),
        "{second:?}"
    );
    // The older session now skips the policies: what the refusal is for.
    let raw: Vec<i64> = sqlx::query_scalar("SELECT DISTINCT tenant_id FROM orders ORDER BY 1")
        .fetch_all(first.raw_connection())
        .await?;
    assert_eq!(raw, [A, B]);
    first.rollback().await?;

    let again = pool.begin(&a).await;
    assert!(
        matches!(again, Err(Error::PrivilegedRole { .. })),
        "the pool handed out its older connection: {again:?}"
    );
    Ok(())
}

/// With a stated reason each role is admitted, and the builder still
/// confines its statements to the tenant. Raw SQL shows what the database
/// layer does for such a role: nothing at all for the superuser and the
/// `BYPASSRLS` role, which see every tenant's rows; for the owner, under
/// FORCE with policies written for the application role, no policy applies,
/// so it sees no row at all — through the builder either. The application
/// role needs no reason.
#[tokio::test]
async fn a_stated_reason_admits_each_role_and_the_builder_still_confines_it() -> TestResult {
    let db = shop(&[A, B]).await?;
    let bypass = application_like(&db, "bypass").await?;
    as_admin(&db, format!("ALTER ROLE \"{}\" BYPASSRLS", bypass.name())).await?;
    let every_tenant = vec![A, A, A, A, B, B, B, B];
    // (role, URL, orders the builder's select returns, tenants raw SQL sees)
    let roles = [
        ("superuser", db.admin_url(), 4, every_tenant.clone()),
        ("BYPASSRLS", bypass.url().to_owned(), 4, every_tenant),
        // The owner's own policy confines it to the tenant it set.
        ("owner", db.owner_url(), 4, vec![A; 4]),
        ("application", db.app_url(), 4, vec![A; 4]),
    ];
    for (kind, url, built_rows, raw_sees) in roles {
        let options = pool_options().allow_rls_bypassing_role("single-role development database");
        let pool = TenantPool::<Postgres>::connect(&url, options).await?;
        let a = tenant(A);
        let mut tx = pool.begin(&a).await?;
        let built: Vec<Order> = tx.fetch_all(Order::select(&a)).await?;
        assert_eq!(built.len(), built_rows, "{kind}: {built:?}");
        assert!(
            built.iter().all(|order| order.tenant_id == A),
            "{kind}: {built:?}"
        );
        let raw: Vec<i64> = sqlx::query_scalar("SELECT tenant_id FROM orders ORDER BY tenant_id")
            .fetch_all(tx.raw_connection())
            .await?;
        assert_eq!(raw, raw_sees, "{kind}: raw SQL");
        tx.rollback().await?;
        pool.close().await;
    }
    connect(&db.app_url()).await?.close().await;
    Ok(())
}

/// Accepting a privileged role takes a reason that says something.
#[tokio::test]
async fn an_empty_reason_admits_no_role() -> TestResult {
    let db = shop(&[]).await?;
    for reason in ["", "   "] {
        let pool = TenantPool::<Postgres>::connect(
            &db.owner_url(),
            pool_options().allow_rls_bypassing_role(reason),
        )
        .await;
        assert!(
            matches!(pool, Err(Error::MissingReason { .. })),
            "{reason:?}: {pool:?}"
        );
    }
    Ok(())
}

/// A default for the tenant setting (`ALTER DATABASE .. SET app.tenant_id`,
/// left from a debugging session) makes every statement outside a tenant
/// transaction act as that tenant, where RLS should show no row at all.
#[tokio::test]
async fn a_session_that_starts_with_a_tenant_is_refused() -> TestResult {
    let db = shop(&[]).await?;
    as_admin(
        &db,
        format!("ALTER DATABASE \"{}\" SET app.tenant_id = '2'", db.name()),
    )
    .await?;
    let error = connect(&db.app_url()).await.err().ok_or("accepted")?;
    assert!(
        matches!(&error, Error::SessionTenantDefault { role, setting, value }
            if role == APP_ROLE && setting == "app.tenant_id" && value == "2"),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "sessions of role `{APP_ROLE}` start with `app.tenant_id` set to \"2\": outside a \
             tenant transaction they would act as that tenant, where row-level security should \
             show no row; remove the default where it is set (ALTER DATABASE or ALTER ROLE .. \
             RESET app.tenant_id, the connection's options, or postgresql.conf)"
        )
    );

    // A stated reason to accept a privileged role does not accept this.
    let pool = TenantPool::<Postgres>::connect(
        &db.app_url(),
        pool_options().allow_rls_bypassing_role("not about the tenant setting"),
    )
    .await;
    assert!(
        matches!(pool, Err(Error::SessionTenantDefault { .. })),
        "{pool:?}"
    );
    Ok(())
}

/// A role with `CREATE` on a schema or on the database can put a function,
/// operator or table where a `search_path` naming that schema finds it
/// before the built-in one or the registered table: refused, and accepted
/// only with a stated reason.
#[tokio::test]
async fn a_role_that_can_create_objects_is_refused_unless_a_reason_is_given() -> TestResult {
    let db = shop(&[A]).await?;
    let database: String = sqlx::query_scalar("SELECT quote_ident(current_database())")
        .fetch_one(&db.admin_pool().await?)
        .await?;
    let grants = [
        ("SCHEMA public", "schema public".to_owned()),
        (
            &*format!("DATABASE {database}"),
            format!("database {database}"),
        ),
    ];
    for (on, place) in grants {
        as_admin(&db, format!("GRANT CREATE ON {on} TO {APP_ROLE}")).await?;
        let (role, problem, message) = refusal(connect(&db.app_url()).await)?;
        assert_eq!(
            (role.as_str(), problem),
            (APP_ROLE, PrivilegedRole::CanCreate(vec![place.clone()]))
        );
        assert!(message.contains(&place), "{message}");
        assert!(
            message.contains("allow_role_that_creates_objects"),
            "{message}"
        );

        let empty = TenantPool::<Postgres>::connect(
            &db.app_url(),
            pool_options().allow_role_that_creates_objects(" "),
        )
        .await;
        assert!(
            matches!(empty, Err(Error::MissingReason { .. })),
            "{empty:?}"
        );
        let accepted = TenantPool::<Postgres>::connect(
            &db.app_url(),
            pool_options().allow_role_that_creates_objects("a sandbox the role builds in"),
        )
        .await?;
        let mut tx = accepted.begin(&tenant(A)).await?;
        let orders: Vec<Order> = tx.fetch_all(Order::select(&tenant(A))).await?;
        assert_eq!(orders.len(), 4);
        tx.rollback().await?;
        accepted.close().await;
        as_admin(&db, format!("REVOKE CREATE ON {on} FROM {APP_ROLE}")).await?;
    }
    connect(&db.app_url()).await?.close().await;
    Ok(())
}
