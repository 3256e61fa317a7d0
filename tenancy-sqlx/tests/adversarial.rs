//! Attacks on the adapter through its public API: session state that raw
//! SQL leaves on a pooled connection, and roles that pass the connect-time
//! check while they can still skip row-level security.

mod support;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Executor};
use support::tables::{Customer, table_set};
use support::{TestResult, database_with_tables, single_connection_pool};
use tenancy_sqlx::audit::FindingKind;
use tenancy_sqlx::ddl::TableSet;
use tenancy_sqlx::rls::{RlsPolicy, isolation_predicate};
use tenancy_sqlx::testing::{APP_ROLE, OWNER_ROLE, RoleAttribute, TestDatabase};
use tenancy_sqlx::{
    CrossTenant, Error, Identifier, OwnerPool, Postgres, PrivilegedRole, SettingName, TenantId,
    TenantPool, TenantPoolOptions, TenantTransaction,
};

type BoxError = Box<dyn std::error::Error>;

fn options() -> TenantPoolOptions {
    TenantPoolOptions::new().tables(&table_set())
}

/// The backend serving a connection.
async fn backend_pid(connection: &mut sqlx::PgConnection) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(connection)
        .await
}

/// Tenant 1 adds a customer, then, through raw SQL, keeps its customers in
/// a temporary table and a held cursor, and commits. Tenant 2 then begins on
/// the same pooled connection, which is checked to be the same backend (it
/// was cleaned, not replaced).
async fn next_tenant_after_raw_sql(
    db: &TestDatabase,
    application_name: &str,
) -> Result<TenantTransaction, BoxError> {
    let pool = single_connection_pool(db, application_name, options()).await?;
    let a = TenantId::from_verified(1);
    let mut tx = pool.begin(&a).await?;
    tx.execute(Customer::insert(&a).set(Customer::EMAIL, "secret@tenant-one.test".to_owned()))
        .await?;
    sqlx::raw_sql(
        "CREATE TEMP TABLE IF NOT EXISTS scratch AS SELECT email FROM customers;
         DECLARE held CURSOR WITH HOLD FOR SELECT email FROM customers",
    )
    .execute(tx.raw_connection())
    .await?;
    let first = backend_pid(tx.raw_connection()).await?;
    tx.commit().await?;

    let mut tx = pool.begin(&TenantId::from_verified(2)).await?;
    assert_eq!(backend_pid(tx.raw_connection()).await?, first);
    Ok(tx)
}

#[tokio::test]
async fn a_temporary_table_made_by_raw_sql_does_not_reach_the_next_tenant() -> TestResult {
    let db = database_with_tables().await?;
    let mut tx = next_tenant_after_raw_sql(&db, "adversarial-temp").await?;
    // Tenant 2's raw SQL, written the same careless way.
    let emails: Vec<String> = async {
        tx.raw_connection()
            .execute("CREATE TEMP TABLE IF NOT EXISTS scratch AS SELECT email FROM customers")
            .await?;
        sqlx::query_scalar("SELECT email FROM scratch")
            .fetch_all(tx.raw_connection())
            .await
    }
    .await?;
    assert_eq!(
        emails,
        Vec::<String>::new(),
        "tenant 1's rows reached tenant 2"
    );
    tx.rollback().await?;
    Ok(())
}

#[tokio::test]
async fn a_held_cursor_opened_by_raw_sql_does_not_reach_the_next_tenant() -> TestResult {
    let db = database_with_tables().await?;
    let mut tx = next_tenant_after_raw_sql(&db, "adversarial-cursor").await?;
    let held: Vec<String> = sqlx::query_scalar("SELECT name FROM pg_cursors WHERE is_holdable")
        .fetch_all(tx.raw_connection())
        .await?;
    assert_eq!(
        held,
        Vec::<String>::new(),
        "tenant 1's held cursor reached tenant 2"
    );
    tx.rollback().await?;
    Ok(())
}

/// The refusal of a pool: the role named and what is wrong with it.
fn refusal(result: Result<TenantPool, Error>) -> Result<(String, PrivilegedRole), String> {
    match result {
        Ok(_) => Err("accepted".to_owned()),
        Err(Error::PrivilegedRole { role, problem }) => Ok((role, problem)),
        Err(other) => Err(format!("refused for another reason: {other}")),
    }
}

