//! Erasure of one tenant: every table with the tenant column (an
//! unregistered one too), children first, retained rows anonymised, other
//! tenants' rows untouched to the byte and the row version, a certificate
//! that matches, and a refusal before anything is deleted when a table
//! cannot be covered. It runs as the owner role, which has no `BYPASSRLS`.

use tenancy_sqlx::ddl::TableSet;
use tenancy_sqlx::lifecycle::{Certificate, ErasureAction, ErasureOptions, LifecycleError};
use tenancy_sqlx::rls::RlsPolicy;
use tenancy_sqlx::testing::{APP_ROLE, TestDatabase};
use tenancy_sqlx::{CrossTenant, Error, OwnerPool, TenantId};
use tenancy_test::TestResult;
use tenancy_test::capture::{Capture, refresh_interest};
use tenancy_test::sql::execute;

/// The erasure schema's registered tables.
mod schema {
    #![allow(
        missing_docs,
        dead_code,
        reason = "test tables, read through their metadata"
    )]

    use tenancy_sqlx::tenant_scoped;

    #[tenant_scoped(table = "customers")]
    pub struct Customer {
        pub tenant_id: i64,
        #[tenancy(primary_key)]
        pub id: i64,
        #[tenancy(pii)]
        pub email: String,
    }

    #[tenant_scoped(table = "orders")]
    pub struct Order {
        pub tenant_id: i64,
        #[tenancy(primary_key)]
        pub id: i64,
        #[tenancy(references = Customer)]
        pub customer_id: i64,
        pub status: String,
    }

    #[tenant_scoped(table = "order_items")]
    pub struct OrderItem {
        pub tenant_id: i64,
        #[tenancy(primary_key)]
        pub id: i64,
        #[tenancy(references = Order)]
        pub order_id: i64,
        pub sku: String,
    }

    #[tenant_scoped(table = "payments")]
    pub struct Payment {
        pub tenant_id: i64,
        #[tenancy(primary_key)]
        pub id: i64,
        #[tenancy(references = Order)]
        pub order_id: i64,
        pub amount_cents: i64,
    }

    #[tenant_scoped(table = "shipments")]
    pub struct Shipment {
        pub tenant_id: i64,
        #[tenancy(primary_key)]
        pub id: i64,
        #[tenancy(references = Order)]
        pub order_id: i64,
        #[tenancy(pii)]
        pub address: String,
    }

    #[tenant_scoped(table = "notes")]
    pub struct Note {
        pub tenant_id: i64,
        #[tenancy(primary_key)]
        pub id: i64,
        #[tenancy(references = Customer)]
        pub customer_id: i64,
        pub body: String,
    }

    /// Kept for the legal period: its personal data is overwritten, the rest
    /// kept.
    #[tenant_scoped(table = "invoices")]
    pub struct Invoice {
        pub tenant_id: i64,
        #[tenancy(primary_key)]
        pub id: i64,
        #[tenancy(pii)]
        pub billing_email: String,
        #[tenancy(pii)]
        pub billing_name: Option<String>,
        #[tenancy(pii = "public.mask_phone")]
        pub phone: String,
        pub amount_cents: i64,
    }
}

use schema::{Customer, Invoice, Note, Order, OrderItem, Payment, Shipment};

fn tables() -> TableSet {
    TableSet::new()
        .with::<Customer>()
        .with::<Order>()
        .with::<OrderItem>()
        .with::<Payment>()
        .with::<Shipment>()
        .with::<Note>()
        .with::<Invoice>()
}

fn options() -> ErasureOptions {
    ErasureOptions::new(&tables())
        .retain::<Invoice>()
        .batch_rows(7)
}

/// Every table of the schema, the unregistered one last.
const TABLES: [&str; 8] = [
    "customers",
    "orders",
    "order_items",
    "payments",
    "shipments",
    "notes",
    "invoices",
    "audit_trail",
];

/// Rows per tenant: customers, orders, items, payments, shipments, notes,
/// invoices, audit entries.
const ROWS: [i64; 8] = [5, 10, 30, 10, 10, 15, 4, 20];

