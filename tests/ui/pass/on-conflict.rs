// Upserts: the conflict target leads with the tenant column, and the tenant
// column is never among the updated columns.
use tenancy_core::{BuildStatement, TenantId, tenant_scoped};

#[tenant_scoped]
pub struct Product {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub sku: String,
    pub name: String,
    pub price_cents: i64,
}

fn main() -> Result<(), tenancy_core::BuildError> {
    let tenant = TenantId::from_verified(7);
    let sql = Product::insert(&tenant)
        .set(Product::SKU, "A-1")
        .set(Product::NAME, "Anvil")
        .set(Product::PRICE_CENTS, 4999)
        .on_conflict_do_nothing((Product::SKU,))
        .to_postgres()?
        .into_parts()
        .0;
    assert_eq!(
        sql,
        r#"INSERT INTO "public"."products" ("tenant_id", "sku", "name", "price_cents") VALUES ($1, $2, $3, $4) ON CONFLICT ("tenant_id", "sku") DO NOTHING"#
    );
    let sql = Product::insert(&tenant)
        .set(Product::SKU, "A-1")
        .set(Product::NAME, "Anvil")
        .set(Product::PRICE_CENTS, 5999)
        .on_conflict_do_update((Product::SKU,), (Product::NAME, Product::PRICE_CENTS))
        .to_postgres()?
        .into_parts()
        .0;
    assert_eq!(
        sql,
        r#"INSERT INTO "public"."products" ("tenant_id", "sku", "name", "price_cents") VALUES ($1, $2, $3, $4) ON CONFLICT ("tenant_id", "sku") DO UPDATE SET "name" = "excluded"."name", "price_cents" = "excluded"."price_cents""#
    );
    Ok(())
}
