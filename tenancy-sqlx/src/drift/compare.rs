//! The comparison of one registered table with its live counterpart.

use std::collections::HashMap;

use sqlx::postgres::types::Oid;

use super::Change;
use super::catalog::{LiveConstraint, LiveIndex, LiveTable};
use crate::manifest::{ColumnSpec, ForeignKeySpec, TableSpec};

/// What the comparison needs besides the two tables.
pub(crate) struct Context<'a> {
    /// The declared types, resolved on the server.
    pub(crate) types: &'a HashMap<String, Option<Oid>>,
    /// Each expected foreign key's target table, resolved.
    pub(crate) targets: &'a [Option<Oid>],
    /// The registered tenant-scoped tables that exist, by `oid`, with their
    /// tenant column: foreign keys to them that ignore the tenant are the
    /// audit's finding, not drift.
    pub(crate) scoped: &'a [(Oid, String)],
}

/// Every difference between `spec` and `live`, in the order of the spec.
///
/// Problems the catalog audit already reports in its own words are left
/// out here: the tenant column missing or nullable, and keys or foreign keys
/// that do not lead with the tenant column.
pub(crate) fn changes(spec: &TableSpec, live: &LiveTable, context: &Context<'_>) -> Vec<Change> {
    let lead = spec.tenant().map(|tenant| tenant.column().to_owned());
    let led = |columns: &[String]| match &lead {
        Some(lead) => columns.first() == Some(lead),
        None => true,
    };
    let mut changes = Vec::new();
    columns(spec, live, context, lead.as_deref(), &mut changes);
    primary_key(spec, live, &led, &mut changes);
    unique_keys(spec, live, &led, &mut changes);
    foreign_keys(spec, live, context, &mut changes);
    indexes(spec, live, &mut changes);
    changes
}

fn columns(
    spec: &TableSpec,
    live: &LiveTable,
    context: &Context<'_>,
    lead: Option<&str>,
    changes: &mut Vec<Change>,
) {
    for expected in spec.columns() {
        let is_tenant = Some(expected.name()) == lead;
        let Some(found) = live.column(expected.name()) else {
            if !is_tenant {
                changes.push(Change::ColumnMissing {
                    column: expected.clone(),
                });
            }
            continue;
        };
        if !type_matches(expected, &found.type_name, found.type_oid, context) {
            changes.push(Change::ColumnType {
                column: expected.name().to_owned(),
                expected: expected.sql_type().to_owned(),
                found: found.type_name.clone(),
            });
        }
        let nullable = !found.not_null;
        if !is_tenant && nullable != expected.nullable() {
            changes.push(Change::ColumnNullability {
                column: expected.name().to_owned(),
                nullable: expected.nullable(),
            });
        }
        if expected.generated() && !found.identity && !found.has_default {
            changes.push(Change::ColumnNotGenerated {
                column: expected.name().to_owned(),
            });
        }
    }
    for found in &live.columns {
        if spec.column(&found.name).is_none() {
            changes.push(Change::ColumnExtra {
                column: found.name.clone(),
                sql_type: found.type_name.clone(),
                nullable: !found.not_null,
                has_default: found.has_default || found.identity,
            });
        }
    }
}

/// The same type, and the same modifier (`(12,2)`, `(20)`) when either
/// side has one.
fn type_matches(
    expected: &ColumnSpec,
    found_name: &str,
    found_oid: Oid,
    context: &Context<'_>,
) -> bool {
    let resolved = context.types.get(expected.sql_type()).copied().flatten();
    resolved == Some(found_oid) && modifier(expected.sql_type()) == modifier(found_name)
}

/// The parenthesised modifier of a type's text, without spaces.
fn modifier(type_text: &str) -> Option<String> {
    let start = type_text.find('(')?;
    let end = type_text[start..].find(')')? + start;
    Some(
        type_text[start..=end]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect(),
    )
}

fn primary_key(
    spec: &TableSpec,
    live: &LiveTable,
    led: &dyn Fn(&[String]) -> bool,
    changes: &mut Vec<Change>,
) {
    let found = live.constraints("p").next();
    let expected = spec.primary_key();
    match found {
        None if !expected.is_empty() => changes.push(Change::PrimaryKey {
            expected: expected.to_vec(),
            found: None,
        }),
        // A key not led by the tenant column is the audit's finding.
        Some(found) if found.columns != expected && led(&found.columns) => {
            changes.push(Change::PrimaryKey {
                expected: expected.to_vec(),
                found: Some((found.name.clone(), found.columns.clone())),
            });
        }
        _ => {}
    }
}

