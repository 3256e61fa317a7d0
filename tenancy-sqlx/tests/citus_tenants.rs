//! The library on a real Citus cluster: `apply_schema` distributes the
//! tables, two tenants on different workers read and write only their own
//! rows through the builder, Row Level Security alone still confines raw SQL
//! on the workers, every builder statement runs on one worker — with the
//! policies in either generated form — and a pool refuses a coordinator
//! that keeps the tenant setting to itself.

use sqlx::PgPool;
use tenancy_sqlx::audit::FindingKind;
use tenancy_sqlx::citus::{self, Distribution};
use tenancy_sqlx::rls::{PolicyForm, RlsPolicy};
use tenancy_sqlx::testing::{APP_ROLE, CitusTestDatabase, OWNER_ROLE, RoleAttribute};
use tenancy_sqlx::{
    CrossTenant, Cte, Error, JoinKind, OwnerPool, Postgres, Select, Table, TenantPool, ident,
};
use tenancy_test::TestResult;
use tenancy_test::shop::tables::{Customer, Order, OrderItem, Plan, table_set};
use tenancy_test::shop::{customer, order, pool_options, tenant};

/// A cluster database with the shop's tables applied by the library, the
/// free plan, and two tenants whose rows live on different workers.
async fn distributed_shop() -> TestResult<(CitusTestDatabase, OwnerPool, [i64; 2])> {
    distributed_shop_in(PolicyForm::Equality).await
}

/// [`distributed_shop`], its policies written in `form`.
async fn distributed_shop_in(
    form: PolicyForm,
) -> TestResult<(CitusTestDatabase, OwnerPool, [i64; 2])> {
    let db = CitusTestDatabase::create().await?;
    let owner = OwnerPool::from_pool(
        db.coordinator().owner_pool().await?,
        CrossTenant::with_reason("test set-up: the distributed shop")?,
    );
    owner
        .apply_schema(
            &table_set(),
            &RlsPolicy::for_role(APP_ROLE)?.with_form(form),
        )
        .await?;
    let admin = db.coordinator().admin_pool().await?;
    sqlx::query("INSERT INTO plans (id, name) VALUES (1, 'free')")
        .execute(&admin)
        .await?;
    let first = db.worker_of("customers", 1).await?;
    let mut second = None;
    for candidate in 2..100 {
        if db.worker_of("customers", candidate).await? != first {
            second = Some(candidate);
            break;
        }
    }
    let second = second.ok_or("every tenant hashed to one worker")?;
    Ok((db, owner, [1, second]))
}

async fn app_pool(db: &CitusTestDatabase) -> TestResult<TenantPool> {
    Ok(TenantPool::<Postgres>::connect(&db.coordinator().app_url(), pool_options()).await?)
}

/// Each tenant's customer and two orders, written through the builder.
async fn seed(pool: &TenantPool, tenants: [i64; 2]) -> TestResult {
    for key in tenants {
        let tenant = tenant(key);
        let mut tx = pool.begin(&tenant).await?;
        tx.execute(customer(&tenant, &format!("ann-{key}@example.test")))
            .await?;
        let ann: Customer = tx.fetch_one(Customer::select(&tenant)).await?;
        tx.execute(order(&tenant, ann.id, "open")).await?;
        tx.execute(order(&tenant, ann.id, "paid")).await?;
        tx.commit().await?;
    }
    Ok(())
}

