// `tenant_sql!` writes: INSERT gives the tenant column `$tenant`, ON
// CONFLICT updates only the tenant's row, UPDATE .. FROM and DELETE ..
// USING confine every table, and each can return rows.
use tenancy_core::{BuildStatement, Dialect, TenantId, tenant_scoped, tenant_sql};

#[tenant_scoped]
pub struct Account {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub balance: i64,
}

#[tenant_scoped]
pub struct Transfer {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub amount: i64,
}

fn main() -> Result<(), tenancy_core::BuildError> {
    let tenant = TenantId::<i64>::from_verified(3);

    let open = tenant_sql!(
        &tenant,
        "INSERT INTO {Account} AS a (tenant_id, id, balance) VALUES ($tenant, $id, $balance)
         ON CONFLICT (tenant_id, id) DO UPDATE SET balance = a.balance + excluded.balance
         RETURNING a.balance",
        id = 1_i64,
        balance = 100_i64,
    );
    let built = open.build(Dialect::Postgres)?;
    assert_eq!(
        built.sql(),
        r#"INSERT INTO "public"."accounts" AS a (tenant_id, id, balance) VALUES ($1, $2, $3)
         ON CONFLICT (tenant_id, id) DO UPDATE SET balance = a.balance + excluded.balance
         RETURNING a.balance"#
    );
    assert_eq!(built.values().0, [3_i64.into(), 1_i64.into(), 100_i64.into()]);
    assert!(!open.is_read_only());

    let copy = tenant_sql!(
        &tenant,
        "INSERT INTO {Transfer} (tenant_id, id, account_id, amount)
         SELECT $tenant, a.id + 1000, a.id, a.balance FROM {Account} a WHERE a.tenant_id = $tenant"
    );
    assert!(copy.build(Dialect::Sqlite)?.sql().starts_with(r#"INSERT INTO "main"."transfers" (tenant_id"#));

    let apply = tenant_sql!(
        &tenant,
        "UPDATE {Account} AS a SET balance = a.balance - t.amount
         FROM {Transfer} t
         WHERE a.tenant_id = $tenant AND t.tenant_id = $tenant AND t.account_id = a.id
           AND t.id = $transfer
         RETURNING a.id, a.balance",
        transfer = 9_i64,
    );
    assert_eq!(
        apply.build(Dialect::Postgres)?.sql(),
        r#"UPDATE "public"."accounts" AS a SET balance = a.balance - t.amount
         FROM "public"."transfers" t
         WHERE a.tenant_id = $1 AND t.tenant_id = $2 AND t.account_id = a.id
           AND t.id = $3
         RETURNING a.id, a.balance"#
    );

    let prune = tenant_sql!(
        &tenant,
        "DELETE FROM {Transfer} AS t USING {Account} a
         WHERE t.tenant_id = $tenant AND a.tenant_id = $tenant
           AND a.id = t.account_id AND a.balance = 0"
    );
    let tables: Vec<&str> = prune
        .build(Dialect::Postgres)?
        .tables()
        .iter()
        .map(|table| table.name)
        .collect();
    assert_eq!(tables, ["transfers", "accounts"]);
    Ok(())
}
