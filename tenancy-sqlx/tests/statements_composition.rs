//! Statements made of parts against real databases: on PostgreSQL as the
//! application role under forced row-level security, and on SQLite, with
//! rows of two tenants that share every id. Self-joins, a recursive walk of
//! a tree whose other tenant has a child of "the same" root, unions, scalar
//! and correlated subqueries, right and full joins, UPDATE .. FROM and
//! DELETE .. USING return and change the tenant's rows only.

mod sales;

use sales::tables::{Account, Category, Customer, Payment, Region, Sale};
use sales::{A, B, TestResult, mentions_b, tenant};
use sqlx::Sqlite;
use tenancy_sqlx::functions::{count_all, value};
use tenancy_sqlx::{
    Backend, BuildError, Cte, Error, Filter, JoinKind, TableAlias, TenantPool, ident,
};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
struct WithParent {
    name: String,
    parent: Option<String>,
}

async fn parents<DB: Backend>(pool: &TenantPool<DB>) -> TestResult
where
    WithParent: for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let tenant = tenant(A);
    let parent = TableAlias::<Category>::new(ident!("parent"));
    let mut tx = pool.begin(&tenant).await?;
    let rows: Vec<WithParent> = tx
        .fetch_all(
            Category::select(&tenant)
                .join_with(
                    JoinKind::Left,
                    &parent,
                    parent.col(Category::ID).eq(Category::PARENT_ID),
                )
                .columns((
                    Category::NAME,
                    parent.col(Category::NAME).alias(ident!("parent")),
                ))
                .order_by_asc(Category::ID),
        )
        .await?;
    tx.commit().await?;
    let named = |name: &str, parent: Option<&str>| WithParent {
        name: name.to_owned(),
        parent: parent.map(ToOwned::to_owned),
    };
    assert_eq!(
        rows,
        [
            named("root-1", None),
            named("tools-1", Some("root-1")),
            named("toys-1", Some("root-1")),
            named("saws-1", Some("tools-1")),
        ]
    );
    Ok(())
}

#[tokio::test]
async fn a_self_join_scopes_both_references_on_postgres() -> TestResult {
    let (_db, pool) = sales::postgres().await?;
    parents(&pool).await
}

#[tokio::test]
async fn a_self_join_scopes_both_references_on_sqlite() -> TestResult {
    parents(&sales::sqlite().await?).await
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
struct Node {
    id: i64,
    name: String,
    depth: i64,
}

/// The subtree of the tenant's root: tenant B's fifth category names
/// parent 1 too, and must not be found.
async fn subtree<DB: Backend>(pool: &TenantPool<DB>) -> TestResult
where
    Node: for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let tenant = tenant(A);
    let depth = value(0_i64).alias(ident!("depth"));
    let tree = Cte::recursive(
        ident!("tree"),
        Category::select(&tenant)
            .columns((Category::ID, Category::NAME, depth.clone()))
            .filter(Category::PARENT_ID.is_null()),
        |tree| {
            Category::select(&tenant)
                .columns((
                    Category::ID,
                    Category::NAME,
                    (tree.col(&depth) + 1).alias(ident!("depth")),
                ))
                .join_with(
                    JoinKind::Inner,
                    tree,
                    Category::PARENT_ID.eq(tree.col(Category::ID)),
                )
        },
    );
    let mut tx = pool.begin(&tenant).await?;
    let nodes: Vec<Node> = tx
        .fetch_all(
            tree.select()
                .order_by((tree.col(&depth).asc(), tree.col(Category::ID).asc())),
        )
        .await?;
    tx.commit().await?;
    let node = |id, name: &str, depth| Node {
        id,
        name: name.to_owned(),
        depth,
    };
    assert_eq!(
        nodes,
        [
            node(1, "root-1", 0),
            node(2, "tools-1", 1),
            node(3, "toys-1", 1),
            node(4, "saws-1", 2),
        ]
    );
    Ok(())
}

#[tokio::test]
async fn a_recursive_cte_walks_the_tenant_s_tree_only_on_postgres() -> TestResult {
    let (_db, pool) = sales::postgres().await?;
    subtree(&pool).await
}

#[tokio::test]
async fn a_recursive_cte_walks_the_tenant_s_tree_only_on_sqlite() -> TestResult {
    subtree(&sales::sqlite().await?).await
}

