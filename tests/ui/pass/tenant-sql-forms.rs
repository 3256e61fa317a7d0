// Every form of `tenant_sql!`: shorthand and named parameters of each kind
// of value, a witness borrowed from elsewhere, raw strings, table paths,
// renamed tables and tenant columns, `i32`, `i64` and UUID keys, and
// PostgreSQL-only syntax that SQLite refuses to build.
use tenancy_core::{BuildError, BuildStatement, Dialect, TenantId, TenantSql, tenant_sql};

mod billing {
    #[tenancy_core::tenant_scoped(table = "ledger_entries", schema = "billing")]
    pub struct Entry {
        #[tenancy(tenant, rename = "org_id")]
        pub organisation: i32,
        #[tenancy(primary_key)]
        pub id: i64,
        pub memo: Option<String>,
        pub amount: f64,
    }
}

#[tenancy_core::tenant_scoped]
pub struct Device {
    pub tenant_id: uuid::Uuid,
    #[tenancy(primary_key)]
    pub id: uuid::Uuid,
    pub label: String,
    pub firmware: Vec<u8>,
    pub active: bool,
}

/// A statement made in a function that borrows the witness.
fn large_entries(tenant: &TenantId<i32>, least: f64) -> TenantSql {
    tenant_sql!(
        tenant,
        r#"SELECT e.id, e."memo" FROM {billing::Entry} e WHERE e.org_id = $tenant AND e.amount > $least"#,
        least,
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let org = TenantId::<i32>::from_verified(12);
    let built = large_entries(&org, 9.5).build(Dialect::Postgres)?;
    assert_eq!(
        built.sql(),
        r#"SELECT e.id, e."memo" FROM "billing"."ledger_entries" e WHERE e.org_id = $1 AND e.amount > $2"#
    );
    assert_eq!(built.values().0, [12_i32.into(), 9.5_f64.into()]);

    let memo = "refund".to_owned();
    let note = tenant_sql!(
        &org,
        "UPDATE {billing::Entry} AS e SET memo = $memo WHERE e.org_id = $tenant AND e.id = $id",
        memo = &memo,
        id = 4_i64,
    );
    assert_eq!(
        note.build(Dialect::Sqlite)?.values().0,
        [memo.clone().into(), 12_i32.into(), 4_i64.into()]
    );
    let clear = tenant_sql!(
        &org,
        "UPDATE {billing::Entry} AS e SET memo = $memo WHERE e.org_id = $tenant",
        memo = None::<&str>,
    );
    assert_eq!(clear.build(Dialect::Postgres)?.values().0[0], tenancy_core::sea_query::Value::String(None));

    let fleet = TenantId::from_verified(uuid::Uuid::from_u128(0xfeed));
    let label: &str = "edge-1";
    let firmware = vec![1_u8, 2, 3];
    let devices = tenant_sql!(
        &fleet,
        "SELECT d.id FROM {Device} d
         WHERE d.tenant_id = $tenant AND d.label = $label AND d.firmware = $firmware
           AND d.active = $active",
        label,
        firmware = &firmware,
        active = true,
    );
    assert_eq!(
        devices.build(Dialect::Postgres)?.values().0,
        [
            uuid::Uuid::from_u128(0xfeed).into(),
            "edge-1".into(),
            vec![1_u8, 2, 3].into(),
            true.into()
        ]
    );

    // `@>` is PostgreSQL's: SQLite would read the `@` otherwise.
    let tagged = tenant_sql!(
        &fleet,
        "SELECT d.id FROM {Device} d WHERE d.tenant_id = $tenant AND ARRAY[d.label] @> ARRAY[$label]",
        label,
    );
    assert!(!tagged.runs_on_sqlite());
    assert!(tagged.build(Dialect::Postgres).is_ok());
    match tagged.build(Dialect::Sqlite) {
        Err(BuildError::PostgresOnlySql { reason }) => {
            assert!(reason.contains("ARRAY[$label]"), "{reason}");
        }
        other => panic!("expected PostgresOnlySql, got {other:?}"),
    }
    let message = tagged.build(Dialect::Sqlite).unwrap_err().to_string();
    assert!(message.starts_with("this `tenant_sql!` statement can only run on PostgreSQL: "));
    Ok(())
}
