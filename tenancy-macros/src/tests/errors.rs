//! Every mistake the macros report: the message says what is wrong, where
//! the key belongs and the correct form, and it points at the right tokens.

use super::{Reported, one_error, reported};
use crate::ast::Kind;

fn contains_all(reported: &Reported, parts: &[&str]) {
    for part in parts {
        assert!(
            reported.message.contains(part),
            "message lacks {part:?}: {}",
            reported.message
        );
    }
}

// ---- the tenant column ----

#[test]
fn no_tenant_column() {
    let error = one_error("", "struct Order { id: i64 }");
    assert_eq!(
        error.message,
        "`Order` has no tenant column: add a field `tenant_id: i64` or mark one with `#[tenancy(tenant)]`; for shared reference data use `#[global_table]`"
    );
    assert_eq!(error.at, "Order");
}

#[test]
fn a_skipped_tenant_id_is_no_tenant_column() {
    let error = one_error("", "struct Order { #[tenancy(skip)] tenant_id: i64 }");
    contains_all(
        &error,
        &["has no tenant column (`tenant_id` is marked `skip`, so it is not a column)"],
    );
}

#[test]
fn two_tenant_markers() {
    let error = one_error(
        "",
        "struct Order { #[tenancy(tenant)] org: i64, #[tenancy(tenant)] workspace: i64 }",
    );
    assert_eq!(
        error.message,
        "two tenant columns: `org` is already marked `#[tenancy(tenant)]`; a tenant-scoped table has exactly one tenant column"
    );
    assert_eq!(error.at, "tenant");
}

#[test]
fn a_marker_besides_a_field_named_tenant_id() {
    let error = one_error(
        "",
        "struct Order { #[tenancy(tenant)] org: i64, tenant_id: i64 }",
    );
    contains_all(
        &error,
        &[
            "two tenant columns: `org` is marked `#[tenancy(tenant)]`",
            "remove the marker to use `tenant_id`, or rename this field",
        ],
    );
    assert_eq!(error.at, "tenant_id");
}

#[test]
fn options_that_make_no_sense_on_the_tenant_column() {
    let all = reported(
        Kind::TenantScoped,
        "",
        "struct Order {
            #[tenancy(primary_key, generated, index, unique, references = Org, sql_type = \"int8\", rename = \"org_id\")]
            tenant_id: i64,
        }",
    );
    let at: Vec<&str> = all.iter().map(|r| r.at.as_str()).collect();
    assert_eq!(
        at,
        [
            "primary_key",
            "generated",
            "index",
            "unique",
            "references",
            "sql_type"
        ]
    );
    contains_all(
        &all[0],
        &[
            "the tenant column `tenant_id` cannot be `primary_key`: it leads the primary key automatically",
        ],
    );
    contains_all(
        &all[1],
        &["cannot be `generated`: its value always comes from the `TenantId` witness"],
    );
    contains_all(
        &all[2],
        &["cannot take `index`: every index already leads with the tenant column"],
    );
    contains_all(&all[3], &["cannot take `unique`"]);
    contains_all(&all[4], &["cannot take `references`"]);
    contains_all(
        &all[5],
        &["cannot take `sql_type`: its SQL type follows the key type"],
    );
}

#[test]
fn a_renamed_tenant_column_is_fine() {
    let all = reported(
        Kind::TenantScoped,
        "",
        "struct Order { #[tenancy(rename = \"org_id\")] tenant_id: i64 }",
    );
    assert_eq!(all, []);
}

#[test]
fn global_table_with_a_tenant_marker() {
    let all = reported(
        Kind::Global,
        "",
        "struct Plan { id: i64, #[tenancy(tenant)] owner: i64 }",
    );
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(
        all[0].message,
        "`#[global_table]` has no tenant column: remove `tenant` from field `owner`, or use `#[tenant_scoped]` if rows belong to tenants"
    );
    assert_eq!(all[0].at, "tenant");
}

#[test]
fn global_table_needs_no_tenant_column() {
    assert_eq!(
        reported(Kind::Global, "", "struct Plan { id: i64, name: String }"),
        []
    );
}

// ---- the shape of the item ----

#[test]
fn not_a_struct_with_named_fields() {
    for (item, at, found) in [
        (
            "enum Status { Open, Closed }",
            "enum Status",
            "this is an enum",
        ),
        (
            "struct Order(i64, String);",
            "(i64, String)",
            "this is a tuple struct",
        ),
        ("struct Order;", "Order", "this is a unit struct"),
        (
            "union Bits { a: u32, b: f32 }",
            "union Bits",
            "this is a union",
        ),
    ] {
        let error = one_error("", item);
        assert_eq!(
            error.message,
            format!(
                "`#[tenant_scoped]` must be on a struct with named fields, like `struct Order {{ tenant_id: i64, id: i64 }}`; {found}"
            )
        );
        assert_eq!(error.at, at);
    }
}

