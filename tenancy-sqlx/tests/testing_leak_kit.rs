//! The leak-test kit can fail: a deliberately leaky operation is caught,
//! with the leaked values named and located, while a scoped one passes.

use std::panic::{AssertUnwindSafe, catch_unwind};

use serde::Serialize;
use tenancy_sqlx::ddl::TableSet;
use tenancy_sqlx::testing::leak::{Leak, MarkerValue};
use tenancy_sqlx::testing::{LeakReport, LeakTest, LeakTestError, TestDatabase};
use tenancy_sqlx::{CrossTenant, OwnerPool, Sqlite, TenantId, TenantPool, TenantPoolOptions};

use tenancy_test::TestResult;

mod tables {
    use serde::Serialize;
    use tenancy_sqlx::tenant_scoped;

    #[tenant_scoped]
    #[derive(Debug, Clone, Serialize, sqlx::FromRow)]
    pub struct Note {
        pub tenant_id: i64,
        #[tenancy(primary_key)]
        pub id: i64,
        pub title: String,
        pub body: String,
    }
}
use tables::Note;

const A: i64 = 1;
const B: i64 = 2;

fn tenants() -> (TenantId, TenantId) {
    (TenantId::from_verified(A), TenantId::from_verified(B))
}

/// An in-memory database with `notes`, and a leak test whose two tenants
/// each have two notes made of kit markers.
async fn seeded() -> Result<(TenantPool<Sqlite>, LeakTest), LeakTestError> {
    let tables = TableSet::new().with::<Note>();
    let pool =
        TenantPool::connect_sqlite("sqlite::memory:", TenantPoolOptions::new(&tables)).await?;
    pool.owner_pool(CrossTenant::with_reason("test set-up").expect("a stated reason"))
        .apply_schema(&tables)
        .await?;
    let (a, b) = tenants();
    let mut test = LeakTest::new(a, b);
    test.seed_in(&pool, async |tx, seed| {
        for _ in 0..2 {
            let note = Note::insert(seed.tenant())
                .set(Note::ID, seed.marker_id("note id"))
                .set(Note::TITLE, seed.marker("note title"))
                .set(Note::BODY, format!("<p>{}</p>", seed.marker("note body")));
            tx.execute(note).await?;
        }
        Ok(())
    })
    .await?;
    Ok((pool, test))
}

/// The panic message of `assert_no_leak`, if it panicked.
fn failure_of(report: &LeakReport) -> Option<String> {
    let outcome = catch_unwind(AssertUnwindSafe(|| report.assert_no_leak()));
    outcome
        .err()
        .map(|panic| panic.downcast_ref::<String>().cloned().unwrap_or_default())
}

#[tokio::test]
async fn a_scoped_read_passes_and_sees_its_own_values() -> TestResult {
    let (pool, test) = seeded().await?;
    let (a, _) = tenants();
    let report = test
        .run_in(&pool, &a, async |tx| {
            let notes: Vec<Note> = tx.fetch_all(Note::select(tx.tenant())).await?;
            Ok(notes)
        })
        .await?;
    assert!(report.is_clean(), "{report}");
    // Two notes, three markers each.
    assert_eq!(report.own_values_seen(), 6);
    report.assert_no_leak();
    report.assert_sees_own_values();
    Ok(())
}

#[tokio::test]
async fn raw_sql_without_a_tenant_filter_is_caught_and_named() -> TestResult {
    let (pool, test) = seeded().await?;
    let (a, b) = tenants();
    // The bug under test: hand-written SQL that forgets the tenant. SQLite
    // has no Row Level Security to stop it.
    let report = test
        .run_in(&pool, &a, async |tx| {
            let notes: Vec<Note> = sqlx::query_as("SELECT * FROM notes ORDER BY tenant_id, id")
                .fetch_all(tx.raw_connection())
                .await?;
            Ok(notes)
        })
        .await?;

    assert!(!report.is_clean());
    // Rows 2 and 3 are B's: each of its three values, where it sits.
    let mut found: Vec<(String, String)> = report
        .leaks()
        .iter()
        .map(|leak| (leak.label.clone(), leak.path.clone()))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("note body".to_owned(), "$[2].body".to_owned()),
            ("note body".to_owned(), "$[3].body".to_owned()),
            ("note id".to_owned(), "$[2].id".to_owned()),
            ("note id".to_owned(), "$[3].id".to_owned()),
            ("note title".to_owned(), "$[2].title".to_owned()),
            ("note title".to_owned(), "$[3].title".to_owned()),
        ]
    );
    assert!(report.leaks().iter().all(|leak| leak.owner == b));

    let message = failure_of(&report).ok_or("assert_no_leak passed on a leak")?;
    assert!(
        message.contains("tenant 1 saw 6 value(s) seeded for another tenant"),
        "{message}"
    );
    for leak in report.leaks() {
        assert!(message.contains(&leak.to_string()), "{message}");
        match &leak.value {
            MarkerValue::Text(text) => assert!(message.contains(text.as_str())),
            MarkerValue::Integer(id) => assert!(message.contains(&id.to_string())),
            other => return Err(format!("unexpected marker {other:?}").into()),
        }
    }
    Ok(())
}