/// A union of the tenant's names with the shared regions' labels.
async fn names<DB: Backend>(pool: &TenantPool<DB>) -> TestResult
where
    (String,): for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let tenant = tenant(A);
    let mut tx = pool.begin(&tenant).await?;
    let names: Vec<(String,)> = tx
        .fetch_all(
            Customer::select(&tenant)
                .column(Customer::NAME)
                .union_all(Category::select(&tenant).column(Category::NAME.alias(ident!("name"))))
                .union(Region::select().column(Region::LABEL.alias(ident!("name"))))
                .order_by(Customer::NAME.asc()),
        )
        .await?;
    tx.commit().await?;
    let names: Vec<String> = names.into_iter().map(|(name,)| name).collect();
    assert_eq!(
        names,
        [
            "The North",
            "The South",
            "ann-1",
            "bob-1",
            "cy-1",
            "root-1",
            "saws-1",
            "tools-1",
            "toys-1"
        ]
    );
    Ok(())
}

#[tokio::test]
async fn unions_scope_every_member_on_postgres() -> TestResult {
    let (_db, pool) = sales::postgres().await?;
    names(&pool).await
}

#[tokio::test]
async fn unions_scope_every_member_on_sqlite() -> TestResult {
    names(&sales::sqlite().await?).await
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
struct Buyer {
    name: String,
    sales: Option<i64>,
    biggest: Option<i64>,
}

/// Scalar subqueries in the projection, and correlated EXISTS and IN.
async fn buyers<DB: Backend>(pool: &TenantPool<DB>) -> TestResult
where
    Buyer: for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let tenant = tenant(A);
    let mut tx = pool.begin(&tenant).await?;
    let of_customer = || Sale::select(&tenant).filter(Sale::CUSTOMER_ID.eq(Customer::ID));
    let rows: Vec<Buyer> = tx
        .fetch_all(
            Customer::select(&tenant)
                .columns((
                    Customer::NAME,
                    of_customer().scalar(count_all()).alias(ident!("sales")),
                    of_customer()
                        .scalar(Sale::AMOUNT.max())
                        .alias(ident!("biggest")),
                ))
                .filter(Filter::exists::<Sale>(
                    Sale::CUSTOMER_ID
                        .eq(Customer::ID)
                        .and(Sale::STATUS.eq("paid")),
                ))
                .filter(Customer::ID.in_subquery(Sale::CUSTOMER_ID.subquery(Sale::AMOUNT.gt(1020))))
                .order_by_asc(Customer::ID),
        )
        .await?;
    tx.commit().await?;
    let buyer = |name: &str, sales, biggest| Buyer {
        name: name.to_owned(),
        sales: Some(sales),
        biggest: Some(biggest),
    };
    // Customers 2 and 3 have paid sales (ids 2, 4, 6) above 1020.
    assert_eq!(rows, [buyer("bob-1", 2, 1022), buyer("cy-1", 3, 1033)]);
    Ok(())
}

#[tokio::test]
async fn scalar_and_correlated_subqueries_on_postgres() -> TestResult {
    let (_db, pool) = sales::postgres().await?;
    buyers(&pool).await
}

