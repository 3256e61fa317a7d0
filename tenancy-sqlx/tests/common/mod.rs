//! The shop that the isolation suite runs against: three tenant tables
//! chained by tenant-led composite foreign keys and a global table, seed data
//! for any number of tenants, and probes that read the database as it really
//! is (as the superuser, whom no policy filters).
//!
//! Every tenant gets the *same* ids and e-mail addresses, so a statement that
//! forgets the tenant matches rows of other tenants instead of missing them.

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use sqlx::postgres::PgDatabaseError;
use sqlx::{PgConnection, PgPool};
use tenancy_sqlx::rls::RlsPolicy;
use tenancy_sqlx::testing::{APP_ROLE, TestDatabase};
use tenancy_sqlx::{CrossTenant, OwnerPool, Postgres, TenantId, TenantPool, TenantPoolOptions};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub type TestResult = Result<(), BoxError>;

/// The tenant the tests act as.
pub const A: i64 = 1;
/// The tenant whose rows must stay out of reach.
pub const B: i64 = 2;

pub const CUSTOMERS_PER_TENANT: i64 = 3;
pub const ORDERS_PER_TENANT: i64 = 4;
pub const ITEMS_PER_TENANT: i64 = 8;

/// Identity values start above the seeded ids, so rows inserted by the
/// tests never collide with seeded ones.
const FIRST_GENERATED_ID: i64 = 1000;

/// SQLSTATE `insufficient_privilege`: what a row-level security refusal raises.
pub const INSUFFICIENT_PRIVILEGE: &str = "42501";
/// SQLSTATE `invalid_text_representation`: `''::bigint` on a reused connection.
pub const INVALID_TEXT_REPRESENTATION: &str = "22P02";

pub fn tenant(key: i64) -> TenantId<i64> {
    TenantId::from_verified(key)
}

/// The application's tables, as it would declare them.
pub mod tables {
    use tenancy_sqlx::ddl::TableSet;
    use tenancy_sqlx::{global_table, tenant_scoped};

    #[global_table]
    #[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
    pub struct Plan {
        #[tenancy(primary_key)]
        pub id: i64,
        pub name: String,
    }

    #[tenant_scoped]
    #[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
    pub struct Customer {
        pub tenant_id: i64,
        #[tenancy(primary_key, generated)]
        pub id: i64,
        #[tenancy(unique)]
        pub email: String,
        pub name: String,
        #[tenancy(references = Plan)]
        pub plan_id: i64,
    }

    #[tenant_scoped]
    #[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
    pub struct Order {
        pub tenant_id: i64,
        #[tenancy(primary_key, generated)]
        pub id: i64,
        #[tenancy(references = Customer)]
        pub customer_id: i64,
        #[tenancy(index)]
        pub status: String,
        pub total_cents: i64,
    }

    #[tenant_scoped]
    #[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
    pub struct OrderItem {
        pub tenant_id: i64,
        #[tenancy(primary_key, generated)]
        pub id: i64,
        #[tenancy(references = Order)]
        pub order_id: i64,
        pub sku: String,
        pub quantity: i32,
    }

    /// Referenced tables first.
    pub fn table_set() -> TableSet {
        TableSet::new()
            .with::<Plan>()
            .with::<Customer>()
            .with::<Order>()
            .with::<OrderItem>()
    }
}

/// Seed rows, identical in shape for every tenant: customers 1–3
/// (`ann`, `bob`, `cy` @example.test), orders 1–4 (`total_cents` is
/// `tenant * 1000 + id`, so a total names its tenant), items 1–8 (two per
/// order, `sku-<tenant>-<id>`). Each statement takes the tenants as `$1`.
const SEED: [&str; 4] = [
    "INSERT INTO plans (id, name) VALUES (1, 'free'), (2, 'pro')
     ON CONFLICT DO NOTHING",
    "INSERT INTO customers (tenant_id, id, email, name, plan_id)
     SELECT t, c, who || '@example.test', initcap(who) || ' of tenant ' || t, 1 + c % 2
     FROM unnest($1::bigint[]) AS t,
          unnest(ARRAY['ann', 'bob', 'cy']) WITH ORDINALITY AS w(who, c)",
    "INSERT INTO orders (tenant_id, id, customer_id, status, total_cents)
     SELECT t, o, 1 + (o - 1) % 3, (ARRAY['open', 'paid', 'shipped', 'open'])[o], t * 1000 + o
     FROM unnest($1::bigint[]) AS t, generate_series(1, 4) AS o",
    "INSERT INTO order_items (tenant_id, id, order_id, sku, quantity)
     SELECT t, i, 1 + (i - 1) % 4, 'sku-' || t || '-' || i, i
     FROM unnest($1::bigint[]) AS t, generate_series(1, 8) AS i",
];

/// A fresh database with the shop's tables, seeded for `tenants`, then
/// protected by the library's RLS DDL for the application role — all as the
/// owner role, the way a deployment's migrations run.
pub async fn shop(tenants: &[i64]) -> Result<TestDatabase, BoxError> {
    shop_with_policy(tenants, &RlsPolicy::for_role(APP_ROLE)?).await
}