fn unique_keys(
    spec: &TableSpec,
    live: &LiveTable,
    led: &dyn Fn(&[String]) -> bool,
    changes: &mut Vec<Change>,
) {
    // Unique constraints, and unique indexes that back none.
    let mut found: Vec<(String, Vec<String>, bool)> = live
        .constraints("u")
        .map(|constraint| (constraint.name.clone(), constraint.columns.clone(), true))
        .collect();
    found.extend(
        live.indexes
            .iter()
            .filter(|index| {
                index.unique
                    && !index.primary
                    && !index.backs_constraint
                    && !index.special
                    && index.valid
            })
            .map(|index| (index.qualified.clone(), index.columns.clone(), false)),
    );
    let same_set = |a: &[String], b: &[String]| {
        let mut a = a.to_vec();
        let mut b = b.to_vec();
        a.sort();
        b.sort();
        a == b
    };
    for expected in spec.unique() {
        // The same columns in another order are the audit's "not led by the
        // tenant column", if anything.
        if !found
            .iter()
            .any(|(_, columns, _)| same_set(columns, expected))
        {
            changes.push(Change::UniqueMissing {
                columns: expected.clone(),
            });
        }
    }
    for (name, columns, constraint) in found {
        let declared = spec
            .unique()
            .iter()
            .any(|expected| same_set(expected, &columns))
            || same_set(spec.primary_key(), &columns);
        if !declared && led(&columns) {
            changes.push(Change::UniqueExtra {
                name,
                columns,
                constraint,
            });
        }
    }
}

fn foreign_keys(
    spec: &TableSpec,
    live: &LiveTable,
    context: &Context<'_>,
    changes: &mut Vec<Change>,
) {
    let found: Vec<&LiveConstraint> = live.constraints("f").collect();
    let matches = |expected: &ForeignKeySpec, target: Option<Oid>, found: &LiveConstraint| {
        target.is_some()
            && found.target == target
            && found.columns == expected.columns()
            && found.target_columns == expected.target_columns()
    };
    for (expected, target) in spec.foreign_keys().iter().zip(context.targets) {
        if !found.iter().any(|found| matches(expected, *target, found)) {
            changes.push(Change::ForeignKeyMissing {
                key: expected.clone(),
            });
        }
    }
    let lead = spec.tenant().map(|tenant| tenant.column());
    for found in found {
        let declared = spec
            .foreign_keys()
            .iter()
            .zip(context.targets)
            .any(|(expected, target)| matches(expected, *target, found));
        if declared {
            continue;
        }
        // One to a tenant-scoped table that ignores the tenant is reported
        // by the audit as a cross-tenant reference.
        let ignores_tenant = context.scoped.iter().any(|(oid, target_lead)| {
            Some(*oid) == found.target
                && !(found.columns.first().map(String::as_str) == lead
                    && found.target_columns.first() == Some(target_lead))
        });
        if !ignores_tenant {
            changes.push(Change::ForeignKeyExtra {
                name: found.name.clone(),
                columns: found.columns.clone(),
                target: found.target_name.clone().unwrap_or_default(),
                target_columns: found.target_columns.clone(),
            });
        }
    }
}

fn indexes(spec: &TableSpec, live: &LiveTable, changes: &mut Vec<Change>) {
    let usable = |index: &&LiveIndex| index.valid && !index.special;
    for expected in spec.indexes() {
        let covered = live
            .indexes
            .iter()
            .filter(usable)
            .any(|index| index.columns.starts_with(expected.columns()));
        if covered {
            continue;
        }
        match live
            .indexes
            .iter()
            .find(|index| index.name == expected.name())
        {
            Some(index) if !index.valid => {} // reported below, for every invalid index
            Some(index) => changes.push(Change::IndexMismatch {
                index: expected.clone(),
                found: index.columns.clone(),
                qualified: index.qualified.clone(),
            }),
            None => changes.push(Change::IndexMissing {
                index: expected.clone(),
            }),
        }
    }
    for index in live.indexes.iter().filter(|index| !index.valid) {
        changes.push(Change::IndexInvalid {
            name: index.name.clone(),
            qualified: index.qualified.clone(),
            expected: spec
                .indexes()
                .iter()
                .any(|expected| expected.name() == index.name),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::modifier;

    #[test]
    fn modifiers_compare_without_spaces() {
        assert_eq!(modifier("NUMERIC(12, 2)"), Some("(12,2)".to_owned()));
        assert_eq!(modifier("numeric(12,2)"), Some("(12,2)".to_owned()));
        assert_eq!(
            modifier("timestamp(3) with time zone"),
            Some("(3)".to_owned())
        );
        assert_eq!(modifier("BIGINT"), None);
        assert_eq!(modifier("character varying(20)[]"), Some("(20)".to_owned()));
    }
}
