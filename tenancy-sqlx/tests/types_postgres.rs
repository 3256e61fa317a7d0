//! Every PostgreSQL column type end to end: a whole row inserted from its
//! struct, read back with `FromRow`, and found again by a filter on each
//! column with that type's own operators — for one tenant only. The DDL
//! the library generates for these types has no drift against itself.

// The struct describes a table; its fields are its columns.
#![allow(missing_docs)]

use std::net::{IpAddr, Ipv4Addr};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use ipnetwork::IpNetwork;
use rust_decimal::Decimal;
use serde_json::json;
use tenancy_sqlx::ddl::TableSet;
use tenancy_sqlx::drift;
use tenancy_sqlx::functions::now;
use tenancy_sqlx::manifest::Manifest;
use tenancy_sqlx::rls::RlsPolicy;
use tenancy_sqlx::testing::{APP_ROLE, TestDatabase};
use tenancy_sqlx::{
    BuildError, BuildStatement, Cidr, CrossTenant, Filter, Interval, Json, OwnerPool, PlainJson,
    Postgres, TenantId, TenantPool, TenantPoolOptions, Window, functions, pg_enum, tenant_scoped,
};
use tenancy_test::TestResult;
use uuid::Uuid;

pg_enum! {
    /// Where an asset is in its life: a PostgreSQL enum, created by
    /// `apply_schema` and decoded from this declaration alone.
    pub enum AssetState as "asset_state" {
        /// In use.
        Active = "active",
        /// Taken out of use.
        Retired = "retired",
    }
}

/// A typed JSON document.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Owner {
    pub team: String,
    pub on_call: bool,
}

/// A row with one column of every type.
#[tenant_scoped(table = "assets")]
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Asset {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub price: Decimal,
    pub discount: Option<Decimal>,
    pub spec: serde_json::Value,
    pub owner: Json<Owner>,
    pub backup_owner: Option<Json<Owner>>,
    pub raw: PlainJson,
    pub raw_extra: Option<PlainJson>,
    pub address: IpNetwork,
    pub network: Cidr,
    pub gateway_network: Option<Cidr>,
    pub warranty: Interval,
    pub grace: Option<Interval>,
    pub tags: Vec<String>,
    pub counts: Vec<i64>,
    pub blob: Vec<u8>,
    pub serial: Uuid,
    pub seen_at: DateTime<Utc>,
    pub local_at: NaiveDateTime,
    pub bought_on: NaiveDate,
    pub state: AssetState,
    pub previous_state: Option<AssetState>,
}

fn tables() -> TableSet {
    TableSet::new().with::<Asset>()
}

fn policy() -> RlsPolicy {
    RlsPolicy::for_role(APP_ROLE).expect("a valid role")
}

fn asset(tenant: i64, id: i64) -> TestResult<Asset> {
    Ok(Asset {
        tenant_id: tenant,
        id,
        price: "1234.5678".parse()?,
        discount: None,
        owner: Json::new(Owner {
            team: format!("team-{tenant}"),
            on_call: true,
        })?,
        // Tenant 1's row has the nullable columns set, tenant 2's NULL.
        backup_owner: match tenant {
            1 => Some(Json::new(Owner {
                team: "backup".to_owned(),
                on_call: false,
            })?),
            _ => None,
        },
        spec: json!({"kind": "router", "ports": [1, 2], "vendor": {"name": "acme"}}),
        // `json` keeps the text as written: key order and duplicates.
        raw: PlainJson(json!({"source": "webhook", "nested": {"k": "v"}})),
        raw_extra: (tenant == 1).then(|| PlainJson(json!([1, "two", null]))),
        address: "10.1.2.3/32".parse()?,
        network: "10.1.0.0/16".parse()?,
        gateway_network: (tenant == 1).then(|| "2001:db8::/32".parse()).transpose()?,
        warranty: Interval::from_months(12),
        // Mixed signs and every part: 1 month, -3 days, -1:02:03.000004.
        grace: (tenant == 1).then_some(Interval::new(1, -3, -3_723_000_004)),
        tags: vec!["network".to_owned(), "edge".to_owned()],
        counts: vec![3, 5, 8],
        blob: vec![0, 159, 146, 150],
        serial: Uuid::from_u128(0x1234_5678_9abc_def0_1234_5678_9abc_def0 + tenant as u128),
        seen_at: "2026-03-01T12:30:00Z".parse()?,
        local_at: "2026-03-01T12:30:00.250".parse()?,
        bought_on: NaiveDate::from_ymd_opt(2025, 12, 24).ok_or("a date")?,
        state: AssetState::Active,
        previous_state: None,
    })
}

