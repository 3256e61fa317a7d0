//! PostgreSQL enum types end to end: `apply_schema` creates them before the
//! tables, adds labels declared later in their place, refuses labels
//! removed or reordered; drift reports each difference; the generator
//! writes them into migrations; and a row with the enum is written, read
//! back with `FromRow` and filtered as the application role.

#![allow(missing_docs, dead_code)] // the table structs and enums of the tests, declared for their metadata

use sqlx::{AssertSqlSafe, PgPool};
use tenancy_sqlx::audit::FindingKind;
use tenancy_sqlx::ddl::TableSet;
use tenancy_sqlx::drift::{self, Change};
use tenancy_sqlx::manifest::Manifest;
use tenancy_sqlx::rls::RlsPolicy;
use tenancy_sqlx::testing::{APP_ROLE, TestDatabase};
use tenancy_sqlx::{CrossTenant, DdlError, Error, OwnerPool, TenantId};
use tenancy_test::TestResult;

/// The first version: two labels.
mod v1 {
    tenancy_sqlx::pg_enum! {
        pub enum State as "ticket_state" {
            Open = "open",
            Closed = "closed",
        }
    }

    #[tenancy_sqlx::tenant_scoped(table = "tickets")]
    #[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
    pub struct Ticket {
        pub tenant_id: i64,
        #[tenancy(primary_key)]
        pub id: i64,
        pub state: State,
    }

    /// A second table with the same type: it is created once.
    #[tenancy_sqlx::tenant_scoped(table = "ticket_events")]
    pub struct Event {
        pub tenant_id: i64,
        #[tenancy(primary_key)]
        pub id: i64,
        pub before: State,
        pub after: Option<State>,
    }

    pub fn tables() -> tenancy_sqlx::ddl::TableSet {
        tenancy_sqlx::ddl::TableSet::new()
            .with::<Ticket>()
            .with::<Event>()
    }
}

/// A label added in the middle and one at the front.
mod v2 {
    tenancy_sqlx::pg_enum! {
        pub enum State as "ticket_state" {
            New = "new",
            Open = "open",
            Pending = "pending",
            Closed = "closed",
        }
    }

    #[tenancy_sqlx::tenant_scoped(table = "tickets")]
    #[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
    pub struct Ticket {
        pub tenant_id: i64,
        #[tenancy(primary_key)]
        pub id: i64,
        pub state: State,
    }

    pub fn tables() -> tenancy_sqlx::ddl::TableSet {
        tenancy_sqlx::ddl::TableSet::new().with::<Ticket>()
    }
}

/// A label removed.
mod removed {
    tenancy_sqlx::pg_enum! {
        pub enum State as "ticket_state" { Open = "open" }
    }

    #[tenancy_sqlx::tenant_scoped(table = "tickets")]
    pub struct Ticket {
        pub tenant_id: i64,
        #[tenancy(primary_key)]
        pub id: i64,
        pub state: State,
    }

    pub fn tables() -> tenancy_sqlx::ddl::TableSet {
        tenancy_sqlx::ddl::TableSet::new().with::<Ticket>()
    }
}

/// The labels reordered.
mod reordered {
    tenancy_sqlx::pg_enum! {
        pub enum State as "ticket_state" { Closed = "closed", Open = "open" }
    }

    #[tenancy_sqlx::tenant_scoped(table = "tickets")]
    pub struct Ticket {
        pub tenant_id: i64,
        #[tenancy(primary_key)]
        pub id: i64,
        pub state: State,
    }

    pub fn tables() -> tenancy_sqlx::ddl::TableSet {
        tenancy_sqlx::ddl::TableSet::new().with::<Ticket>()
    }
}

/// The column as text, before it became the enum.
mod text {
    #[tenancy_sqlx::tenant_scoped(table = "tickets")]
    pub struct Ticket {
        pub tenant_id: i64,
        #[tenancy(primary_key)]
        pub id: i64,
        pub state: String,
    }

    pub fn tables() -> tenancy_sqlx::ddl::TableSet {
        tenancy_sqlx::ddl::TableSet::new().with::<Ticket>()
    }
}