/// A superuser login that switched to the application role: RLS applies to
/// the current role, but `RESET ROLE` in raw SQL would switch back.
#[tokio::test]
async fn a_superuser_session_that_set_role_to_the_application_role_is_refused() -> TestResult {
    let db = database_with_tables().await?;
    let admin: PgConnectOptions = db.admin_url().parse()?;
    let superuser = admin.get_username().to_owned();

    let set_role = format!("SET ROLE {APP_ROLE}");
    let hooked = PgPoolOptions::new()
        .after_connect(move |connection, _| {
            let set_role = set_role.clone();
            Box::pin(async move {
                connection.execute(AssertSqlSafe(set_role)).await?;
                Ok(())
            })
        })
        .connect_with(admin.clone())
        .await?;
    let refused = refusal(TenantPool::from_pool(hooked, options()).await)?;
    assert_eq!(refused, (superuser.clone(), PrivilegedRole::Superuser));

    let role_option = admin.options([("role", APP_ROLE)]);
    let pool =
        TenantPool::<Postgres>::connect_with(PgPoolOptions::new(), role_option, options()).await;
    let refused = refusal(pool)?;
    assert_eq!(refused, (superuser, PrivilegedRole::Superuser));
    Ok(())
}

/// A member of the owner role that does not inherit its privileges: RLS
/// applies to it, but `SET ROLE` makes it the owner, who can disable RLS.
#[tokio::test]
async fn a_role_that_can_set_role_to_the_owner_is_refused() -> TestResult {
    let db = database_with_tables().await?;
    let member = db.create_role("noinherit", &[]).await?;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "ALTER ROLE \"{0}\" NOINHERIT; GRANT {OWNER_ROLE} TO \"{0}\"",
        member.name()
    )))
    .execute(&db.admin_pool().await?)
    .await?;
    let refused = refusal(TenantPool::<Postgres>::connect(member.url(), options()).await)?;
    assert_eq!(
        refused,
        (
            member.name().to_owned(),
            PrivilegedRole::MemberOf(vec![OWNER_ROLE.to_owned()])
        )
    );
    Ok(())
}

/// `BYPASSRLS` is never inherited, but a member can `SET ROLE` to it.
#[tokio::test]
async fn a_member_of_a_bypassrls_role_is_refused() -> TestResult {
    let db = database_with_tables().await?;
    let bypass = db
        .create_role("bypass", &[RoleAttribute::BypassRls])
        .await?;
    let member = db.create_role("member", &[]).await?;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "GRANT \"{}\" TO \"{}\"",
        bypass.name(),
        member.name()
    )))
    .execute(&db.admin_pool().await?)
    .await?;
    let error = TenantPool::<Postgres>::connect(member.url(), options())
        .await
        .err()
        .ok_or("accepted")?;
    let message = error.to_string();
    assert!(
        message.contains(&format!(
            "role `{}` is a member of {}, which row-level security does not confine",
            member.name(),
            bypass.name()
        )),
        "{message}"
    );
    assert!(message.contains("revoke the membership"), "{message}");
    let refused = refusal(Err(error))?;
    assert_eq!(
        refused,
        (
            member.name().to_owned(),
            PrivilegedRole::MemberOf(vec![bypass.name().to_owned()])
        )
    );
    Ok(())
}

/// A tenant table partitioned by a migration written by hand.
#[tenancy_sqlx::tenant_scoped(table = "events")]
#[derive(Debug)]
pub struct Event {
    /// The tenant.
    pub tenant_id: i64,
    /// The key.
    #[tenancy(primary_key)]
    pub id: i64,
    /// What happened.
    pub body: String,
}

