//! The shop in all three placements at once, behind one router: tenants
//! [`A`] and [`B`] in the shared tables, [`S`] in schema `tenant_3` of the
//! same database, [`D`] in a database of its own (which also holds rows of
//! [`B`], so that a leak there has something to find).

use sqlx::{AssertSqlSafe, PgPool};
use tenancy_sqlx::directory::{
    DatabaseUrl, Placement, TableDirectory, TenantDirectory, TenantEntry,
};
use tenancy_sqlx::rls::RlsPolicy;
use tenancy_sqlx::testing::{APP_ROLE, TestDatabase};
use tenancy_sqlx::{
    CrossTenant, Identifier, KeyValue, OwnerPool, RouterOptions, TenantPool, TenantRouter,
    TenantTransaction,
};

use crate::TestResult;
use crate::shop::tables::{Order, table_set};
use crate::shop::{A, B, ORDERS_PER_TENANT, customer, order, pool_options, shop, tenant};

/// The tenant in its own schema.
pub const S: i64 = 3;
/// The tenant in its own database.
pub const D: i64 = 4;
/// The schema of [`S`].
pub const S_SCHEMA: &str = "tenant_3";

/// The databases, the directory and the router.
pub struct Models {
    /// The main database: the shared tables, `tenant_3`, the directory.
    pub main: TestDatabase,
    /// [`D`]'s database.
    pub own: TestDatabase,
    /// The main database's superuser.
    pub admin: PgPool,
    /// The directory, as the owner (who may change it).
    pub directory: TableDirectory,
    /// The router, as the application role.
    pub router: TenantRouter<TableDirectory>,
}

impl Models {
    /// Everything set up and seeded: every tenant has
    /// [`ORDERS_PER_TENANT`] orders.
    pub async fn new(options: RouterOptions) -> TestResult<Self> {
        let main = shop(&[A, B]).await?;
        let own = shop(&[D, B]).await?;
        let owner = main.owner_pool().await?;
        add_tenant_schema(&main, S_SCHEMA).await?;
        for statement in TableDirectory::create_statements(&Identifier::new("role", APP_ROLE)?) {
            sqlx::raw_sql(AssertSqlSafe(statement))
                .execute(&owner)
                .await?;
        }
        let directory = TableDirectory::new(owner);
        directory
            .put(KeyValue::I64(A), &TenantEntry::active(Placement::Shared))
            .await?;
        directory
            .put(KeyValue::I64(B), &TenantEntry::active(Placement::Shared))
            .await?;
        directory
            .put(
                KeyValue::I64(S),
                &TenantEntry::active(Placement::Schema(Identifier::new("schema", S_SCHEMA)?)),
            )
            .await?;
        directory
            .put(
                KeyValue::I64(D),
                &TenantEntry::active(Placement::Database(DatabaseUrl::new(own.app_url())?)),
            )
            .await?;
        let router = router(&main, options).await?;
        seed_through(&router, S).await?;
        Ok(Models {
            admin: main.admin_pool().await?,
            main,
            own,
            directory,
            router,
        })
    }
}

/// A router on `main` as the application role, reading its directory.
pub async fn router(
    main: &TestDatabase,
    options: RouterOptions,
) -> TestResult<TenantRouter<TableDirectory>> {
    let shared = TenantPool::connect(&main.app_url(), pool_options()).await?;
    let reader = TableDirectory::new(main.app_pool().await?);
    Ok(TenantRouter::new(reader, shared, pool_options(), options)?)
}

/// Creates schema `name` in `db` with the shop's tables and policies, as
/// the owner, with the plans seeded and usage granted to the application
/// role: what provisioning a schema tenant does.
pub async fn add_tenant_schema(db: &TestDatabase, name: &str) -> TestResult {
    let schema = Identifier::new("schema", name)?;
    let owner = db.owner_pool().await?;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "CREATE SCHEMA {s}; GRANT USAGE ON SCHEMA {s} TO {APP_ROLE}",
        s = schema.quoted()
    )))
    .execute(&owner)
    .await?;
    let tables = table_set().in_schema(schema.clone());
    OwnerPool::from_pool(
        owner.clone(),
        CrossTenant::with_reason("test: a tenant schema")?,
    )
    .apply_schema(&tables, &RlsPolicy::for_role(APP_ROLE)?)
    .await?;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "INSERT INTO {}.plans (id, name) VALUES (1, 'free'), (2, 'pro')",
        schema.quoted()
    )))
    .execute(&owner)
    .await?;
    Ok(())
}

/// Gives `key` a customer and [`ORDERS_PER_TENANT`] orders, through the
/// router, as the application does.
pub async fn seed_through<D: TenantDirectory>(router: &TenantRouter<D>, key: i64) -> TestResult {
    let tenant = tenant(key);
    let mut tx = router.begin(&tenant).await?;
    tx.execute(customer(&tenant, "seed@example.test")).await?;
    let customers: Vec<crate::shop::tables::Customer> = tx
        .fetch_all(crate::shop::tables::Customer::select(&tenant))
        .await?;
    for _ in 0..ORDERS_PER_TENANT {
        tx.execute(order(&tenant, customers[0].id, "open")).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The tenant of every order `tx` can see, through the builder and through
/// raw SQL, which the policies filter. The raw query is unnamed
/// (`persistent(false)`), as raw queries behind a transaction-mode pooler
/// must be.
pub async fn visible_tenants(tx: &mut TenantTransaction) -> TestResult<(Vec<i64>, Vec<i64>)> {
    let tenant = *tx.tenant();
    let built: Vec<Order> = tx.fetch_all(Order::select(&tenant)).await?;
    let raw: Vec<i64> = sqlx::query_scalar("SELECT tenant_id FROM orders")
        .persistent(false)
        .fetch_all(tx.raw_connection())
        .await?;
    Ok((built.into_iter().map(|o| o.tenant_id).collect(), raw))
}