/// A database with the table and its RLS, as the owner; the tenant pool
/// as the application role.
async fn assets() -> TestResult<(TestDatabase, TenantPool)> {
    let db = TestDatabase::create().await?;
    let owner = OwnerPool::from_pool(
        db.owner_pool().await?,
        CrossTenant::with_reason("test set-up: assets")?,
    );
    owner.apply_schema(&tables(), &policy()).await?;
    let pool =
        TenantPool::<Postgres>::connect(&db.app_url(), TenantPoolOptions::new(&tables())).await?;
    Ok((db, pool))
}

#[tokio::test]
async fn a_row_of_every_type_round_trips_and_each_column_filters() -> TestResult {
    let (_db, pool) = assets().await?;
    let a = TenantId::from_verified(1_i64);
    let b = TenantId::from_verified(2_i64);
    // Tenant B holds an identical row, so every filter below must also keep
    // it out.
    for (tenant, key) in [(&a, 1), (&b, 2)] {
        let mut tx = pool.begin(tenant).await?;
        tx.execute(Asset::insert(tenant).row(&asset(key, 7)?))
            .await?;
        tx.commit().await?;
    }

    let mut tx = pool.begin(&a).await?;
    let read: Asset = tx.fetch_one(Asset::select(&a)).await?;
    assert_eq!(read, asset(1, 7)?);

    let office: IpNetwork = "10.1.0.0/16".parse()?;
    let host = IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3));
    let office_cidr: Cidr = "10.1.0.0/16".parse()?;
    let filters: Vec<(&str, Filter)> = vec![
        (
            "Option<Json<T>> ->>",
            Asset::BACKUP_OWNER.get_text("team").eq("backup"),
        ),
        (
            "Option<Json<T>> <>",
            Asset::BACKUP_OWNER.ne(read.owner.clone()),
        ),
        ("json ->>", Asset::RAW.get_text("source").eq("webhook")),
        (
            "json -> ->>",
            Asset::RAW.get("nested").get_text("k").eq("v"),
        ),
        ("json NOT NULL", Asset::RAW_EXTRA.is_not_null()),
        ("cidr =", Asset::NETWORK.eq(office_cidr)),
        ("cidr >>", Asset::NETWORK.encloses(host)),
        (
            "cidr <<",
            Asset::NETWORK.is_within("10.0.0.0/8".parse::<IpNetwork>()?),
        ),
        (
            "cidr >>= cidr",
            Asset::NETWORK.encloses_or_equal(office_cidr),
        ),
        ("inet << cidr", Asset::ADDRESS.is_within(office_cidr)),
        (
            "inet = cidr",
            Asset::ADDRESS.eq("10.1.2.3/32".parse::<Cidr>()?),
        ),
        (
            "Option<cidr> IN",
            Asset::GATEWAY_NETWORK.is_in(["2001:db8::/32".parse::<Cidr>()?]),
        ),
        ("interval =", Asset::WARRANTY.eq(Interval::from_months(12))),
        // PostgreSQL compares a month as 30 days.
        ("interval >", Asset::WARRANTY.gt(Interval::from_days(359))),
        (
            "interval BETWEEN",
            Asset::GRACE.between(Interval::from_days(1), Interval::from_days(30)),
        ),
        (
            "timestamptz + interval column",
            Asset::SEEN_AT
                .plus_interval(Asset::WARRANTY)
                .eq("2027-03-01T12:30:00Z".parse::<DateTime<Utc>>()?),
        ),
        (
            "now() - interval",
            Asset::SEEN_AT.gt(now().minus_interval(Interval::from_months(12 * 100))),
        ),
        (
            "timestamp + interval",
            Asset::LOCAL_AT
                .plus_interval(Interval::new(0, 1, 1_000))
                .eq("2026-03-02T12:30:00.251".parse::<NaiveDateTime>()?),
        ),
        ("Json<T> =", Asset::OWNER.eq(read.owner.clone())),
        ("Json<T> ->>", Asset::OWNER.get_text("team").eq("team-1")),
        (
            "numeric =",
            Asset::PRICE.eq("1234.5678".parse::<Decimal>()?),
        ),
        ("numeric >", Asset::PRICE.gt(Decimal::new(1000, 0))),
        (
            "numeric arithmetic",
            (Asset::PRICE * 2).eq("2469.1356".parse::<Decimal>()?),
        ),
        ("numeric NULL", Asset::DISCOUNT.is_null()),
        ("jsonb ->>", Asset::SPEC.get_text("kind").eq("router")),
        (
            "jsonb -> ->>",
            Asset::SPEC.get("vendor").get_text("name").eq("acme"),
        ),
        ("jsonb @>", Asset::SPEC.json_contains(json!({"ports": [2]}))),
        ("jsonb ?", Asset::SPEC.has_key("vendor")),
        ("jsonb =", Asset::SPEC.eq(read.spec.clone())),
        ("inet =", Asset::ADDRESS.eq(host)),
        ("inet <<", Asset::ADDRESS.is_within(office)),
        ("inet <<=", Asset::ADDRESS.is_within_or_equal(host)),
        ("inet >>=", Asset::ADDRESS.encloses_or_equal(host)),
        ("text[] @>", Asset::TAGS.array_contains(["edge"])),
        ("text[] = ANY", Asset::TAGS.has_element("network")),
        ("bigint[] @>", Asset::COUNTS.array_contains([8_i64, 3])),
        ("bigint[] = ANY", Asset::COUNTS.has_element(5_i64)),
        ("bigint[] =", Asset::COUNTS.eq(vec![3_i64, 5, 8])),
        ("bytea", Asset::BLOB.eq(vec![0_u8, 159, 146, 150])),
        ("uuid", Asset::SERIAL.eq(read.serial)),
        ("timestamptz", Asset::SEEN_AT.lt(Utc::now())),
        ("timestamp", Asset::LOCAL_AT.eq(read.local_at)),
        (
            "date",
            Asset::BOUGHT_ON.between(
                NaiveDate::from_ymd_opt(2025, 1, 1).ok_or("a date")?,
                NaiveDate::from_ymd_opt(2025, 12, 31).ok_or("a date")?,
            ),
        ),
    ];
    for (what, filter) in filters {
        let found: Vec<Asset> = tx.fetch_all(Asset::select(&a).filter(filter)).await?;
        assert_eq!(found.len(), 1, "{what}: {found:?}");
        assert_eq!(found[0].tenant_id, 1, "{what}");
    }

    // Filters that must not match, so that the ones above could fail.
    let misses: Vec<(&str, Filter)> = vec![
        ("Json<T> ->>", Asset::OWNER.get_text("team").eq("team-2")),
        (
            "numeric",
            Asset::PRICE.eq(Decimal::new(12345678, 4) + Decimal::ONE),
        ),
        ("jsonb ->>", Asset::SPEC.get_text("kind").eq("switch")),
        ("jsonb @>", Asset::SPEC.json_contains(json!({"ports": [9]}))),
        ("jsonb ?", Asset::SPEC.has_key("absent")),
        (
            "inet <<",
            Asset::ADDRESS.is_within("10.2.0.0/16".parse::<IpNetwork>()?),
        ),
        ("inet <<", Asset::ADDRESS.is_within(host)),
        ("text[] = ANY", Asset::TAGS.has_element("core")),
        ("bigint[] @>", Asset::COUNTS.array_contains([4_i64])),
        ("enum", Asset::STATE.eq(AssetState::Retired)),
        ("Option<Json<T>> NULL", Asset::BACKUP_OWNER.is_null()),
        ("json ->>", Asset::RAW.get_text("source").eq("poll")),
        ("cidr =", Asset::NETWORK.eq("10.2.0.0/16".parse::<Cidr>()?)),
        (
            "cidr >>",
            Asset::NETWORK.encloses(IpAddr::V4(Ipv4Addr::new(10, 2, 0, 1))),
        ),
        (
            "inet << cidr",
            Asset::ADDRESS.is_within("10.2.0.0/16".parse::<Cidr>()?),
        ),
        ("interval >", Asset::WARRANTY.gt(Interval::from_days(361))),
        (
            "timestamptz - interval",
            Asset::SEEN_AT.lt(now().minus_interval(Interval::from_months(12 * 100))),
        ),
    ];
    for (what, filter) in misses {
        let found: Vec<Asset> = tx.fetch_all(Asset::select(&a).filter(filter)).await?;
        assert_eq!(found, [], "{what}");
    }

    // Aggregates keep the exact type.
    let (total,): (Option<Decimal>,) = tx
        .fetch_one(Asset::select(&a).columns(Asset::PRICE.sum()))
        .await?;
    assert_eq!(total, Some("1234.5678".parse()?));

    // Updates set the new types from values and expressions.
    tx.execute(
        Asset::update(&a)
            .set(Asset::DISCOUNT, Some(Decimal::new(5, 1)))
            .set(Asset::PRICE, Asset::PRICE - Decimal::ONE)
            .set(Asset::TAGS, vec!["core".to_owned()])
            .set(Asset::STATE, AssetState::Retired)
            .set(Asset::PREVIOUS_STATE, Some(AssetState::Active))
            .set(Asset::GRACE, None::<Interval>)
            .set(Asset::WARRANTY, Interval::from_days(90))
            .set(Asset::NETWORK, "192.168.0.0/24".parse::<Cidr>()?)
            .set(Asset::RAW_EXTRA, None::<PlainJson>)
            .set(Asset::BACKUP_OWNER, None::<Json<Owner>>)
            .filter(Asset::ID.eq(7)),
    )
    .await?;
    let updated: Asset = tx.fetch_one(Asset::select(&a)).await?;
    assert_eq!(
        (updated.discount, updated.price, updated.tags.as_slice()),
        (
            Some(Decimal::new(5, 1)),
            "1233.5678".parse()?,
            ["core".to_owned()].as_slice()
        )
    );
    assert_eq!(
        (
            updated.grace,
            updated.warranty,
            updated.network.to_string(),
            updated.raw_extra,
            updated.backup_owner
        ),
        (
            None,
            Interval::from_days(90),
            "192.168.0.0/24".to_owned(),
            None,
            None
        )
    );
    tx.commit().await?;

    // Tenant B's row is untouched.
    let mut tx = pool.begin(&b).await?;
    let theirs: Asset = tx.fetch_one(Asset::select(&b)).await?;
    assert_eq!(theirs, asset(2, 7)?);
    Ok(())
}