#[test]
fn generic_struct() {
    let error = one_error("", "struct Order<T> { tenant_id: i64, payload: T }");
    assert_eq!(
        error.message,
        "`#[tenant_scoped]` must be on a struct with named fields and no generic parameters: a table has one fixed set of column types"
    );
    assert_eq!(error.at, "<T>");
    let error = one_error("", "struct Order<'a> { tenant_id: i64, note: &'a str }");
    assert_eq!(error.at, "<'a>");
}

#[test]
fn tenancy_attribute_on_the_struct() {
    let error = one_error(
        "",
        "#[tenancy(table = \"orders\")] struct Order { tenant_id: i64 }",
    );
    contains_all(
        &error,
        &[
            "`#[tenancy(..)]` goes on fields; table options go in `#[tenant_scoped(..)]` on the struct, e.g. `#[tenant_scoped(table = \"orders\")]`",
        ],
    );
    assert_eq!(error.at, "#[tenancy(table = \"orders\")]");
}

// ---- keys ----

#[test]
fn unknown_table_key() {
    let error = one_error("tabel = \"orders\"", "struct Order { tenant_id: i64 }");
    assert_eq!(
        error.message,
        "unknown key `tabel` in `#[tenant_scoped(..)]` (did you mean `table`?); accepted keys: `table = \"..\"`, `schema = \"..\"`, `index`, `crate = \"..\"`"
    );
    assert_eq!(error.at, "tabel");
}

#[test]
fn unknown_field_key() {
    let error = one_error(
        "",
        "struct Order { tenant_id: i64, #[tenancy(nullable)] note: String }",
    );
    assert_eq!(
        error.message,
        "unknown key `nullable` in `#[tenancy(..)]` on field `note`; accepted keys: `tenant`, `primary_key`, `generated`, `rename = \"..\"`, `index`, `unique`, `references = Table`, `sql_type = \"..\"`, `pii`, `skip`"
    );
    assert_eq!(error.at, "nullable");
    let error = one_error(
        "",
        "struct Order { tenant_id: i64, #[tenancy(primay_key)] id: i64 }",
    );
    contains_all(
        &error,
        &["unknown key `primay_key`", "(did you mean `primary_key`?)"],
    );
}

#[test]
fn global_tables_do_not_list_tenant_as_accepted() {
    let all = reported(Kind::Global, "", "struct Plan { #[tenancy(key)] id: i64 }");
    assert_eq!(all.len(), 1);
    assert!(
        all[0].message.contains("accepted keys: `primary_key`,"),
        "{}",
        all[0].message
    );
}

#[test]
fn keys_at_the_wrong_level() {
    let error = one_error("primary_key", "struct Order { tenant_id: i64 }");
    assert_eq!(
        error.message,
        "`primary_key` is a field option, not a table option: put `#[tenancy(primary_key)]` on the field it applies to"
    );
    let error = one_error(
        "",
        "struct Order { tenant_id: i64, #[tenancy(schema = \"app\")] id: i64 }",
    );
    assert_eq!(
        error.message,
        "`schema` is a table option, not a field option: put it in `#[tenant_scoped(schema = \"..\")]` on the struct"
    );
    assert_eq!(error.at, "schema");
}

#[test]
fn duplicate_keys() {
    let error = one_error(
        "table = \"a\", table = \"b\"",
        "struct Order { tenant_id: i64 }",
    );
    assert_eq!(
        error.message,
        "duplicate `table` in `#[tenant_scoped(..)]`: give each key once"
    );
    // Across two attributes of one field, too.
    let error = one_error(
        "",
        "struct Order { tenant_id: i64, #[tenancy(unique)] #[tenancy(index, unique)] number: String }",
    );
    assert_eq!(
        error.message,
        "duplicate `unique` on field `number`: give each key once"
    );
}

#[test]
fn values_of_the_wrong_kind() {
    let all = reported(
        Kind::TenantScoped,
        "table = 5, schema, crate = my_crate",
        "struct Order {
            tenant_id: i64,
            #[tenancy(skip = \"yes\")] a: i64,
            #[tenancy(references = \"Customer\")] b: i64,
            #[tenancy(rename(x))] c: i64,
            #[tenancy(index(c))] d: i64,
        }",
    );
    let found: Vec<(&str, &str)> = all
        .iter()
        .map(|r| (r.message.as_str(), r.at.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (
                "`table` takes a string in double quotes: `table = \"orders\"`",
                "5"
            ),
            ("`schema` needs a value: `schema = \"app\"`", "schema"),
            (
                "`crate` takes the path of the tenancy crate as a string: `crate = \"::tenancy_core\"`",
                "my_crate"
            ),
            (
                "`skip` is a flag and takes no value: write `#[tenancy(skip)]`",
                "\"yes\""
            ),
            (
                "`references` takes the type of the referenced table struct, without quotes: `references = Customer`",
                "\"Customer\""
            ),
            (
                "`rename` takes a string in double quotes: `rename = \"state\"`",
                "(x)"
            ),
            (
                "`index` is a flag and takes no value: write `#[tenancy(index)]`; a multi-column index goes in the table options: `#[tenant_scoped(index(status, created_at))]`",
                "(c)"
            ),
        ]
    );
}

