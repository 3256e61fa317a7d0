//! The audit's checks on a Citus coordinator: the layout that keeps every
//! tenant statement on one worker, and the setting that lets the tenant
//! reach the workers' policies.

use sqlx::PgConnection;
use sqlx::postgres::types::Oid;

use super::{Finding, FindingKind};
use crate::Error;
use crate::citus::SET_COMMANDS_SETTING;
use crate::ident::Identifier;
use crate::manifest::TableSpec;

/// How Citus holds one table: `h` (hash-distributed) or `n` (reference or
/// Citus local, told apart by `repmodel` `t`), its distribution column and
/// its colocation group; `None` for a table Citus does not know.
type Layout = Option<(String, String, Option<String>, i32)>;

/// Adds the findings for `resolved` (each table with its `oid`, if it
/// exists) and for the setting of the database and of `role`.
pub(crate) async fn check(
    connection: &mut PgConnection,
    resolved: &[(&TableSpec, Option<Oid>)],
    role: Option<(&Identifier, Option<Oid>)>,
    findings: &mut Vec<Finding>,
) -> Result<(), Error> {
    let mut group: Option<(i32, String)> = None;
    for (table, oid) in resolved {
        let Some(oid) = oid else { continue };
        let layout: Layout = sqlx::query_as(
            "SELECT partmethod::text, repmodel::text, \
                    pg_catalog.column_to_column_name(logicalrelid, partkey), colocationid \
             FROM pg_catalog.pg_dist_partition WHERE logicalrelid = $1",
        )
        .bind(oid)
        .fetch_optional(&mut *connection)
        .await?;
        let name = table.qualified_name();
        let problem = match (table.tenant(), &layout) {
            (Some(tenant), Some((method, _, Some(column), colocation)))
                if method == "h" && column == tenant.column() =>
            {
                match &group {
                    Some((expected, first)) if expected != colocation => Some(format!(
                        "is distributed by `{column}` but not colocated with `{first}`, so a \
                         tenant's rows of the two tables live on different workers"
                    )),
                    _ => {
                        group.get_or_insert((*colocation, name.clone()));
                        None
                    }
                }
            }
            (Some(tenant), _) => Some(format!(
                "is not distributed by its tenant column `{}`",
                tenant.column()
            )),
            (None, Some((method, replication, _, _))) if method == "n" && replication == "t" => {
                None
            }
            (None, _) => Some("is not a reference table".to_owned()),
        };
        if let Some(problem) = problem {
            findings.push(Finding {
                table: Some(name.clone()),
                kind: FindingKind::CitusNotDistributed,
                message: format!("on this Citus coordinator `{name}` {problem}"),
                fix: "apply the schema again (`OwnerPool::apply_schema` distributes the tables), \
                      or `citus::Distribution::statements`"
                    .to_owned(),
            });
        }
    }
    let propagated: bool = sqlx::query_scalar(
        "SELECT EXISTS (
             SELECT FROM pg_catalog.pg_db_role_setting s
             WHERE s.setdatabase IN (0, (SELECT oid FROM pg_catalog.pg_database
                                         WHERE datname = pg_catalog.current_database()))
               AND s.setrole IN (0, $1::oid)
               AND $2 = ANY (s.setconfig)
         ) OR EXISTS (
             SELECT FROM pg_catalog.pg_settings
             WHERE name = $3 AND setting = $4 AND source = 'configuration file'
         )",
    )
    .bind(role.and_then(|(_, oid)| oid).unwrap_or(Oid(0)))
    .bind(format!(
        "{}={}",
        SET_COMMANDS_SETTING.0, SET_COMMANDS_SETTING.1
    ))
    .bind(SET_COMMANDS_SETTING.0)
    .bind(SET_COMMANDS_SETTING.1)
    .fetch_one(&mut *connection)
    .await?;
    if !propagated {
        let fix_role = role.map_or_else(
            || "the application role".to_owned(),
            |(name, _)| name.quoted(),
        );
        findings.push(Finding {
            table: None,
            kind: FindingKind::CitusSetCommandsNotPropagated,
            message: format!(
                "on this Citus coordinator {} is not '{}' for the database or the application \
                 role: the tenant setting does not reach the workers, whose policies then show \
                 no row (tenant pools refuse to connect)",
                SET_COMMANDS_SETTING.0, SET_COMMANDS_SETTING.1
            ),
            fix: format!(
                "ALTER DATABASE <database> SET {0} = '{1}' (what `OwnerPool::apply_schema` does), \
                 or ALTER ROLE {fix_role} SET {0} = '{1}'",
                SET_COMMANDS_SETTING.0, SET_COMMANDS_SETTING.1
            ),
        });
    }
    Ok(())
}