#[tokio::test]
async fn the_generated_ddl_of_every_type_has_no_drift() -> TestResult {
    let (db, _pool) = assets().await?;
    let manifest = Manifest::new(&tables(), &policy())?;
    let mut connection = db.owner_pool().await?.acquire().await?;
    assert_eq!(drift::detect(&mut connection, &manifest, None).await?, []);
    // The manifest the command line reads keeps every type, the enum's
    // quoted name included.
    let read_back = Manifest::from_json(&manifest.to_json())?;
    assert_eq!(read_back.to_json(), manifest.to_json());
    assert_eq!(drift::detect(&mut connection, &read_back, None).await?, []);
    Ok(())
}

#[tokio::test]
async fn postgres_only_types_are_refused_for_sqlite_before_anything_runs() -> TestResult {
    let a = TenantId::from_verified(1_i64);
    let refused = [
        Asset::select(&a)
            .filter(Asset::PRICE.eq(Decimal::ONE))
            .to_sqlite()
            .err(),
        Asset::select(&a)
            .filter(Asset::SPEC.has_key("kind"))
            .to_sqlite()
            .err(),
        Asset::select(&a)
            .filter(Asset::ADDRESS.eq(IpAddr::V4(Ipv4Addr::LOCALHOST)))
            .to_sqlite()
            .err(),
        Asset::select(&a)
            .filter(Asset::TAGS.has_element("x"))
            .to_sqlite()
            .err(),
        Asset::select(&a)
            .filter(Asset::WARRANTY.eq(Interval::from_days(1)))
            .to_sqlite()
            .err(),
        Asset::select(&a)
            .filter(Asset::SEEN_AT.lt(now().minus_interval(Interval::from_days(1))))
            .to_sqlite()
            .err(),
        Asset::select(&a)
            .filter(Asset::NETWORK.eq("10.0.0.0/8".parse::<Cidr>()?))
            .to_sqlite()
            .err(),
        Asset::insert(&a).row(&asset(1, 1)?).to_sqlite().err(),
    ];
    for error in refused {
        assert!(
            matches!(error, Some(BuildError::UnsupportedInDialect { .. })),
            "{error:?}"
        );
    }
    let ddl = tables().create_statements(tenancy_sqlx::Dialect::Sqlite);
    let message = ddl
        .err()
        .ok_or("SQLite DDL with NUMERIC accepted")?
        .to_string();
    assert!(message.contains("assets.price"), "{message}");
    Ok(())
}

