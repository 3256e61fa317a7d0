//! Rules that involve more than one key or field: exactly one tenant column,
//! names the database accepts, indexes that name real columns.

use std::collections::HashMap;

use crate::ast::{Field, Kind, TENANT_FIELD, Table};
use crate::errors::Errors;
use crate::sql;

/// Records every rule `table` breaks.
pub(crate) fn check(table: &Table<'_>, errors: &mut Errors) {
    names(table, errors);
    match table.kind {
        Kind::TenantScoped => tenant_column(table, errors),
        Kind::Global => no_tenant_marker(table, errors),
    }
    skipped_fields(table, errors);
    indexes(table, errors);
    sql_types(table, errors);
    pii_columns(table, errors);
    distinct_names(table, errors);
    unconditional_fields(table, errors);
}

/// Personal data is a plain column: erasure overwrites it in rows it keeps,
/// which a key, a generated value or a reference cannot survive.
fn pii_columns(table: &Table<'_>, errors: &mut Errors) {
    for field in &table.fields {
        let Some(pii) = &field.attrs.pii else {
            continue;
        };
        let conflict = [
            (field.attrs.tenant.is_some(), "tenant"),
            (field.attrs.primary_key.is_some(), "primary_key"),
            (field.attrs.generated.is_some(), "generated"),
            (field.attrs.references.is_some(), "references"),
        ]
        .into_iter()
        .find(|(given, _)| *given);
        if let Some((_, key)) = conflict {
            errors.at(
                &pii.key,
                format!(
                    "field `{}` is `{key}` and `pii`: erasure overwrites personal data in the rows it keeps, \
                     which a key, a generated value or a reference cannot survive; keep personal data in a plain column",
                    field.name()
                ),
            );
        }
    }
}

/// Table, schema and column names are plain SQL identifiers.
fn names(table: &Table<'_>, errors: &mut Errors) {
    if let Some(problem) = sql::identifier_problem(&table.name()) {
        let hint = match table.attrs.table {
            Some(_) => String::new(),
            None => format!(
                " (the default name comes from the struct's name; give one with `#[{}(table = \"..\")]`)",
                table.kind.name()
            ),
        };
        errors.at(
            table.name_tokens(),
            format!("invalid table name: {problem}{hint}"),
        );
    }
    let schema = table.attrs.schema.as_ref().map(|schema| &schema.value);
    if let Some((schema, problem)) =
        schema.and_then(|schema| Some((schema, sql::identifier_problem(&schema.value())?)))
    {
        errors.at(schema, format!("invalid schema name: {problem}"));
    }
    for field in table.fields.iter().filter(|field| !field.is_skipped()) {
        if let Some(problem) = sql::identifier_problem(&field.column_name()) {
            let hint = match field.attrs.rename {
                Some(_) => String::new(),
                None => " (name the column with `#[tenancy(rename = \"..\")]`)".to_owned(),
            };
            errors.at(
                field.column_name_tokens(),
                format!(
                    "invalid column name for field `{}`: {problem}{hint}",
                    field.name()
                ),
            );
        }
    }
}