/// The schema above, created by the library as the owner (with RLS and the
/// owner policy), plus one table nobody registered, with a composite
/// foreign key into `orders` and no row-level security; seeded for
/// `tenants` as the superuser.
async fn schema(tenants: &[i64]) -> TestResult<(TestDatabase, OwnerPool)> {
    let db = TestDatabase::create().await?;
    let owner = OwnerPool::from_pool(
        db.owner_pool().await?,
        CrossTenant::with_reason("test: erasure")?,
    );
    owner
        .apply_schema(&tables(), &RlsPolicy::for_role(APP_ROLE)?)
        .await?;
    execute(
        owner.pool(),
        "CREATE TABLE audit_trail (tenant_id bigint NOT NULL, order_id bigint NOT NULL, event text NOT NULL,
             FOREIGN KEY (tenant_id, order_id) REFERENCES orders (tenant_id, id));
         CREATE FUNCTION mask_phone(text) RETURNS text LANGUAGE sql IMMUTABLE
             AS $$ SELECT '+00 ' || right($1, 2) $$;",
    )
    .await?;
    let admin = db.admin_pool().await?;
    let seed = [
        "INSERT INTO customers SELECT t, c, 'c' || c || '@tenant' || t || '.test'
         FROM unnest($1::bigint[]) t, generate_series(1, 5) c",
        "INSERT INTO orders SELECT t, o, 1 + o % 5, 'open' FROM unnest($1::bigint[]) t, generate_series(1, 10) o",
        "INSERT INTO order_items SELECT t, i, 1 + i % 10, 'sku-' || i FROM unnest($1::bigint[]) t, generate_series(1, 30) i",
        "INSERT INTO payments SELECT t, p, p, 100 * p FROM unnest($1::bigint[]) t, generate_series(1, 10) p",
        "INSERT INTO shipments SELECT t, s, s, s || ' Main Street' FROM unnest($1::bigint[]) t, generate_series(1, 10) s",
        "INSERT INTO notes SELECT t, n, 1 + n % 5, 'note ' || n FROM unnest($1::bigint[]) t, generate_series(1, 15) n",
        "INSERT INTO invoices SELECT t, i, 'bill' || i || '@tenant' || t || '.test', 'Name ' || i, '+44 7700 9000' || i, 1000 * t + i
         FROM unnest($1::bigint[]) t, generate_series(1, 4) i",
        "INSERT INTO audit_trail SELECT t, 1 + e % 10, 'event ' || e FROM unnest($1::bigint[]) t, generate_series(1, 20) e",
    ];
    for statement in seed {
        sqlx::query(statement).bind(tenants).execute(&admin).await?;
    }
    Ok((db, owner))
}

/// Every row of every tenant but `tenant`, with its row version (`xmin`)
/// and place (`ctid`): a row that was rewritten, even to the same values,
/// shows up as a difference. Read as the superuser.
async fn others(db: &TestDatabase, tenant: i64) -> TestResult<Vec<String>> {
    let admin = db.admin_pool().await?;
    let mut rows = Vec::new();
    for table in TABLES {
        let sql = format!(
            "SELECT '{table} ' || xmin::text || ' ' || ctid::text || ' ' || t::text FROM {table} t
             WHERE tenant_id <> $1 ORDER BY 1"
        );
        let found: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(tenant)
            .fetch_all(&admin)
            .await?;
        rows.extend(found);
    }
    Ok(rows)
}

/// The rows of `tenant` per table, as the superuser.
async fn counts(db: &TestDatabase, tenant: i64) -> TestResult<Vec<i64>> {
    let admin = db.admin_pool().await?;
    let mut counts = Vec::new();
    for table in TABLES {
        let sql = format!("SELECT count(*) FROM {table} WHERE tenant_id = $1");
        counts.push(
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .bind(tenant)
                .fetch_one(&admin)
                .await?,
        );
    }
    Ok(counts)
}

fn tenant(key: i64) -> TenantId<i64> {
    TenantId::from_verified(key)
}

