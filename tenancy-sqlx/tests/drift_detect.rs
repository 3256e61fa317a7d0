//! Drift between the registered tables and the live database: each kind is
//! detected, reported by `verify` and the audit, and `apply_schema` refuses
//! to run over the kinds it cannot repair.

// The structs describe tables; no test builds a value of them.
#![allow(dead_code, missing_docs)]

use sqlx::PgPool;
use tenancy_sqlx::audit::FindingKind;
use tenancy_sqlx::ddl::TableSet;
use tenancy_sqlx::drift::{self, Change, Drift};
use tenancy_sqlx::manifest::Manifest;
use tenancy_sqlx::rls::RlsPolicy;
use tenancy_sqlx::testing::{APP_ROLE, TestDatabase};
use tenancy_sqlx::{CrossTenant, Error, Identifier, OwnerPool, tenant_scoped};
use tenancy_test::TestResult;
use tenancy_test::sql::execute;

/// The tables as the application first declared them.
mod v1 {
    use super::tenant_scoped;

    #[tenant_scoped(table = "customers")]
    pub struct Customer {
        pub tenant_id: i64,
        #[tenancy(primary_key, generated)]
        pub id: i64,
        #[tenancy(unique)]
        pub email: String,
    }

    #[tenant_scoped(table = "comments")]
    pub struct Comment {
        pub tenant_id: i64,
        #[tenancy(primary_key, generated)]
        pub id: i64,
        #[tenancy(references = Customer)]
        pub customer_id: i64,
        #[tenancy(index)]
        pub status: String,
        pub body: Option<String>,
        #[tenancy(sql_type = "NUMERIC(12, 2)")]
        pub total: Option<String>,
    }

    /// One of every column type the DDL knows, and some custom ones.
    #[tenant_scoped(table = "every_type")]
    pub struct EveryType {
        pub tenant_id: i64,
        #[tenancy(primary_key)]
        pub id: i32,
        pub small: i16,
        pub real: f32,
        pub double: f64,
        pub flag: bool,
        pub text: String,
        pub bytes: Vec<u8>,
        pub maybe: Option<i64>,
        #[tenancy(sql_type = "jsonb")]
        pub document: String,
        #[tenancy(sql_type = "varchar(20)[]")]
        pub tags: Option<String>,
        #[tenancy(sql_type = "timestamp(3) with time zone")]
        pub at: Option<String>,
    }

    pub fn tables() -> tenancy_sqlx::ddl::TableSet {
        tenancy_sqlx::ddl::TableSet::new()
            .with::<Customer>()
            .with::<Comment>()
            .with::<EveryType>()
    }
}

/// The same comments table after the struct gained a field.
mod v2 {
    use super::tenant_scoped;

    #[tenant_scoped(table = "comments")]
    pub struct Comment {
        pub tenant_id: i64,
        #[tenancy(primary_key, generated)]
        pub id: i64,
        #[tenancy(references = super::v1::Customer)]
        pub customer_id: i64,
        #[tenancy(index)]
        pub status: String,
        pub body: Option<String>,
        #[tenancy(sql_type = "NUMERIC(12, 2)")]
        pub total: Option<String>,
        pub priority: i64,
    }

    pub fn tables() -> tenancy_sqlx::ddl::TableSet {
        tenancy_sqlx::ddl::TableSet::new()
            .with::<super::v1::Customer>()
            .with::<Comment>()
            .with::<super::v1::EveryType>()
    }
}

fn policy() -> RlsPolicy {
    RlsPolicy::for_role(APP_ROLE).expect("a valid role")
}

fn owner(pool: PgPool) -> OwnerPool {
    OwnerPool::from_pool(
        pool,
        CrossTenant::with_reason("drift tests").expect("a stated reason"),
    )
}

/// A database with the first version of the tables applied.
async fn applied() -> TestResult<(TestDatabase, OwnerPool)> {
    let db = TestDatabase::create().await?;
    let owner = owner(db.owner_pool().await?);
    owner.apply_schema(&v1::tables(), &policy()).await?;
    Ok((db, owner))
}

