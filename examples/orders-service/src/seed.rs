//! Demo data: the plan catalogue, two tenants with an API key each, and a
//! few customers and orders per tenant, made distinguishable so a leak is
//! easy to spot. Seeding is idempotent: running it again adds nothing.

use tenancy_sqlx::TenantId;
use tenancy_sqlx::{Backend, BeginTenant, DecodeRow, OwnerPool};

use crate::app::now;
use crate::auth::hash_key;
use crate::schema::{ApiKey, Customer, Order, OrderItem, Plan, Tenant};

/// A demo tenant: its registry row, its API key and its sample data.
#[derive(Debug, Clone, Copy)]
pub struct DemoTenant {
    /// The tenant's key.
    pub id: i64,
    /// The organisation's name.
    pub name: &'static str,
    /// The plan it is on.
    pub plan_id: i64,
    /// Its demo API key, in clear (only its hash is stored).
    pub api_key: &'static str,
    /// Who holds the key.
    pub key_label: &'static str,
    /// Sample customers: name and e-mail.
    pub customers: &'static [(&'static str, &'static str)],
    /// Sample orders, all placed by the first customer.
    pub orders: &'static [DemoOrder],
}

/// A sample order.
#[derive(Debug, Clone, Copy)]
pub struct DemoOrder {
    /// Its status.
    pub status: &'static str,
    /// Its lines.
    pub items: &'static [DemoItem],
}

/// A line of a sample order.
#[derive(Debug, Clone, Copy)]
pub struct DemoItem {
    /// The product.
    pub sku: &'static str,
    /// How many.
    pub quantity: i64,
    /// The price of one, in cents.
    pub unit_price_cents: i64,
}

const fn item(sku: &'static str, quantity: i64, unit_price_cents: i64) -> DemoItem {
    DemoItem {
        sku,
        quantity,
        unit_price_cents,
    }
}

const fn order(status: &'static str, items: &'static [DemoItem]) -> DemoOrder {
    DemoOrder { status, items }
}

/// Acme: the tenant the README's requests act as.
pub const ACME: DemoTenant = DemoTenant {
    id: 1,
    name: "Acme Corp",
    plan_id: 1,
    api_key: "acme-demo-key",
    key_label: "acme-admin",
    customers: &[
        ("Wile E. Coyote", "wile@acme.example"),
        ("Road Runner", "beep@acme.example"),
    ],
    orders: &[
        order(
            "pending",
            &[item("ACME-ANVIL", 2, 4999), item("ACME-ROCKET", 1, 12_900)],
        ),
        order("paid", &[item("ACME-BIRDSEED", 10, 299)]),
        order("shipped", &[item("ACME-MAGNET", 1, 1999)]),
    ],
};

/// Globex: the other tenant, whose data Acme must never see.
pub const GLOBEX: DemoTenant = DemoTenant {
    id: 2,
    name: "Globex Corporation",
    plan_id: 2,
    api_key: "globex-demo-key",
    key_label: "globex-admin",
    customers: &[("Hank Scorpio", "hank@globex.example")],
    orders: &[
        order("paid", &[item("GLOBEX-DOOMSDAY", 1, 99_999)]),
        order("cancelled", &[item("GLOBEX-HAMMOCK", 3, 4500)]),
    ],
};

/// The demo tenants.
pub const DEMO_TENANTS: [DemoTenant; 2] = [ACME, GLOBEX];

/// The plan catalogue: id, code, monthly price in cents, order limit.
pub const PLANS: [(i64, &str, i64, i64); 2] = [(1, "starter", 0, 100), (2, "growth", 4900, 10_000)];

/// What seeding left in the database, for the printed examples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seeded {
    /// Acme's rows.
    pub acme: DemoIds,
    /// Globex's rows.
    pub globex: DemoIds,
    /// An order of Acme's under an id Globex has no order under (where
    /// each tenant numbers its own rows, in a schema or a database of its
    /// own, Acme's first order id is Globex's too).
    pub acme_only_order: i64,
}

/// The oldest customer and order of a demo tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoIds {
    /// The oldest customer's id.
    pub customer: i64,
    /// The oldest order's id.
    pub order: i64,
}

/// Why the demo data could not be seeded.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The database refused a statement.
    #[error("seeding the demo data failed: {0}")]
    Database(#[from] tenancy_sqlx::Error),
    /// A demo tenant has customers but no orders: someone changed its data.
    #[error(
        "demo tenant {tenant} has customers but no orders, so there is nothing to show; \
         start with a fresh database (delete the data directory) to seed it again"
    )]
    Incomplete {
        /// The tenant's name.
        tenant: &'static str,
    },
}

/// Seeds the catalogue, the tenants and their keys through the owner pool
/// (on PostgreSQL the application role may not write global tables), then
/// each tenant's sample data in a transaction of its own, wherever the
/// tenant lives.
pub async fn demo_data<T: BeginTenant>(
    owner: &OwnerPool<T::Backend>,
    tenants: &T,
) -> Result<Seeded, SeedError>
where
    Customer: DecodeRow<T::Backend>,
    Order: DecodeRow<T::Backend>,
    (bool,): DecodeRow<T::Backend>,
{
    global_rows(owner).await?;
    let acme = tenant_rows(tenants, &ACME).await?;
    let globex = tenant_rows(tenants, &GLOBEX).await?;
    Ok(Seeded {
        acme,
        globex,
        acme_only_order: order_only_of(tenants, &ACME, &GLOBEX)
            .await?
            .unwrap_or(acme.order),
    })
}