#[tokio::test]
async fn erasure_removes_the_tenant_everywhere_and_touches_no_other_row() -> TestResult {
    let (captured, _guard) = Capture::install();
    let (db, owner) = schema(&[1, 2, 3]).await?;
    let before = others(&db, 1).await?;
    assert_eq!(before.len() as i64, 2 * ROWS.iter().sum::<i64>());

    // Another test's thread may have registered the callsite before this
    // subscriber was installed (see `refresh_interest`).
    refresh_interest();
    let erasure = owner.erase_tenant(&tenant(1), &options()).await?;
    // The job is logged with the capability's reason and the tenant.
    let logged: Vec<_> = captured
        .events_of("tenancy::cross_tenant")
        .into_iter()
        .filter(|event| event.message() == "erasure")
        .collect();
    assert_eq!(logged.len(), 1, "{logged:#?}");
    assert_eq!(logged[0].field("reason"), Some("test: erasure"));
    assert_eq!(logged[0].field("tenant"), Some("1"));

    // Nothing of tenant 1 is left but its retained invoices, anonymised.
    assert_eq!(counts(&db, 1).await?, [0, 0, 0, 0, 0, 0, 4, 0]);
    let admin = db.admin_pool().await?;
    let invoices: Vec<(String, Option<String>, String, i64)> = sqlx::query_as(
        "SELECT billing_email, billing_name, phone, amount_cents FROM invoices WHERE tenant_id = 1 ORDER BY id",
    )
    .fetch_all(&admin)
    .await?;
    for (at, invoice) in invoices.iter().enumerate() {
        let id = at as i64 + 1;
        let phone = format!("+00 0{id}");
        assert_eq!(
            invoice,
            &("redacted".to_owned(), None, phone, 1000 + id),
            "invoice {id}"
        );
    }
    // Every other tenant's row is the same row version, in the same place.
    assert_eq!(others(&db, 1).await?, before);

    // The certificate says what happened, and is the one stored.
    let certificate = &erasure.certificate;
    assert!(certificate.digest_matches());
    assert_eq!(certificate.content.tenant, "1");
    assert_eq!(certificate.content.remaining_rows, 0);
    assert_eq!(certificate.content.erased_by, "tenancy_owner");
    for (table, rows) in TABLES.iter().zip(ROWS) {
        assert_eq!(
            certificate.rows(&format!("public.{table}")),
            Some(rows),
            "{table}"
        );
    }
    assert_eq!(certificate.content.tables.len(), 8);
    let invoices = &certificate.content.tables[0];
    assert_eq!(
        (invoices.table.as_str(), invoices.action.as_str()),
        ("public.invoices", "anonymised")
    );
    let columns: Vec<(&str, &str)> = invoices
        .anonymised_columns
        .iter()
        .map(|column| (column.column.as_str(), column.with.as_str()))
        .collect();
    assert_eq!(
        columns,
        [
            ("billing_email", "'redacted'"),
            ("billing_name", "NULL"),
            ("phone", "\"public\".\"mask_phone\"(\"phone\")")
        ]
    );
    let position = |table: &str| {
        certificate
            .content
            .tables
            .iter()
            .position(|entry| entry.table == format!("public.{table}"))
            .unwrap_or(usize::MAX)
    };
    for (child, parent) in [
        ("order_items", "orders"),
        ("payments", "orders"),
        ("shipments", "orders"),
        ("audit_trail", "orders"),
        ("orders", "customers"),
        ("notes", "customers"),
    ] {
        assert!(
            position(child) < position(parent),
            "{child} before {parent}"
        );
    }
    let (stored, sha256): (String, String) = sqlx::query_as(
        "SELECT certificate, sha256 FROM tenancy.tenant_deletion_certificates WHERE tenant = '1'",
    )
    .fetch_one(&admin)
    .await?;
    let stored = Certificate::from_json(&stored)?;
    assert_eq!(&stored, certificate);
    assert_eq!(sha256, certificate.sha256);
    // 7 rows a batch at most: each table took ceil((rows + 1) / 7) batches,
    // the last one finding fewer rows than it could take.
    let expected: i64 = ROWS.iter().map(|rows| rows / 7 + 1).sum();
    assert_eq!(erasure.batches as i64, expected);

    // The ledger has every table done with its count.
    let ledger: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT table_name, state, rows_affected FROM tenancy.tenant_deletion_jobs WHERE tenant = '1' ORDER BY position",
    )
    .fetch_all(&admin)
    .await?;
    assert_eq!(ledger.len(), 8);
    assert!(
        ledger.iter().all(|(_, state, _)| state == "done"),
        "{ledger:?}"
    );

    // Again: nothing more to do, certified again in a new job.
    let again = owner.erase_tenant(&tenant(1), &options()).await?;
    assert_ne!(again.certificate.content.job_id, certificate.content.job_id);
    assert!(
        again
            .certificate
            .content
            .tables
            .iter()
            .all(|table| table.rows == 0)
    );
    assert_eq!(others(&db, 1).await?, before);
    Ok(())
}