#[test]
fn struct_level_index_needs_a_list_of_fields() {
    let error = one_error("index", "struct Order { tenant_id: i64 }");
    assert_eq!(
        error.message,
        "`index` in `#[tenant_scoped(..)]` lists the fields of a multi-column index: `index(status, created_at)`; to index one column, put `#[tenancy(index)]` on its field"
    );
    let error = one_error("index()", "struct Order { tenant_id: i64 }");
    assert_eq!(
        error.message,
        "`index()` is empty: list the fields of the index, `index(status, created_at)`"
    );
    let error = one_error(
        "index(status = 1)",
        "struct Order { tenant_id: i64, status: String }",
    );
    assert_eq!(
        error.message,
        "`index(..)` lists field names, separated by commas: `index(status, created_at)`"
    );
    assert_eq!(error.at, "status = 1");
}

#[test]
fn broken_syntax_is_reported_too() {
    let error = one_error(
        "",
        "struct Order { tenant_id: i64, #[tenancy(primary_key generated)] id: i64 }",
    );
    assert_eq!(error.at, "generated");
    let error = one_error("", "struct Order { tenant_id: i64, #[tenancy] id: i64 }");
    contains_all(&error, &["#[tenancy(...)]"]);
}

// ---- names ----

#[test]
fn invalid_sql_identifiers() {
    let all = reported(
        Kind::TenantScoped,
        "table = \"order-items\", schema = \"1app\"",
        "struct OrderItem { tenant_id: i64, #[tenancy(rename = \"unit price\")] unit_price: i64 }",
    );
    let found: Vec<(&str, &str)> = all
        .iter()
        .map(|r| (r.message.as_str(), r.at.as_str()))
        .collect();
    let rule = "an SQL identifier is an ASCII letter or `_` followed by letters, digits or `_`, at most 63 bytes";
    assert_eq!(
        found,
        [
            (
                format!("invalid table name: `order-items` is not a valid SQL identifier; {rule}").as_str(),
                "\"order-items\""
            ),
            (
                format!("invalid schema name: `1app` is not a valid SQL identifier; {rule}").as_str(),
                "\"1app\""
            ),
            (
                format!(
                    "invalid column name for field `unit_price`: `unit price` is not a valid SQL identifier; {rule}"
                )
                .as_str(),
                "\"unit price\""
            ),
        ]
    );
}

#[test]
fn identifiers_longer_than_postgres_allows() {
    let long = "a".repeat(64);
    let error = one_error(
        &format!("table = \"{long}\""),
        "struct Order { tenant_id: i64 }",
    );
    contains_all(
        &error,
        &[
            "is 64 bytes long",
            "at most 63 bytes",
            "PostgreSQL would silently truncate it",
        ],
    );
}

#[test]
fn derived_names_are_checked_and_say_how_to_override() {
    let all = reported(
        Kind::TenantScoped,
        "",
        "struct Größe { tenant_id: i64, maß: i64 }",
    );
    assert_eq!(all.len(), 2, "{all:#?}");
    contains_all(
        &all[0],
        &[
            "invalid table name: `größes`",
            "give one with `#[tenant_scoped(table = \"..\")]`",
        ],
    );
    assert_eq!(all[0].at, "Größe");
    contains_all(
        &all[1],
        &[
            "invalid column name for field `maß`",
            "name the column with `#[tenancy(rename = \"..\")]`",
        ],
    );
    assert_eq!(all[1].at, "maß");
}

#[test]
fn a_second_name_for_the_tenant_column_in_another_case() {
    let error = one_error(
        "",
        "struct Order { tenant_id: i64, #[tenancy(rename = \"TENANT_ID\")] moved_to: i64 }",
    );
    assert_eq!(
        error.message,
        "column `TENANT_ID` differs from column `tenant_id` of field `tenant_id` only in case, which SQLite does not distinguish; give one of the fields another name with `#[tenancy(rename = \"..\")]`"
    );
    assert_eq!(error.at, "\"TENANT_ID\"");
}

