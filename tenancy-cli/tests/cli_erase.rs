//! `tenancy erase`: the real binary erases a tenant, prints the certificate,
//! refuses a plan it cannot carry out before deleting anything, and, killed
//! with SIGKILL mid-job, resumes the same job when run again, the ledger
//! exact at every moment.

mod support;

use std::time::{Duration, Instant};

use sqlx::PgPool;
use support::{TestResult, command, execute, json_of, tenancy};
use tenancy_sqlx::lifecycle::Certificate;
use tenancy_sqlx::testing::TestDatabase;

/// Per tenant: 10 parents, 3,000 children, 4 invoices (kept).
async fn seeded(tenants: &[i64]) -> Result<(TestDatabase, PgPool), Box<dyn std::error::Error>> {
    let db = TestDatabase::create().await?;
    let owner = db.owner_pool().await?;
    execute(
        &owner,
        "CREATE TABLE parents (tenant_id bigint NOT NULL, id bigint NOT NULL, PRIMARY KEY (tenant_id, id));
         CREATE TABLE children (tenant_id bigint NOT NULL, id bigint NOT NULL, parent_id bigint NOT NULL,
             PRIMARY KEY (tenant_id, id), FOREIGN KEY (tenant_id, parent_id) REFERENCES parents (tenant_id, id));
         CREATE TABLE invoices (tenant_id bigint NOT NULL, id bigint NOT NULL, email text NOT NULL,
             amount bigint NOT NULL, PRIMARY KEY (tenant_id, id));",
    )
    .await?;
    for statement in [
        "INSERT INTO parents SELECT t, p FROM unnest($1::bigint[]) t, generate_series(1, 10) p",
        "INSERT INTO children SELECT t, c, 1 + c % 10 FROM unnest($1::bigint[]) t, generate_series(1, 3000) c",
        "INSERT INTO invoices SELECT t, i, 'i' || i || '@t' || t || '.test', 100 * i FROM unnest($1::bigint[]) t, generate_series(1, 4) i",
    ] {
        sqlx::query(statement).bind(tenants).execute(&owner).await?;
    }
    Ok((db, owner))
}

/// Tenant 2's rows with their row versions.
async fn tenant_two(owner: &PgPool) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT 'p ' || xmin::text || t::text FROM parents t WHERE tenant_id = 2
         UNION ALL SELECT 'c ' || xmin::text || t::text FROM children t WHERE tenant_id = 2
         UNION ALL SELECT 'i ' || xmin::text || t::text FROM invoices t WHERE tenant_id = 2
         ORDER BY 1",
    )
    .fetch_all(owner)
    .await
}

#[tokio::test]
async fn killed_mid_job_the_erasure_resumes_and_certifies_every_row() -> TestResult {
    let (db, owner) = seeded(&[1, 2]).await?;
    let before = tenant_two(&owner).await?;
    let url = db.owner_url();
    let args = [
        "erase",
        "--database-url",
        &url,
        "--tenant",
        "1",
        "--reason",
        "erasure request #7",
        "--retain",
        "invoices",
        "--anonymise",
        "invoices.email=redacted",
        "--batch-rows",
        "25",
        "--pause",
        "5ms",
    ];
    let mut child = command()
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    // Wait until the job is half-way through the children, then SIGKILL.
    let started = Instant::now();
    loop {
        let done: Option<i64> = sqlx::query_scalar(
            "SELECT rows_affected FROM tenancy.tenant_deletion_jobs WHERE table_name = 'public.children'",
        )
        .fetch_optional(&owner)
        .await
        .unwrap_or(None);
        if done.is_some_and(|rows| rows >= 500) {
            break;
        }
        assert!(
            child.try_wait()?.is_none(),
            "the erasure finished before it could be killed"
        );
        assert!(started.elapsed() < Duration::from_secs(60), "no progress");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill()?; // SIGKILL
    assert!(!child.wait()?.success());

    // The ledger is exact: what it counts is what is gone, nothing is certified.
    let (counted, state): (i64, String) = sqlx::query_as(
        "SELECT rows_affected, state FROM tenancy.tenant_deletion_jobs WHERE table_name = 'public.children'",
    )
    .fetch_one(&owner)
    .await?;
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM children WHERE tenant_id = 1")
        .fetch_one(&owner)
        .await?;
    assert_eq!(counted + left, 3000, "ledger {counted}, left {left}");
    assert_eq!(state, "pending");
    assert!(left > 0);
    let certified: i64 =
        sqlx::query_scalar("SELECT count(*) FROM tenancy.tenant_deletion_certificates")
            .fetch_one(&owner)
            .await?;
    assert_eq!(certified, 0);

    // Run again: the same job resumes and certifies the rows of both runs.
    let output = tenancy(&args[..args.len() - 2])?;
    assert_eq!(output.code, Some(0), "{output}");
    let certificate: Certificate = serde_json::from_value(json_of(&output)?)?;
    assert!(certificate.digest_matches());
    assert_eq!(certificate.content.job_id, 1, "the killed job, resumed");
    assert_eq!(certificate.rows("public.children"), Some(3000));
    assert_eq!(certificate.rows("public.parents"), Some(10));
    assert_eq!(certificate.rows("public.invoices"), Some(4));
    let remaining: (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM parents WHERE tenant_id = 1),
                (SELECT count(*) FROM children WHERE tenant_id = 1),
                (SELECT count(*) FROM invoices WHERE tenant_id = 1 AND email = 'redacted')",
    )
    .fetch_one(&owner)
    .await?;
    assert_eq!(remaining, (0, 0, 4));
    assert_eq!(tenant_two(&owner).await?, before);
    Ok(())
}

#[tokio::test]
async fn a_plan_it_cannot_carry_out_is_refused_before_any_delete() -> TestResult {
    let (db, owner) = seeded(&[1]).await?;
    execute(
        &owner,
        "ALTER TABLE parents ADD COLUMN favourite bigint;
         ALTER TABLE parents ADD CONSTRAINT parents_favourite
             FOREIGN KEY (tenant_id, favourite) REFERENCES children (tenant_id, id);",
    )
    .await?;
    let url = db.owner_url();
    let plan = tenancy(&[
        "erase",
        "--database-url",
        &url,
        "--tenant",
        "1",
        "--reason",
        "check",
        "--plan",
    ])?;
    assert_eq!(plan.code, Some(1), "{plan}");
    assert!(
        plan.stdout
            .contains("foreign keys form a cycle that no delete order satisfies"),
        "{plan}"
    );
    assert!(plan.stdout.contains("parents_favourite"), "{plan}");
    let run = tenancy(&[
        "erase",
        "--database-url",
        &url,
        "--tenant",
        "1",
        "--reason",
        "check",
    ])?;
    assert_eq!(run.code, Some(2), "{run}");
    assert!(
        run.stderr
            .contains("erasure refused before anything was deleted"),
        "{run}"
    );
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM children WHERE tenant_id = 1")
        .fetch_one(&owner)
        .await?;
    assert_eq!(left, 3000);
    Ok(())
}
