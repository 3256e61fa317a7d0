//! The column types SQLite has, end to end: a whole row inserted from its
//! struct, read back with `FromRow`, and found again by a filter on each
//! column — JSON (stored as text, `jsonb` and `json` alike) with `->` and
//! `->>` — for one tenant only.

// The struct describes a table; its fields are its columns.
#![allow(missing_docs)]

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::json;
use tenancy_sqlx::ddl::TableSet;
use tenancy_sqlx::{
    CrossTenant, Filter, Json, PlainJson, TenantId, TenantPool, TenantPoolOptions, pg_enum,
    tenant_scoped,
};
use tenancy_test::TestResult;
use uuid::Uuid;

pg_enum! {
    /// An enum: `TEXT` holding the label on SQLite, decoded from this
    /// declaration alone.
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

/// A row with one column of every type SQLite stores.
#[tenant_scoped(table = "assets")]
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Asset {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub spec: serde_json::Value,
    pub owner: Json<Owner>,
    pub backup_owner: Option<Json<Owner>>,
    pub raw: PlainJson,
    pub raw_extra: Option<PlainJson>,
    pub note: Option<serde_json::Value>,
    pub blob: Vec<u8>,
    pub serial: Uuid,
    pub seen_at: DateTime<Utc>,
    pub local_at: NaiveDateTime,
    pub bought_on: NaiveDate,
    pub state: AssetState,
}

fn tables() -> TableSet {
    TableSet::new().with::<Asset>()
}

fn asset(tenant: i64, id: i64) -> TestResult<Asset> {
    Ok(Asset {
        tenant_id: tenant,
        id,
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
        spec: json!({"kind": "router", "vendor": {"name": "acme"}}),
        raw: PlainJson(json!({"source": "webhook", "nested": {"k": "v"}})),
        raw_extra: (tenant == 1).then(|| PlainJson(json!([1, "two", null]))),
        note: None,
        blob: vec![0, 159, 146, 150],
        serial: Uuid::from_u128(0xfeed_0000 + u128::from(tenant.unsigned_abs())),
        seen_at: "2026-03-01T12:30:00Z".parse()?,
        local_at: "2026-03-01T12:30:00.250".parse()?,
        bought_on: NaiveDate::from_ymd_opt(2025, 12, 24).ok_or("a date")?,
        state: AssetState::Active,
    })
}

#[tokio::test]
async fn a_row_of_every_sqlite_type_round_trips_and_each_column_filters() -> TestResult {
    let pool =
        TenantPool::connect_sqlite("sqlite::memory:", TenantPoolOptions::new(&tables())).await?;
    pool.owner_pool(CrossTenant::with_reason("test set-up")?)
        .apply_schema(&tables())
        .await?;
    let a = TenantId::from_verified(1_i64);
    let b = TenantId::from_verified(2_i64);
    for (tenant, key) in [(&a, 1), (&b, 2)] {
        let mut tx = pool.begin(tenant).await?;
        tx.execute(Asset::insert(tenant).row(&asset(key, 7)?))
            .await?;
        tx.commit().await?;
    }

    let mut tx = pool.begin(&a).await?;
    let read: Asset = tx.fetch_one(Asset::select(&a)).await?;
    assert_eq!(read, asset(1, 7)?);

    let filters: Vec<(&str, Filter)> = vec![
        ("Json<T> =", Asset::OWNER.eq(read.owner.clone())),
        ("Json<T> ->>", Asset::OWNER.get_text("team").eq("team-1")),
        ("json ->>", Asset::SPEC.get_text("kind").eq("router")),
        (
            "json -> ->>",
            Asset::SPEC.get("vendor").get_text("name").eq("acme"),
        ),
        ("json NULL", Asset::NOTE.is_null()),
        (
            "Option<Json<T>> ->>",
            Asset::BACKUP_OWNER.get_text("team").eq("backup"),
        ),
        (
            "plain json ->>",
            Asset::RAW.get_text("source").eq("webhook"),
        ),
        (
            "plain json -> ->>",
            Asset::RAW.get("nested").get_text("k").eq("v"),
        ),
        (
            "Option<plain json> NOT NULL",
            Asset::RAW_EXTRA.is_not_null(),
        ),
        ("blob", Asset::BLOB.eq(vec![0_u8, 159, 146, 150])),
        ("uuid", Asset::SERIAL.eq(read.serial)),
        ("timestamptz", Asset::SEEN_AT.lt(Utc::now())),
        ("timestamp", Asset::LOCAL_AT.eq(read.local_at)),
        ("date", Asset::BOUGHT_ON.eq(read.bought_on)),
        ("enum", Asset::STATE.eq(AssetState::Active)),
        ("enum IN", Asset::STATE.is_in([AssetState::Active])),
    ];
    for (what, filter) in filters {
        let found: Vec<Asset> = tx.fetch_all(Asset::select(&a).filter(filter)).await?;
        assert_eq!(found.len(), 1, "{what}: {found:?}");
        assert_eq!(found[0].tenant_id, 1, "{what}");
    }
    let misses: Vec<(&str, Filter)> = vec![
        ("Json<T> ->>", Asset::OWNER.get_text("team").eq("team-2")),
        ("json ->>", Asset::SPEC.get_text("kind").eq("switch")),
        (
            "json -> ->>",
            Asset::SPEC.get("vendor").get_text("name").eq("other"),
        ),
        ("Option<Json<T>> NULL", Asset::BACKUP_OWNER.is_null()),
        ("plain json ->>", Asset::RAW.get_text("source").eq("poll")),
    ];
    for (what, filter) in misses {
        let found: Vec<Asset> = tx.fetch_all(Asset::select(&a).filter(filter)).await?;
        assert_eq!(found, [], "{what}");
    }

    tx.execute(
        Asset::update(&a)
            .set(Asset::NOTE, Some(json!(["checked"])))
            .set(Asset::RAW, PlainJson(json!({"source": "poll"})))
            .set(Asset::BACKUP_OWNER, None::<Json<Owner>>)
            .filter(Asset::ID.eq(7)),
    )
    .await?;
    let updated: Asset = tx.fetch_one(Asset::select(&a)).await?;
    assert_eq!(
        (updated.note, updated.raw, updated.backup_owner),
        (
            Some(json!(["checked"])),
            PlainJson(json!({"source": "poll"})),
            None
        )
    );
    tx.commit().await?;

    let mut tx = pool.begin(&b).await?;
    let theirs: Asset = tx.fetch_one(Asset::select(&b)).await?;
    assert_eq!(theirs, asset(2, 7)?);
    Ok(())
}

/// A member of a JSON document is selected, grouped by and sorted by in one
/// statement on SQLite too, its key bound as the path of exactly that
/// member: a quote, a backslash, a dot, a bracket, a `$` or a statement in
/// a key reads the member of that name, never a path or another member.
#[tokio::test]
async fn a_json_member_is_selected_grouped_and_sorted_by_on_sqlite() -> TestResult {
    use tenancy_sqlx::functions;

    let pool =
        TenantPool::connect_sqlite("sqlite::memory:", TenantPoolOptions::new(&tables())).await?;
    pool.owner_pool(CrossTenant::with_reason("test set-up")?)
        .apply_schema(&tables())
        .await?;
    let a = TenantId::from_verified(1_i64);
    let keys = [
        "kind",
        "it's",
        r"back\slash",
        r"\u0041",
        "\"quoted\"",
        "a.b",
        "[0]",
        "$",
        "$.kind",
        "tab\tand\nnewline",
        "x'); DROP TABLE assets; --",
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
        for (kind, member) in [
            ("jsonb", Asset::SPEC.get_text(key)),
            ("json", Asset::RAW.get_text(key)),
        ] {
            let rows: Vec<(Option<String>, i64)> = tx
                .fetch_all(
                    Asset::select(&a)
                        .columns((member.clone(), functions::count_all()))
                        .group_by(member.clone())
                        .order_by(member.asc()),
                )
                .await?;
            assert_eq!(
                rows,
                [
                    (Some(format!("{key}=even")), 1),
                    (Some(format!("{key}=odd")), 2)
                ],
                "{kind} {key:?}"
            );
        }
    }
    tx.commit().await?;
    Ok(())
}
