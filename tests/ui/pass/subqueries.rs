// Subqueries on tenant tables are restricted to the tenant of the statement
// that embeds them.
use tenancy_core::{BuildStatement, Filter, TenantId, tenant_scoped};

#[tenant_scoped]
pub struct Customer {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub name: String,
}

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub customer_id: i64,
}

fn main() -> Result<(), tenancy_core::BuildError> {
    let tenant = TenantId::from_verified(7);
    let vip = Customer::ID.subquery(Customer::NAME.like("VIP %"));
    let sql = Order::select(&tenant)
        .column(Order::ID)
        .filter(Order::CUSTOMER_ID.in_subquery(vip))
        .to_postgres()?
        .into_parts()
        .0;
    assert_eq!(
        sql,
        r#"SELECT "orders"."id" FROM "public"."orders" WHERE "orders"."tenant_id" = $1 AND "orders"."customer_id" IN (SELECT "customers"."id" FROM "public"."customers" WHERE "customers"."tenant_id" = $2 AND "customers"."name" LIKE $3)"#
    );

    let without_orders = Filter::not_exists::<Order>(Order::CUSTOMER_ID.eq_col(Customer::ID));
    let sql = Customer::delete(&tenant)
        .filter(without_orders)
        .to_postgres()?
        .into_parts()
        .0;
    assert_eq!(
        sql,
        r#"DELETE FROM "public"."customers" WHERE "customers"."tenant_id" = $1 AND (NOT EXISTS(SELECT 1 FROM "public"."orders" WHERE "orders"."tenant_id" = $2 AND "orders"."customer_id" = "customers"."id"))"#
    );
    Ok(())
}
