// A table keyed by UUID takes a `TenantId<Uuid>`.
use tenancy_core::{BuildStatement, SqlType, Table, TenantId, tenant_scoped};
use uuid::Uuid;

#[tenant_scoped]
pub struct Invoice {
    pub tenant_id: Uuid,
    #[tenancy(primary_key)]
    pub id: Uuid,
    pub amount_cents: i64,
}

fn main() -> Result<(), tenancy_core::BuildError> {
    let key = Uuid::from_u128(0x67e5_5044_10b1_426f_9247_bb68_0e5f_e0c8);
    let tenant = TenantId::from_verified(key);
    let statement = Invoice::delete(&tenant)
        .filter(Invoice::AMOUNT_CENTS.eq(0))
        .to_postgres()?;
    assert_eq!(
        statement.sql(),
        r#"DELETE FROM "public"."invoices" WHERE "invoices"."tenant_id" = $1 AND "invoices"."amount_cents" = $2"#
    );
    assert_eq!(statement.values().0[0], key.into());
    assert_eq!(
        Invoice::meta().tenant.map(|tenant| tenant.sql_type),
        Some(SqlType::Uuid)
    );
    Ok(())
}