/// The events of two tenants, a partition each, one of them partitioned
/// again; row-level security set up on the parent only, the way
/// `OwnerPool::apply_rls` does; and the application role granted every
/// table in the schema, as migrations often do.
async fn partitioned_events(db: &TestDatabase) -> Result<OwnerPool, BoxError> {
    let owner = OwnerPool::from_pool(
        db.owner_pool().await?,
        CrossTenant::with_reason("test set-up").expect("a stated reason"),
    );
    sqlx::raw_sql(
        "CREATE TABLE events (tenant_id bigint NOT NULL, id bigint NOT NULL, body text NOT NULL,
             PRIMARY KEY (tenant_id, id)) PARTITION BY LIST (tenant_id);
         CREATE TABLE events_1 PARTITION OF events FOR VALUES IN (1);
         CREATE TABLE events_2 PARTITION OF events FOR VALUES IN (2) PARTITION BY RANGE (id);
         CREATE TABLE events_2_all PARTITION OF events_2 FOR VALUES FROM (MINVALUE) TO (MAXVALUE);
         INSERT INTO events VALUES (1, 1, 'one'), (2, 1, 'two');",
    )
    .execute(owner.pool())
    .await?;
    owner
        .apply_rls(&events(), &RlsPolicy::for_role(APP_ROLE)?)
        .await?;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {APP_ROLE}"
    )))
    .execute(owner.pool())
    .await?;
    Ok(owner)
}

fn events() -> TableSet {
    TableSet::new().with::<Event>()
}

/// What tenant 1's raw SQL reads from a partition of tenant 2.
async fn tenant_one_reads(db: &TestDatabase, partition: &str) -> Result<Vec<String>, BoxError> {
    let options = TenantPoolOptions::new().tables(&events());
    let pool = TenantPool::<Postgres>::connect(&db.app_url(), options).await?;
    let mut tx = pool.begin(&TenantId::from_verified(1)).await?;
    let bodies = sqlx::query_scalar(AssertSqlSafe(format!("SELECT body FROM {partition}")))
        .fetch_all(tx.raw_connection())
        .await?;
    tx.rollback().await?;
    Ok(bodies)
}

#[tokio::test]
async fn the_audit_reports_partitions_that_row_level_security_does_not_cover() -> TestResult {
    let db = TestDatabase::create().await?;
    let owner = partitioned_events(&db).await?;
    // Named directly, a partition is checked against its own policies.
    assert_eq!(tenant_one_reads(&db, "events_2_all").await?, ["two"]);

    let findings = owner.verify(&events(), &SettingName::default()).await?;
    let found: Vec<(Option<String>, FindingKind)> = findings
        .iter()
        .map(|finding| (finding.table.clone(), finding.kind))
        .collect();
    let mut expected = Vec::new();
    for child in ["events_1", "events_2", "events_2_all"] {
        for kind in [
            FindingKind::RlsDisabled,
            FindingKind::RlsNotForced,
            FindingKind::PolicyMissing,
        ] {
            expected.push((Some(child.to_owned()), kind));
        }
    }
    assert_eq!(found, expected, "{findings:#?}");
    assert!(
        findings[0]
            .message
            .starts_with("a partition or inheritance child of `events`"),
        "{}",
        findings[0].message
    );

    // Protected like the parent, the partitions pass, and filter.
    let column = Identifier::new("column", "tenant_id")?;
    let check = isolation_predicate(&column, &SettingName::default(), "bigint");
    for child in ["events_1", "events_2", "events_2_all"] {
        sqlx::raw_sql(AssertSqlSafe(format!(
            "ALTER TABLE {child} ENABLE ROW LEVEL SECURITY;
             ALTER TABLE {child} FORCE ROW LEVEL SECURITY;
             CREATE POLICY tenancy_isolation ON {child} AS PERMISSIVE FOR ALL TO {APP_ROLE}
                 USING ({check}) WITH CHECK ({check})"
        )))
        .execute(owner.pool())
        .await?;
    }
    let findings = owner.verify(&events(), &SettingName::default()).await?;
    assert_eq!(findings, [], "{findings:#?}");
    assert_eq!(
        tenant_one_reads(&db, "events_2_all").await?,
        Vec::<String>::new()
    );
    Ok(())
}

