//! The sales ledger the statement tests run against, on both backends: two
//! tenants with rows of the same shape and the same ids, so a statement
//! that forgets the tenant meets the other tenant's rows instead of missing
//! them, and every number names its tenant (a sale of tenant 2 is worth
//! 2000 and more, one of tenant 1 less).
//!
//! On PostgreSQL the tables are created and protected by the owner role
//! with the library's RLS DDL, and the statements run as the application
//! role (not superuser, not `BYPASSRLS`, not the owner), so the policies
//! apply; on SQLite the builder's predicate is all there is.

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use sqlx::Sqlite;
use tenancy_sqlx::rls::RlsPolicy;
use tenancy_sqlx::testing::{APP_ROLE, TestDatabase};
use tenancy_sqlx::{
    Backend, CrossTenant, OwnerPool, Postgres, TenantId, TenantPool, TenantPoolOptions,
};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub type TestResult = Result<(), BoxError>;

/// The tenant the tests act as.
pub const A: i64 = 1;
/// The tenant whose rows must stay out of reach.
pub const B: i64 = 2;

pub fn tenant(key: i64) -> TenantId<i64> {
    TenantId::from_verified(key)
}

pub mod tables {
    use tenancy_sqlx::ddl::TableSet;
    use tenancy_sqlx::{global_table, tenant_scoped};

    /// Regions: reference data shared by every tenant.
    #[global_table]
    #[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
    pub struct Region {
        #[tenancy(primary_key)]
        pub code: String,
        pub label: String,
    }

    #[tenant_scoped]
    #[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
    pub struct Customer {
        pub tenant_id: i64,
        #[tenancy(primary_key)]
        pub id: i64,
        pub name: String,
        pub region: Option<String>,
    }

    #[tenant_scoped]
    #[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
    pub struct Sale {
        pub tenant_id: i64,
        #[tenancy(primary_key)]
        pub id: i64,
        #[tenancy(references = Customer)]
        pub customer_id: i64,
        #[tenancy(index)]
        pub status: String,
        pub amount: i64,
        pub discount: Option<i64>,
        pub note: Option<String>,
    }

    /// A tree: each category but the roots has a parent of its tenant.
    #[tenant_scoped]
    #[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
    pub struct Category {
        pub tenant_id: i64,
        #[tenancy(primary_key)]
        pub id: i64,
        pub parent_id: Option<i64>,
        pub name: String,
    }

    #[tenant_scoped]
    #[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
    pub struct Account {
        pub tenant_id: i64,
        #[tenancy(primary_key)]
        pub id: i64,
        pub owner: String,
        pub balance: i64,
    }

    /// Payments waiting to be booked to an account.
    #[tenant_scoped]
    #[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
    pub struct Payment {
        pub tenant_id: i64,
        #[tenancy(primary_key)]
        pub id: i64,
        #[tenancy(references = Account)]
        pub account_id: i64,
        pub amount: i64,
    }

    /// A job queue.
    #[tenant_scoped]
    #[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
    pub struct Job {
        pub tenant_id: i64,
        #[tenancy(primary_key)]
        pub id: i64,
        pub state: String,
        pub worker: Option<String>,
    }

    /// Referenced tables first.
    pub fn table_set() -> TableSet {
        TableSet::new()
            .with::<Region>()
            .with::<Customer>()
            .with::<Sale>()
            .with::<Category>()
            .with::<Account>()
            .with::<Payment>()
            .with::<Job>()
    }
}

use tables::{Account, Category, Customer, Job, Payment, Region, Sale};

/// The customers of every tenant: `(id, name, region)`, the name ending in
/// the tenant.
pub fn customers(tenant: i64) -> Vec<(i64, String, Option<String>)> {
    vec![
        (1, format!("ann-{tenant}"), Some("north".to_owned())),
        (2, format!("bob-{tenant}"), Some("south".to_owned())),
        (3, format!("cy-{tenant}"), None),
    ]
}

/// The sales of every tenant: customer `c` has `c` sales, worth
/// `tenant * 1000 + c * 10 + k`; every other one is paid, every third has
/// a discount.
pub fn sales(tenant: i64) -> Vec<Sale> {
    let mut sales = Vec::new();
    let mut id = 0;
    for customer in 1..=3 {
        for k in 1..=customer {
            id += 1;
            sales.push(Sale {
                tenant_id: tenant,
                id,
                customer_id: customer,
                status: if id % 2 == 0 { "paid" } else { "open" }.to_owned(),
                amount: tenant * 1000 + customer * 10 + k,
                discount: (id % 3 == 0).then_some(tenant * 10 + id),
                note: None,
            });
        }
    }
    sales
}

/// The categories of every tenant: a root (1), its children (2, 3) and a
/// grandchild (4). Tenant 2 has a fifth, a child of its root 1: by id, it
/// is a child of every tenant's root.
pub fn categories(tenant: i64) -> Vec<(i64, Option<i64>, String)> {
    let mut categories = vec![
        (1, None, format!("root-{tenant}")),
        (2, Some(1), format!("tools-{tenant}")),
        (3, Some(1), format!("toys-{tenant}")),
        (4, Some(2), format!("saws-{tenant}")),
    ];
    if tenant == B {
        categories.push((5, Some(1), format!("secret-{tenant}")));
    }
    categories
}

