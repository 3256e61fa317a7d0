// The smallest tenant table: a tenant column and one other column.
use tenancy_core::{BuildStatement, Table, TenantId, TenantScoped, tenant_scoped};

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    pub status: String,
}

fn main() -> Result<(), tenancy_core::BuildError> {
    let meta = Order::meta();
    assert_eq!(meta.name, "orders");
    assert_eq!(meta.tenant.map(|tenant| tenant.name), Some("tenant_id"));
    let _key: <Order as TenantScoped>::Key = 7_i64;

    let tenant = TenantId::from_verified(7);
    let statement = Order::select(&tenant).to_postgres()?;
    assert_eq!(
        statement.sql(),
        r#"SELECT "orders"."tenant_id", "orders"."status" FROM "public"."orders" WHERE "orders"."tenant_id" = $1"#
    );
    assert_eq!(statement.values().0, vec![7_i64.into()]);

    let order = Order {
        tenant_id: 7,
        status: "open".to_owned(),
    };
    assert_eq!((order.tenant_id, order.status.as_str()), (7, "open"));
    Ok(())
}
