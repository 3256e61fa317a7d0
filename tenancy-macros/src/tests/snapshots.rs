//! Snapshots of the expansion, formatted. Review a change with
//! `cargo insta review` (or `INSTA_UPDATE=always` and `git diff`); CI sets
//! `CI=true`, so a mismatch fails there instead of writing a new snapshot.

use insta::assert_snapshot;

use super::pretty;
use crate::ast::Kind;

#[test]
fn minimal_scoped_table() {
    assert_snapshot!(pretty(
        Kind::TenantScoped,
        "",
        "pub struct Order {
            pub tenant_id: i64,
            pub id: i64,
            pub note: Option<String>,
        }",
    ));
}

#[test]
fn every_key() {
    assert_snapshot!(pretty(
        Kind::TenantScoped,
        "table = \"orders\", schema = \"app\", index(status, created_at), index(customer_id), crate = \"::tenancy_sqlx\"",
        "/// An order placed by a customer.
        #[derive(Debug, Clone, sqlx::FromRow)]
        pub struct Order {
            #[tenancy(tenant, rename = \"account_id\")]
            pub tenant_id: i64,
            #[tenancy(primary_key, generated)]
            pub id: i64,
            #[sqlx(rename = \"state\")]
            #[tenancy(rename = \"state\", index)]
            pub status: String,
            #[tenancy(references = Customer)]
            pub customer_id: i64,
            #[tenancy(unique)]
            pub number: String,
            #[tenancy(sql_type = \"jsonb\")]
            pub meta: serde_json::Value,
            #[tenancy(sql_type = \"numeric(10, 2)\")]
            pub discount: Option<rust_decimal::Decimal>,
            pub created_at: chrono::DateTime<chrono::Utc>,
            #[sqlx(skip)]
            #[tenancy(skip)]
            pub cached_label: Option<String>,
        }",
    ));
}

#[test]
fn uuid_keyed_table_with_a_marked_tenant_field() {
    assert_snapshot!(pretty(
        Kind::TenantScoped,
        "",
        "pub(crate) struct Invoice {
            #[tenancy(tenant)]
            pub org: uuid::Uuid,
            #[tenancy(primary_key)]
            pub id: uuid::Uuid,
            pub r#type: String,
        }",
    ));
}

#[test]
fn global_table() {
    assert_snapshot!(pretty(
        Kind::Global,
        "table = \"plans\"",
        "pub struct Plan {
            #[tenancy(primary_key)]
            pub id: i64,
            #[tenancy(unique)]
            pub name: String,
            pub monthly_price_cents: i32,
        }",
    ));
}

#[test]
fn errors_keep_the_struct() {
    assert_snapshot!(pretty(
        Kind::TenantScoped,
        "table = 5",
        "#[derive(Debug)]
        pub struct Order {
            #[tenancy(primary_key)]
            pub id: i64,
            #[serde(default)]
            #[tenancy(skip = \"yes\")]
            pub label: String,
        }",
    ));
}
