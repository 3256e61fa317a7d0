//! The fan-out: admin work once per tenant, each in its own tenant
//! transaction, as the application role (no BYPASSRLS): every run sees only
//! its tenant, even through raw SQL; concurrency is bounded; a failure
//! rolls back that tenant and, by default, starts no other.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tenancy_sqlx::{Error, FanOut, FanOutProgress, OnError};
use tenancy_test::TestResult;
use tenancy_test::shop::tables::Customer;
use tenancy_test::shop::{customer, shop, tenant, tenant_pool};

const TENANTS: [i64; 6] = [1, 2, 3, 4, 5, 6];

fn tenants() -> Vec<tenancy_sqlx::TenantId<i64>> {
    TENANTS.iter().map(|key| tenant(*key)).collect()
}

#[tokio::test]
async fn each_tenant_runs_once_in_its_own_transaction_and_sees_only_its_rows() -> TestResult {
    let db = shop(&TENANTS).await?;
    let pool = tenant_pool(&db).await?;
    let report = pool
        .fan_out(tenants(), &FanOut::new().concurrency(3), |tx| {
            Box::pin(async move {
                let key = tx.tenant().key();
                let customers: Vec<Customer> = tx.fetch_all(Customer::select(tx.tenant())).await?;
                // Raw SQL with no tenant filter: row-level security answers.
                let raw: Vec<i64> = sqlx::query_scalar("SELECT DISTINCT tenant_id FROM customers")
                    .fetch_all(tx.raw_connection())
                    .await?;
                assert_eq!(raw, [key], "raw SQL of tenant {key}");
                assert!(customers.iter().all(|c| c.tenant_id == key));
                Ok::<_, Error>((key, customers.len()))
            })
        })
        .await;
    assert!(report.all_succeeded(), "{report:?}");
    let mut seen: Vec<(i64, usize)> = report
        .results
        .into_iter()
        .map(|(_, result)| result.map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    seen.sort();
    assert_eq!(seen, TENANTS.map(|key| (key, 3)));
    Ok(())
}

#[tokio::test]
async fn no_more_tenants_run_at_once_than_the_concurrency() -> TestResult {
    let db = shop(&TENANTS).await?;
    let pool = tenant_pool(&db).await?;
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let report = pool
        .fan_out(tenants(), &FanOut::new().concurrency(2), |_tx| {
            let (running, most) = (Arc::clone(&running), Arc::clone(&most));
            Box::pin(async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(30)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                Ok::<_, Error>(())
            })
        })
        .await;
    assert!(report.all_succeeded(), "{report:?}");
    assert_eq!(most.load(Ordering::SeqCst), 2);
    Ok(())
}

/// Tenant 3's work writes, then fails.
async fn failing_at_three(
    policy: OnError,
) -> TestResult<(Vec<i64>, Vec<i64>, Vec<FanOutProgress>, i64)> {
    let db = shop(&TENANTS).await?;
    let pool = tenant_pool(&db).await?;
    let progress = Arc::new(Mutex::new(Vec::new()));
    let heard = Arc::clone(&progress);
    let options = FanOut::new()
        .on_error(policy)
        .on_progress(move |p| heard.lock().unwrap().push(*p));
    let report = pool
        .fan_out(tenants(), &options, |tx| {
            Box::pin(async move {
                let key = tx.tenant().key();
                tx.execute(customer(tx.tenant(), "added@example.test"))
                    .await?;
                if key == 3 {
                    return Err(Error::Database(sqlx::Error::Protocol(
                        "the work failed".into(),
                    )));
                }
                Ok::<_, Error>(())
            })
        })
        .await;
    let failed: Vec<i64> = report
        .results
        .iter()
        .filter(|(_, result)| result.is_err())
        .map(|(tenant, _)| tenant.key())
        .collect();
    let not_started = report.not_started.iter().map(|t| t.key()).collect();
    assert_eq!(failed, [3]);
    assert!(!report.all_succeeded());
    let admin = db.admin_pool().await?;
    let written_for_three: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM customers WHERE tenant_id = 3 AND email = 'added@example.test'",
    )
    .fetch_one(&admin)
    .await?;
    let progress = progress.lock().unwrap().clone();
    Ok((failed, not_started, progress, written_for_three))
}

#[tokio::test]
async fn by_default_a_failure_rolls_back_that_tenant_and_starts_no_other() -> TestResult {
    let (_, not_started, progress, written) = failing_at_three(OnError::Stop).await?;
    assert_eq!(not_started, [4, 5, 6]);
    assert_eq!(written, 0, "tenant 3's write was rolled back");
    assert_eq!(
        progress.last(),
        Some(&FanOutProgress {
            done: 2,
            failed: 1,
            total: 6
        })
    );
    Ok(())
}

#[tokio::test]
async fn on_error_continue_runs_every_tenant() -> TestResult {
    let (_, not_started, progress, written) = failing_at_three(OnError::Continue).await?;
    assert!(not_started.is_empty());
    assert_eq!(written, 0);
    assert_eq!(progress.len(), 6);
    assert_eq!(
        progress.last(),
        Some(&FanOutProgress {
            done: 5,
            failed: 1,
            total: 6
        })
    );
    Ok(())
}
