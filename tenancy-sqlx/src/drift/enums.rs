//! The comparison of each declared PostgreSQL enum type with the catalog:
//! the type exists and is an enum, and has the declared labels in the
//! declared order.

use sqlx::PgConnection;

use super::{Change, Drift, declared};
use crate::Error;
use crate::ident::Identifier;
use crate::manifest::{EnumTypeSpec, Manifest, TableSpec};

/// What the catalog holds under a declared type's name.
enum LiveType {
    Missing,
    /// A type of that name that is not an enum (a table's row type, a
    /// domain).
    NotAnEnum,
    /// An enum, with its labels in their sort order.
    Enum(Vec<String>),
}

/// Every difference between the enum types of `manifest` and the
/// database, in the manifest's order. Each is reported on the first table
/// that uses the type. `connection` has `search_path` pinned as
/// [`detect`](super::detect) pins it.
pub(crate) async fn drift(
    connection: &mut PgConnection,
    manifest: &Manifest,
    placement: Option<&Identifier>,
) -> Result<Vec<Drift>, Error> {
    let mut drift = Vec::new();
    for enum_type in manifest.enum_types() {
        let Some(table) = first_user(manifest, enum_type) else {
            continue;
        };
        let schema = Identifier::new("schema", enum_type.schema_in(placement, manifest.schema()))?;
        let name = Identifier::new("type", enum_type.name())?;
        let quoted = format!("{}.{}", schema.quoted(), name.quoted());
        let live = read(connection, &quoted).await?;
        let type_name = format!("{}.{}", schema.as_str(), name.as_str());
        let changes = compare(enum_type, &type_name, &quoted, &live);
        for change in changes {
            drift.push(Drift {
                table: table.display_in(placement),
                quoted: table.quoted_in(placement)?,
                declared: declared(table),
                change,
            });
        }
    }
    Ok(drift)
}

/// The first registered table with a column of `enum_type`.
fn first_user<'m>(manifest: &'m Manifest, enum_type: &EnumTypeSpec) -> Option<&'m TableSpec> {
    let column_type = enum_type.column_type();
    manifest.tables().iter().find(|table| {
        table
            .columns()
            .iter()
            .any(|column| column.sql_type() == column_type)
    })
}

async fn read(connection: &mut PgConnection, quoted: &str) -> Result<LiveType, Error> {
    let row: Option<(bool, Vec<String>)> = sqlx::query_as(
        "SELECT t.typtype = 'e',
                ARRAY(SELECT e.enumlabel::text FROM pg_catalog.pg_enum e
                      WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)
         FROM pg_catalog.pg_type t WHERE t.oid = pg_catalog.to_regtype($1)",
    )
    .bind(quoted)
    .fetch_optional(&mut *connection)
    .await?;
    Ok(match row {
        None => LiveType::Missing,
        Some((false, _)) => LiveType::NotAnEnum,
        Some((true, labels)) => LiveType::Enum(labels),
    })
}

/// The changes that make `live` the declared type: a missing type, the
/// labels it lacks (each placed next to a declared neighbour that exists
/// or is added before it), labels it has beyond the declared ones, and
/// labels in another order.
fn compare(spec: &EnumTypeSpec, type_name: &str, quoted: &str, live: &LiveType) -> Vec<Change> {
    let found = match live {
        LiveType::Missing | LiveType::NotAnEnum => {
            return vec![Change::EnumTypeMissing {
                enum_type: spec.clone(),
                type_name: type_name.to_owned(),
                other_kind: matches!(live, LiveType::NotAnEnum),
            }];
        }
        LiveType::Enum(labels) => labels,
    };
    let declared = spec.labels();
    let mut changes = Vec::new();
    let kept: Vec<&String> = found.iter().filter(|l| declared.contains(l)).collect();
    let expected: Vec<&String> = declared.iter().filter(|l| found.contains(l)).collect();
    if kept != expected {
        changes.push(Change::EnumLabelOrder {
            type_name: type_name.to_owned(),
            expected: declared.to_vec(),
            found: found.clone(),
        });
    }
    for label in found.iter().filter(|label| !declared.contains(label)) {
        changes.push(Change::EnumLabelExtra {
            type_name: type_name.to_owned(),
            label: label.clone(),
        });
    }
    for (index, label) in declared.iter().enumerate() {
        if found.contains(label) {
            continue;
        }
        // The label before it exists by now (or was added just before);
        // the first label goes before the first declared one that exists.
        let position = match index.checked_sub(1) {
            Some(previous) => LabelAt::After(declared[previous].clone()),
            None => match declared.iter().find(|later| found.contains(later)) {
                Some(later) => LabelAt::Before(later.clone()),
                None => LabelAt::Last,
            },
        };
        changes.push(Change::EnumLabelMissing {
            type_name: type_name.to_owned(),
            quoted: quoted.to_owned(),
            label: label.clone(),
            position,
        });
    }
    changes
}