/// What the builder refuses for a `json` column when the program is
/// compiled (or, for whole rows, when the statement is built) fails on
/// PostgreSQL when it runs: each construct, sent as raw SQL, is refused
/// with the error the compile-time message stands for. What the builder
/// allows runs: members as text (`->>`) and `jsonb` documents, sorted,
/// grouped, partitioned and made distinct.
#[tokio::test]
async fn json_has_no_equality_or_order_on_postgres_but_its_text_and_jsonb_have() -> TestResult {
    let (db, pool) = assets().await?;
    let a = TenantId::from_verified(1_i64);
    let mut tx = pool.begin(&a).await?;
    for id in [7, 8] {
        tx.execute(Asset::insert(&a).row(&asset(1, id)?)).await?;
    }
    tx.commit().await?;

    const EQUALITY: &str = "could not identify an equality operator for type json";
    const ORDERING: &str = "could not identify an ordering operator for type json";
    let refused = [
        (
            "SELECT DISTINCT",
            "SELECT DISTINCT raw FROM assets",
            EQUALITY,
        ),
        (
            "DISTINCT ON",
            "SELECT DISTINCT ON (raw) id FROM assets",
            EQUALITY,
        ),
        (
            "GROUP BY",
            "SELECT count(*) FROM assets GROUP BY raw",
            EQUALITY,
        ),
        ("ORDER BY", "SELECT id FROM assets ORDER BY raw", ORDERING),
        (
            "ORDER BY ->",
            "SELECT id FROM assets ORDER BY raw -> 'source'",
            ORDERING,
        ),
        (
            "PARTITION BY",
            "SELECT row_number() OVER (PARTITION BY raw) FROM assets",
            EQUALITY,
        ),
        (
            "window ORDER BY",
            "SELECT row_number() OVER (ORDER BY raw) FROM assets",
            ORDERING,
        ),
        (
            "UNION",
            "SELECT raw FROM assets UNION SELECT raw FROM assets",
            EQUALITY,
        ),
        (
            "COUNT(DISTINCT)",
            "SELECT count(DISTINCT raw) FROM assets",
            EQUALITY,
        ),
        (
            "MIN",
            "SELECT min(raw) FROM assets",
            "function min(json) does not exist",
        ),
        (
            "IN",
            "SELECT id FROM assets WHERE raw IN ('{}'::json, '[]'::json)",
            "operator does not exist: json = json",
        ),
        (
            "= ANY",
            "SELECT id FROM assets WHERE raw = ANY (ARRAY['{}'::json])",
            "operator does not exist: json = json",
        ),
        (
            "ON CONFLICT",
            "INSERT INTO assets SELECT * FROM assets ON CONFLICT (tenant_id, raw) DO NOTHING",
            "there is no unique or exclusion constraint matching the ON CONFLICT specification",
        ),
    ];
    for (construct, sql, expected) in refused {
        let mut tx = pool.begin(&a).await?;
        let ran = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx.raw_connection())
            .await;
        let message = match ran {
            Err(error) => error.to_string(),
            Ok(_) => return Err(format!("{construct} of a json column ran: {sql}").into()),
        };
        assert!(message.contains(expected), "{construct}: {message}");
        tx.rollback().await?;
    }
    // Nor can a key that `ON CONFLICT` could name be made.
    let index = sqlx::raw_sql("CREATE UNIQUE INDEX ON assets (tenant_id, raw)")
        .execute(&db.owner_pool().await?)
        .await;
    let message = index.err().ok_or("a unique index on json")?.to_string();
    assert!(
        message.contains("data type json has no default operator class"),
        "{message}"
    );

    // What the builder lets through runs, and sorts as it says.
    let source = Asset::RAW.get_text("source");
    let kind = Asset::SPEC.get("kind");
    let mut tx = pool.begin(&a).await?;
    let by_text: Vec<(i64,)> = tx
        .fetch_all(
            Asset::select(&a)
                .column(Asset::ID)
                .order_by((source.clone().desc(), Asset::ID.desc())),
        )
        .await?;
    assert_eq!(by_text, [(8,), (7,)]);
    // Grouped by a member, the member is selected too: its key is one
    // parameter wherever the statement reads it.
    let per_text: Vec<(Option<String>, i64)> = tx
        .fetch_all(
            Asset::select(&a)
                .columns((source.clone(), functions::count_all()))
                .group_by(source.clone())
                .order_by(source.asc()),
        )
        .await?;
    assert_eq!(per_text, [(Some("webhook".to_owned()), 2)]);
    let per_document: Vec<(serde_json::Value, i64)> = tx
        .fetch_all(
            Asset::select(&a)
                .columns((Asset::SPEC, functions::count_all()))
                .group_by(Asset::SPEC)
                .order_by(Asset::SPEC.asc()),
        )
        .await?;
    assert_eq!(per_document.len(), 1);
    assert_eq!(per_document[0].1, 2);
    let ranked: Vec<(i64,)> = tx
        .fetch_all(
            Asset::select(&a)
                .column(
                    functions::row_number().over(
                        Window::new()
                            .partition_by(kind.clone())
                            .order_by(Asset::ID.asc()),
                    ),
                )
                .distinct_on(Asset::SPEC)
                .order_by((Asset::SPEC.asc(), kind.asc(), Asset::ID.asc())),
        )
        .await?;
    assert_eq!(ranked, [(1,)]);
    let distinct: Vec<(serde_json::Value,)> = tx
        .fetch_all(Asset::select(&a).column(Asset::SPEC).distinct())
        .await?;
    assert_eq!(distinct.len(), 1);
    let counted: (i64,) = tx
        .fetch_one(Asset::select(&a).column(Asset::SPEC.count_distinct()))
        .await?;
    assert_eq!(counted, (1,));
    let united: Vec<(serde_json::Value,)> = tx
        .fetch_all(
            Asset::select(&a)
                .column(Asset::SPEC)
                .union(Asset::select(&a).column(Asset::SPEC)),
        )
        .await?;
    assert_eq!(united.len(), 1);
    // A whole row of `json` compared: refused when built, before it is sent.
    for built in [
        tx.fetch_all::<(PlainJson,)>(Asset::select(&a).column(Asset::RAW).distinct())
            .await,
        tx.fetch_all::<(PlainJson,)>(
            Asset::select(&a)
                .column(Asset::RAW)
                .union(Asset::select(&a).column(Asset::RAW)),
        )
        .await,
    ] {
        assert!(
            matches!(
                built,
                Err(tenancy_sqlx::Error::Build(
                    BuildError::JsonRowsCompared { .. }
                ))
            ),
            "{built:?}"
        );
    }
    // `UNION ALL` keeps every row, and compares none.
    let all: Vec<(PlainJson,)> = tx
        .fetch_all(
            Asset::select(&a)
                .column(Asset::RAW)
                .union_all(Asset::select(&a).column(Asset::RAW)),
        )
        .await?;
    assert_eq!(all.len(), 4);
    tx.commit().await?;
    Ok(())
}

