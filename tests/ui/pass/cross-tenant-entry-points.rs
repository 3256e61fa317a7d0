// Admin work over every tenant takes the `CrossTenant` capability, made with
// a reason, through the builders' `across_tenants` constructors.
use tenancy_core::{
    BuildStatement, CrossTenant, Delete, Select, StatementScope, Update, tenant_scoped,
};

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub status: String,
}

fn main() -> Result<(), tenancy_core::BuildError> {
    let admin = CrossTenant::with_reason("erase abandoned drafts").expect("a stated reason");
    assert_eq!(admin.reason(), "erase abandoned drafts");

    let select = Select::<Order>::across_tenants(&admin).count().to_postgres()?;
    assert_eq!(select.sql(), r#"SELECT COUNT(*) FROM "public"."orders""#);
    assert_eq!(select.scope(), StatementScope::AllTenants);

    let update = Update::<Order>::across_tenants(&admin)
        .set(Order::STATUS, "archived")
        .filter(Order::STATUS.eq("draft"))
        .to_postgres()?;
    assert_eq!(
        update.sql(),
        r#"UPDATE "public"."orders" SET "status" = $1 WHERE "orders"."status" = $2"#
    );

    let delete = Delete::<Order>::across_tenants(&admin)
        .filter(Order::STATUS.eq("archived"))
        .to_postgres()?;
    assert_eq!(
        delete.sql(),
        r#"DELETE FROM "public"."orders" WHERE "orders"."status" = $1"#
    );
    assert_eq!(delete.scope(), StatementScope::AllTenants);
    Ok(())
}
