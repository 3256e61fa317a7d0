// Every table option and every field option, together.
use tenancy_core::{SqlType, Table, tenant_scoped};

#[tenant_scoped(table = "customer_accounts", schema = "crm")]
pub struct Customer {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
}

#[tenant_scoped(
    table = "purchase_orders",
    schema = "sales",
    index(customer_id, placed_at),
    index(state),
    crate = "::tenancy_core"
)]
pub struct Order {
    #[tenancy(tenant, rename = "org_id")]
    pub organisation: i64,
    #[tenancy(primary_key, generated)]
    pub id: i64,
    #[tenancy(rename = "order_number", unique)]
    pub number: String,
    #[tenancy(references = Customer, index)]
    pub customer_id: i64,
    pub placed_at: i64,
    pub state: String,
    #[tenancy(sql_type = "numeric(10, 2)")]
    pub discount: Option<String>,
    #[tenancy(skip)]
    pub cached_label: Option<String>,
}

fn main() -> Result<(), &'static str> {
    let meta = Order::meta();
    assert_eq!(meta.qualified_name(), "sales.purchase_orders");
    assert_eq!(meta.tenant.map(|tenant| tenant.name), Some("org_id"));
    assert_eq!(
        meta.indexes,
        &[&["customer_id", "placed_at"][..], &["state"][..]]
    );

    let id = meta.column("id").ok_or("no id column")?;
    assert!(id.primary_key && id.generated);
    let number = meta
        .column("order_number")
        .ok_or("no order_number column")?;
    assert_eq!(number.field, "number");
    assert!(number.unique);
    let customer = meta.column("customer_id").ok_or("no customer_id column")?;
    assert!(customer.indexed);
    assert_eq!(
        customer.references.map(|target| target().qualified_name()),
        Some("crm.customer_accounts".to_owned())
    );
    let discount = meta.column("discount").ok_or("no discount column")?;
    assert_eq!(discount.sql_type, SqlType::Custom("numeric(10, 2)"));
    assert!(discount.nullable);
    assert!(meta.column("cached_label").is_none());
    assert_eq!(meta.columns.len(), 6);

    assert_eq!(Order::ORGANISATION.name(), "org_id");
    assert_eq!(Order::NUMBER.name(), "order_number");
    Ok(())
}
