//! Every form of the generated policy (`PolicyForm`) confines SQL to the
//! transaction's tenant and fails closed — no tenant set, `''`, a value
//! that is no key — for the application role (not a superuser, not
//! `BYPASSRLS`, not the owner) and, through the owner's policy, for the
//! tables' owner under `FORCE`; the catalog audit accepts each generated
//! form and nothing wider; and the array-membership form leaves the
//! library's statements without the gating filter the equality form adds.

use sqlx::{AssertSqlSafe, PgConnection};
use tenancy_sqlx::audit::{self, FindingKind};
use tenancy_sqlx::rls::{OWNER_POLICY_NAME, POLICY_NAME, PolicyForm};
use tenancy_sqlx::{BuildStatement, Dialect, Identifier};
use tenancy_test::TestResult;
use tenancy_test::shop::tables::{Order, table_set};
use tenancy_test::shop::{A, B, rows_outside, shop_in_form, tenant, tenant_pool};
use tenancy_test::sql::{INVALID_TEXT_REPRESENTATION, assert_with_check_refusal, sqlstate};

const PLANT_B_ORDER: &str =
    "INSERT INTO orders (tenant_id, customer_id, status, total_cents) VALUES (2, 1, 'planted', 0)";

async fn tenant_ids(conn: &mut PgConnection, sql: &str) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(AssertSqlSafe(sql.to_owned()))
        .fetch_all(conn)
        .await
}

async fn set_tenant(conn: &mut PgConnection, value: &str) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(value)
        .execute(conn)
        .await
        .map(drop)
}

#[tokio::test]
async fn every_form_confines_raw_and_built_sql_to_the_transactions_tenant() -> TestResult {
    for form in PolicyForm::ALL {
        let db = shop_in_form(&[A, B], form).await?;
        let admin = db.admin_pool().await?;
        let before = rows_outside(&admin, A).await?;
        let pool = tenant_pool(&db).await?;
        let a = tenant(A);

        let mut tx = pool.begin(&a).await?;
        // No tenant predicate: only the policy filters.
        let seen = tenant_ids(tx.raw_connection(), "SELECT tenant_id FROM orders").await?;
        assert_eq!(seen, [A; 4], "{form:?}");
        // Naming the other tenant finds nothing.
        let named = tenant_ids(
            tx.raw_connection(),
            "SELECT tenant_id FROM orders WHERE tenant_id = 2",
        )
        .await?;
        assert!(named.is_empty(), "{form:?}: {named:?}");
        let (orders,): (i64,) = tx.fetch_one(Order::select(&a).count()).await?;
        assert_eq!(orders, 4, "{form:?}");
        tx.rollback().await?;

        for sql in [PLANT_B_ORDER, "UPDATE orders SET tenant_id = 2"] {
            let mut tx = pool.begin(&a).await?;
            let written = sqlx::query(AssertSqlSafe(sql))
                .execute(tx.raw_connection())
                .await;
            assert_with_check_refusal(written, "orders", &format!("{form:?}: {sql}"));
            tx.rollback().await?;
        }
        assert_eq!(
            rows_outside(&admin, A).await?,
            before,
            "{form:?}: B's rows changed"
        );
    }
    Ok(())
}

#[tokio::test]
async fn every_form_fails_closed_without_a_valid_tenant() -> TestResult {
    for form in PolicyForm::ALL {
        let db = shop_in_form(&[A, B], form).await?;
        let app = db.app_pool().await?;

        // Never set on this connection, then set to '' (what a connection
        // that had a tenant keeps): no row, no write, no error.
        for value in [None, Some("")] {
            let mut tx = app.begin().await?;
            if let Some(value) = value {
                set_tenant(&mut tx, value).await?;
            }
            let seen = tenant_ids(&mut tx, "SELECT tenant_id FROM orders").await?;
            assert!(seen.is_empty(), "{form:?}, setting {value:?}: {seen:?}");
            let updated = sqlx::query("UPDATE orders SET status = 'touched'")
                .execute(&mut *tx)
                .await?;
            assert_eq!(updated.rows_affected(), 0, "{form:?}, setting {value:?}");
            let planted = sqlx::query(PLANT_B_ORDER).execute(&mut *tx).await;
            assert_with_check_refusal(planted, "orders", &format!("{form:?}, setting {value:?}"));
            tx.rollback().await?;
        }

        // A value that is no key fails the statement: never a widening to
        // a list of tenants, or to every tenant.
        for value in ["abc", "1,2", "{1,2}", "1 OR true", "2147483648000000000000"] {
            let mut tx = app.begin().await?;
            set_tenant(&mut tx, value).await?;
            let read = tenant_ids(&mut tx, "SELECT tenant_id FROM orders").await;
            let code = read.as_ref().err().and_then(sqlstate);
            assert!(
                matches!(code.as_deref(), Some(INVALID_TEXT_REPRESENTATION | "22003")),
                "{form:?}, setting {value:?}: {read:?}"
            );
            tx.rollback().await?;
        }
    }
    Ok(())
}