#[tokio::test]
async fn apply_schema_distributes_every_table_in_one_group_and_can_run_again() -> TestResult {
    let (db, owner, _) = distributed_shop().await?;
    // Again: nothing to do, nothing fails.
    owner
        .apply_schema(&table_set(), &RlsPolicy::for_role(APP_ROLE)?)
        .await?;
    let admin = db.coordinator().admin_pool().await?;
    let layout: Vec<(String, String, Option<String>, i32)> = sqlx::query_as(
        "SELECT logicalrelid::text, partmethod::text, column_to_column_name(logicalrelid, partkey), colocationid
         FROM pg_dist_partition ORDER BY 1",
    )
    .fetch_all(&admin)
    .await?;
    let names: Vec<&str> = layout.iter().map(|row| row.0.as_str()).collect();
    assert_eq!(names, ["customers", "order_items", "orders", "plans"]);
    let plans = &layout[3];
    assert_eq!(plans.1, "n", "plans is a reference table: {plans:?}");
    let group = layout[0].3;
    for row in &layout[..3] {
        assert_eq!(row.1, "h", "{row:?}");
        assert_eq!(row.2.as_deref(), Some("tenant_id"), "{row:?}");
        assert_eq!(row.3, group, "{row:?} is not colocated with customers");
    }
    // The database passes SET LOCAL on to the workers.
    let settings: Vec<String> = sqlx::query_scalar(
        "SELECT unnest(setconfig) FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
         WHERE d.datname = current_database() AND s.setrole = 0",
    )
    .fetch_all(&admin)
    .await?;
    assert!(
        settings.contains(&"citus.propagate_set_commands=local".to_owned()),
        "{settings:?}"
    );
    // And the policy is on every shard of the workers.
    for worker in db.workers() {
        let pool = worker.admin_pool().await?;
        let unprotected: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_class c
             WHERE c.relname ~ '^(customers|orders|order_items)_[0-9]+$'
               AND NOT (c.relrowsecurity AND c.relforcerowsecurity
                        AND EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = c.oid))",
        )
        .fetch_one(&pool)
        .await?;
        assert_eq!(unprotected, 0);
    }
    Ok(())
}

#[tokio::test]
async fn two_tenants_on_different_workers_read_and_write_only_their_rows() -> TestResult {
    let (db, _owner, tenants) = distributed_shop().await?;
    assert_ne!(
        db.worker_of("orders", tenants[0]).await?,
        db.worker_of("orders", tenants[1]).await?
    );
    let pool = app_pool(&db).await?;
    seed(&pool, tenants).await?;
    for (key, other) in [(tenants[0], tenants[1]), (tenants[1], tenants[0])] {
        let tenant = tenant(key);
        let mut tx = pool.begin(&tenant).await?;
        let orders: Vec<Order> = tx.fetch_all(Order::select(&tenant)).await?;
        assert_eq!(orders.len(), 2);
        assert!(orders.iter().all(|order| order.tenant_id == key));
        let updated = tx
            .execute(
                Order::update(&tenant)
                    .set(Order::STATUS, "shipped".to_owned())
                    .filter(Order::STATUS.eq("paid")),
            )
            .await?;
        assert_eq!(updated, 1);
        // Raw SQL without a tenant predicate reaches every shard; the
        // policies on the workers leave only this tenant's rows.
        let seen: Vec<i64> = sqlx::query_scalar("SELECT tenant_id FROM orders")
            .fetch_all(&mut *tx.raw_connection())
            .await?;
        assert_eq!(seen, [key, key]);
        let changed: Vec<i64> =
            sqlx::query_scalar("UPDATE customers SET name = 'raw' RETURNING tenant_id")
                .fetch_all(&mut *tx.raw_connection())
                .await?;
        assert_eq!(changed, [key]);
        // WITH CHECK, on the worker that holds the other tenant's shard.
        let forged = sqlx::query(
            "INSERT INTO customers (tenant_id, email, name, plan_id) VALUES ($1, 'x@y.z', 'x', 1)",
        )
        .bind(other)
        .execute(&mut *tx.raw_connection())
        .await;
        let message = forged
            .err()
            .ok_or("a row for another tenant was inserted")?
            .to_string();
        assert!(message.contains("row-level security"), "{message}");
        tx.rollback().await?;
    }
    Ok(())
}

/// The shard of `table` that holds `key`'s rows, read on its worker as the
/// application role with the tenant set to `as_tenant`: what Row Level
/// Security alone lets through there, with no coordinator in between.
async fn on_the_worker(
    db: &CitusTestDatabase,
    table: &str,
    key: i64,
    as_tenant: i64,
) -> TestResult<Vec<i64>> {
    let admin = db.coordinator().admin_pool().await?;
    let shard: String = sqlx::query_scalar(
        "SELECT shard_name($1::regclass, get_shard_id_for_distribution_column($1::regclass, $2::bigint))",
    )
    .bind(table)
    .bind(key)
    .fetch_one(&admin)
    .await?;
    let worker = &db.workers()[db.worker_of(table, key).await?];
    let pool: PgPool = worker.app_pool().await?;
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(as_tenant.to_string())
        .execute(&mut *tx)
        .await?;
    let seen = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT tenant_id FROM {shard}"
    )))
    .fetch_all(&mut *tx)
    .await?;
    tx.rollback().await?;
    Ok(seen)
}