#[test]
fn two_fields_on_one_column() {
    let error = one_error(
        "",
        "struct Order { tenant_id: i64, status: String, #[tenancy(rename = \"status\")] state: String }",
    );
    assert_eq!(
        error.message,
        "column `status` is already used by field `status`; give one of the fields another name with `#[tenancy(rename = \"..\")]`"
    );
    assert_eq!(error.at, "\"status\"");
}

#[test]
fn sql_type_must_look_like_a_type() {
    let error = one_error(
        "",
        "struct Order { tenant_id: i64, #[tenancy(sql_type = \"text; drop table x\")] note: String }",
    );
    contains_all(
        &error,
        &[
            "`sql_type` must be an SQL type name such as \"jsonb\"",
            "it goes into DDL verbatim",
        ],
    );
    assert_eq!(error.at, "\"text; drop table x\"");
}

// ---- indexes and skipped fields ----

#[test]
fn index_naming_fields_that_are_not_columns() {
    let all = reported(
        Kind::TenantScoped,
        "index(status, sttus), index(tenant_id, label), index(status, status)",
        "struct Order { tenant_id: i64, status: String, #[tenancy(skip)] label: String }",
    );
    let found: Vec<(&str, &str)> = all
        .iter()
        .map(|r| (r.message.as_str(), r.at.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (
                "`index(..)` names `sttus`, which is not a field of `Order`; it lists field names, here: `status`",
                "sttus"
            ),
            (
                "`index(..)` names the tenant column `tenant_id`; leave it out: every index already leads with it",
                "tenant_id"
            ),
            (
                "`index(..)` names `label`, which is marked `skip` and so is not a column",
                "label"
            ),
            ("`index(..)` names `status` twice", "status"),
        ]
    );
}

#[test]
fn skip_with_anything_else() {
    let all = reported(
        Kind::TenantScoped,
        "",
        "struct Order { tenant_id: i64, #[tenancy(skip, index, rename = \"x\")] label: String }",
    );
    let at: Vec<&str> = all.iter().map(|r| r.at.as_str()).collect();
    assert_eq!(at, ["rename", "index"]);
    assert_eq!(
        all[0].message,
        "`rename` cannot be combined with `skip`: `skip` leaves field `label` out of the table; remove one of them"
    );
}

#[test]
fn conditional_columns() {
    let error = one_error(
        "",
        "struct Order { tenant_id: i64, #[cfg(feature = \"x\")] extra: i64, #[cfg(test)] #[tenancy(skip)] probe: i64 }",
    );
    assert_eq!(
        error.message,
        "`#[cfg]` on field `extra` is not supported by `#[tenant_scoped]`: a table has one fixed set of columns; keep the field in every build, or mark it `#[tenancy(skip)]` if it is not a column"
    );
    assert_eq!(error.at, "#[cfg(feature = \"x\")]");
}

// ---- all at once ----

#[test]
fn every_error_is_reported_at_once() {
    let all = reported(
        Kind::TenantScoped,
        "table = 5, colour = \"red\"",
        "struct Order {
            id: i64,
            #[tenancy(skip = \"yes\")] a: String,
            #[tenancy(rename = \"b c\")] b: String,
        }",
    );
    let at: Vec<&str> = all.iter().map(|r| r.at.as_str()).collect();
    assert_eq!(at, ["5", "colour", "\"yes\"", "\"b c\"", "Order"]);
}

#[test]
fn foreign_attributes_pass_through() {
    let item = "#[derive(Debug, sqlx::FromRow)]
        #[serde(rename_all = \"camelCase\")]
        struct Order {
            tenant_id: i64,
            #[sqlx(rename = \"state\")] #[tenancy(rename = \"state\")] #[serde(default)] status: String,
        }";
    assert_eq!(reported(Kind::TenantScoped, "", item), []);
    let expanded = super::pretty(Kind::TenantScoped, "", item);
    for kept in [
        "#[derive(Debug, sqlx::FromRow)]",
        "#[serde(rename_all = \"camelCase\")]",
        "#[sqlx(rename = \"state\")]",
        "#[serde(default)]",
    ] {
        assert!(expanded.contains(kept), "{kept} lost:\n{expanded}");
    }
    assert!(!expanded.contains("#[tenancy"), "{expanded}");
}

#[test]
fn an_item_that_is_no_type_at_all_is_returned_unchanged() {
    let expanded = crate::expand::expand(
        Kind::TenantScoped,
        super::tokens(""),
        super::tokens("fn handler() -> i64 { 42 }"),
    )
    .to_string();
    assert!(
        expanded.starts_with("fn handler () -> i64 { 42 }"),
        "{expanded}"
    );
    assert!(
        expanded.contains("`#[tenant_scoped]` must be on a struct with named fields"),
        "{expanded}"
    );
}