#[tokio::test]
async fn the_owners_policy_has_the_same_form_and_confines_the_owner() -> TestResult {
    for form in PolicyForm::ALL {
        let db = shop_in_form(&[A, B], form).await?;
        let admin = db.admin_pool().await?;
        let (using, owner_using): (String, String) = sqlx::query_as(
            "SELECT pg_get_expr(app.polqual, app.polrelid), pg_get_expr(own.polqual, own.polrelid)
             FROM pg_policy app JOIN pg_policy own ON own.polrelid = app.polrelid
             WHERE app.polrelid = 'orders'::regclass AND app.polname = $1 AND own.polname = $2",
        )
        .bind(POLICY_NAME)
        .bind(OWNER_POLICY_NAME)
        .fetch_one(&admin)
        .await?;
        assert_eq!(using, owner_using, "{form:?}");
        assert_eq!(
            using.contains("= ANY (ARRAY["),
            form == PolicyForm::ArrayMembership,
            "{form:?}: {using}"
        );

        let owner = db.owner_pool().await?;
        let mut tx = owner.begin().await?;
        let seen = tenant_ids(&mut tx, "SELECT tenant_id FROM orders").await?;
        assert!(
            seen.is_empty(),
            "{form:?}: the owner without a tenant saw {seen:?}"
        );
        set_tenant(&mut tx, "1").await?;
        let seen = tenant_ids(&mut tx, "SELECT tenant_id FROM orders").await?;
        assert_eq!(seen, [A; 4], "{form:?}");
        let planted = sqlx::query(PLANT_B_ORDER).execute(&mut *tx).await;
        assert_with_check_refusal(planted, "orders", &format!("{form:?}: the owner"));
        tx.rollback().await?;
    }
    Ok(())
}

#[tokio::test]
async fn the_audit_accepts_every_generated_form_and_reports_a_wider_one() -> TestResult {
    let policy_kinds = [
        FindingKind::PolicyMissing,
        FindingKind::ExtraPermissivePolicy,
    ];
    for form in PolicyForm::ALL {
        let db = shop_in_form(&[A, B], form).await?;
        let mut app = db.app_pool().await?.acquire().await?;
        let findings = audit::verify_tables(&mut app, &table_set()).await?;
        assert!(
            findings
                .iter()
                .all(|finding| !policy_kinds.contains(&finding.kind)),
            "{form:?}: {findings:?}"
        );
        drop(app);

        // One more element, and the application role's policy lets a
        // second tenant's rows through: reported, while the owner's policy
        // (still of the generated form) keeps the table isolated.
        let widened = "tenant_id = ANY (ARRAY[NULLIF(current_setting('app.tenant_id', true), '')::bigint, 2])";
        tenancy_test::sql::execute(
            &db.owner_pool().await?,
            &format!(
                "DROP POLICY {POLICY_NAME} ON orders;
                 CREATE POLICY {POLICY_NAME} ON orders TO {role} USING ({widened}) WITH CHECK ({widened})",
                role = tenancy_sqlx::testing::APP_ROLE
            ),
        )
        .await?;
        let mut app = db.app_pool().await?.acquire().await?;
        let findings = audit::verify_tables(&mut app, &table_set()).await?;
        assert!(
            findings
                .iter()
                .any(|finding| finding.kind == FindingKind::ExtraPermissivePolicy
                    && finding.table.as_deref() == Some("orders")),
            "{form:?}: {findings:?}"
        );
    }
    Ok(())
}

/// The reason for the array-membership form: with the equality form,
/// PostgreSQL merges the statement's `tenant_id = $1` and the policy's
/// equality into one and checks that the two values agree in a `Result`
/// node above the scan (`One-Time Filter`), through which every row passes;
/// an array membership is no equality, and the plan has no such node —
/// with generic plans, and with plans for the bound values.
#[tokio::test]
async fn the_array_form_leaves_the_librarys_statements_without_a_gating_filter() -> TestResult {
    let a = tenant(A);
    let statement = Order::select(&a)
        .count()
        .build_in(Dialect::Postgres, &Identifier::new("schema", "public")?)?;
    for form in PolicyForm::ALL {
        let db = shop_in_form(&[A, B], form).await?;
        let pool = tenant_pool(&db).await?;
        for mode in ["force_generic_plan", "force_custom_plan"] {
            let mut tx = pool.begin(&a).await?;
            let conn = tx.raw_connection();
            sqlx::raw_sql(AssertSqlSafe(format!(
                "SET LOCAL plan_cache_mode = {mode}; PREPARE counted AS {}",
                statement.sql()
            )))
            .execute(&mut *conn)
            .await?;
            let plan: Vec<String> = sqlx::query_scalar("EXPLAIN (COSTS OFF) EXECUTE counted(1)")
                .fetch_all(&mut *conn)
                .await?;
            let plan = plan.join("\n");
            let (count,): (i64,) = sqlx::query_as("EXECUTE counted(1)")
                .fetch_one(&mut *conn)
                .await?;
            assert_eq!(count, 4, "{form:?}, {mode}");
            sqlx::raw_sql("DEALLOCATE counted")
                .execute(&mut *conn)
                .await?;
            tx.rollback().await?;
            match form {
                PolicyForm::Equality => {
                    assert!(
                        plan.contains("One-Time Filter"),
                        "{form:?}, {mode}:\n{plan}"
                    );
                }
                _ => {
                    assert!(
                        !plan.contains("One-Time Filter"),
                        "{form:?}, {mode}:\n{plan}"
                    );
                    assert!(plan.contains("= ANY (ARRAY["), "{form:?}, {mode}:\n{plan}");
                }
            }
        }
    }
    Ok(())
}