#[tokio::test]
async fn row_level_security_alone_confines_a_tenant_on_the_workers() -> TestResult {
    let (db, _owner, tenants) = distributed_shop().await?;
    let pool = app_pool(&db).await?;
    seed(&pool, tenants).await?;
    // The workers' own grants and policies, which Citus copied from the
    // generated DDL: the application role, connected to a worker directly,
    // sees a shard's rows only for its tenant.
    for key in tenants {
        assert_eq!(on_the_worker(&db, "orders", key, key).await?, [key, key]);
        let other = if key == tenants[0] {
            tenants[1]
        } else {
            tenants[0]
        };
        assert_eq!(
            on_the_worker(&db, "orders", key, other).await?,
            Vec::<i64>::new()
        );
    }
    Ok(())
}

/// Refuses statements that would run on more than one shard, from now on,
/// for the application role and the owner; then runs each tenant's builder
/// statements (which must run on one worker) and raw SQL without a tenant
/// predicate (which needs every shard, and is refused).
async fn one_worker_per_tenant(db: &CitusTestDatabase, tenants: [i64; 2]) -> TestResult {
    let admin = db.coordinator().admin_pool().await?;
    for role in [APP_ROLE, OWNER_ROLE] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "ALTER ROLE {role} IN DATABASE \"{}\" SET citus.multi_task_query_log_level = 'error'",
            db.coordinator().name()
        )))
        .execute(&admin)
        .await?;
    }
    let pool = app_pool(db).await?;
    for key in tenants {
        let tenant = tenant(key);
        let mut tx = pool.begin(&tenant).await?;
        let orders: Vec<Order> = tx
            .fetch_all(Order::select(&tenant).filter(Order::STATUS.eq("open")))
            .await?;
        assert_eq!(orders.len(), 1);
        let _: Vec<Customer> = tx.fetch_all(Customer::select(&tenant)).await?;
        let _: Vec<OrderItem> = tx.fetch_all(OrderItem::select(&tenant)).await?;
        let _: Vec<Plan> = tx.fetch_all(Plan::select()).await?;
        tx.execute(
            Order::update(&tenant)
                .set(Order::TOTAL_CENTS, 5)
                .filter(Order::STATUS.eq("open")),
        )
        .await?;
        tx.execute(Order::delete(&tenant).filter(Order::STATUS.eq("paid")))
            .await?;
        tx.commit().await?;
    }
    // Raw SQL without a tenant predicate needs every shard: refused.
    let tenant_a = tenant(tenants[0]);
    let mut tx = pool.begin(&tenant_a).await?;
    let fanned = sqlx::query_scalar::<_, i64>("SELECT count(*) FROM orders")
        .fetch_one(&mut *tx.raw_connection())
        .await;
    let message = fanned.err().ok_or("a multi-shard query ran")?.to_string();
    assert!(message.contains("multi-task query"), "{message}");
    tx.rollback().await?;
    Ok(())
}

#[tokio::test]
async fn builder_statements_run_on_one_worker_and_cross_tenant_ones_fan_out() -> TestResult {
    let (db, _owner, tenants) = distributed_shop().await?;
    seed(&app_pool(&db).await?, tenants).await?;
    one_worker_per_tenant(&db, tenants).await?;
    let admin = db.coordinator().admin_pool().await?;
    // So does a cross-tenant statement, by a role that reads across tenants
    // (`BYPASSRLS`: forced RLS would leave the owner no row, and no shard).
    // Citus connects to the workers as the same role.
    for worker in db.workers() {
        worker
            .create_role("reader", &[RoleAttribute::BypassRls])
            .await?;
    }
    let reader = db
        .coordinator()
        .create_role("reader", &[RoleAttribute::BypassRls])
        .await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "GRANT SELECT ON orders TO \"{0}\";
         ALTER ROLE \"{0}\" IN DATABASE \"{1}\" SET citus.multi_task_query_log_level = 'error'",
        reader.name(),
        db.coordinator().name()
    )))
    .execute(&admin)
    .await?;
    let capability = CrossTenant::with_reason("test: a cross-tenant read fans out")?;
    let reader_pool = CrossTenant::with_reason("test: a cross-tenant read fans out")?;
    let across = OwnerPool::from_pool(reader.pool().await?, reader_pool)
        .with_tables(&table_set())
        .fetch_all::<Order>(Select::<Order>::across_tenants(&capability))
        .await;
    let message = across
        .err()
        .ok_or("a cross-tenant read ran on one shard")?
        .to_string();
    assert!(message.contains("multi-task query"), "{message}");
    Ok(())
}

