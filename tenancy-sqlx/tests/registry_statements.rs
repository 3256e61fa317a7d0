//! Every built statement is checked against the pool's registered tables
//! before anything is sent, by tenant transactions and by the owner pool:
//! a statement on a table the registry describes with another type (a
//! global struct on a tenant table's name, in any letter case or
//! schema-qualified; a second tenant struct with another tenant column)
//! would not be scoped the way the table's policy is, and one on a table
//! the registry does not hold may have no policy at all.

// The structs describe tables; no test builds a value of them.
#![allow(dead_code, missing_docs)]

use sqlx::PgPool;
use tenancy_sqlx::{
    CrossTenant, Delete, Error, OwnerPool, Select, TenantPool, TenantPoolOptions, global_table,
    tenant_scoped,
};
use tenancy_test::TestResult;
use tenancy_test::probe::backend_pid;
use tenancy_test::shop::tables::{Customer, Plan, table_set};
use tenancy_test::shop::{A, B, customer, free_plan, owner_pool, shop, tenant, tenant_pool};

/// `customers`, a tenant table, described as a global table: its
/// statements carry no tenant predicate.
#[global_table(table = "customers")]
pub struct CustomerDirectory {
    #[tenancy(primary_key)]
    pub id: i64,
    pub email: String,
}

/// The same, schema-qualified.
#[global_table(schema = "public", table = "customers")]
pub struct PublicCustomers {
    #[tenancy(primary_key)]
    pub id: i64,
    pub email: String,
}

/// The same, in another letter case (one table to SQLite).
#[global_table(table = "CUSTOMERS")]
pub struct ShoutedCustomers {
    #[tenancy(primary_key)]
    pub id: i64,
    pub email: String,
}

/// `customers` scoped by another column: its predicate would compare
/// `plan_id` with the tenant.
#[tenant_scoped(table = "customers")]
pub struct PlanCustomer {
    #[tenancy(tenant)]
    pub plan_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub email: String,
}

/// A tenant table nobody registered.
#[tenant_scoped]
pub struct Invoice {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
}

/// The refusal a statement on `table`, built from `type_name`, must get:
/// the registered type it collides with, or `None` for an unregistered
/// table.
fn assert_refused<T: core::fmt::Debug>(
    result: Result<T, Error>,
    table: &str,
    type_name: &str,
    registered: Option<&str>,
) {
    match (&result, registered) {
        (
            Err(Error::TableRegisteredDifferently {
                table: t,
                type_name: n,
                registered: r,
                ..
            }),
            Some(expected),
        ) if t == table && short(n) == type_name && short(r) == expected => {}
        (
            Err(Error::UnregisteredTable {
                table: t,
                type_name: n,
            }),
            None,
        ) if t == table && short(n) == type_name => {}
        _ => panic!("{type_name} on {table}: expected a refusal, got {result:?}"),
    }
}

/// [`assert_refused`] for a statement whose type describes the registered
/// `Customer`'s table differently.
fn described_otherwise<T: core::fmt::Debug>(
    result: Result<T, Error>,
    table: &str,
    type_name: &str,
) {
    assert_refused(result, table, type_name, Some("Customer"));
}

/// A type's name without its module path.
fn short(type_name: &str) -> &str {
    type_name.rsplit("::").next().unwrap_or(type_name)
}

/// What the server last ran on backend `pid`.
async fn last_statement(admin: &PgPool, pid: i32) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("SELECT query FROM pg_stat_activity WHERE pid = $1")
        .bind(pid)
        .fetch_one(admin)
        .await
}

/// Every customer row, read as the superuser.
async fn customer_count(admin: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM customers")
        .fetch_one(admin)
        .await
}

#[tokio::test]
async fn a_tenant_transaction_sends_nothing_for_a_table_registered_otherwise_or_not_at_all()
-> TestResult {
    let db = shop(&[A, B]).await?;
    let admin = db.admin_pool().await?;
    let before = customer_count(&admin).await?;
    let pool = tenant_pool(&db).await?;
    let a = tenant(A);
    let mut tx = pool.begin(&a).await?;
    let pid = backend_pid(tx.raw_connection()).await?;
    sqlx::raw_sql("SELECT 'the last statement sent'")
        .execute(tx.raw_connection())
        .await?;

    let public = "public.customers";
    described_otherwise(
        tx.execute(CustomerDirectory::delete()).await,
        public,
        "CustomerDirectory",
    );
    described_otherwise(
        tx.execute(PublicCustomers::delete()).await,
        public,
        "PublicCustomers",
    );
    described_otherwise(
        tx.execute(ShoutedCustomers::delete()).await,
        "public.CUSTOMERS",
        "ShoutedCustomers",
    );
    described_otherwise(
        tx.fetch_optional::<(i64,)>(PlanCustomer::select(&a)).await,
        public,
        "PlanCustomer",
    );
    assert_refused(
        tx.fetch_optional::<(i64,)>(Invoice::select(&a)).await,
        "public.invoices",
        "Invoice",
        None,
    );
    assert_eq!(
        last_statement(&admin, pid).await?,
        "SELECT 'the last statement sent'"
    );
    // The registered type still runs, in the same transaction.
    let own: Vec<Customer> = tx.fetch_all(Customer::select(&a)).await?;
    assert!(!own.is_empty());
    tx.commit().await?;
    assert_eq!(customer_count(&admin).await?, before);
    Ok(())
}

