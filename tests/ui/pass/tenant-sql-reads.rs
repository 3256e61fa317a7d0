// `tenant_sql!` reads: joins, a WITH query, a subquery and a global table,
// each tenant table confined by its own conjunct; tables are written with
// their schema-qualified names, parameters as placeholders on both
// backends.
use tenancy_core::{
    BuildStatement, Dialect, Identifier, StatementScope, TenantId, global_table, tenant_scoped,
    tenant_sql,
};

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
    pub name: String,
    pub plan_id: i64,
}

#[tenant_scoped]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub customer_id: i64,
    pub status: String,
    pub total: i64,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let tenant = TenantId::<i64>::from_verified(7);
    let status = "open".to_owned();
    let statement = tenant_sql!(
        &tenant,
        "WITH spend AS (
             SELECT o.customer_id, sum(o.total) AS total FROM {Order} o
             WHERE o.tenant_id = $tenant AND o.status = $status
             GROUP BY o.customer_id
         )
         SELECT c.name, p.name AS plan, spend.total
         FROM {Customer} c
         JOIN spend ON spend.customer_id = c.id
         LEFT JOIN {Plan} p ON p.id = c.plan_id
         WHERE c.tenant_id = $tenant
           AND c.id IN (SELECT big.customer_id FROM {Order} big
                        WHERE big.tenant_id = $tenant AND big.total >= $least)
         ORDER BY spend.total DESC",
        status,
        least = 1_000_i64,
    );
    assert_eq!(statement.scope(), StatementScope::Tenant(tenant.key_value()));
    assert!(statement.is_read_only());
    assert!(statement.runs_on_sqlite());

    let postgres = statement.build(Dialect::Postgres)?;
    assert_eq!(
        postgres.sql(),
        r#"WITH spend AS (
             SELECT o.customer_id, sum(o.total) AS total FROM "public"."orders" o
             WHERE o.tenant_id = $1 AND o.status = $2
             GROUP BY o.customer_id
         )
         SELECT c.name, p.name AS plan, spend.total
         FROM "public"."customers" c
         JOIN spend ON spend.customer_id = c.id
         LEFT JOIN "public"."plans" p ON p.id = c.plan_id
         WHERE c.tenant_id = $3
           AND c.id IN (SELECT big.customer_id FROM "public"."orders" big
                        WHERE big.tenant_id = $4 AND big.total >= $5)
         ORDER BY spend.total DESC"#
    );
    assert_eq!(
        postgres.values().0,
        [
            7_i64.into(),
            "open".into(),
            7_i64.into(),
            7_i64.into(),
            1_000_i64.into()
        ]
    );
    let tables: Vec<&str> = postgres.tables().iter().map(|table| table.name).collect();
    assert_eq!(tables, ["orders", "customers", "plans"]);

    // SQLite: `?` placeholders, bound in the same order; tables in `main`.
    let sqlite = statement.build(Dialect::Sqlite)?;
    assert_eq!(sqlite.sql().matches('?').count(), 5);
    assert!(sqlite.sql().contains(r#"FROM "main"."customers" c"#));
    assert_eq!(sqlite.values(), postgres.values());

    // Another schema, for the place the transaction runs.
    let acme = Identifier::new("schema", "acme")?;
    let placed = statement.build_in(Dialect::Postgres, &acme)?;
    assert!(placed.sql().contains(r#"LEFT JOIN "acme"."plans" p"#));
    Ok(())
}
