// Every column type PostgreSQL can sort and match by equality is ordered,
// grouped, partitioned, made distinct, counted distinct and named in a
// conflict target: `json` alone is refused (its members as text are not).
use tenancy_core::functions::{count_all, row_number};
use tenancy_core::{
    BuildStatement, Cidr, Interval, Json, PlainJson, TenantId, Window, pg_enum, tenant_scoped,
};

pg_enum! {
    pub enum Mood as "mood" {
        Happy = "happy",
        Sad = "sad",
    }
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Settings {
    pub theme: String,
}

#[tenant_scoped]
pub struct Everything {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub small: i16,
    pub medium: i32,
    pub real: f32,
    pub double: f64,
    pub flag: bool,
    pub label: String,
    pub bytes: Vec<u8>,
    pub key: uuid::Uuid,
    pub at: chrono::DateTime<chrono::Utc>,
    pub local: chrono::NaiveDateTime,
    pub day: chrono::NaiveDate,
    pub amount: rust_decimal::Decimal,
    pub document: serde_json::Value,
    pub settings: Json<Settings>,
    pub address: ipnetwork::IpNetwork,
    pub network: Cidr,
    pub wait: Interval,
    pub tags: Vec<String>,
    pub numbers: Vec<i64>,
    pub mood: Mood,
    pub note: Option<String>,
    pub body: PlainJson,
}

macro_rules! orders_and_groups {
    ($tenant:expr, $($column:expr),+ $(,)?) => {$(
        let statement = Everything::select($tenant)
            .columns(($column, count_all(), $column.count_distinct()))
            .group_by($column)
            .order_by(($column.asc(), $column.desc()))
            .order_by_asc($column);
        statement.to_postgres().unwrap();
        let window = Window::new().partition_by($column).order_by($column.asc());
        let statement = Everything::select($tenant)
            .column(row_number().over(window))
            .distinct_on($column)
            .order_by($column.asc());
        statement.to_postgres().unwrap();
        let _ = Everything::insert($tenant)
            .set(Everything::ID, 1)
            .on_conflict_do_nothing(($column,));
    )+};
}

fn main() {
    let tenant = TenantId::<i64>::from_verified(42);
    orders_and_groups!(
        &tenant,
        Everything::ID,
        Everything::SMALL,
        Everything::MEDIUM,
        Everything::REAL,
        Everything::DOUBLE,
        Everything::FLAG,
        Everything::LABEL,
        Everything::BYTES,
        Everything::KEY,
        Everything::AT,
        Everything::LOCAL,
        Everything::DAY,
        Everything::AMOUNT,
        Everything::DOCUMENT,
        Everything::SETTINGS,
        Everything::ADDRESS,
        Everything::NETWORK,
        Everything::WAIT,
        Everything::TAGS,
        Everything::NUMBERS,
        Everything::MOOD,
        Everything::NOTE,
    );
    // Of a `json` document, a member as text orders and groups.
    let event = Everything::BODY.get_text("event");
    let statement = Everything::select(&tenant)
        .columns((event.clone(), count_all()))
        .group_by(event.clone())
        .order_by(event.clone().desc());
    statement.to_postgres().unwrap();
    // And so does a `jsonb` member, which is `jsonb`.
    let theme = Everything::SETTINGS.get("theme");
    let statement = Everything::select(&tenant)
        .column(count_all())
        .group_by(theme.clone())
        .order_by(theme.asc());
    statement.to_postgres().unwrap();
    // A `json` column is still projected, whole rows included.
    let statement = Everything::select(&tenant).columns((Everything::ID, Everything::BODY));
    statement.to_postgres().unwrap();
}