#[tokio::test]
async fn leaks_inside_response_bodies_are_found() -> TestResult {
    let (pool, test) = seeded().await?;
    let (a, b) = tenants();
    let b_notes: Vec<Note> = {
        let mut tx = pool.begin(&b).await?;
        let notes = tx.fetch_all(Note::select(&b)).await?;
        tx.rollback().await?;
        notes
    };

    // An HTML page rendered from B's first note, as a text body.
    let html = format!(
        "<ul><li><a href=\"/notes/{}\">{}</a></li></ul>",
        b_notes[0].id, b_notes[0].title
    );
    let report = test.scan(&a, &html)?;
    let labels: Vec<&str> = report
        .leaks()
        .iter()
        .map(|leak| leak.label.as_str())
        .collect();
    assert_eq!(labels.len(), 2, "{report}");
    assert!(
        labels.contains(&"note id") && labels.contains(&"note title"),
        "{report}"
    );
    assert!(report.leaks().iter().all(|leak| leak.path == "$"));

    // A JSON response that nests B's body and puts its id in a string.
    #[derive(Serialize)]
    struct Page {
        items: Vec<serde_json::Value>,
    }
    let page = Page {
        items: vec![
            serde_json::json!({ "preview": b_notes[1].body, "link": format!("/notes/{}", b_notes[1].id) }),
        ],
    };
    let report = test.scan(&a, &page)?;
    let mut found: Vec<String> = report.leaks().iter().map(Leak::to_string).collect();
    found.sort();
    assert_eq!(found.len(), 2, "{report}");
    assert!(found[0].ends_with("at $.items[0].preview"), "{found:?}");
    assert!(found[1].ends_with("at $.items[0].link"), "{found:?}");

    // The same kinds of values of A's own are not leaks.
    let own = format!("<a href=\"/notes/{id}\">{id}</a>", id = 1_000);
    assert!(test.scan(&a, &own)?.is_clean());
    Ok(())
}

#[tokio::test]
async fn a_test_that_cannot_fail_is_refused() -> TestResult {
    let (a, b) = tenants();

    // Nothing seeded for B: no leak of B could ever be detected.
    let mut test = LeakTest::new(a, b);
    test.seed(async |seed| {
        if *seed.tenant() == a {
            seed.marker("only a");
        }
        Ok(())
    })
    .await?;
    let refused = test.scan(&a, "anything");
    assert!(
        matches!(&refused, Err(LeakTestError::NothingSeeded { tenant }) if tenant == "tenant 2"),
        "{refused:?}"
    );

    // The same tenant twice.
    let mut test = LeakTest::new(a, a);
    let refused = test.seed(async |_| Ok(())).await;
    assert!(
        matches!(refused, Err(LeakTestError::SameTenant { .. })),
        "{refused:?}"
    );

    // An operation that returns no data is clean, and says it proves nothing.
    let (pool, test) = seeded().await?;
    let report = test
        .run_in(&pool, &a, async |_tx| Ok(Vec::<Note>::new()))
        .await?;
    assert!(report.is_clean());
    let outcome = catch_unwind(AssertUnwindSafe(|| report.assert_sees_own_values()));
    assert!(outcome.is_err(), "assert_sees_own_values passed on no data");
    Ok(())
}

#[tokio::test]
async fn seeding_and_operation_errors_name_the_tenant() -> TestResult {
    let (a, b) = tenants();
    let mut test = LeakTest::new(a, b);
    let failed = test
        .seed(async |seed| {
            if *seed.tenant() == b {
                return Err("the API refused the insert".into());
            }
            Ok(())
        })
        .await;
    let message = failed.err().ok_or("seeding error swallowed")?.to_string();
    assert_eq!(
        message,
        "seeding tenant 2 failed: the API refused the insert"
    );

    let failed = test
        .run_as(&a, async |_tenant| Err::<(), _>("connection reset".into()))
        .await;
    let message = failed.err().ok_or("operation error swallowed")?.to_string();
    assert_eq!(
        message,
        "the operation run as tenant 1 failed: connection reset"
    );
    Ok(())
}

#[tokio::test]
async fn on_postgres_row_level_security_stops_the_same_raw_sql() -> TestResult {
    let db = TestDatabase::create().await?;
    let tables = TableSet::new().with::<Note>();
    OwnerPool::from_pool(
        db.owner_pool().await?,
        CrossTenant::with_reason("test set-up").expect("a stated reason"),
    )
    .apply_schema(
        &tables,
        &tenancy_sqlx::rls::RlsPolicy::for_role(tenancy_sqlx::testing::APP_ROLE)?,
    )
    .await?;
    let pool = TenantPool::<tenancy_sqlx::Postgres>::connect(
        &db.app_url(),
        TenantPoolOptions::new(&tables),
    )
    .await?;

    let (a, b) = tenants();
    let mut test = LeakTest::new(a, b);
    test.seed_in(&pool, async |tx, seed| {
        let note = Note::insert(seed.tenant())
            .set(Note::ID, seed.marker_id("note id"))
            .set(Note::TITLE, seed.marker("note title"))
            .set(Note::BODY, seed.marker("note body"));
        tx.execute(note).await?;
        Ok(())
    })
    .await?;

    let report = test
        .run_in(&pool, &a, async |tx| {
            let notes: Vec<Note> = sqlx::query_as("SELECT * FROM notes")
                .fetch_all(tx.raw_connection())
                .await?;
            Ok(notes)
        })
        .await?;
    report.assert_no_leak();
    assert_eq!(report.own_values_seen(), 3);
    Ok(())
}