/// Labels that would break out of a string or a dollar-quoted body if
/// they were formatted raw, and a type in another schema than the table.
mod hostile {
    tenancy_sqlx::pg_enum! {
        pub enum Mood as "support"."mood" {
            Quote = "it's",
            Backslash = "back\\slash",
            Semicolon = "semi;colon'); DROP TABLE tickets; --",
            Dollar = "$tenancy$ END; DROP TABLE tickets; --",
            Long = "sixty-three bytes: the longest label that PostgreSQL will take!",
        }
    }

    #[tenancy_sqlx::tenant_scoped(table = "moods")]
    #[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
    pub struct Moody {
        pub tenant_id: i64,
        #[tenancy(primary_key)]
        pub id: i64,
        pub mood: Mood,
    }

    pub fn tables() -> tenancy_sqlx::ddl::TableSet {
        tenancy_sqlx::ddl::TableSet::new().with::<Moody>()
    }
}

fn policy() -> RlsPolicy {
    RlsPolicy::for_role(APP_ROLE).expect("a valid role")
}

/// A new database and the library's owner pool on it, which applies each
/// test's tables; a test's tenant pool is `db.library_tenant_pool(..)`.
async fn database() -> TestResult<(TestDatabase, OwnerPool)> {
    let db = TestDatabase::create().await?;
    let capability = CrossTenant::with_reason("test set-up: enum types")?;
    let owner = db.library_owner_pool(capability, &TableSet::new()).await?;
    Ok((db, owner))
}

async fn run(pool: &PgPool, sql: &str) -> TestResult {
    sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
        .execute(pool)
        .await?;
    Ok(())
}

/// The type's `oid` and labels in their order, `None` if it is missing.
async fn labels(pool: &PgPool, quoted: &str) -> TestResult<Option<(u32, Vec<String>)>> {
    let row: Option<(sqlx::postgres::types::Oid, Vec<String>)> = sqlx::query_as(
        "SELECT t.oid, ARRAY(SELECT enumlabel::text FROM pg_enum WHERE enumtypid = t.oid ORDER BY enumsortorder)
         FROM pg_type t WHERE t.oid = to_regtype($1)",
    )
    .bind(quoted)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(oid, labels)| (oid.0, labels)))
}

/// The kinds of the findings of an apply refused for drift.
fn drift_kinds(result: Result<(), Error>) -> TestResult<Vec<FindingKind>> {
    match result {
        Err(Error::SchemaDrift { findings }) => {
            Ok(findings.into_iter().map(|finding| finding.kind).collect())
        }
        other => Err(format!("expected SchemaDrift, got {other:?}").into()),
    }
}

async fn detect(db: &TestDatabase, tables: &TableSet) -> TestResult<Vec<Change>> {
    let manifest = Manifest::new(tables, &policy())?;
    let mut connection = db.owner_pool().await?.acquire().await?;
    Ok(drift::detect(&mut connection, &manifest, None)
        .await?
        .into_iter()
        .map(|drift| drift.change().clone())
        .collect())
}