#[tokio::test]
async fn the_plan_comes_from_the_catalog_children_first() -> TestResult {
    let (_db, owner) = schema(&[]).await?;
    let plan = owner.erasure_plan(&options()).await?;
    assert!(plan.problems().is_empty(), "{:?}", plan.problems());
    let steps: Vec<(String, bool)> = plan
        .steps()
        .iter()
        .map(|step| (step.table(), matches!(step.action(), ErasureAction::Delete)))
        .collect();
    assert_eq!(steps.len(), 8, "{steps:?}");
    assert_eq!(steps[0], ("public.invoices".to_owned(), false));
    assert!(
        steps.contains(&("public.audit_trail".to_owned(), true)),
        "the unregistered table: {steps:?}"
    );
    assert!(plan.steps().iter().all(|step| step.batched()));
    Ok(())
}

/// The refusal, and that it came before any row was touched.
async fn assert_refused(
    db: &TestDatabase,
    owner: &OwnerPool,
    options: &ErasureOptions,
    expected: &[(&str, &str)],
) -> TestResult {
    let before = counts(db, 1).await?;
    match owner.erase_tenant(&tenant(1), options).await {
        Err(Error::Lifecycle(LifecycleError::PlanRefused { problems })) => {
            for (table, reason) in expected {
                assert!(
                    problems
                        .iter()
                        .any(|problem| problem.table.contains(table)
                            && problem.reason.contains(reason)),
                    "expected a problem with {table}: {reason}; got {problems:#?}"
                );
            }
        }
        other => return Err(format!("expected PlanRefused, got {other:?}").into()),
    }
    assert_eq!(counts(db, 1).await?, before, "nothing deleted");
    Ok(())
}

#[tokio::test]
async fn a_table_the_plan_cannot_cover_stops_the_job_before_any_delete() -> TestResult {
    let (db, owner) = schema(&[1, 2]).await?;
    // A cycle of foreign keys that no order of deletes satisfies.
    execute(
        owner.pool(),
        "CREATE TABLE teams (tenant_id bigint NOT NULL, id bigint NOT NULL, lead bigint, PRIMARY KEY (tenant_id, id));
         CREATE TABLE members (tenant_id bigint NOT NULL, id bigint NOT NULL, team bigint NOT NULL,
             PRIMARY KEY (tenant_id, id), FOREIGN KEY (tenant_id, team) REFERENCES teams (tenant_id, id));
         ALTER TABLE teams ADD CONSTRAINT teams_lead FOREIGN KEY (tenant_id, lead) REFERENCES members (tenant_id, id);",
    )
    .await?;
    assert_refused(&db, &owner, &options(), &[("teams", "cycle")]).await?;
    execute(owner.pool(), "DROP TABLE teams, members CASCADE").await?;

    // A table without the tenant column that references a deleted table.
    execute(
        owner.pool(),
        "CREATE TABLE exports (org bigint NOT NULL, customer bigint NOT NULL,
             FOREIGN KEY (org, customer) REFERENCES customers (tenant_id, id));",
    )
    .await?;
    assert_refused(
        &db,
        &owner,
        &options(),
        &[("exports", "has no tenant column")],
    )
    .await?;
    execute(owner.pool(), "DROP TABLE exports").await?;

    // A table the owner cannot delete from (made by someone else).
    let admin = db.admin_pool().await?;
    execute(
        &admin,
        "CREATE TABLE legacy (tenant_id bigint NOT NULL, body text)",
    )
    .await?;
    assert_refused(
        &db,
        &owner,
        &options(),
        &[("legacy", "lacks SELECT and DELETE")],
    )
    .await?;
    execute(&admin, "DROP TABLE legacy").await?;

    // A forced policy that hides the tenant's rows from the owner.
    execute(owner.pool(), "DROP POLICY tenancy_owner ON notes").await?;
    assert_refused(
        &db,
        &owner,
        &options(),
        &[("notes", "row-level security applies")],
    )
    .await?;
    execute(
        owner.pool(),
        "CREATE POLICY tenancy_owner ON notes TO CURRENT_USER USING (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::bigint))",
    )
    .await?;

    // A retained table with a foreign key into a deleted one.
    execute(
        owner.pool(),
        "ALTER TABLE invoices ADD COLUMN customer_id bigint;
         UPDATE invoices SET customer_id = 1;
         ALTER TABLE invoices ADD FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id);",
    )
    .await?;
    assert_refused(&db, &owner, &options(), &[("invoices", "is retained")]).await?;
    Ok(())
}