/// The array-membership form on a cluster: Citus creates it on the
/// distributed tables and copies it to the shards, where it alone confines
/// a tenant; each tenant's builder statements still run on one worker
/// (Citus routes them by their own `tenant_id = $n`).
#[tokio::test]
async fn the_array_membership_form_confines_the_workers_and_routes_to_one() -> TestResult {
    let (db, _owner, tenants) = distributed_shop_in(PolicyForm::ArrayMembership).await?;
    seed(&app_pool(&db).await?, tenants).await?;
    let admin = db.coordinator().admin_pool().await?;
    let policy: String = sqlx::query_scalar(
        "SELECT pg_get_expr(polqual, polrelid) FROM pg_policy
         WHERE polrelid = 'orders'::regclass AND polname = 'tenancy_isolation'",
    )
    .fetch_one(&admin)
    .await?;
    assert!(policy.contains("= ANY (ARRAY["), "{policy}");
    for key in tenants {
        let other = if key == tenants[0] {
            tenants[1]
        } else {
            tenants[0]
        };
        assert_eq!(on_the_worker(&db, "orders", key, key).await?, [key, key]);
        assert!(on_the_worker(&db, "orders", key, other).await?.is_empty());
    }
    one_worker_per_tenant(&db, tenants).await?;
    Ok(())
}

/// Citus runs no `INSERT .. VALUES` whose values hold a subquery: the
/// library says so and what to do instead, and the transaction's other
/// work is unaffected once it rolls back.
#[tokio::test]
async fn an_insert_with_a_subquery_among_its_values_is_explained() -> TestResult {
    let (db, _owner, tenants) = distributed_shop().await?;
    let pool = app_pool(&db).await?;
    seed(&pool, tenants).await?;
    let tenant = tenant(tenants[0]);
    let mut tx = pool.begin(&tenant).await?;
    let newest = Customer::select(&tenant).scalar(Customer::ID.max());
    let insert = Order::insert(&tenant)
        .set(Order::CUSTOMER_ID, newest.coalesce(0_i64))
        .set(Order::STATUS, "open".to_owned())
        .set(Order::TOTAL_CENTS, 1);
    match tx.execute(insert).await {
        Err(error @ Error::CitusInsertWithSubquery { .. }) => {
            let message = error.to_string();
            assert!(message.contains("select the value first"), "{message}");
        }
        other => return Err(format!("expected the Citus refusal, got {other:?}").into()),
    }
    tx.rollback().await?;
    // Selected first, then bound: the same insert runs.
    let mut tx = pool.begin(&tenant).await?;
    let newest: Customer = tx
        .fetch_one(
            Customer::select(&tenant)
                .order_by_desc(Customer::ID)
                .limit(1),
        )
        .await?;
    tx.execute(
        Order::insert(&tenant)
            .set(Order::CUSTOMER_ID, newest.id)
            .set(Order::STATUS, "open".to_owned())
            .set(Order::TOTAL_CENTS, 1),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn a_pool_refuses_a_coordinator_that_keeps_set_local_to_itself() -> TestResult {
    let (db, _owner, _) = distributed_shop().await?;
    let admin = db.coordinator().admin_pool().await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE \"{}\" RESET citus.propagate_set_commands",
        db.coordinator().name()
    )))
    .execute(&admin)
    .await?;
    let refused = app_pool(&db).await.map(drop);
    let error = refused.err().ok_or("a tenant pool connected")?;
    match error.downcast_ref::<Error>() {
        Some(Error::CitusSetCommandsNotPropagated { role, value }) => {
            assert_eq!(role, APP_ROLE);
            assert_eq!(value, "none");
        }
        _ => return Err(format!("refused for another reason: {error}").into()),
    }
    Ok(())
}

#[tokio::test]
async fn the_tenants_table_must_be_a_global_table_of_the_set() -> TestResult {
    let refused = Distribution::default()
        .tenants_table(Customer::meta())
        .statements(&table_set());
    assert!(
        matches!(refused, Err(Error::CitusLayout { .. })),
        "{refused:?}"
    );
    let refused = Distribution::default()
        .tenants_table(Plan::meta())
        .statements(&tenancy_sqlx::ddl::TableSet::new().with::<Customer>());
    assert!(
        matches!(refused, Err(Error::CitusLayout { .. })),
        "{refused:?}"
    );
    let _ = citus::SET_COMMANDS_SETTING;
    Ok(())
}