/// A login role that is a member of a `BYPASSRLS` role (which itself cannot
/// log in) is one `SET ROLE` away from skipping every policy.
#[tokio::test]
async fn the_role_audit_lists_login_roles_that_can_set_role_to_a_bypassing_one() -> TestResult {
    let db = TestDatabase::create().await?;
    let exporter = db.create_role("exporter", &[]).await?;
    let admin = db.admin_pool().await?;
    let group = format!("{}_group", exporter.name());
    sqlx::raw_sql(AssertSqlSafe(format!(
        "CREATE ROLE \"{group}\" NOLOGIN BYPASSRLS; GRANT \"{group}\" TO \"{}\"",
        exporter.name()
    )))
    .execute(&admin)
    .await?;
    let mut connection = db.app_pool().await?.acquire().await?;
    let findings = tenancy_sqlx::audit::roles_bypassing_rls(&mut connection).await?;
    sqlx::raw_sql(AssertSqlSafe(format!("DROP ROLE \"{group}\"")))
        .execute(&admin)
        .await?;

    let finding = findings
        .iter()
        .find(|finding| finding.message.contains(&format!("`{}`", exporter.name())))
        .ok_or_else(|| format!("{} not reported: {findings:#?}", exporter.name()))?;
    assert_eq!(finding.kind, FindingKind::LoginRoleBypassesRls);
    assert_eq!(
        finding.message,
        format!(
            "role `{}` can log in and is a member of `{group}`, which is BYPASSRLS: \
             after `SET ROLE` it skips every row-level security policy",
            exporter.name()
        )
    );
    assert_eq!(
        finding.fix,
        format!("REVOKE \"{group}\" FROM \"{}\"", exporter.name())
    );
    let group_itself = format!("role `{group}`");
    assert!(
        !findings
            .iter()
            .any(|finding| finding.message.starts_with(&group_itself)),
        "a role that cannot log in is reported: {findings:#?}"
    );
    Ok(())
}

/// Empty lists and empty combinators, which render as `TRUE`, `FALSE` and
/// their negations (never `IN ()`, which PostgreSQL refuses), with what each
/// must match: all of the tenant's rows, or none; never another tenant's.
fn empty_filters() -> Vec<(&'static str, tenancy_sqlx::Filter, bool)> {
    use tenancy_sqlx::Filter;
    let none: Vec<String> = Vec::new();
    vec![
        ("is_in([])", Customer::EMAIL.is_in(none.clone()), false),
        (
            "is_not_in([])",
            Customer::EMAIL.is_not_in(none.clone()),
            true,
        ),
        ("any([])", Filter::any([]), false),
        ("all([])", Filter::all([]), true),
        ("!any([])", !Filter::any([]), true),
        ("!all([])", !Filter::all([]), false),
        (
            "any([]) OR is_not_in([])",
            Filter::any([]).or(Customer::EMAIL.is_not_in(none)),
            true,
        ),
    ]
}

