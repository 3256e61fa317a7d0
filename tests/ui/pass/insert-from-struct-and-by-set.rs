// Rows are inserted from structs or column by column; either way the tenant
// column's value is the witness's, and generated columns are left out.
use tenancy_core::{BuildStatement, TenantId, tenant_scoped};

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key, generated)]
    pub id: i64,
    pub status: String,
    pub note: Option<String>,
}

fn main() -> Result<(), tenancy_core::BuildError> {
    let tenant = TenantId::from_verified(7);
    // The row claims tenant 99; the statement inserts it for tenant 7.
    let forged = Order {
        tenant_id: 99,
        id: 1,
        status: "open".to_owned(),
        note: None,
    };
    let paid = Order {
        tenant_id: 7,
        id: 2,
        status: "paid".to_owned(),
        note: Some("by card".to_owned()),
    };
    let statement = Order::insert(&tenant)
        .rows([&forged, &paid])
        .to_postgres()?;
    assert_eq!(
        statement.sql(),
        r#"INSERT INTO "public"."orders" ("tenant_id", "status", "note") VALUES ($1, $2, $3), ($4, $5, $6)"#
    );
    assert_eq!(statement.values().0[0], 7_i64.into());
    assert_eq!(statement.values().0[3], 7_i64.into());

    let statement = Order::insert(&tenant)
        .set(Order::STATUS, "open")
        .set(Order::NOTE, None)
        .new_row()
        .set(Order::STATUS, "draft")
        .set(Order::NOTE, Some("call back".to_owned()))
        .returning_all()
        .to_sqlite()?;
    assert_eq!(
        statement.sql(),
        r#"INSERT INTO "main"."orders" ("tenant_id", "status", "note") VALUES (?, ?, ?), (?, ?, ?) RETURNING *"#
    );
    let single = Order::insert(&tenant).row(&paid).to_sqlite()?;
    assert_eq!(single.values().0.len(), 3);
    Ok(())
}
