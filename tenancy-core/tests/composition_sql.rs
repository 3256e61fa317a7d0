//! Exact SQL of statements made of parts: aliases and self-joins, CTEs
//! (recursive ones too), unions, right and full joins, UPDATE .. FROM,
//! DELETE .. USING and row locks; and the refusals that keep each part
//! scoped.

mod tables;

use tables::{Account, Customer, Invoice, Line, Order, Plan};
use tenancy_core::functions::{count_all, value};
use tenancy_core::sea_query::Value;
use tenancy_core::{
    BuildError, BuildStatement, CrossTenant, Cte, Dialect, JoinKind, Select, Statement,
    StatementScope, TableAlias, TenantId, ident,
};

const TENANT: i64 = 4_000_000_001;

fn tenant() -> TenantId<i64> {
    TenantId::from_verified(TENANT)
}

fn postgres(builder: &impl BuildStatement) -> Statement {
    builder.to_postgres().expect("statement builds")
}

fn sqlite(builder: &impl BuildStatement) -> Statement {
    builder.to_sqlite().expect("statement builds")
}

fn tenant_values(statement: &Statement) -> usize {
    statement
        .values()
        .0
        .iter()
        .filter(|value| **value == Value::from(TENANT))
        .count()
}

#[test]
fn each_alias_of_a_self_join_is_scoped_under_its_own_name() {
    let referrer = TableAlias::<Customer>::new(ident!("referrer"));
    let select = Customer::select(&tenant())
        .join_with(
            JoinKind::Left,
            &referrer,
            referrer.col(Customer::ID).eq(Customer::PLAN_ID),
        )
        .columns((
            Customer::NAME,
            referrer.col(Customer::NAME).alias(ident!("referred_by")),
        ));
    assert_eq!(
        sqlite(&select).sql(),
        r#"SELECT "customers"."name", "referrer"."name" AS "referred_by" FROM "main"."customers" LEFT JOIN "main"."customers" AS "referrer" ON "referrer"."tenant_id" = ? AND "referrer"."id" = "customers"."plan_id" WHERE "customers"."tenant_id" = ?"#
    );

    // Both references aliased, the base's too.
    let child = TableAlias::<Customer>::new(ident!("child"));
    let both = Customer::select(&tenant()).aliased(&child).join_with(
        JoinKind::Inner,
        &referrer,
        referrer.col(Customer::ID).eq(child.col(Customer::PLAN_ID)),
    );
    let statement = postgres(&both);
    assert!(statement.sql().starts_with(
        r#"SELECT "child"."tenant_id", "child"."id", "child"."name", "child"."region", "child"."plan_id" FROM "public"."customers" AS "child" INNER JOIN "public"."customers" AS "referrer" ON "referrer"."tenant_id" = $1"#
    ));
    assert!(
        statement
            .sql()
            .ends_with(r#"WHERE "child"."tenant_id" = $2"#)
    );
    assert_eq!(statement.tables().len(), 1);
}

#[test]
fn a_reference_named_twice_is_refused() {
    let orders = TableAlias::<Order>::new(ident!("orders"));
    let twice = Order::select(&tenant()).join_with(JoinKind::Inner, &orders, Order::ID.eq(1));
    assert_eq!(
        twice.to_postgres(),
        Err(BuildError::DuplicateTable {
            table: "orders".into()
        })
    );
    let message = BuildError::DuplicateTable {
        table: "orders".into(),
    }
    .to_string();
    assert!(message.contains("TableAlias"), "{message}");
}

#[test]
fn an_aliased_table_is_read_through_its_alias() {
    let other = TableAlias::<Order>::new(ident!("other"));
    let wrong = Order::select(&tenant())
        .aliased(&other)
        .filter(Order::TOTAL.gt(1));
    let error = wrong
        .to_postgres()
        .expect_err("the table's own name is not in scope");
    assert_eq!(
        error,
        BuildError::UnknownTable {
            table: "orders".into(),
            column: "total".into()
        }
    );
    assert!(error.to_string().contains("alias.col"), "{error}");
}

#[test]
fn a_correlated_subquery_on_the_outer_table_names_it_by_an_alias() {
    let peer = TableAlias::<Order>::new(ident!("peer"));
    let average = Order::select(&tenant())
        .aliased(&peer)
        .filter(peer.col(Order::CUSTOMER_ID).eq(Order::CUSTOMER_ID))
        .scalar(peer.col(Order::TOTAL).avg());
    let above = Order::select(&tenant())
        .column(Order::ID)
        .filter(Order::TOTAL.cast::<f64>().gt(average.coalesce(0.0)));
    assert_eq!(
        postgres(&above).sql(),
        r#"SELECT "orders"."id" FROM "public"."orders" WHERE "orders"."tenant_id" = $1 AND CAST("orders"."total" AS DOUBLE PRECISION) > COALESCE((SELECT CAST(AVG("peer"."total") AS DOUBLE PRECISION) FROM "public"."orders" AS "peer" WHERE "peer"."tenant_id" = $2 AND "peer"."customer_id" = "orders"."customer_id"), $3)"#
    );
}

#[test]
fn ctes_are_declared_scoped_and_read_by_name() {
    let revenue = Order::TOTAL.sum().alias(ident!("revenue"));
    let totals = Cte::new(
        ident!("totals"),
        Order::select(&tenant())
            .columns((Order::CUSTOMER_ID, revenue.clone()))
            .group_by(Order::CUSTOMER_ID),
    );
    let top = Customer::select(&tenant())
        .with(&totals)
        .join_with(
            JoinKind::Inner,
            &totals,
            totals.col(Order::CUSTOMER_ID).eq(Customer::ID),
        )
        .columns((Customer::NAME, totals.col(&revenue)))
        .order_by(totals.col(&revenue).desc().nulls_last())
        .limit(3);
    let statement = sqlite(&top);
    assert_eq!(
        statement.sql(),
        r#"WITH "totals" AS (SELECT "orders"."customer_id", SUM("orders"."total") AS "revenue" FROM "main"."orders" WHERE "orders"."tenant_id" = ? GROUP BY "orders"."customer_id") SELECT "customers"."name", "totals"."revenue" FROM "main"."customers" INNER JOIN "totals" ON "totals"."customer_id" = "customers"."id" WHERE "customers"."tenant_id" = ? ORDER BY "totals"."revenue" DESC NULLS LAST LIMIT ?"#
    );
    assert_eq!(tenant_values(&statement), 2);
    let tables: Vec<&str> = statement.tables().iter().map(|table| table.name).collect();
    assert_eq!(tables, ["orders", "customers"]);

    // A CTE that a statement reads must be declared, once, by its name.
    let undeclared =
        Customer::select(&tenant()).join_with(JoinKind::Inner, &totals, Customer::ID.eq(1));
    assert_eq!(
        undeclared.to_postgres(),
        Err(BuildError::UndeclaredCte {
            name: "totals".into()
        })
    );
    let impostor = Cte::new(
        ident!("totals"),
        Order::select(&tenant()).column(Order::CUSTOMER_ID),
    );
    let two = Customer::select(&tenant()).with(&totals).join_with(
        JoinKind::Inner,
        &impostor,
        Customer::ID.eq(1),
    );
    assert_eq!(
        two.to_postgres(),
        Err(BuildError::DuplicateCte {
            name: "totals".into()
        })
    );
    let missing = Customer::select(&tenant()).with(&totals).join_with(
        JoinKind::Inner,
        &totals,
        totals.col(Order::STATUS).eq("x"),
    );
    assert_eq!(
        missing.to_postgres(),
        Err(BuildError::UnknownColumn {
            source_name: "totals".into(),
            column: "status".into()
        })
    );
    let unnamed = Cte::new(
        ident!("unnamed"),
        Order::select(&tenant()).column(count_all()),
    );
    let read = unnamed.select();
    assert_eq!(
        read.to_postgres(),
        Err(BuildError::UnnamedOutput {
            cte: "unnamed".into(),
            position: 0
        })
    );
}

#[test]
fn a_cte_built_for_another_tenant_is_refused() {
    let theirs = Cte::new(
        ident!("theirs"),
        Order::select(&TenantId::from_verified(TENANT + 1)).column(Order::CUSTOMER_ID),
    );
    let select = Customer::select(&tenant()).with(&theirs).join_with(
        JoinKind::Inner,
        &theirs,
        theirs.col(Order::CUSTOMER_ID).eq(Customer::ID),
    );
    assert!(matches!(
        select.to_postgres(),
        Err(BuildError::MixedScopes { .. })
    ));
}

#[test]
fn a_recursive_cte_scopes_its_anchor_and_every_step() {
    let depth = value(0_i64).alias(ident!("depth"));
    let tree = Cte::recursive(
        ident!("tree"),
        Customer::select(&tenant())
            .columns((Customer::ID, Customer::NAME, depth.clone()))
            .filter(Customer::ID.eq(1)),
        |tree| {
            Customer::select(&tenant())
                .columns((
                    Customer::ID,
                    Customer::NAME,
                    (tree.col(&depth) + 1).alias(ident!("depth")),
                ))
                .join_with(
                    JoinKind::Inner,
                    tree,
                    Customer::PLAN_ID.eq(tree.col(Customer::ID)),
                )
                .filter(tree.col(&depth).lt(10))
        },
    );
    let select = tree.select().order_by_asc(tree.col(&depth));
    let statement = postgres(&select);
    assert_eq!(
        statement.sql(),
        r#"WITH RECURSIVE "tree" AS (SELECT "customers"."id", "customers"."name", $1 AS "depth" FROM "public"."customers" WHERE "customers"."tenant_id" = $2 AND "customers"."id" = $3 UNION ALL SELECT "customers"."id", "customers"."name", "tree"."depth" + $4 AS "depth" FROM "public"."customers" INNER JOIN "tree" ON "customers"."plan_id" = "tree"."id" WHERE "customers"."tenant_id" = $5 AND "tree"."depth" < $6) SELECT "tree"."id", "tree"."name", "tree"."depth" FROM "tree" ORDER BY "tree"."depth" ASC"#
    );
    assert_eq!(tenant_values(&statement), 2);
    assert_eq!(select.scope(), StatementScope::Tenant(tenant().key_value()));

    // The member's reference to its CTE is not the CTE.
    let mut escaped = None;
    let _ = Cte::recursive(
        ident!("loop"),
        Customer::select(&tenant()).column(Customer::ID),
        |reference| {
            escaped = Some(reference.clone());
            Customer::select(&tenant()).column(Customer::ID)
        },
    );
    let escaped = escaped.expect("the member was built");
    assert_eq!(
        escaped.select().to_postgres(),
        Err(BuildError::RecursiveReference {
            name: "loop".into()
        })
    );

    // The anchor and the member must project alike.
    let mismatched = Cte::recursive(
        ident!("bad"),
        Customer::select(&tenant()).column(Customer::ID),
        |_| Customer::select(&tenant()).column(Customer::NAME),
    );
    assert!(matches!(
        mismatched.select().to_postgres(),
        Err(BuildError::UnionMismatch { .. })
    ));
}

#[test]
fn unions_scope_every_member_and_check_their_columns() {
    let union = Customer::select(&tenant())
        .column(Customer::NAME)
        .union_all(Plan::select().column(Plan::NAME))
        .union(Order::select(&tenant()).column(Order::STATUS.alias(ident!("name"))))
        .order_by(Customer::NAME.desc())
        .limit(10);
    let statement = postgres(&union);
    assert_eq!(
        statement.sql(),
        r#"SELECT "customers"."name" FROM "public"."customers" WHERE "customers"."tenant_id" = $1 UNION ALL SELECT "plans"."name" FROM "public"."plans" UNION SELECT "orders"."status" AS "name" FROM "public"."orders" WHERE "orders"."tenant_id" = $2 ORDER BY "name" DESC LIMIT $3"#
    );
    assert_eq!(union.scope(), StatementScope::Tenant(tenant().key_value()));

    // A union led by a global member is for the tenant of the others.
    let led_by_global = Plan::select()
        .column(Plan::NAME)
        .union(Customer::select(&tenant()).column(Customer::NAME));
    assert_eq!(
        led_by_global.scope(),
        StatementScope::Tenant(tenant().key_value())
    );
    assert_eq!(tenant_values(&postgres(&led_by_global)), 1);

    let count = Customer::select(&tenant())
        .column(Customer::NAME)
        .union(Order::select(&tenant()).columns((Order::STATUS, Order::TOTAL)));
    assert!(matches!(
        count.to_postgres(),
        Err(BuildError::UnionMismatch { difference }) if difference.contains("2 columns")
    ));
    let types = Customer::select(&tenant())
        .column(Customer::NAME)
        .union(Order::select(&tenant()).column(Order::TOTAL));
    assert!(matches!(
        types.to_sqlite(),
        Err(BuildError::UnionMismatch { difference }) if difference.contains("BigInt")
    ));
    let ordered_member = Customer::select(&tenant())
        .column(Customer::NAME)
        .union(Plan::select().column(Plan::NAME).limit(1));
    assert_eq!(
        ordered_member.to_postgres(),
        Err(BuildError::UnionMemberClause {
            clause: "LIMIT or OFFSET"
        })
    );
    let by_expression = Customer::select(&tenant())
        .column(Customer::NAME)
        .union(Plan::select().column(Plan::NAME))
        .order_by(Customer::NAME.lower().asc());
    assert_eq!(by_expression.to_postgres(), Err(BuildError::UnionOrdering));
    let theirs = Customer::select(&tenant())
        .column(Customer::NAME)
        .union(Customer::select(&TenantId::from_verified(TENANT + 1)).column(Customer::NAME));
    assert!(matches!(
        theirs.to_postgres(),
        Err(BuildError::MixedScopes { .. })
    ));
}

#[test]
fn right_and_full_joins_read_each_scoped_table_through_a_scoped_derived_table() {
    let select = Order::select(&tenant())
        .right_join::<Customer>(Customer::ID.eq(Order::CUSTOMER_ID))
        .left_join_global::<Plan>(Plan::ID.eq(Customer::PLAN_ID))
        .columns((Customer::NAME, Order::ID, Plan::NAME.alias(ident!("plan"))));
    let statement = postgres(&select);
    assert_eq!(
        statement.sql(),
        r#"SELECT "customers"."name", "orders"."id", "plans"."name" AS "plan" FROM (SELECT "orders"."tenant_id", "orders"."id", "orders"."customer_id", "orders"."status", "orders"."total", "orders"."note" FROM "public"."orders" WHERE "orders"."tenant_id" = $1) AS "orders" RIGHT JOIN (SELECT "customers"."tenant_id", "customers"."id", "customers"."name", "customers"."region", "customers"."plan_id" FROM "public"."customers" WHERE "customers"."tenant_id" = $2) AS "customers" ON "customers"."id" = "orders"."customer_id" LEFT JOIN "public"."plans" ON "plans"."id" = "customers"."plan_id""#
    );
    assert_eq!(tenant_values(&statement), 2);

    let alias = TableAlias::<Line>::new(ident!("line"));
    let full = Order::select(&tenant())
        .full_join::<Invoice>(Invoice::ORDER_ID.eq(Order::ID))
        .join_with(
            JoinKind::Inner,
            &alias,
            alias.col(Line::ORDER_ID).eq(Order::ID),
        )
        .column(Order::ID);
    let sql = sqlite(&full).sql().to_owned();
    assert!(
        sql.contains(r#"FULL JOIN (SELECT "invoices"."tenant_id""#),
        "{sql}"
    );
    assert!(
        sql.contains(
            r#"FROM "billing"."invoices" WHERE "invoices"."tenant_id" = ?) AS "invoices""#
        ),
        "{sql}"
    );
    assert!(
        sql.contains(
            r#"FROM "main"."order_lines" AS "line" WHERE "line"."tenant_id" = ?) AS "line""#
        ),
        "{sql}"
    );
    assert!(
        !sql.contains("WHERE \"orders\".\"tenant_id\" = ? AND"),
        "{sql}"
    );
}

#[test]
fn across_tenants_joins_match_the_tenant_column_and_refuse_what_cannot_be_matched() {
    let capability = CrossTenant::with_reason("composition tests").expect("a stated reason");
    let mirror = TableAlias::<Order>::new(ident!("mirror"));
    let select = Select::<Order>::across_tenants(&capability)
        .full_join::<Customer>(Customer::ID.eq(Order::CUSTOMER_ID))
        .join_with(
            JoinKind::Right,
            &mirror,
            mirror.col(Order::ID).eq(Order::ID),
        )
        .columns((Order::TENANT_ID, count_all().alias(ident!("n"))))
        .group_by(Order::TENANT_ID);
    assert_eq!(
        postgres(&select).sql(),
        r#"SELECT "orders"."tenant_id", COUNT(*) AS "n" FROM "public"."orders" FULL JOIN "public"."customers" ON "customers"."tenant_id" = "orders"."tenant_id" AND "customers"."id" = "orders"."customer_id" RIGHT JOIN "public"."orders" AS "mirror" ON "mirror"."tenant_id" = "orders"."tenant_id" AND "mirror"."id" = "orders"."id" GROUP BY "orders"."tenant_id""#
    );
    let cte = Cte::new(
        ident!("ids"),
        Select::<Order>::across_tenants(&capability).column(Order::ID),
    );
    let unmatched = Select::<Order>::across_tenants(&capability)
        .with(&cte)
        .join_with(JoinKind::Inner, &cte, cte.col(Order::ID).eq(Order::ID));
    assert_eq!(
        unmatched.to_postgres(),
        Err(BuildError::CrossTenantJoin {
            table: "ids".into()
        })
    );
}

#[test]
fn updates_from_and_deletes_using_scope_every_source_in_where() {
    let org = TenantId::from_verified(7_i32);
    let update = Account::update(&org)
        .from::<tables::Member>()
        .set(Account::CREDITS, Account::CREDITS + tables::Member::SCORE)
        .filter(tables::Member::ACCOUNT_ID.eq(Account::ID))
        .returning((Account::ID, tables::Member::EMAIL));
    assert_eq!(
        postgres(&update).sql(),
        r#"UPDATE "public"."accounts" SET "credits" = "accounts"."credits" + "members"."score" FROM "public"."members" WHERE "accounts"."org_id" = $1 AND "members"."org_id" = $2 AND "members"."account_id" = "accounts"."id" RETURNING "accounts"."id", "members"."email""#
    );
    // SQLite's RETURNING sees the updated table only.
    assert_eq!(
        update.to_sqlite(),
        Err(BuildError::UnknownTable {
            table: "members".into(),
            column: "email".into()
        })
    );

    let old = TableAlias::<Order>::new(ident!("old"));
    let delete = Order::delete(&tenant())
        .using_source(&old)
        .using_global::<Plan>()
        .filter(
            old.col(Order::CUSTOMER_ID)
                .eq(Order::CUSTOMER_ID)
                .and(old.col(Order::ID).gt(Order::ID)),
        )
        .returning(Order::ID);
    assert_eq!(
        postgres(&delete).sql(),
        r#"DELETE FROM "public"."orders" USING "public"."orders" AS "old", "public"."plans" WHERE "orders"."tenant_id" = $1 AND "old"."tenant_id" = $2 AND ("old"."customer_id" = "orders"."customer_id" AND "old"."id" > "orders"."id") RETURNING "orders"."id""#
    );
    let refused = delete.to_sqlite().expect_err("SQLite has no USING");
    assert!(matches!(
        refused,
        BuildError::UnsupportedInDialect {
            construct: "DELETE .. USING",
            dialect: Dialect::Sqlite,
            ..
        }
    ));
    assert!(refused.to_string().contains("Filter::exists"), "{refused}");
}

#[test]
fn row_locks_are_written_on_postgres_and_left_out_on_sqlite() {
    let claim = Order::select(&tenant())
        .filter(Order::STATUS.eq("queued"))
        .order_by_asc(Order::ID)
        .limit(1)
        .for_update()
        .skip_locked();
    assert_eq!(
        postgres(&claim).sql(),
        r#"SELECT "orders"."tenant_id", "orders"."id", "orders"."customer_id", "orders"."status", "orders"."total", "orders"."note" FROM "public"."orders" WHERE "orders"."tenant_id" = $1 AND "orders"."status" = $2 ORDER BY "orders"."id" ASC LIMIT $3 FOR UPDATE SKIP LOCKED"#
    );
    assert!(
        sqlite(&claim)
            .sql()
            .ends_with(r#"ORDER BY "orders"."id" ASC LIMIT ?"#)
    );
    let share = Order::select(&tenant())
        .column(Order::ID)
        .nowait()
        .for_share();
    assert!(postgres(&share).sql().ends_with(" FOR SHARE NOWAIT"));

    assert_eq!(
        Order::select(&tenant()).skip_locked().to_postgres(),
        Err(BuildError::LockWaitWithoutLock)
    );
    let refusals = [
        (
            Order::select(&tenant())
                .column(Order::STATUS)
                .group_by(Order::STATUS)
                .for_update(),
            "GROUP BY",
        ),
        (Order::select(&tenant()).distinct().for_update(), "DISTINCT"),
        (
            Order::select(&tenant()).column(count_all()).for_share(),
            "aggregates or window functions",
        ),
    ];
    for (select, reason) in refusals {
        assert_eq!(
            select.to_postgres(),
            Err(BuildError::LockNotAllowed { reason })
        );
    }
    let member = Order::select(&tenant())
        .column(Order::ID)
        .union(Order::select(&tenant()).column(Order::ID).for_update());
    assert_eq!(
        member.to_postgres(),
        Err(BuildError::UnionMemberClause {
            clause: "a row lock"
        })
    );
}