/// The oldest order of `owner` whose id `other` has no order under.
async fn order_only_of<T: BeginTenant>(
    tenants: &T,
    owner: &DemoTenant,
    other: &DemoTenant,
) -> Result<Option<i64>, SeedError>
where
    Order: DecodeRow<T::Backend>,
    (bool,): DecodeRow<T::Backend>,
{
    let owner = TenantId::from_verified(owner.id);
    let mut tx = tenants.begin(&owner).await?;
    let orders: Vec<Order> = tx
        .fetch_all(Order::select(&owner).order_by_asc(Order::ID))
        .await?;
    tx.commit().await?;
    let other = TenantId::from_verified(other.id);
    let mut tx = tenants.begin(&other).await?;
    let mut only = None;
    for order in orders {
        let select = Order::select(&other).filter(Order::ID.eq(order.id));
        let (theirs,): (bool,) = tx.fetch_one(select.exists()).await?;
        if !theirs {
            only = Some(order.id);
            break;
        }
    }
    tx.commit().await?;
    Ok(only)
}

/// Plans, tenants and API keys; rows that exist are left alone.
pub async fn global_rows<DB: Backend>(owner: &OwnerPool<DB>) -> Result<(), SeedError> {
    for (id, code, price, limit) in PLANS {
        owner
            .execute(
                Plan::insert()
                    .set(Plan::ID, id)
                    .set(Plan::CODE, code)
                    .set(Plan::MONTHLY_PRICE_CENTS, price)
                    .set(Plan::ORDER_LIMIT, limit)
                    .on_conflict_do_nothing((Plan::ID,)),
            )
            .await?;
    }
    for tenant in DEMO_TENANTS {
        owner
            .execute(
                Tenant::insert()
                    .set(Tenant::ID, tenant.id)
                    .set(Tenant::NAME, tenant.name)
                    .set(Tenant::PLAN_ID, tenant.plan_id)
                    .on_conflict_do_nothing((Tenant::ID,)),
            )
            .await?;
        owner
            .execute(
                ApiKey::insert()
                    .set(ApiKey::KEY_HASH, hash_key(tenant.api_key))
                    .set(ApiKey::TENANT_ID, tenant.id)
                    .set(ApiKey::LABEL, tenant.key_label)
                    .on_conflict_do_nothing((ApiKey::KEY_HASH,)),
            )
            .await?;
    }
    Ok(())
}

/// The tenant's sample customers and orders, unless it has customers
/// already; returns the ids of its oldest customer and order.
async fn tenant_rows<T: BeginTenant>(tenants: &T, demo: &DemoTenant) -> Result<DemoIds, SeedError>
where
    Customer: DecodeRow<T::Backend>,
    Order: DecodeRow<T::Backend>,
    (bool,): DecodeRow<T::Backend>,
{
    // Seeding is the trust decision here: these ids are the demo's own.
    let tenant = TenantId::from_verified(demo.id);
    let mut tx = tenants.begin(&tenant).await?;
    let (seeded,): (bool,) = tx.fetch_one(Customer::select(&tenant).exists()).await?;
    if !seeded {
        let mut first_customer = None;
        for (name, email) in demo.customers {
            let customer: Customer = tx
                .fetch_one(
                    Customer::insert(&tenant)
                        .set(Customer::NAME, *name)
                        .set(Customer::EMAIL, *email)
                        .set(Customer::CREATED_AT, now())
                        .returning_all(),
                )
                .await?;
            first_customer.get_or_insert(customer.id);
        }
        let customer_id = first_customer.ok_or(SeedError::Incomplete { tenant: demo.name })?;
        for demo_order in demo.orders {
            let total: i64 = demo_order
                .items
                .iter()
                .map(|item| item.quantity * item.unit_price_cents)
                .sum();
            let order: Order = tx
                .fetch_one(
                    Order::insert(&tenant)
                        .set(Order::CUSTOMER_ID, customer_id)
                        .set(Order::STATUS, demo_order.status)
                        .set(Order::TOTAL_CENTS, total)
                        .set(Order::CREATED_AT, now())
                        .returning_all(),
                )
                .await?;
            let mut insert = OrderItem::insert(&tenant);
            for (index, item) in demo_order.items.iter().enumerate() {
                if index > 0 {
                    insert = insert.new_row();
                }
                insert = insert
                    .set(OrderItem::ORDER_ID, order.id)
                    .set(OrderItem::SKU, item.sku)
                    .set(OrderItem::QUANTITY, item.quantity)
                    .set(OrderItem::UNIT_PRICE_CENTS, item.unit_price_cents);
            }
            tx.execute(insert).await?;
        }
    }
    let incomplete = || SeedError::Incomplete { tenant: demo.name };
    let customer: Customer = tx
        .fetch_optional(
            Customer::select(&tenant)
                .order_by_asc(Customer::ID)
                .limit(1),
        )
        .await?
        .ok_or_else(incomplete)?;
    let order: Order = tx
        .fetch_optional(Order::select(&tenant).order_by_asc(Order::ID).limit(1))
        .await?
        .ok_or_else(incomplete)?;
    tx.commit().await?;
    Ok(DemoIds {
        customer: customer.id,
        order: order.id,
    })
}

/// The demo's admin credential, for `/admin` (no tenant's key reaches it).
/// A real deployment takes it from its secret store.
pub const DEMO_ADMIN_KEY: &str = "demo-admin-key";