#[tokio::test]
async fn apply_creates_the_type_then_the_tables_and_a_second_apply_changes_nothing() -> TestResult {
    let (db, owner) = database().await?;
    assert!(matches!(
        &detect(&db, &v1::tables()).await?[..],
        [
            Change::EnumTypeMissing {
                other_kind: false,
                ..
            },
            Change::TableMissing,
            Change::TableMissing
        ]
    ));
    owner.apply_schema(&v1::tables(), &policy()).await?;
    let first = labels(owner.pool(), "public.ticket_state").await?;
    assert_eq!(
        first.as_ref().map(|(_, labels)| labels.clone()),
        Some(vec!["open".to_owned(), "closed".to_owned()])
    );
    assert_eq!(detect(&db, &v1::tables()).await?, []);

    owner.apply_schema(&v1::tables(), &policy()).await?;
    assert_eq!(labels(owner.pool(), "public.ticket_state").await?, first);
    assert_eq!(detect(&db, &v1::tables()).await?, []);

    // The application role writes, reads back with `FromRow` (no
    // hand-written `sqlx::Type`) and filters, for its tenant only.
    let pool = db.library_tenant_pool(&v1::tables()).await?;
    let (a, b) = (
        TenantId::from_verified(1_i64),
        TenantId::from_verified(2_i64),
    );
    for (tenant, key, state) in [(&a, 1, v1::State::Closed), (&b, 2, v1::State::Closed)] {
        let mut tx = pool.begin(tenant).await?;
        let ticket = v1::Ticket {
            tenant_id: key,
            id: 1,
            state,
        };
        tx.execute(v1::Ticket::insert(tenant).row(&ticket)).await?;
        tx.commit().await?;
    }
    let mut tx = pool.begin(&a).await?;
    let closed: Vec<v1::Ticket> = tx
        .fetch_all(v1::Ticket::select(&a).filter(v1::Ticket::STATE.eq(v1::State::Closed)))
        .await?;
    assert_eq!(
        closed,
        [v1::Ticket {
            tenant_id: 1,
            id: 1,
            state: v1::State::Closed
        }]
    );
    let open: Vec<v1::Ticket> = tx
        .fetch_all(v1::Ticket::select(&a).filter(v1::Ticket::STATE.eq(v1::State::Open)))
        .await?;
    assert_eq!(open, []);
    // A raw `SELECT *` decodes too, as the application role.
    let raw: Vec<v1::Ticket> = sqlx::query_as("SELECT * FROM public.tickets")
        .fetch_all(&mut *tx.raw_connection())
        .await?;
    assert_eq!(raw, closed);
    tx.commit().await?;

    // The application role cannot create a type itself: the DDL runs as
    // the owner.
    let app = db.app_pool().await?;
    let refused = sqlx::raw_sql("CREATE TYPE public.mine AS ENUM ('a')")
        .execute(&app)
        .await;
    assert!(refused.is_err(), "{refused:?}");
    Ok(())
}