/// The drift of `tables` in the database, in `placement`.
async fn drift_of(
    owner: &OwnerPool,
    tables: &TableSet,
    placement: Option<&Identifier>,
) -> TestResult<Vec<Drift>> {
    let manifest = Manifest::new(tables, &policy())?;
    let mut connection = owner.pool().acquire().await?;
    Ok(drift::detect(&mut connection, &manifest, placement).await?)
}

/// The only change found, which must be on `table`.
fn only(drift: &[Drift], table: &str) -> Result<Change, String> {
    match drift {
        [one] if one.table() == table => Ok(one.change().clone()),
        other => Err(format!("expected one change on {table}, found {other:#?}")),
    }
}

/// `apply_schema` of `tables` refuses with exactly these finding kinds.
async fn refused_with(
    owner: &OwnerPool,
    tables: &TableSet,
    kinds: &[FindingKind],
) -> Result<String, String> {
    let error = match owner.apply_schema(tables, &policy()).await {
        Ok(()) => return Err("apply_schema succeeded over drift it cannot repair".to_owned()),
        Err(error) => error,
    };
    let message = error.to_string();
    let Error::SchemaDrift { findings } = error else {
        return Err(format!("failed for another reason: {message}"));
    };
    let found: Vec<FindingKind> = findings.iter().map(|finding| finding.kind).collect();
    if found == kinds {
        Ok(message)
    } else {
        Err(format!(
            "refused with {found:?}, expected {kinds:?}: {message}"
        ))
    }
}

#[tokio::test]
async fn the_generated_schema_has_no_drift_for_any_column_type() -> TestResult {
    let (_db, owner) = applied().await?;
    assert_eq!(drift_of(&owner, &v1::tables(), None).await?, []);
    let findings = owner.verify(&v1::tables()).await?;
    assert_eq!(findings, [], "{findings:#?}");
    // Applying again is still fine.
    owner.apply_schema(&v1::tables(), &policy()).await?;
    Ok(())
}

/// The new user's experience: a field added to the struct. `apply_schema`
/// used to succeed and the first insert to fail with `column "priority" of
/// relation "comments" does not exist`.
#[tokio::test]
async fn a_field_added_to_the_struct_is_a_missing_column_and_apply_schema_says_what_to_do()
-> TestResult {
    let (_db, owner) = applied().await?;
    let change = only(&drift_of(&owner, &v2::tables(), None).await?, "comments")?;
    let Change::ColumnMissing { column } = change else {
        return Err(format!("not a missing column: {change:?}").into());
    };
    assert_eq!(
        (column.name(), column.sql_type(), column.nullable()),
        ("priority", "BIGINT", false)
    );

    let message = refused_with(&owner, &v2::tables(), &[FindingKind::ColumnMissing]).await?;
    for expected in [
        "the database does not match the registered tables",
        "nothing was changed",
        "comments: column `priority` (BIGINT NOT NULL) is declared on the struct but missing from the table",
        "`column \"priority\" does not exist`",
        "ALTER TABLE \"comments\" ADD COLUMN \"priority\" BIGINT NOT NULL",
        "tenancy migrate draft",
    ] {
        assert!(
            message.contains(expected),
            "missing {expected:?} in {message}"
        );
    }
    let findings = owner.verify(&v2::tables()).await?;
    let kinds: Vec<FindingKind> = findings.iter().map(|finding| finding.kind).collect();
    assert_eq!(kinds, [FindingKind::ColumnMissing]);
    Ok(())
}

#[tokio::test]
async fn an_extra_column_blocks_apply_schema_only_when_inserts_would_fail() -> TestResult {
    let (_db, owner) = applied().await?;
    execute(owner.pool(), "ALTER TABLE comments ADD COLUMN legacy text").await?;
    let change = only(&drift_of(&owner, &v1::tables(), None).await?, "comments")?;
    assert_eq!(
        change,
        Change::ColumnExtra {
            column: "legacy".into(),
            sql_type: "text".into(),
            nullable: true,
            has_default: false
        }
    );
    // Harmless to the application: reported, not refused.
    owner.apply_schema(&v1::tables(), &policy()).await?;
    let kinds: Vec<FindingKind> = owner
        .verify(&v1::tables())
        .await?
        .iter()
        .map(|finding| finding.kind)
        .collect();
    assert_eq!(kinds, [FindingKind::ColumnExtra]);

    execute(
        owner.pool(),
        "ALTER TABLE comments ADD COLUMN required bigint NOT NULL DEFAULT 0",
    )
    .await?;
    owner.apply_schema(&v1::tables(), &policy()).await?;
    execute(
        owner.pool(),
        "ALTER TABLE comments ALTER COLUMN required DROP DEFAULT",
    )
    .await?;
    let message = refused_with(&owner, &v1::tables(), &[FindingKind::ColumnExtra]).await?;
    assert!(
        message.contains("column `required` (bigint, NOT NULL) is not declared on the struct: it has no default, so every insert from the struct fails"),
        "{message}"
    );
    Ok(())
}