#[tokio::test]
async fn a_cycle_of_deferrable_keys_is_erased_in_one_transaction() -> TestResult {
    let (db, owner) = schema(&[1, 2]).await?;
    execute(
        owner.pool(),
        "CREATE TABLE teams (tenant_id bigint NOT NULL, id bigint NOT NULL, lead bigint, PRIMARY KEY (tenant_id, id));
         CREATE TABLE members (tenant_id bigint NOT NULL, id bigint NOT NULL, team bigint NOT NULL,
             PRIMARY KEY (tenant_id, id),
             FOREIGN KEY (tenant_id, team) REFERENCES teams (tenant_id, id) DEFERRABLE);
         ALTER TABLE teams ADD CONSTRAINT teams_lead FOREIGN KEY (tenant_id, lead)
             REFERENCES members (tenant_id, id) DEFERRABLE;
         BEGIN;
         SET CONSTRAINTS ALL DEFERRED;
         INSERT INTO teams SELECT t, 1, 1 FROM unnest(ARRAY[1, 2]) t;
         INSERT INTO members SELECT t, m, 1 FROM unnest(ARRAY[1, 2]) t, generate_series(1, 3) m;
         COMMIT;",
    )
    .await?;
    let plan = owner.erasure_plan(&options()).await?;
    let mut cycle: Vec<String> = plan
        .steps()
        .iter()
        .filter(|step| !step.batched())
        .map(|step| step.table())
        .collect();
    cycle.sort();
    assert_eq!(cycle, ["public.members", "public.teams"]);
    let erasure = owner.erase_tenant(&tenant(1), &options()).await?;
    assert_eq!(erasure.certificate.rows("public.members"), Some(3));
    assert_eq!(erasure.certificate.rows("public.teams"), Some(1));
    let admin = db.admin_pool().await?;
    let left: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM teams WHERE tenant_id = 2), (SELECT count(*) FROM members WHERE tenant_id = 2)",
    )
    .fetch_one(&admin)
    .await?;
    assert_eq!(left, (1, 3));
    Ok(())
}

#[tokio::test]
async fn a_second_erasure_of_the_same_tenant_is_refused_while_one_runs() -> TestResult {
    let (db, owner) = schema(&[1]).await?;
    // The first erasure installs the records; then a session holds the
    // tenant's job lock as a running job does.
    owner.erase_tenant(&tenant(9), &options()).await?;
    let holder = db.owner_pool().await?;
    let mut holding = holder.acquire().await?;
    sqlx::query("SELECT pg_advisory_lock(hashtext('tenancy.erase'), hashtext('1'))")
        .execute(&mut *holding)
        .await?;
    match owner.erase_tenant(&tenant(1), &options()).await {
        Err(Error::Lifecycle(LifecycleError::AlreadyRunning { tenant })) => assert_eq!(tenant, "1"),
        other => return Err(format!("expected AlreadyRunning, got {other:?}").into()),
    }
    assert_eq!(counts(&db, 1).await?, ROWS);
    Ok(())
}

#[tokio::test]
async fn certificates_cannot_be_changed_or_deleted() -> TestResult {
    let (db, owner) = schema(&[1]).await?;
    owner.erase_tenant(&tenant(1), &options()).await?;
    for statement in [
        "UPDATE tenancy.tenant_deletion_certificates SET tenant = '2'",
        "DELETE FROM tenancy.tenant_deletion_certificates",
        "TRUNCATE tenancy.tenant_deletion_certificates",
    ] {
        // Not even by the owner of the table.
        let refused = execute(owner.pool(), statement).await;
        let message = format!("{refused:?}");
        assert!(message.contains("append-only"), "{statement}: {message}");
    }
    let admin = db.admin_pool().await?;
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM tenancy.tenant_deletion_certificates")
        .fetch_one(&admin)
        .await?;
    assert_eq!(kept, 1);
    Ok(())
}
