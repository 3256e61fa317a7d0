// Expressions, aggregates, windows, CTEs and unions through the facade
// crate: the functions module and `ident!` are re-exported with the rest.
use tenancy_sqlx::functions::{count_all, rank};
use tenancy_sqlx::{BuildStatement, Cte, JoinKind, TenantId, Window, ident, tenant_scoped};

#[tenant_scoped]
pub struct Customer {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub name: String,
}

#[tenant_scoped]
pub struct Sale {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub customer_id: i64,
    pub amount: i64,
}

/// A dashboard row decodes from aliases, not from a table struct.
#[allow(dead_code)]
#[derive(sqlx::FromRow)]
struct TopCustomer {
    name: String,
    revenue: Option<i64>,
    place: i64,
}

fn main() -> Result<(), tenancy_sqlx::BuildError> {
    let tenant = TenantId::from_verified(7);
    let revenue = Sale::AMOUNT.sum().alias(ident!("revenue"));
    let totals = Cte::new(
        ident!("totals"),
        Sale::select(&tenant)
            .columns((Sale::CUSTOMER_ID, revenue.clone(), count_all().alias(ident!("sales"))))
            .group_by(Sale::CUSTOMER_ID),
    );
    let top = Customer::select(&tenant)
        .with(&totals)
        .join_with(JoinKind::Inner, &totals, totals.col(Sale::CUSTOMER_ID).eq(Customer::ID))
        .columns((
            Customer::NAME,
            totals.col(&revenue),
            rank()
                .over(Window::new().order_by(totals.col(&revenue).desc()))
                .alias(ident!("place")),
        ))
        .to_postgres()?;
    assert!(top.sql().starts_with(r#"WITH "totals" AS (SELECT"#));
    assert_eq!(top.sql().matches(r#""tenant_id" = $"#).count(), 2);

    let transfer = Sale::update(&tenant)
        .set(Sale::AMOUNT, Sale::AMOUNT - 10)
        .filter(Sale::ID.eq(1).and(Sale::AMOUNT.gte(10)))
        .to_sqlite()?;
    assert!(transfer.sql().contains(r#"SET "amount" = "sales"."amount" - ?"#));
    Ok(())
}