#[tokio::test]
async fn the_audit_checks_the_layout_and_the_setting_on_a_coordinator() -> TestResult {
    let (db, owner, _) = distributed_shop().await?;
    let findings = owner.verify(&table_set()).await?;
    assert_eq!(findings, [], "{findings:#?}");

    let admin = db.coordinator().admin_pool().await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE \"{}\" RESET citus.propagate_set_commands",
        db.coordinator().name()
    )))
    .execute(&admin)
    .await?;
    let kinds: Vec<FindingKind> = owner
        .verify(&table_set())
        .await?
        .into_iter()
        .map(|finding| finding.kind)
        .collect();
    assert_eq!(kinds, [FindingKind::CitusSetCommandsNotPropagated]);

    // Tables created by plain DDL on a coordinator are not distributed.
    let plain = CitusTestDatabase::create().await?;
    let plain_owner = plain.coordinator().owner_pool().await?;
    for statement in table_set().create_statements(tenancy_sqlx::Dialect::Postgres)? {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(&plain_owner)
            .await?;
    }
    let owner = OwnerPool::from_pool(
        plain_owner,
        CrossTenant::with_reason("test: audit a coordinator")?,
    );
    owner
        .apply_rls(&table_set(), &RlsPolicy::for_role(APP_ROLE)?)
        .await?;
    let findings = owner.verify(&table_set()).await?;
    let not_distributed: Vec<&str> = findings
        .iter()
        .filter(|finding| finding.kind == FindingKind::CitusNotDistributed)
        .filter_map(|finding| finding.table.as_deref())
        .collect();
    assert_eq!(
        not_distributed,
        ["plans", "customers", "orders", "order_items"],
        "{findings:#?}"
    );
    Ok(())
}

/// The shop with its seed, as the app role with multi-shard queries set to
/// fail: a statement that is not routed to one worker is an error.
async fn shop_on_one_worker_only() -> TestResult<(CitusTestDatabase, TenantPool, [i64; 2])> {
    let (db, _owner, tenants) = distributed_shop().await?;
    let pool = app_pool(&db).await?;
    seed(&pool, tenants).await?;
    let admin = db.coordinator().admin_pool().await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "ALTER ROLE {APP_ROLE} IN DATABASE \"{}\" SET citus.multi_task_query_log_level = 'error'",
        db.coordinator().name()
    )))
    .execute(&admin)
    .await?;
    let pool = app_pool(&db).await?;
    Ok((db, pool, tenants))
}

/// The table an empty filter is written on.
#[derive(Clone, Copy)]
enum Beside {
    Orders,
    Customers,
}