/// Tenant 1's and tenant 2's customers, two and one, written through `pool`.
async fn two_tenants_of_customers<DB: tenancy_sqlx::Backend>(
    pool: &TenantPool<DB>,
) -> Result<(), Error> {
    for (tenant, emails) in [(1, &["a@one.test", "b@one.test"][..]), (2, &["c@two.test"])] {
        let witness = TenantId::from_verified(tenant);
        let mut tx = pool.begin(&witness).await?;
        for email in emails {
            tx.execute(Customer::insert(&witness).set(Customer::EMAIL, (*email).to_owned()))
                .await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

#[tokio::test]
async fn empty_lists_combinators_and_extreme_row_counts_run_within_the_tenant() -> TestResult {
    use tenancy_sqlx::Sqlite;

    let db = database_with_tables().await?;
    let postgres = TenantPool::<Postgres>::connect(&db.app_url(), options()).await?;
    two_tenants_of_customers(&postgres).await?;
    let sqlite = TenantPool::connect_sqlite("sqlite::memory:", TenantPoolOptions::new()).await?;
    sqlite
        .owner_pool(CrossTenant::with_reason("test set-up").expect("a stated reason"))
        .apply_schema(&TableSet::new().with::<Customer>())
        .await?;
    two_tenants_of_customers(&sqlite).await?;

    let a = TenantId::from_verified(1);
    for (name, filter, matches_all) in empty_filters() {
        let expected = if matches_all { 2 } else { 0 };
        let mut tx = postgres.begin(&a).await?;
        let rows: Vec<Customer> = tx
            .fetch_all(Customer::select(&a).filter(filter.clone()))
            .await?;
        tx.rollback().await?;
        assert_eq!(rows.len(), expected, "PostgreSQL, {name}: {rows:?}");
        assert!(
            rows.iter().all(|row| row.tenant_id == 1),
            "{name}: {rows:?}"
        );

        let mut tx: TenantTransaction<i64, Sqlite> = sqlite.begin(&a).await?;
        let rows: Vec<Customer> = tx.fetch_all(Customer::select(&a).filter(filter)).await?;
        tx.rollback().await?;
        assert_eq!(rows.len(), expected, "SQLite, {name}: {rows:?}");
        assert!(
            rows.iter().all(|row| row.tenant_id == 1),
            "{name}: {rows:?}"
        );
    }

    // Row counts at their extremes are bound, capped where databases count
    // in signed 64 bits, and run.
    let pages = [
        (Customer::select(&a).limit(u64::MAX), 2),
        (Customer::select(&a).limit(0), 0),
        (Customer::select(&a).offset(u64::MAX), 0),
        (Customer::select(&a).limit(u64::MAX).offset(1), 1),
    ];
    for (page, expected) in pages {
        let mut tx = postgres.begin(&a).await?;
        let rows: Vec<Customer> = tx.fetch_all(page.clone()).await?;
        tx.rollback().await?;
        assert_eq!(rows.len(), expected, "PostgreSQL, {page:?}");
        let mut tx: TenantTransaction<i64, Sqlite> = sqlite.begin(&a).await?;
        let rows: Vec<Customer> = tx.fetch_all(page.clone()).await?;
        tx.rollback().await?;
        assert_eq!(rows.len(), expected, "SQLite, {page:?}");
    }
    Ok(())
}

/// The owner of the tables, connecting with no tables registered: the
/// tables it owns that have row-level security are enough to refuse it.
#[tokio::test]
async fn the_owner_is_refused_even_when_no_table_is_registered() -> TestResult {
    let db = database_with_tables().await?;
    let refused =
        refusal(TenantPool::<Postgres>::connect(&db.owner_url(), TenantPoolOptions::new()).await)?;
    assert_eq!(
        refused,
        (
            OWNER_ROLE.to_owned(),
            PrivilegedRole::OwnsTables(vec!["customers".to_owned(), "orders".to_owned()])
        )
    );
    Ok(())
}

/// A default for the tenant setting (`ALTER DATABASE .. SET app.tenant_id`,
/// left from a debugging session) makes every statement outside a tenant
/// transaction act as that tenant, where RLS should show no row at all.
#[tokio::test]
async fn a_session_that_starts_with_a_tenant_is_refused() -> TestResult {
    let db = database_with_tables().await?;
    let admin = db.admin_pool().await?;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "ALTER DATABASE \"{}\" SET app.tenant_id = '2'",
        db.name()
    )))
    .execute(&admin)
    .await?;
    let pool = TenantPool::<Postgres>::connect(&db.app_url(), options()).await;
    let error = pool.err().ok_or("accepted")?;
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
        options().allow_rls_bypassing_role("not about the tenant setting"),
    )
    .await;
    assert!(
        matches!(pool, Err(Error::SessionTenantDefault { .. })),
        "{pool:?}"
    );
    Ok(())
}

/// A setting whose parts are SQL keywords is valid; the reset after raw SQL
/// must not fail on it and cost the connection.
#[tokio::test]
async fn a_setting_named_with_keywords_is_reset_in_place() -> TestResult {
    let db = database_with_tables().await?;
    let setting = SettingName::new("select.user")?;
    let pool = single_connection_pool(
        &db,
        "adversarial-keyword-setting",
        options().setting(setting),
    )
    .await?;
    let mut tx = pool.begin(&TenantId::from_verified(1)).await?;
    let first = backend_pid(tx.raw_connection()).await?;
    tx.commit().await?;

    let mut tx = pool.begin(&TenantId::from_verified(2)).await?;
    assert_eq!(backend_pid(tx.raw_connection()).await?, first);
    let seen: Option<String> = sqlx::query_scalar("SELECT current_setting('select.user', true)")
        .fetch_one(tx.raw_connection())
        .await?;
    assert_eq!(seen.as_deref(), Some("2"));
    tx.commit().await?;
    Ok(())
}