/// The balances of every tenant's two accounts.
pub fn balances(tenant: i64) -> [i64; 2] {
    [tenant * 1000, 0]
}

/// Registers the tables with a pool.
pub fn pool_options() -> TenantPoolOptions {
    TenantPoolOptions::new(&tables::table_set())
}

/// A fresh PostgreSQL database with the ledger's tables, protected by the
/// library's RLS DDL, and a tenant pool as the application role, seeded
/// for tenants A and B.
pub async fn postgres() -> Result<(TestDatabase, TenantPool<Postgres>), BoxError> {
    let db = TestDatabase::create().await?;
    let owner = OwnerPool::from_pool(
        db.owner_pool().await?,
        CrossTenant::with_reason("sales ledger set-up").expect("a stated reason"),
    )
    .with_tables(&tables::table_set());
    owner
        .apply_schema(&tables::table_set(), &RlsPolicy::for_role(APP_ROLE)?)
        .await?;
    owner.execute(regions()).await?;
    let pool = TenantPool::<Postgres>::connect(&db.app_url(), pool_options()).await?;
    seed(&pool, A).await?;
    seed(&pool, B).await?;
    Ok((db, pool))
}

/// An in-memory SQLite database with the ledger's tables, seeded for
/// tenants A and B.
pub async fn sqlite() -> Result<TenantPool<Sqlite>, BoxError> {
    sqlite_at("sqlite::memory:").await
}

/// The SQLite database at `url` with the ledger's tables, seeded for
/// tenants A and B.
pub async fn sqlite_at(url: &str) -> Result<TenantPool<Sqlite>, BoxError> {
    let pool = TenantPool::connect_sqlite(url, pool_options()).await?;
    let owner =
        pool.owner_pool(CrossTenant::with_reason("sales ledger set-up").expect("a stated reason"));
    owner.apply_schema(&tables::table_set()).await?;
    owner.execute(regions()).await?;
    seed(&pool, A).await?;
    seed(&pool, B).await?;
    Ok(pool)
}

fn regions() -> tenancy_sqlx::Insert<Region> {
    Region::insert()
        .set(Region::CODE, "north")
        .set(Region::LABEL, "The North")
        .new_row()
        .set(Region::CODE, "south")
        .set(Region::LABEL, "The South")
}

/// Seeds one tenant's rows through the builder, in one tenant transaction.
pub async fn seed<DB: Backend>(pool: &TenantPool<DB>, key: i64) -> TestResult {
    let tenant = tenant(key);
    let mut tx = pool.begin(&tenant).await?;
    let mut insert = Customer::insert(&tenant);
    for (index, (id, name, region)) in customers(key).into_iter().enumerate() {
        if index > 0 {
            insert = insert.new_row();
        }
        insert = insert
            .set(Customer::ID, id)
            .set(Customer::NAME, name)
            .set(Customer::REGION, region);
    }
    tx.execute(insert).await?;
    tx.execute(Sale::insert(&tenant).rows(&sales(key))).await?;
    let mut insert = Category::insert(&tenant);
    for (index, (id, parent, name)) in categories(key).into_iter().enumerate() {
        if index > 0 {
            insert = insert.new_row();
        }
        insert = insert
            .set(Category::ID, id)
            .set(Category::PARENT_ID, parent)
            .set(Category::NAME, name);
    }
    tx.execute(insert).await?;
    let [first, second] = balances(key);
    tx.execute(
        Account::insert(&tenant)
            .set(Account::ID, 1)
            .set(Account::OWNER, format!("alice-{key}"))
            .set(Account::BALANCE, first)
            .new_row()
            .set(Account::ID, 2)
            .set(Account::OWNER, format!("bert-{key}"))
            .set(Account::BALANCE, second),
    )
    .await?;
    tx.execute(
        Payment::insert(&tenant)
            .set(Payment::ID, 1)
            .set(Payment::ACCOUNT_ID, 2)
            .set(Payment::AMOUNT, key * 100)
            .new_row()
            .set(Payment::ID, 2)
            .set(Payment::ACCOUNT_ID, 2)
            .set(Payment::AMOUNT, key * 10),
    )
    .await?;
    let mut insert = Job::insert(&tenant);
    for id in 1..=4 {
        if id > 1 {
            insert = insert.new_row();
        }
        insert = insert
            .set(Job::ID, id)
            .set(Job::STATE, "queued")
            .set(Job::WORKER, None::<String>);
    }
    tx.execute(insert).await?;
    tx.commit().await?;
    Ok(())
}

/// Whether a result names anything of tenant B: its names end in `-2`.
pub fn mentions_b(debug: &impl std::fmt::Debug) -> bool {
    format!("{debug:?}").contains("-2\"")
}