/// [`shop`], with another policy (say, one `TO PUBLIC`, which applies to the
/// owner as well).
pub async fn shop_with_policy(
    tenants: &[i64],
    policy: &RlsPolicy,
) -> Result<TestDatabase, BoxError> {
    let db = TestDatabase::create().await?;
    let owner = db.owner_pool().await?;
    // Rows go in before RLS is switched on: once it is forced, the owner
    // may write only the rows a policy lets it write.
    let mut tx = owner.begin().await?;
    for statement in tables::table_set().create_statements(tenancy_sqlx::Dialect::Postgres)? {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(&mut *tx)
            .await?;
    }
    for statement in SEED {
        sqlx::query(statement)
            .bind(tenants)
            .execute(&mut *tx)
            .await?;
    }
    for table in ["customers", "orders", "order_items"] {
        sqlx::query("SELECT setval(pg_get_serial_sequence($1, 'id'), $2)")
            .bind(table)
            .bind(FIRST_GENERATED_ID)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    owner_pool(&db)
        .await?
        .apply_rls(&tables::table_set(), policy)
        .await?;
    Ok(db)
}

/// The owner role, through the library's owner pool.
pub async fn owner_pool(db: &TestDatabase) -> Result<OwnerPool, BoxError> {
    Ok(OwnerPool::from_pool(
        db.owner_pool().await?,
        CrossTenant::with_reason("isolation suite set-up").expect("a stated reason"),
    ))
}

/// The application's tenant pool, as the application role.
pub async fn tenant_pool(db: &TestDatabase) -> Result<TenantPool, BoxError> {
    Ok(TenantPool::<Postgres>::connect(&db.app_url(), pool_options()).await?)
}

/// The tenant pool's options: the shop's tables registered.
pub fn pool_options() -> TenantPoolOptions {
    TenantPoolOptions::new().tables(&tables::table_set())
}

/// Every row that does not belong to `tenant`, in every table, with its
/// `xmin` and `ctid`: any write to a row — even one that sets a column to the
/// value it had — gives it a new version and changes its line. Read as the
/// superuser, so no policy hides a row from the comparison.
pub async fn rows_outside(admin: &PgPool, tenant: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT 'plans ' || xmin::text || ' ' || ctid::text || ' ' || t::text FROM plans t
         UNION ALL
         SELECT 'customers ' || xmin::text || ' ' || ctid::text || ' ' || t::text
         FROM customers t WHERE tenant_id <> $1
         UNION ALL
         SELECT 'orders ' || xmin::text || ' ' || ctid::text || ' ' || t::text
         FROM orders t WHERE tenant_id <> $1
         UNION ALL
         SELECT 'order_items ' || xmin::text || ' ' || ctid::text || ' ' || t::text
         FROM order_items t WHERE tenant_id <> $1
         ORDER BY 1",
    )
    .bind(tenant)
    .fetch_all(admin)
    .await
}

/// The SQLSTATE of a database error.
pub fn sqlstate(error: &sqlx::Error) -> Option<String> {
    error
        .as_database_error()
        .and_then(|error| error.code())
        .map(|code| code.into_owned())
}

/// The server's message of a database error, with its detail and hint.
pub fn server_message(error: &sqlx::Error) -> String {
    match error
        .as_database_error()
        .and_then(|error| error.try_downcast_ref::<PgDatabaseError>())
    {
        Some(error) => format!(
            "{} (detail: {:?}, hint: {:?})",
            error.message(),
            error.detail(),
            error.hint()
        ),
        None => error.to_string(),
    }
}

/// Asserts that `result` is PostgreSQL refusing a row under a policy's
/// `WITH CHECK`: SQLSTATE 42501 and "new row violates row-level security
/// policy for table "<table>"" — not a cast error, not a success.
pub fn assert_with_check_refusal<T: std::fmt::Debug>(
    result: Result<T, sqlx::Error>,
    table: &str,
    what: &str,
) {
    let error = match result {
        Ok(value) => panic!("{what}: accepted ({value:?}); expected a WITH CHECK refusal"),
        Err(error) => error,
    };
    let message = server_message(&error);
    assert_eq!(
        sqlstate(&error).as_deref(),
        Some(INSUFFICIENT_PRIVILEGE),
        "{what}: {message}"
    );
    assert!(
        message.starts_with(&format!(
            "new row violates row-level security policy for table \"{table}\""
        )),
        "{what}: {message}"
    );
}

/// What the next borrower of a connection finds on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionState {
    /// `app.tenant_id` as the policies read it; `None` when unset or `''`.
    pub tenant: Option<String>,
    /// Whether the server is inside a transaction block, open or aborted.
    pub in_transaction: bool,
}

impl SessionState {
    /// No tenant, no transaction: what every borrower must get.
    pub const CLEAN: SessionState = SessionState {
        tenant: None,
        in_transaction: false,
    };
}

/// Reads the tenant setting and whether a transaction block is open.
///
/// `SAVEPOINT` is the transaction probe: the server accepts it only inside a
/// transaction block, refuses it outside with 25P01, and inside an aborted
/// one with 25P02. Unlike `now() = statement_timestamp()` it does not depend
/// on timing, and unlike `pg_current_xact_id_if_assigned()` it also sees a
/// transaction that has written nothing. (The tenant of an aborted
/// transaction cannot be read; it is reported as `None`.)
pub async fn session_state(connection: &mut PgConnection) -> Result<SessionState, sqlx::Error> {
    match sqlx::raw_sql("SAVEPOINT tenancy_probe")
        .execute(&mut *connection)
        .await
    {
        Ok(_) => {
            let tenant = tenant_setting(connection).await?;
            sqlx::raw_sql("RELEASE SAVEPOINT tenancy_probe")
                .execute(&mut *connection)
                .await?;
            Ok(SessionState {
                tenant,
                in_transaction: true,
            })
        }
        Err(error) if sqlstate(&error).as_deref() == Some("25P01") => Ok(SessionState {
            tenant: tenant_setting(connection).await?,
            in_transaction: false,
        }),
        Err(error) if sqlstate(&error).as_deref() == Some("25P02") => Ok(SessionState {
            tenant: None,
            in_transaction: true,
        }),
        Err(error) => Err(error),
    }
}

async fn tenant_setting(connection: &mut PgConnection) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT NULLIF(current_setting('app.tenant_id', true), '')")
        .fetch_one(connection)
        .await
}