/// Where a missing label goes among the type's labels.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LabelAt {
    /// Before this label.
    Before(String),
    /// After this label.
    After(String),
    /// After every label.
    Last,
}

impl LabelAt {
    /// As [`ddl::add_enum_label`](tenancy_core::ddl::add_enum_label) takes it.
    pub(crate) fn position(&self) -> tenancy_core::ddl::LabelPosition<'_> {
        use tenancy_core::ddl::LabelPosition;
        match self {
            LabelAt::Before(label) => LabelPosition::Before(label),
            LabelAt::After(label) => LabelPosition::After(label),
            LabelAt::Last => LabelPosition::Last,
        }
    }
}

/// `ALTER TYPE .. ADD VALUE IF NOT EXISTS` for a missing label, on the
/// type as the drift check found it (schema-qualified).
pub(crate) fn add_label_statement(change: &Change) -> Option<Result<String, Error>> {
    let Change::EnumLabelMissing {
        type_name,
        label,
        position,
        ..
    } = change
    else {
        return None;
    };
    let (schema, name) = type_name.split_once('.')?;
    Some(
        tenancy_core::ddl::add_enum_label(Some(schema), name, label, position.position())
            .map_err(Error::from),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(labels: &[&str]) -> EnumTypeSpec {
        EnumTypeSpec::for_tests(labels)
    }

    fn labels(labels: &[&str]) -> LiveType {
        LiveType::Enum(labels.iter().map(|label| (*label).to_owned()).collect())
    }

    fn changes(declared: &[&str], found: &LiveType) -> Vec<Change> {
        compare(
            &spec(declared),
            "public.state",
            "\"public\".\"state\"",
            found,
        )
    }

    #[test]
    fn missing_labels_go_next_to_their_declared_neighbours() {
        let found = changes(
            &["new", "open", "pending", "closed"],
            &labels(&["open", "closed"]),
        );
        let added: Vec<String> = found
            .iter()
            .filter_map(add_label_statement)
            .collect::<Result<_, _>>()
            .expect("valid labels");
        assert_eq!(
            added,
            [
                "ALTER TYPE \"public\".\"state\" ADD VALUE IF NOT EXISTS 'new' BEFORE 'open'",
                "ALTER TYPE \"public\".\"state\" ADD VALUE IF NOT EXISTS 'pending' AFTER 'open'",
            ]
        );
        assert_eq!(found.len(), 2, "{found:?}");
    }

    #[test]
    fn extra_and_reordered_labels_are_reported() {
        assert_eq!(
            changes(
                &["open", "closed"],
                &labels(&["open", "closed", "archived"])
            ),
            [Change::EnumLabelExtra {
                type_name: "public.state".into(),
                label: "archived".into()
            }]
        );
        assert!(matches!(
            changes(&["open", "closed"], &labels(&["closed", "open"]))[..],
            [Change::EnumLabelOrder { .. }]
        ));
        assert!(changes(&["open", "closed"], &labels(&["open", "closed"])).is_empty());
        assert!(matches!(
            changes(&["open"], &LiveType::NotAnEnum)[..],
            [Change::EnumTypeMissing {
                other_kind: true,
                ..
            }]
        ));
    }
}