#[tokio::test]
async fn scalar_and_correlated_subqueries_on_sqlite() -> TestResult {
    buyers(&sales::sqlite().await?).await
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
struct Pair {
    customer: Option<String>,
    sale: Option<i64>,
}

/// Customers without sales and sales without customers, both sides of a
/// full join; a right join keeps every sale. Tenant B has a customer with
/// no sale (4) and a sale of no customer... of tenant A's numbering.
async fn outer_joins<DB: Backend>(pool: &TenantPool<DB>) -> TestResult
where
    Pair: for<'r> sqlx::FromRow<'r, DB::Row>,
{
    // Tenant A: a customer without sales. Tenant B: one too, with the
    // same id, which A must not see.
    for key in [A, B] {
        let tenant = tenant(key);
        let mut tx = pool.begin(&tenant).await?;
        tx.execute(
            Customer::insert(&tenant)
                .set(Customer::ID, 4)
                .set(Customer::NAME, format!("dee-{key}")),
        )
        .await?;
        tx.commit().await?;
    }
    let tenant = tenant(A);
    let pairs = |kind: JoinKind| {
        let sale = TableAlias::<Sale>::new(ident!("sale"));
        Customer::select(&tenant)
            .join_with(kind, &sale, sale.col(Sale::CUSTOMER_ID).eq(Customer::ID))
            .columns((
                Customer::NAME.alias(ident!("customer")),
                sale.col(Sale::ID).alias(ident!("sale")),
            ))
            .order_by((Customer::ID.asc().nulls_last(), sale.col(Sale::ID).asc()))
    };
    let mut tx = pool.begin(&tenant).await?;
    let full: Vec<Pair> = tx.fetch_all(pairs(JoinKind::Full)).await?;
    let right: Vec<Pair> = tx
        .fetch_all(
            Customer::select(&tenant)
                .right_join::<Sale>(Sale::CUSTOMER_ID.eq(Customer::ID).and(Customer::ID.lt(3)))
                .columns((
                    Customer::NAME.alias(ident!("customer")),
                    Sale::ID.alias(ident!("sale")),
                ))
                .order_by_asc(Sale::ID),
        )
        .await?;
    tx.commit().await?;
    let pair = |customer: Option<&str>, sale: Option<i64>| Pair {
        customer: customer.map(ToOwned::to_owned),
        sale,
    };
    assert_eq!(
        full,
        [
            pair(Some("ann-1"), Some(1)),
            pair(Some("bob-1"), Some(2)),
            pair(Some("bob-1"), Some(3)),
            pair(Some("cy-1"), Some(4)),
            pair(Some("cy-1"), Some(5)),
            pair(Some("cy-1"), Some(6)),
            pair(Some("dee-1"), None),
        ]
    );
    // Every sale of the tenant, with its customer where it is 1 or 2.
    assert_eq!(
        right,
        [
            pair(Some("ann-1"), Some(1)),
            pair(Some("bob-1"), Some(2)),
            pair(Some("bob-1"), Some(3)),
            pair(None, Some(4)),
            pair(None, Some(5)),
            pair(None, Some(6)),
        ]
    );
    assert!(!mentions_b(&full) && !mentions_b(&right));
    Ok(())
}

#[tokio::test]
async fn right_and_full_joins_keep_the_tenant_s_rows_only_on_postgres() -> TestResult {
    let (_db, pool) = sales::postgres().await?;
    outer_joins(&pool).await
}

#[tokio::test]
async fn right_and_full_joins_keep_the_tenant_s_rows_only_on_sqlite() -> TestResult {
    outer_joins(&sales::sqlite().await?).await
}

/// Why the builder reads a right join's tables through derived tables: a
/// tenant conjunct in the `ON` of a right join does not confine the side
/// it keeps. On SQLite, where no policy backs the predicate up, the naive
/// statement returns tenant B's sales; the builder's does not.
#[tokio::test]
async fn a_tenant_conjunct_in_on_does_not_confine_the_side_a_right_join_keeps() -> TestResult {
    let pool: TenantPool<Sqlite> = sales::sqlite().await?;
    let tenant = tenant(A);
    let mut tx = pool.begin(&tenant).await?;
    let naive: Vec<(Option<String>, i64, i64)> = sqlx::query_as(
        "SELECT c.name, s.id, s.tenant_id FROM customers c RIGHT JOIN sales s
         ON c.tenant_id = ?1 AND s.tenant_id = ?1 AND s.customer_id = c.id",
    )
    .bind(A)
    .fetch_all(tx.raw_connection())
    .await?;
    assert!(
        naive.iter().any(|(_, _, tenant)| *tenant == B),
        "the naive right join was expected to keep tenant B's sales: {naive:?}"
    );
    let built: Vec<(Option<String>, i64)> = tx
        .fetch_all(
            Customer::select(&tenant)
                .right_join::<Sale>(Sale::CUSTOMER_ID.eq(Customer::ID))
                .columns((Customer::NAME, Sale::ID)),
        )
        .await?;
    assert_eq!(built.len(), sales::sales(A).len(), "{built:?}");
    assert!(!mentions_b(&built), "{built:?}");
    tx.commit().await?;
    Ok(())
}

/// Books the pending payments to their accounts: `UPDATE .. FROM`.
async fn book_payments<DB: Backend>(pool: &TenantPool<DB>) -> TestResult
where
    Account: for<'r> sqlx::FromRow<'r, DB::Row>,
    (i64, i64): for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let tenant = tenant(A);
    let mut tx = pool.begin(&tenant).await?;
    let booked: Vec<(i64, i64)> = tx
        .fetch_all(
            Account::update(&tenant)
                .from::<Payment>()
                .set(Account::BALANCE, Account::BALANCE + Payment::AMOUNT)
                .filter(Payment::ACCOUNT_ID.eq(Account::ID).and(Payment::ID.eq(1)))
                .returning((Account::ID, Account::BALANCE)),
        )
        .await?;
    tx.commit().await?;
    assert_eq!(booked, [(2, A * 100)]);
    for key in [A, B] {
        let tenant = tenant_of(key);
        let mut tx = pool.begin(&tenant).await?;
        let accounts: Vec<Account> = tx
            .fetch_all(Account::select(&tenant).order_by_asc(Account::ID))
            .await?;
        tx.commit().await?;
        let [first, second] = sales::balances(key);
        let booked = if key == A { key * 100 } else { 0 };
        let balances: Vec<i64> = accounts.iter().map(|account| account.balance).collect();
        assert_eq!(balances, [first, second + booked], "tenant {key}");
    }
    Ok(())
}

