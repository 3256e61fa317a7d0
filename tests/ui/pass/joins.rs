// Tenant tables join tenant tables of the same key type, each restricted to
// the tenant in its `ON`; global tables join through `*_global`.
use tenancy_core::{BuildStatement, TenantId, global_table, tenant_scoped};

#[global_table]
pub struct Plan {
    #[tenancy(primary_key)]
    pub id: i64,
    pub name: String,
}

#[tenant_scoped]
pub struct Customer {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub plan_id: i64,
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
    let statement = Order::select(&tenant)
        .join::<Customer>(Customer::ID.eq_col(Order::CUSTOMER_ID))
        .join_global::<Plan>(Plan::ID.eq_col(Customer::PLAN_ID))
        .columns((Order::ID, Plan::NAME))
        .to_postgres()?;
    assert_eq!(
        statement.sql(),
        r#"SELECT "orders"."id", "plans"."name" FROM "public"."orders" INNER JOIN "public"."customers" ON "customers"."tenant_id" = $1 AND "customers"."id" = "orders"."customer_id" INNER JOIN "public"."plans" ON "plans"."id" = "customers"."plan_id" WHERE "orders"."tenant_id" = $2"#
    );
    assert_eq!(statement.values().0, vec![7_i64.into(), 7_i64.into()]);

    let sql = Customer::select(&tenant)
        .left_join::<Order>(Order::CUSTOMER_ID.eq_col(Customer::ID))
        .left_join_global::<Plan>(Plan::ID.eq_col(Customer::PLAN_ID))
        .column(Customer::ID)
        .to_sqlite()?
        .into_parts()
        .0;
    assert_eq!(
        sql,
        r#"SELECT "customers"."id" FROM "main"."customers" LEFT JOIN "main"."orders" ON "orders"."tenant_id" = ? AND "orders"."customer_id" = "customers"."id" LEFT JOIN "main"."plans" ON "plans"."id" = "customers"."plan_id" WHERE "customers"."tenant_id" = ?"#
    );
    Ok(())
}
