// A table in a schema is qualified in every statement.
use tenancy_core::{BuildStatement, TenantId, tenant_scoped};

#[tenant_scoped(schema = "billing")]
pub struct Invoice {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub paid: bool,
}

fn main() -> Result<(), tenancy_core::BuildError> {
    let tenant = TenantId::from_verified(7);
    let sql = Invoice::select(&tenant)
        .column(Invoice::ID)
        .filter(Invoice::PAID.eq(false))
        .to_postgres()?
        .into_parts()
        .0;
    assert_eq!(
        sql,
        r#"SELECT "invoices"."id" FROM "billing"."invoices" WHERE "invoices"."tenant_id" = $1 AND "invoices"."paid" = $2"#
    );
    Ok(())
}