fn tenant_of(key: i64) -> tenancy_sqlx::TenantId {
    tenant(key)
}

#[tokio::test]
async fn update_from_reads_and_writes_the_tenant_s_rows_only_on_postgres() -> TestResult {
    let (_db, pool) = sales::postgres().await?;
    book_payments(&pool).await
}

#[tokio::test]
async fn update_from_reads_and_writes_the_tenant_s_rows_only_on_sqlite() -> TestResult {
    book_payments(&sales::sqlite().await?).await
}

/// `DELETE .. USING`: the sales of southern customers, on PostgreSQL; the
/// same with `EXISTS` on SQLite, which has no `USING`.
#[tokio::test]
async fn delete_using_removes_the_tenant_s_rows_only_on_postgres() -> TestResult {
    let (_db, pool) = sales::postgres().await?;
    let tenant = tenant(A);
    let mut tx = pool.begin(&tenant).await?;
    let deleted: Vec<(i64,)> = tx
        .fetch_all(
            Sale::delete(&tenant)
                .using::<Customer>()
                .filter(
                    Customer::ID
                        .eq(Sale::CUSTOMER_ID)
                        .and(Customer::REGION.eq("south")),
                )
                .returning(Sale::ID),
        )
        .await?;
    tx.commit().await?;
    let mut deleted: Vec<i64> = deleted.into_iter().map(|(id,)| id).collect();
    deleted.sort_unstable();
    assert_eq!(deleted, [2, 3]);
    for (key, left) in [(A, 4), (B, 6)] {
        let tenant = tenant_of(key);
        let mut tx = pool.begin(&tenant).await?;
        let (count,): (i64,) = tx.fetch_one(Sale::select(&tenant).count()).await?;
        tx.commit().await?;
        assert_eq!(count, left, "tenant {key}");
    }
    Ok(())
}

#[tokio::test]
async fn delete_using_is_refused_on_sqlite_and_exists_does_the_same() -> TestResult {
    let pool = sales::sqlite().await?;
    let tenant = tenant(A);
    let mut tx = pool.begin(&tenant).await?;
    let refused = tx
        .execute(
            Sale::delete(&tenant)
                .using::<Customer>()
                .filter(Customer::ID.eq(Sale::CUSTOMER_ID)),
        )
        .await;
    assert!(
        matches!(
            refused,
            Err(Error::Build(BuildError::UnsupportedInDialect { .. }))
        ),
        "{refused:?}"
    );
    let deleted = tx
        .execute(
            Sale::delete(&tenant).filter(Filter::exists::<Customer>(
                Customer::ID
                    .eq(Sale::CUSTOMER_ID)
                    .and(Customer::REGION.eq("south")),
            )),
        )
        .await?;
    assert_eq!(deleted, 2);
    tx.commit().await?;
    let theirs = tenant_of(B);
    let mut tx = pool.begin(&theirs).await?;
    let (count,): (i64,) = tx.fetch_one(Sale::select(&theirs).count()).await?;
    tx.commit().await?;
    assert_eq!(count, 6);
    Ok(())
}