#[tokio::test]
async fn another_type_or_type_modifier_is_a_type_mismatch() -> TestResult {
    let (_db, owner) = applied().await?;
    execute(
        owner.pool(),
        "ALTER TABLE comments ALTER COLUMN status TYPE varchar(20)",
    )
    .await?;
    let change = only(&drift_of(&owner, &v1::tables(), None).await?, "comments")?;
    assert_eq!(
        change,
        Change::ColumnType {
            column: "status".into(),
            expected: "TEXT".into(),
            found: "character varying(20)".into()
        }
    );
    execute(
        owner.pool(),
        "ALTER TABLE comments ALTER COLUMN status TYPE text; ALTER TABLE comments ALTER COLUMN total TYPE numeric(10, 2)",
    )
    .await?;
    let change = only(&drift_of(&owner, &v1::tables(), None).await?, "comments")?;
    assert_eq!(
        change,
        Change::ColumnType {
            column: "total".into(),
            expected: "NUMERIC(12, 2)".into(),
            found: "numeric(10,2)".into()
        }
    );
    refused_with(&owner, &v1::tables(), &[FindingKind::ColumnTypeMismatch]).await?;
    Ok(())
}

/// A declared type the server cannot parse makes `to_regtype` raise an
/// error; the check resolves names in savepoints, so it reports a mismatch
/// instead of failing (or aborting `apply_schema`'s transaction).
#[tenant_scoped(table = "odd_types")]
pub struct OddType {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    #[tenancy(sql_type = "int(")]
    pub broken: Option<String>,
    #[tenancy(sql_type = "no_such_type")]
    pub unknown: Option<String>,
}

#[tokio::test]
async fn a_declared_type_the_server_does_not_know_is_a_mismatch_not_an_error() -> TestResult {
    let db = TestDatabase::create().await?;
    let owner = owner(db.owner_pool().await?);
    execute(
        owner.pool(),
        "CREATE TABLE odd_types (tenant_id bigint NOT NULL, id bigint NOT NULL, broken integer, unknown text, PRIMARY KEY (tenant_id, id))",
    )
    .await?;
    let drift = drift_of(&owner, &TableSet::new().with::<OddType>(), None).await?;
    let changes: Vec<Change> = drift.iter().map(|drift| drift.change().clone()).collect();
    assert_eq!(
        changes,
        [
            Change::ColumnType {
                column: "broken".into(),
                expected: "int(".into(),
                found: "integer".into()
            },
            Change::ColumnType {
                column: "unknown".into(),
                expected: "no_such_type".into(),
                found: "text".into()
            },
        ]
    );
    Ok(())
}

#[tokio::test]
async fn nullability_differs_both_ways() -> TestResult {
    let (_db, owner) = applied().await?;
    execute(
        owner.pool(),
        "ALTER TABLE comments ALTER COLUMN status DROP NOT NULL",
    )
    .await?;
    let change = only(&drift_of(&owner, &v1::tables(), None).await?, "comments")?;
    assert_eq!(
        change,
        Change::ColumnNullability {
            column: "status".into(),
            nullable: false
        }
    );
    execute(
        owner.pool(),
        "ALTER TABLE comments ALTER COLUMN status SET NOT NULL; ALTER TABLE comments ALTER COLUMN body SET NOT NULL",
    )
    .await?;
    let change = only(&drift_of(&owner, &v1::tables(), None).await?, "comments")?;
    assert_eq!(
        change,
        Change::ColumnNullability {
            column: "body".into(),
            nullable: true
        }
    );
    let message = refused_with(
        &owner,
        &v1::tables(),
        &[FindingKind::ColumnNullabilityMismatch],
    )
    .await?;
    assert!(message.contains("inserting `None` fails"), "{message}");
    Ok(())
}

