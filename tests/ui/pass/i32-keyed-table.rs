// A table keyed by `i32` takes a `TenantId<i32>`.
use tenancy_core::{BuildStatement, SqlType, Table, TenantId, tenant_scoped};

#[tenant_scoped]
pub struct Note {
    pub tenant_id: i32,
    #[tenancy(primary_key)]
    pub id: i64,
    pub body: String,
}

fn main() -> Result<(), tenancy_core::BuildError> {
    let tenant: TenantId<i32> = TenantId::from_verified(3);
    let statement = Note::update(&tenant)
        .set(Note::BODY, "edited")
        .filter(Note::ID.eq(9))
        .to_sqlite()?;
    assert_eq!(
        statement.sql(),
        r#"UPDATE "main"."notes" SET "body" = ? WHERE "notes"."tenant_id" = ? AND "notes"."id" = ?"#
    );
    assert_eq!(statement.values().0[1], 3_i32.into());
    assert_eq!(
        Note::meta().tenant.map(|tenant| tenant.sql_type),
        Some(SqlType::Integer)
    );
    Ok(())
}