/// A member of a JSON document is selected, grouped by and sorted by in one
/// statement, on `jsonb` and `json` alike: its key is one parameter however
/// often the statement reads it, so PostgreSQL matches the projection's
/// member with the `GROUP BY`'s. Keys are bound, never written into the
/// SQL: a quote, a backslash, a `$1`, a comment or a whole statement in a
/// key reads the member of that name and nothing else.
#[tokio::test]
async fn a_json_member_is_selected_grouped_and_sorted_by_however_hostile_its_key() -> TestResult {
    let (_db, pool) = assets().await?;
    let a = TenantId::from_verified(1_i64);
    let keys = [
        "kind",
        "it's",
        r"back\slash",
        r"\'); DROP TABLE assets; --",
        "$1",
        "\"quoted\"",
        "x' OR TRUE --",
        "/* comment",
    ];
    let document = |parity: &str| {
        serde_json::Value::Object(
            keys.iter()
                .map(|key| ((*key).to_owned(), json!(format!("{key}={parity}"))))
                .collect(),
        )
    };
    let mut tx = pool.begin(&a).await?;
    for id in [1, 2, 3] {
        let parity = if id % 2 == 0 { "even" } else { "odd" };
        let row = Asset {
            spec: document(parity),
            raw: PlainJson(document(parity)),
            ..asset(1, id)?
        };
        tx.execute(Asset::insert(&a).row(&row)).await?;
    }
    for key in keys {
        let expected = [
            (Some(format!("{key}=even")), 1),
            (Some(format!("{key}=odd")), 2),
        ];
        for (kind, member) in [
            ("jsonb", Asset::SPEC.get_text(key)),
            ("json", Asset::RAW.get_text(key)),
        ] {
            let grouped = Asset::select(&a)
                .columns((member.clone(), functions::count_all()))
                .group_by(member.clone())
                .order_by(member.clone().asc());
            let statement = grouped.to_postgres()?;
            let rows: Vec<(Option<String>, i64)> = tx.fetch_all(grouped).await?;
            assert_eq!(rows, expected, "{kind} {key:?}");
            assert_eq!(
                statement
                    .values()
                    .0
                    .iter()
                    .filter(|value| **value == tenancy_sqlx::sea_query::Value::from(key))
                    .count(),
                1,
                "{kind} {key:?}: {}",
                statement.sql()
            );
        }
        // A member of a member, under the same key twice, as JSON.
        let nested = Asset::SPEC.get(key);
        let rows: Vec<(Option<serde_json::Value>, i64)> = tx
            .fetch_all(
                Asset::select(&a)
                    .columns((nested.clone(), functions::count_all()))
                    .group_by(nested.clone())
                    .order_by(nested.asc()),
            )
            .await?;
        assert_eq!(
            rows,
            [
                (Some(json!(format!("{key}=even"))), 1),
                (Some(json!(format!("{key}=odd"))), 2),
            ],
            "{key:?}"
        );
    }
    let (count,): (i64,) = tx.fetch_one(Asset::select(&a).count()).await?;
    assert_eq!(count, 3);
    tx.commit().await?;
    Ok(())
}