#[tokio::test]
async fn the_owner_pool_sends_nothing_for_a_table_registered_otherwise_or_not_at_all() -> TestResult
{
    let db = shop(&[A, B]).await?;
    let admin = db.admin_pool().await?;
    let before = customer_count(&admin).await?;
    // One connection, so that its last statement is the pool's.
    let single = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&db.owner_url())
        .await?;
    let cap = CrossTenant::with_reason("registry tests: cross-tenant statements")?;
    let owner = OwnerPool::from_pool(single.clone(), CrossTenant::with_reason("registry tests")?)
        .with_tables(&table_set());
    let pid = {
        let mut connection = single.acquire().await?;
        let pid = backend_pid(&mut connection).await?;
        sqlx::raw_sql("SELECT 'the last statement sent'")
            .execute(&mut *connection)
            .await?;
        pid
    };

    let public = "public.customers";
    described_otherwise(
        owner.execute(CustomerDirectory::delete()).await,
        public,
        "CustomerDirectory",
    );
    described_otherwise(
        owner.execute(PublicCustomers::delete()).await,
        public,
        "PublicCustomers",
    );
    described_otherwise(
        owner
            .execute(Delete::<PlanCustomer>::across_tenants(&cap))
            .await,
        public,
        "PlanCustomer",
    );
    assert_refused(
        owner
            .fetch_all::<(i64,)>(Select::<Invoice>::across_tenants(&cap))
            .await,
        "public.invoices",
        "Invoice",
        None,
    );
    assert_eq!(
        last_statement(&admin, pid).await?,
        "SELECT 'the last statement sent'"
    );
    assert_eq!(customer_count(&admin).await?, before);

    // An owner pool given no tables refuses every built statement.
    let bare = OwnerPool::from_pool(single, CrossTenant::with_reason("registry tests")?);
    assert_refused(
        bare.execute(Delete::<Customer>::across_tenants(&cap)).await,
        public,
        "Customer",
        None,
    );
    // With the tables, a registered table's statements run.
    let plans: Vec<Plan> = owner_pool(&db).await?.fetch_all(Plan::select()).await?;
    assert_eq!(plans.len(), 2);
    Ok(())
}

#[tokio::test]
async fn sqlite_refuses_the_same_statements_and_changes_nothing() -> TestResult {
    let tables = table_set();
    let pool =
        TenantPool::connect_sqlite("sqlite::memory:", TenantPoolOptions::new(&tables)).await?;
    let cap = CrossTenant::with_reason("registry tests: cross-tenant statements")?;
    let owner = pool.owner_pool(CrossTenant::with_reason("registry tests: set-up")?);
    owner.apply_schema(&tables).await?;
    owner.execute(free_plan()).await?;
    for key in [A, B] {
        let mut tx = pool.begin(&tenant(key)).await?;
        tx.execute(customer(&tenant(key), &format!("x@{key}.test")))
            .await?;
        tx.commit().await?;
    }

    let a = tenant(A);
    let mut tx: tenancy_sqlx::TenantTransaction<i64, tenancy_sqlx::Sqlite> = pool.begin(&a).await?;
    let main = "main.customers";
    described_otherwise(
        tx.execute(CustomerDirectory::delete()).await,
        main,
        "CustomerDirectory",
    );
    described_otherwise(
        tx.execute(ShoutedCustomers::delete()).await,
        "main.CUSTOMERS",
        "ShoutedCustomers",
    );
    described_otherwise(
        tx.execute(PlanCustomer::delete(&a)).await,
        main,
        "PlanCustomer",
    );
    assert_refused(
        tx.execute(Invoice::delete(&a)).await,
        "main.invoices",
        "Invoice",
        None,
    );
    tx.commit().await?;
    described_otherwise(
        owner.execute(ShoutedCustomers::delete()).await,
        "main.CUSTOMERS",
        "ShoutedCustomers",
    );
    described_otherwise(
        owner
            .execute(Delete::<PlanCustomer>::across_tenants(&cap))
            .await,
        main,
        "PlanCustomer",
    );
    // Every row is still there: no refused delete reached the database.
    let everyone: Vec<Customer> = owner
        .fetch_all(Select::<Customer>::across_tenants(&cap))
        .await?;
    assert_eq!(everyone.len(), 2);
    Ok(())
}

/// The message names the table and says what to do.
#[test]
fn the_refusals_say_what_to_do() {
    let unregistered = Error::UnregisteredTable {
        table: "public.invoices".to_owned(),
        type_name: "Invoice",
    }
    .to_string();
    assert!(unregistered.contains("`public.invoices`"), "{unregistered}");
    assert!(
        unregistered.contains(".with::<Invoice>()"),
        "{unregistered}"
    );
}