#[tokio::test]
async fn a_generated_column_the_database_does_not_generate() -> TestResult {
    let (_db, owner) = applied().await?;
    execute(
        owner.pool(),
        "ALTER TABLE comments ALTER COLUMN id DROP IDENTITY",
    )
    .await?;
    let change = only(&drift_of(&owner, &v1::tables(), None).await?, "comments")?;
    assert_eq!(
        change,
        Change::ColumnNotGenerated {
            column: "id".into()
        }
    );
    refused_with(&owner, &v1::tables(), &[FindingKind::ColumnNotGenerated]).await?;
    Ok(())
}

/// A table no other references, so its key can change freely.
#[tenant_scoped(table = "notes")]
pub struct Note {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub body: String,
}

#[tokio::test]
async fn another_primary_key_or_none_is_a_primary_key_mismatch() -> TestResult {
    let db = TestDatabase::create().await?;
    let owner = owner(db.owner_pool().await?);
    let tables = TableSet::new().with::<Note>();
    owner.apply_schema(&tables, &policy()).await?;
    execute(
        owner.pool(),
        "ALTER TABLE notes DROP CONSTRAINT notes_pkey, ADD PRIMARY KEY (tenant_id, id, body)",
    )
    .await?;
    let change = only(&drift_of(&owner, &tables, None).await?, "notes")?;
    let s = |names: &[&str]| {
        names
            .iter()
            .map(|name| (*name).to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        change,
        Change::PrimaryKey {
            expected: s(&["tenant_id", "id"]),
            found: Some(("notes_pkey".into(), s(&["tenant_id", "id", "body"])))
        }
    );
    refused_with(&owner, &tables, &[FindingKind::PrimaryKeyMismatch]).await?;
    execute(owner.pool(), "ALTER TABLE notes DROP CONSTRAINT notes_pkey").await?;
    let change = only(&drift_of(&owner, &tables, None).await?, "notes")?;
    assert_eq!(
        change,
        Change::PrimaryKey {
            expected: s(&["tenant_id", "id"]),
            found: None
        }
    );
    Ok(())
}

#[tokio::test]
async fn a_missing_unique_key_blocks_and_an_extra_one_is_reported() -> TestResult {
    let (_db, owner) = applied().await?;
    execute(
        owner.pool(),
        "ALTER TABLE customers DROP CONSTRAINT customers_tenant_id_email_key",
    )
    .await?;
    let change = only(&drift_of(&owner, &v1::tables(), None).await?, "customers")?;
    assert_eq!(
        change,
        Change::UniqueMissing {
            columns: vec!["tenant_id".into(), "email".into()]
        }
    );
    refused_with(&owner, &v1::tables(), &[FindingKind::UniqueMissing]).await?;

    execute(
        owner.pool(),
        "ALTER TABLE customers ADD UNIQUE (tenant_id, email); ALTER TABLE comments ADD CONSTRAINT one_status UNIQUE (tenant_id, status)",
    )
    .await?;
    let change = only(&drift_of(&owner, &v1::tables(), None).await?, "comments")?;
    assert_eq!(
        change,
        Change::UniqueExtra {
            name: "one_status".into(),
            columns: vec!["tenant_id".into(), "status".into()],
            constraint: true
        }
    );
    owner.apply_schema(&v1::tables(), &policy()).await?;
    Ok(())
}

#[tokio::test]
async fn a_missing_foreign_key_blocks_and_an_extra_one_is_reported() -> TestResult {
    let (_db, owner) = applied().await?;
    execute(
        owner.pool(),
        "ALTER TABLE comments DROP CONSTRAINT comments_tenant_id_customer_id_fkey",
    )
    .await?;
    let change = only(&drift_of(&owner, &v1::tables(), None).await?, "comments")?;
    let Change::ForeignKeyMissing { key } = change else {
        return Err(format!("not a missing foreign key: {change:?}").into());
    };
    assert_eq!(
        (key.columns(), key.target(), key.target_columns()),
        (
            &["tenant_id".to_owned(), "customer_id".to_owned()][..],
            "customers",
            &["tenant_id".to_owned(), "id".to_owned()][..]
        )
    );
    let message = refused_with(&owner, &v1::tables(), &[FindingKind::ForeignKeyMissing]).await?;
    assert!(
        message.contains("ALTER TABLE \"comments\" ADD FOREIGN KEY (\"tenant_id\", \"customer_id\") REFERENCES \"customers\" (\"tenant_id\", \"id\")"),
        "{message}"
    );

    execute(
        owner.pool(),
        "ALTER TABLE comments ADD FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id);
         ALTER TABLE comments ADD CONSTRAINT by_id FOREIGN KEY (tenant_id, id) REFERENCES customers (tenant_id, id)",
    )
    .await?;
    let change = only(&drift_of(&owner, &v1::tables(), None).await?, "comments")?;
    assert_eq!(
        change,
        Change::ForeignKeyExtra {
            name: "by_id".into(),
            columns: vec!["tenant_id".into(), "id".into()],
            target: "customers".into(),
            target_columns: vec!["tenant_id".into(), "id".into()]
        }
    );
    owner.apply_schema(&v1::tables(), &policy()).await?;
    Ok(())
}

#[tokio::test]
async fn a_missing_index_is_created_and_one_under_its_name_with_other_columns_blocks() -> TestResult
{
    let (_db, owner) = applied().await?;
    execute(owner.pool(), "DROP INDEX comments_tenant_id_status_idx").await?;
    let change = only(&drift_of(&owner, &v1::tables(), None).await?, "comments")?;
    let Change::IndexMissing { index } = change else {
        return Err(format!("not a missing index: {change:?}").into());
    };
    assert_eq!(index.name(), "comments_tenant_id_status_idx");
    // `apply_schema` repairs this one.
    owner.apply_schema(&v1::tables(), &policy()).await?;
    assert_eq!(drift_of(&owner, &v1::tables(), None).await?, []);

    execute(
        owner.pool(),
        "DROP INDEX comments_tenant_id_status_idx; CREATE INDEX comments_tenant_id_status_idx ON comments (tenant_id, body)",
    )
    .await?;
    let change = only(&drift_of(&owner, &v1::tables(), None).await?, "comments")?;
    assert!(
        matches!(&change, Change::IndexMismatch { found, .. } if found == &["tenant_id".to_owned(), "body".to_owned()]),
        "{change:?}"
    );
    let message = refused_with(&owner, &v1::tables(), &[FindingKind::IndexMismatch]).await?;
    assert!(
        message.contains("`CREATE INDEX IF NOT EXISTS` keeps the wrong one"),
        "{message}"
    );
    Ok(())
}

/// An index an interrupted `CREATE INDEX CONCURRENTLY` left invalid: a
/// unique build over duplicates fails and leaves exactly that behind.
#[tokio::test]
async fn an_invalid_index_is_reported_and_blocks_when_it_has_a_generated_name() -> TestResult {
    let (db, owner) = applied().await?;
    let admin = db.admin_pool().await?;
    execute(
        &admin,
        "INSERT INTO customers (tenant_id, email) VALUES (1, 'a@example.test');
         INSERT INTO comments (tenant_id, customer_id, status) VALUES (1, 1, 'open'), (1, 1, 'open')",
    )
    .await?;
    let failed = execute(
        owner.pool(),
        "CREATE UNIQUE INDEX CONCURRENTLY dup_status ON comments (tenant_id, status)",
    )
    .await;
    assert!(
        failed.is_err(),
        "the unique build over duplicates succeeded"
    );
    let change = only(&drift_of(&owner, &v1::tables(), None).await?, "comments")?;
    assert!(
        matches!(&change, Change::IndexInvalid { name, expected: false, .. } if name == "dup_status"),
        "{change:?}"
    );
    owner.apply_schema(&v1::tables(), &policy()).await?;

    execute(
        owner.pool(),
        "DROP INDEX dup_status; DROP INDEX comments_tenant_id_status_idx",
    )
    .await?;
    let failed = execute(
        owner.pool(),
        "CREATE UNIQUE INDEX CONCURRENTLY comments_tenant_id_status_idx ON comments (tenant_id, status)",
    )
    .await;
    assert!(failed.is_err());
    let message = refused_with(&owner, &v1::tables(), &[FindingKind::IndexInvalid]).await?;
    assert!(message.contains("DROP INDEX CONCURRENTLY"), "{message}");
    Ok(())
}

#[tokio::test]
async fn a_missing_table_is_drift_that_apply_schema_repairs() -> TestResult {
    let (_db, owner) = applied().await?;
    execute(owner.pool(), "DROP TABLE every_type").await?;
    let change = only(&drift_of(&owner, &v1::tables(), None).await?, "every_type")?;
    assert_eq!(change, Change::TableMissing);
    owner.apply_schema(&v1::tables(), &policy()).await?;
    assert_eq!(drift_of(&owner, &v1::tables(), None).await?, []);
    Ok(())
}

/// A schema-per-tenant copy of the tables is checked in its own schema,
/// and its drift is named after it.
#[tokio::test]
async fn drift_is_found_in_the_schema_the_tables_are_placed_in() -> TestResult {
    let db = TestDatabase::create().await?;
    let owner = owner(db.owner_pool().await?);
    let manifest = Manifest::new(&v1::tables(), &policy())?;
    let statements = manifest.schema_statements().join(";\n");
    execute(
        owner.pool(),
        &format!(
            "CREATE SCHEMA tenant_a; SET search_path TO tenant_a; {statements}; RESET search_path"
        ),
    )
    .await?;
    let tenant_a = Identifier::new("schema", "tenant_a")?;
    assert_eq!(drift_of(&owner, &v1::tables(), Some(&tenant_a)).await?, []);
    execute(
        owner.pool(),
        "ALTER TABLE tenant_a.comments DROP COLUMN body",
    )
    .await?;
    let drift = drift_of(&owner, &v1::tables(), Some(&tenant_a)).await?;
    let change = only(&drift, "tenant_a.comments")?;
    assert!(matches!(change, Change::ColumnMissing { .. }), "{change:?}");
    assert_eq!(drift[0].quoted_table(), "\"tenant_a\".\"comments\"");
    // In the search_path's schema (public), nothing exists.
    let public = drift_of(&owner, &v1::tables(), None).await?;
    assert!(
        public
            .iter()
            .all(|drift| drift.change() == &Change::TableMissing)
    );
    Ok(())
}

/// Tables declared in a schema of their own, one referencing the other.
mod sales {
    use super::tenant_scoped;

    #[tenant_scoped(table = "accounts", schema = "sales")]
    pub struct Account {
        pub tenant_id: i64,
        #[tenancy(primary_key, generated)]
        pub id: i64,
    }

    #[tenant_scoped(table = "invoices", schema = "sales")]
    pub struct Invoice {
        pub tenant_id: i64,
        #[tenancy(primary_key, generated)]
        pub id: i64,
        #[tenancy(references = Account)]
        pub account_id: i64,
        pub total: i64,
    }

    pub fn tables() -> tenancy_sqlx::ddl::TableSet {
        tenancy_sqlx::ddl::TableSet::new()
            .with::<Account>()
            .with::<Invoice>()
    }
}

#[tokio::test]
async fn tables_declared_in_a_schema_are_checked_there_whatever_the_placement() -> TestResult {
    let db = TestDatabase::create().await?;
    let owner = owner(db.owner_pool().await?);
    execute(owner.pool(), "CREATE SCHEMA sales").await?;
    owner.apply_schema(&sales::tables(), &policy()).await?;
    let elsewhere = Identifier::new("schema", "tenant_a")?;
    assert_eq!(drift_of(&owner, &sales::tables(), None).await?, []);
    assert_eq!(
        drift_of(&owner, &sales::tables(), Some(&elsewhere)).await?,
        []
    );
    execute(owner.pool(), "ALTER TABLE sales.invoices DROP COLUMN total").await?;
    let change = only(
        &drift_of(&owner, &sales::tables(), Some(&elsewhere)).await?,
        "sales.invoices",
    )?;
    assert!(matches!(change, Change::ColumnMissing { .. }), "{change:?}");
    Ok(())
}