/// A tenant-scoped table has exactly one tenant column, and it is a plain one.
fn tenant_column(table: &Table<'_>, errors: &mut Errors) {
    let marked: Vec<&Field<'_>> = table
        .fields
        .iter()
        .filter(|field| field.attrs.tenant.is_some())
        .collect();
    if let Some(first) = marked.first() {
        for extra in &marked[1..] {
            errors.at(
                &extra.attrs.tenant,
                format!(
                    "two tenant columns: `{}` is already marked `#[tenancy(tenant)]`; a tenant-scoped table has exactly one tenant column",
                    first.name()
                ),
            );
        }
        let conventional = table.fields.iter().find(|field| {
            field.name() == TENANT_FIELD && !field.is_skipped() && field.attrs.tenant.is_none()
        });
        if let Some(conventional) = conventional {
            errors.at(
                conventional.ident,
                format!(
                    "two tenant columns: `{}` is marked `#[tenancy(tenant)]`, and a field named `{TENANT_FIELD}` is the tenant column by convention; remove the marker to use `{TENANT_FIELD}`, or rename this field",
                    first.name()
                ),
            );
        }
    }
    let Some(tenant) = table.tenant() else {
        let skipped = table
            .fields
            .iter()
            .any(|field| field.name() == TENANT_FIELD && field.is_skipped());
        let note = if skipped {
            format!(" (`{TENANT_FIELD}` is marked `skip`, so it is not a column)")
        } else {
            String::new()
        };
        errors.at(
            table.ident,
            format!(
                "`{}` has no tenant column{note}: add a field `{TENANT_FIELD}: i64` or mark one with `#[tenancy(tenant)]`; for shared reference data use `#[global_table]`",
                table.ident
            ),
        );
        return;
    };
    let name = tenant.name();
    let attrs = &tenant.attrs;
    let misplaced = [
        (
            attrs.primary_key.as_ref(),
            "be `primary_key`: it leads the primary key automatically; mark the other key columns `primary_key`",
        ),
        (
            attrs.generated.as_ref(),
            "be `generated`: its value always comes from the `TenantId` witness",
        ),
        (
            attrs.index.as_ref(),
            "take `index`: every index already leads with the tenant column",
        ),
        (
            attrs.unique.as_ref(),
            "take `unique`: unique keys are per tenant and already lead with the tenant column",
        ),
        (
            attrs.references.as_ref().map(|setting| &setting.key),
            "take `references`: foreign keys between tenant-scoped tables include the tenant column automatically",
        ),
        (
            attrs.sql_type.as_ref().map(|setting| &setting.key),
            "take `sql_type`: its SQL type follows the key type (`i64` → BIGINT, `i32` → INTEGER, `uuid::Uuid` → UUID)",
        ),
    ];
    for (key, why) in misplaced {
        if let Some(key) = key {
            errors.at(key, format!("the tenant column `{name}` cannot {why}"));
        }
    }
}

/// A global table has no tenant column to mark.
fn no_tenant_marker(table: &Table<'_>, errors: &mut Errors) {
    for field in &table.fields {
        if let Some(marker) = &field.attrs.tenant {
            errors.at(
                marker,
                format!(
                    "`#[global_table]` has no tenant column: remove `tenant` from field `{}`, or use `#[tenant_scoped]` if rows belong to tenants",
                    field.name()
                ),
            );
        }
    }
}

/// `skip` leaves a field out of the table, so any other key contradicts it.
fn skipped_fields(table: &Table<'_>, errors: &mut Errors) {
    for field in table.fields.iter().filter(|field| field.is_skipped()) {
        for key in field.attrs.keys_besides_skip() {
            let key_name = key
                .get_ident()
                .map_or_else(String::new, ToString::to_string);
            errors.at(
                key,
                format!(
                    "`{key_name}` cannot be combined with `skip`: `skip` leaves field `{}` out of the table; remove one of them",
                    field.name()
                ),
            );
        }
    }
}

/// `index(..)` names columns of this table, each once, and not the tenant
/// column (which leads every index anyway).
fn indexes(table: &Table<'_>, errors: &mut Errors) {
    for index in &table.attrs.indexes {
        for (position, ident) in index.fields.iter().enumerate() {
            if index.fields[..position].contains(ident) {
                errors.at(ident, format!("`index(..)` names `{ident}` twice"));
                continue;
            }
            let Some(field) = table.field(ident) else {
                let columns: Vec<String> = table
                    .columns()
                    .map(|field| format!("`{}`", field.name()))
                    .collect();
                errors.at(
                    ident,
                    format!(
                        "`index(..)` names `{ident}`, which is not a field of `{}`; it lists field names, here: {}",
                        table.ident,
                        columns.join(", ")
                    ),
                );
                continue;
            };
            if field.is_skipped() {
                errors.at(
                    ident,
                    format!(
                        "`index(..)` names `{ident}`, which is marked `skip` and so is not a column"
                    ),
                );
            } else if table.is_tenant(field) {
                errors.at(
                    ident,
                    format!(
                        "`index(..)` names the tenant column `{ident}`; leave it out: every index already leads with it"
                    ),
                );
            }
        }
    }
}