/// Selects, an update and a delete with `nothing` (a filter no row
/// matches) beside an inner or outer join, in an outer join's `ON`, beside
/// a CTE or in a subquery run on one worker and match what they must;
/// `everything` (a filter every row matches) beside a join matches every
/// row of the tenant.
async fn empty_filters_run_on_one_worker(
    pool: &TenantPool,
    tenant: &tenancy_sqlx::TenantId<i64>,
    nothing: impl Fn(Beside) -> tenancy_sqlx::Filter,
    everything: tenancy_sqlx::Filter,
) -> TestResult {
    let joined = Order::select(tenant)
        .join::<Customer>(Customer::ID.eq_col(Order::CUSTOMER_ID))
        .filter(nothing(Beside::Orders));
    let per_customer = Cte::new(
        ident!("per_customer"),
        Order::select(tenant)
            .column(Order::CUSTOMER_ID)
            .filter(nothing(Beside::Orders)),
    );
    let through_cte = Customer::select(tenant)
        .with(&per_customer)
        .join_with(
            JoinKind::Inner,
            &per_customer,
            per_customer.col(Order::CUSTOMER_ID).eq(Customer::ID),
        )
        .filter(nothing(Beside::Customers));
    let left_joined = Customer::select(tenant)
        .left_join::<Order>(Order::CUSTOMER_ID.eq_col(Customer::ID))
        .filter(nothing(Beside::Orders));
    // PostgreSQL 15 and 16 plan a constant in an outer join's `ON` as a
    // pseudoconstant qual, which Citus refuses; a constant beside the
    // tenant predicate of a correlated `NOT EXISTS` leaves the subquery
    // without its tenant, a join Citus cannot push down.
    let outer_joined_on_nothing = Order::select(tenant).left_join::<Customer>(
        Customer::ID
            .eq_col(Order::CUSTOMER_ID)
            .and(nothing(Beside::Customers)),
    );
    let without_nothing =
        Customer::select(tenant).filter(tenancy_sqlx::Filter::not_exists::<Order>(
            Order::CUSTOMER_ID
                .eq_col(Customer::ID)
                .and(nothing(Beside::Orders)),
        ));
    let with_subquery = Order::select(tenant)
        .filter(Order::CUSTOMER_ID.in_subquery(Customer::ID.subquery(nothing(Beside::Customers))))
        .filter(nothing(Beside::Orders));
    let update = Order::update(tenant)
        .from::<Customer>()
        .set(Order::TOTAL_CENTS, 7)
        .filter(
            Customer::ID
                .eq(Order::CUSTOMER_ID)
                .and(nothing(Beside::Orders)),
        );
    let delete = Order::delete(tenant).using::<Customer>().filter(
        Customer::ID
            .eq(Order::CUSTOMER_ID)
            .and(nothing(Beside::Customers)),
    );

    let mut tx = pool.begin(tenant).await?;
    let orders: Vec<Order> = tx.fetch_all(joined.clone()).await?;
    assert!(orders.is_empty(), "{orders:?}");
    let customers: Vec<Customer> = tx.fetch_all(through_cte.clone()).await?;
    assert!(customers.is_empty(), "{customers:?}");
    let customers: Vec<Customer> = tx.fetch_all(left_joined.clone()).await?;
    assert!(customers.is_empty(), "{customers:?}");
    let orders: Vec<Order> = tx.fetch_all(with_subquery.clone()).await?;
    assert!(orders.is_empty(), "{orders:?}");
    let orders: Vec<Order> = tx.fetch_all(outer_joined_on_nothing).await?;
    assert_eq!(orders.len(), 2, "{orders:?}");
    let customers: Vec<Customer> = tx.fetch_all(without_nothing).await?;
    assert_eq!(customers.len(), 1, "{customers:?}");
    assert_eq!(tx.execute(update.clone()).await?, 0);
    assert_eq!(tx.execute(delete.clone()).await?, 0);
    let every: Vec<Order> = tx
        .fetch_all(
            Order::select(tenant)
                .join::<Customer>(Customer::ID.eq_col(Order::CUSTOMER_ID))
                .filter(everything),
        )
        .await?;
    assert_eq!(every.len(), 2, "{every:?}");
    tx.commit().await?;
    Ok(())
}

/// A filter on an empty list keeps its column, so that PostgreSQL does not
/// fold it with the tenant predicate beside it into a constant `FALSE`:
/// an empty `IN` beside a join, a CTE or a subquery runs on one worker and
/// matches nothing; `NOT IN ()` matches every row of the tenant.
#[tokio::test]
async fn an_empty_in_list_beside_a_join_or_a_cte_runs_on_one_worker() -> TestResult {
    let (_db, pool, tenants) = shop_on_one_worker_only().await?;
    let none = Vec::<i64>::new;
    empty_filters_run_on_one_worker(
        &pool,
        &tenant(tenants[0]),
        |beside| match beside {
            Beside::Orders => Order::ID.is_in(none()),
            Beside::Customers => Customer::ID.is_in(none()),
        },
        Order::ID.is_not_in(none()),
    )
    .await
}

/// The empty combinators keep the tenant column for the same reason: an
/// `any` of no filters (and the negation of an empty `all`) beside a join,
/// a CTE or a subquery runs on one worker and matches nothing, and the
/// negation of an empty `any` matches every row of the tenant.
#[tokio::test]
async fn an_empty_any_beside_a_join_or_a_cte_runs_on_one_worker() -> TestResult {
    use tenancy_sqlx::Filter;

    let (_db, pool, tenants) = shop_on_one_worker_only().await?;
    let tenant = tenant(tenants[0]);
    empty_filters_run_on_one_worker(&pool, &tenant, |_| Filter::any([]), !Filter::any([])).await?;
    empty_filters_run_on_one_worker(&pool, &tenant, |_| !Filter::all([]), Filter::all([])).await
}