#[tokio::test]
async fn a_new_label_is_added_in_its_declared_place_and_is_usable_after_commit() -> TestResult {
    let (db, owner) = database().await?;
    owner.apply_schema(&v1::tables(), &policy()).await?;
    let before = labels(owner.pool(), "public.ticket_state").await?;

    let found = detect(&db, &v2::tables()).await?;
    assert_eq!(
        found,
        [
            Change::EnumLabelMissing {
                type_name: "public.ticket_state".into(),
                quoted: "\"public\".\"ticket_state\"".into(),
                label: "new".into(),
                position: drift::LabelAt::Before("open".into()),
            },
            Change::EnumLabelMissing {
                type_name: "public.ticket_state".into(),
                quoted: "\"public\".\"ticket_state\"".into(),
                label: "pending".into(),
                position: drift::LabelAt::After("open".into()),
            },
        ]
    );
    owner.apply_schema(&v2::tables(), &policy()).await?;
    let after = labels(owner.pool(), "public.ticket_state").await?;
    assert_eq!(
        after.as_ref().map(|(_, labels)| labels.clone()),
        Some(
            ["new", "open", "pending", "closed"]
                .map(str::to_owned)
                .to_vec()
        )
    );
    assert_eq!(
        after.map(|(oid, _)| oid),
        before.map(|(oid, _)| oid),
        "the type was altered, not recreated"
    );
    assert_eq!(detect(&db, &v2::tables()).await?, []);

    let pool = db.library_tenant_pool(&v2::tables()).await?;
    let tenant = TenantId::from_verified(3_i64);
    let mut tx = pool.begin(&tenant).await?;
    let ticket = v2::Ticket {
        tenant_id: 3,
        id: 9,
        state: v2::State::Pending,
    };
    tx.execute(v2::Ticket::insert(&tenant).row(&ticket)).await?;
    let read: v2::Ticket = tx
        .fetch_one(v2::Ticket::select(&tenant).filter(v2::Ticket::STATE.eq(v2::State::Pending)))
        .await?;
    assert_eq!(read, ticket);
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn a_removed_or_reordered_label_is_refused_and_nothing_changes() -> TestResult {
    let (db, owner) = database().await?;
    owner.apply_schema(&v1::tables(), &policy()).await?;
    let before = labels(owner.pool(), "public.ticket_state").await?;

    assert_eq!(
        detect(&db, &removed::tables()).await?,
        [Change::EnumLabelExtra {
            type_name: "public.ticket_state".into(),
            label: "closed".into()
        }]
    );
    let error = owner.apply_schema(&removed::tables(), &policy()).await;
    let message = format!("{:?}", error.as_ref().err());
    assert_eq!(drift_kinds(error)?, [FindingKind::EnumLabelExtra]);
    assert!(
        message.contains("PostgreSQL cannot drop a label"),
        "{message}"
    );

    assert!(matches!(
        &detect(&db, &reordered::tables()).await?[..],
        [Change::EnumLabelOrder { .. }]
    ));
    let error = owner.apply_schema(&reordered::tables(), &policy()).await;
    assert_eq!(drift_kinds(error)?, [FindingKind::EnumLabelOrder]);
    assert_eq!(labels(owner.pool(), "public.ticket_state").await?, before);

    // A row holding a label the enum does not declare is a decode error
    // naming the value and the type, not a panic.
    run(
        owner.pool(),
        "ALTER TYPE public.ticket_state ADD VALUE 'lost'",
    )
    .await?;
    let pool = db.library_tenant_pool(&v1::tables()).await?;
    let tenant = TenantId::from_verified(1_i64);
    let mut tx = pool.begin(&tenant).await?;
    sqlx::query("INSERT INTO public.tickets (tenant_id, id, state) VALUES (1, 1, 'lost')")
        .execute(&mut *tx.raw_connection())
        .await?;
    let read: Result<v1::Ticket, Error> = tx.fetch_one(v1::Ticket::select(&tenant)).await;
    let error = read.expect_err("an unknown label");
    let chain = error_chain(&error);
    assert!(
        chain.contains("\"lost\" is not a label of PostgreSQL enum type `ticket_state`"),
        "{chain}"
    );
    Ok(())
}

#[tokio::test]
async fn a_column_without_the_declared_type_is_drift_that_blocks_the_apply() -> TestResult {
    let (db, owner) = database().await?;
    owner.apply_schema(&text::tables(), &policy()).await?;
    let found = detect(&db, &removed::tables()).await?;
    assert!(
        matches!(
            &found[..],
            [
                Change::EnumTypeMissing { .. },
                Change::ColumnType { column, expected, found }
            ] if column == "state" && expected == "\"ticket_state\"" && found == "text"
        ),
        "{found:?}"
    );
    let error = owner.apply_schema(&removed::tables(), &policy()).await;
    assert_eq!(
        drift_kinds(error)?,
        [FindingKind::ColumnTypeMismatch],
        "the missing type alone would not block"
    );
    assert_eq!(
        labels(owner.pool(), "public.ticket_state").await?,
        None,
        "rolled back"
    );

    // A same-named type that is not an enum is not taken for it.
    run(owner.pool(), "CREATE TYPE public.ticket_state AS (a int)").await?;
    assert!(matches!(
        &detect(&db, &removed::tables()).await?[..],
        [
            Change::EnumTypeMissing {
                other_kind: true,
                ..
            },
            ..
        ]
    ));
    Ok(())
}

#[tokio::test]
async fn hostile_labels_round_trip_and_a_type_in_another_schema_is_created_there() -> TestResult {
    let (db, owner) = database().await?;
    run(owner.pool(), "CREATE SCHEMA support").await?;
    owner.apply_schema(&hostile::tables(), &policy()).await?;
    let (_, found) = labels(owner.pool(), "support.mood")
        .await?
        .ok_or("support.mood exists")?;
    assert_eq!(found, hostile::Mood::SQL_ENUM.labels);
    assert_eq!(detect(&db, &hostile::tables()).await?, []);
    let pool = db.library_tenant_pool(&hostile::tables()).await?;
    let tenant = TenantId::from_verified(5_i64);
    let mut tx = pool.begin(&tenant).await?;
    let moods = [
        hostile::Mood::Quote,
        hostile::Mood::Backslash,
        hostile::Mood::Semicolon,
        hostile::Mood::Dollar,
        hostile::Mood::Long,
    ];
    for (id, mood) in (1..).zip(moods) {
        let row = hostile::Moody {
            tenant_id: 5,
            id,
            mood,
        };
        tx.execute(hostile::Moody::insert(&tenant).row(&row))
            .await?;
        let read: hostile::Moody = tx
            .fetch_one(hostile::Moody::select(&tenant).filter(hostile::Moody::MOOD.eq(mood)))
            .await?;
        assert_eq!(read, row);
    }
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn in_a_tenant_schema_the_type_goes_with_the_tables() -> TestResult {
    let (_db, owner) = database().await?;
    run(owner.pool(), "CREATE SCHEMA tenant_7").await?;
    let tables = v1::tables().in_schema(tenancy_sqlx::Identifier::new("schema", "tenant_7")?);
    owner.apply_schema(&tables, &policy()).await?;
    assert!(
        labels(owner.pool(), "tenant_7.ticket_state")
            .await?
            .is_some()
    );
    assert_eq!(labels(owner.pool(), "public.ticket_state").await?, None);
    Ok(())
}

#[tokio::test]
async fn two_enums_declaring_one_type_with_other_labels_are_refused_by_name() -> TestResult {
    let (_db, owner) = database().await?;
    let both = v1::tables().with::<removed::Ticket>();
    // The two tickets tables conflict as well; the type is refused alone here.
    let types_only = TableSet::new()
        .with::<v1::Event>()
        .with::<removed::Ticket>();
    let error = owner
        .apply_schema(&types_only, &policy())
        .await
        .expect_err("two declarations");
    let message = error.to_string();
    assert!(
        matches!(error, Error::Ddl(DdlError::ConflictingEnumTypes { .. })),
        "{message}"
    );
    assert!(
        message.contains("v1::State") && message.contains("removed::State"),
        "{message}"
    );
    assert!(both.validate().is_err());
    assert_eq!(labels(owner.pool(), "public.ticket_state").await?, None);
    Ok(())
}

#[cfg(feature = "migrate")]
#[tokio::test]
async fn the_generator_writes_types_first_and_drafts_a_new_label() -> TestResult {
    use tenancy_sqlx::migrate;
    let manifest = Manifest::new(&v1::tables(), &policy())?;
    let initial = migrate::initial(&manifest, 1, "tickets")?;
    let create_type = initial.up().find("CREATE TYPE").ok_or("a CREATE TYPE")?;
    let create_table = initial.up().find("CREATE TABLE").ok_or("a CREATE TABLE")?;
    assert!(create_type < create_table, "{}", initial.up());
    assert_eq!(initial.up().matches("CREATE TYPE").count(), 1);
    assert!(
        initial
            .down()
            .trim_end()
            .ends_with("DROP TYPE IF EXISTS \"ticket_state\";"),
        "{}",
        initial.down()
    );

    let (db, owner) = database().await?;
    run(owner.pool(), initial.up()).await?;
    run(owner.pool(), initial.up()).await?;
    assert_eq!(detect(&db, &v1::tables()).await?, []);

    let next = Manifest::new(&v2::tables(), &policy())?;
    let mut connection = owner.pool().acquire().await?;
    let found = drift::detect(&mut connection, &next, None).await?;
    let draft = migrate::draft(&next, None, &found, &[], 2, "pending")?.ok_or("a draft")?;
    assert!(
        draft
            .up()
            .contains("ALTER TYPE \"ticket_state\" ADD VALUE IF NOT EXISTS 'new' BEFORE 'open';")
            && draft.up().contains(
                "ALTER TYPE \"ticket_state\" ADD VALUE IF NOT EXISTS 'pending' AFTER 'open';"
            ),
        "{}",
        draft.up()
    );
    run(owner.pool(), draft.up()).await?;
    assert_eq!(detect(&db, &v2::tables()).await?, []);
    Ok(())
}

/// An error and its sources, for messages.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(next) = source {
        text.push_str(": ");
        text.push_str(&next.to_string());
        source = next.source();
    }
    text
}