/// A verbatim SQL type goes into DDL as is, so it must look like one.
fn sql_types(table: &Table<'_>, errors: &mut Errors) {
    let sql_types = table
        .fields
        .iter()
        .filter_map(|field| field.attrs.sql_type.as_ref());
    for sql_type in sql_types.filter(|sql_type| !sql::is_type_name(&sql_type.value.value())) {
        errors.at(
            &sql_type.value,
            "`sql_type` must be an SQL type name such as \"jsonb\", \"numeric(10, 2)\" or \"text[]\": it goes into DDL verbatim, so it may hold only letters, digits, `_`, spaces, parentheses, commas, dots and brackets",
        );
    }
    // A verbatim type keeps the field type's comparisons: a `json` column
    // declared this way would let `=`, `ORDER BY` and `GROUP BY` compile
    // and then fail on the server, which has neither for `json`.
    let json = table
        .fields
        .iter()
        .filter_map(|field| field.attrs.sql_type.as_ref())
        .filter(|sql_type| sql::is_json(&sql_type.value.value()));
    for sql_type in json {
        errors.at(
            &sql_type.value,
            "a `json` column is declared by its field type, `PlainJson`, not with `sql_type`: PostgreSQL cannot compare, sort or group `json`, and `PlainJson` columns refuse those at compile time; or store the document as `jsonb` (`serde_json::Value` or `Json<T>`)",
        );
    }
}

/// Two fields cannot map to one column, nor to one associated constant.
fn distinct_names(table: &Table<'_>, errors: &mut Errors) {
    // Keyed ignoring ASCII case: SQLite resolves `"TENANT_ID"` to the column
    // `tenant_id`, so two such columns would be one, and a second name for
    // the tenant column could assign it.
    let mut columns: HashMap<String, (String, String)> = HashMap::new();
    let mut constants: HashMap<String, String> = HashMap::new();
    for field in table.fields.iter().filter(|field| !field.is_skipped()) {
        let column = field.column_name();
        if let Some((first_column, first)) = columns.get(&column.to_ascii_lowercase()) {
            let clash = if *first_column == column {
                format!("column `{column}` is already used by field `{first}`")
            } else {
                format!(
                    "column `{column}` differs from column `{first_column}` of field `{first}` only in case, which SQLite does not distinguish"
                )
            };
            errors.at(
                field.column_name_tokens(),
                format!(
                    "{clash}; give one of the fields another name with `#[tenancy(rename = \"..\")]`"
                ),
            );
        } else {
            columns.insert(column.to_ascii_lowercase(), (column, field.name()));
        }
        let constant = field.const_ident().to_string();
        if let Some(first) = constants.get(&constant) {
            errors.at(
                field.ident,
                format!(
                    "fields `{first}` and `{}` would both be named by the constant `{}::{constant}`; rename one of the fields",
                    field.name(),
                    table.ident
                ),
            );
        } else {
            constants.insert(constant, field.name());
        }
    }
}

/// An attribute macro sees fields before `#[cfg]` is evaluated, so the
/// generated code would name a column field that may not exist. Skipped
/// fields are never named, so they may be conditional.
fn unconditional_fields(table: &Table<'_>, errors: &mut Errors) {
    for field in table.fields.iter().filter(|field| !field.is_skipped()) {
        for cfg in field
            .original
            .attrs
            .iter()
            .filter(|attr| attr.path().is_ident("cfg"))
        {
            errors.at(
                cfg,
                format!(
                    "`#[cfg]` on field `{}` is not supported by `{}`: a table has one fixed set of columns; keep the field in every build, or mark it `#[tenancy(skip)]` if it is not a column",
                    field.name(),
                    table.kind.attribute()
                ),
            );
        }
    }
}
