//! `tenancy audit`: every check of the library, grouped the way a DBA
//! reads them, with accepted findings set apart.

use std::path::PathBuf;

use serde_json::json;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};
use tenancy_sqlx::Identifier;
use tenancy_sqlx::audit::{self, Finding, FindingKind};
use tenancy_sqlx::manifest::Manifest;
use tenancy_sqlx::migrate::Target;

use crate::accepted::{self, Acceptance, kind_code};
use crate::cli::AuditArgs;
use crate::error::CliError;
use crate::input;
use crate::targets;
use crate::text::{Exit, wrap};

/// Where a finding belongs in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Section {
    Tables,
    Roles,
    FunctionsAndViews,
}

impl Section {
    fn of(finding: &Finding) -> Self {
        match finding.kind {
            FindingKind::LoginRoleBypassesRls | FindingKind::LoginRoleCanEscalate => Section::Roles,
            FindingKind::PrivilegeMissing if finding.table.is_none() => Section::Roles,
            FindingKind::SecurityDefinerBypassesRls | FindingKind::ViewBypassesRls => {
                Section::FunctionsAndViews
            }
            _ => Section::Tables,
        }
    }

    fn title(self) -> &'static str {
        match self {
            Section::Tables => "TABLES",
            Section::Roles => "ROLES",
            Section::FunctionsAndViews => "FUNCTIONS AND VIEWS",
        }
    }
}

/// A finding with where it was found and whether it is accepted.
struct Entry {
    database: String,
    finding: Finding,
    accepted: Option<String>,
}

/// One database to check, and the schemas its registered tables are placed
/// in (`None`: the connection's `search_path`).
struct Place {
    options: PgConnectOptions,
    placements: Vec<Option<Identifier>>,
}

/// What the header says about the run.
struct Context {
    database: String,
    user: String,
    server: String,
    at: String,
}

pub async fn run(args: AuditArgs) -> Result<Exit, CliError> {
    let (home, mut connection) = args.connection.connect().await?;
    let manifest = args.manifest.as_deref().map(input::manifest).transpose()?;
    let acceptances = match &args.accepted {
        Some(path) => accepted::load(path)?,
        None => Vec::new(),
    };
    let context: (String, String, String, String) = sqlx::query_as(
        "SELECT current_database()::text, current_user::text,
                split_part(version(), ' ', 1) || ' ' || split_part(version(), ' ', 2),
                to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI \"UTC\"')",
    )
    .fetch_one(&mut connection)
    .await?;
    let context = Context {
        database: context.0,
        user: context.1,
        server: context.2,
        at: context.3,
    };
    let places = places(&args, &home, &mut connection).await?;

    let mut entries = Vec::new();
    for finding in audit::roles_bypassing_rls(&mut connection).await? {
        entries.push((context.database.clone(), finding));
    }
    let _ = connection.close().await;
    let registered = match &manifest {
        Some(manifest) => manifest.clone(),
        None => Manifest::new(
            &tenancy_sqlx::ddl::TableSet::new(),
            &tenancy_sqlx::rls::RlsPolicy::for_public(),
        )?,
    };
    for place in &places {
        let mut connection = input::connect(&place.options).await?;
        let database: String = sqlx::query_scalar("SELECT current_database()::text")
            .fetch_one(&mut connection)
            .await?;
        let mut found = Vec::new();
        if let Some(manifest) = &manifest {
            for placement in &place.placements {
                found.extend(audit::verify(&mut connection, manifest, placement.as_ref()).await?);
            }
        }
        found.extend(
            audit::unregistered_tenant_tables(
                &mut connection,
                &registered,
                &place.placements,
                &args.tenant_columns,
            )
            .await?,
        );
        found.extend(audit::security_definer_functions(&mut connection).await?);
        found.extend(audit::views_bypassing_rls(&mut connection).await?);
        let _ = connection.close().await;
        entries.extend(found.into_iter().map(|finding| (database.clone(), finding)));
    }

    let mut used = vec![false; acceptances.len()];
    let entries: Vec<Entry> = entries
        .into_iter()
        .map(|(database, finding)| {
            let accepted = acceptances
                .iter()
                .position(|acceptance| acceptance.accepts(&finding));
            if let Some(index) = accepted {
                used[index] = true;
            }
            Entry {
                database,
                finding,
                accepted: accepted.map(|index| acceptances[index].reason.clone()),
            }
        })
        .collect();
    let unused: Vec<&Acceptance> = acceptances
        .iter()
        .zip(&used)
        .filter(|(_, used)| !**used)
        .map(|(acceptance, _)| acceptance)
        .collect();
    let to_fix = entries
        .iter()
        .filter(|entry| entry.accepted.is_none())
        .count();
    let exit = if to_fix == 0 {
        Exit::Clean
    } else {
        Exit::Findings
    };
    let checked = Checked {
        manifest: args.manifest.clone(),
        tables: manifest
            .as_ref()
            .map_or(0, |manifest| manifest.tables().len()),
        places: &places,
    };
    if args.json {
        println!("{}", json(&context, &checked, &entries, &unused, exit));
    } else {
        print!(
            "{}",
            text(
                &context,
                &checked,
                &entries,
                &unused,
                args.accepted.as_ref(),
                exit
            )
        );
    }
    Ok(exit)
}

/// The databases to check: the home database with the schema targets as
/// placements, and each database target.
async fn places(
    args: &AuditArgs,
    home: &PgConnectOptions,
    connection: &mut PgConnection,
) -> Result<Vec<Place>, CliError> {
    let named = !args.targets.schemas.is_empty()
        || args.targets.schemas_like.is_some()
        || args.targets.schemas_query.is_some()
        || args.targets.targets_file.is_some()
        || !args.targets.databases.is_empty()
        || args.targets.databases_like.is_some();
    if !named {
        return Ok(vec![Place {
            options: home.clone(),
            placements: vec![None],
        }]);
    }
    let targets: Vec<Target> = targets::resolve(&args.targets, home, connection).await?;
    let schemas: Vec<Option<Identifier>> = targets
        .iter()
        .filter(|target| !target.is_database())
        .map(|target| target.schema_name().cloned())
        .collect();
    let mut places = Vec::new();
    if !schemas.is_empty() {
        places.push(Place {
            options: home.clone(),
            placements: schemas,
        });
    }
    let urls = args.targets.databases.iter();
    for url in urls {
        places.push(Place {
            options: url.parse().map_err(CliError::Url)?,
            placements: vec![None],
        });
    }
    if let Some(pattern) = &args.targets.databases_like {
        for target in tenancy_sqlx::migrate::databases_like(connection, pattern, home).await? {
            places.push(Place {
                options: home.clone().database(target.label()),
                placements: vec![None],
            });
        }
    }
    Ok(places)
}

struct Checked<'a> {
    manifest: Option<PathBuf>,
    tables: usize,
    places: &'a [Place],
}

impl Checked<'_> {
    fn describe(&self) -> String {
        let schemas: Vec<String> = self
            .places
            .iter()
            .flat_map(|place| &place.placements)
            .map(|placement| {
                placement
                    .as_ref()
                    .map_or_else(|| "the search_path".to_owned(), ToString::to_string)
            })
            .collect();
        let databases = self.places.len();
        let tables = match &self.manifest {
            Some(path) => format!(
                "{} registered tables from {} in {} ({})",
                self.tables,
                path.display(),
                plural(schemas.len(), "schema"),
                schemas.join(", ")
            ),
            None => "no registered tables (no --manifest)".to_owned(),
        };
        format!(
            "{tables}; the roles of the server; the unregistered tenant tables, functions and views of {}",
            plural(databases, "database")
        )
    }
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

fn text(
    context: &Context,
    checked: &Checked<'_>,
    entries: &[Entry],
    unused: &[&Acceptance],
    accepted_file: Option<&PathBuf>,
    exit: Exit,
) -> String {
    let mut out = format!(
        "tenancy audit of database {} ({}) as {}, {}\n",
        context.database, context.server, context.user, context.at
    );
    out.push_str(&wrap(&format!("checked: {}", checked.describe()), 0, 2));
    let to_fix = entries
        .iter()
        .filter(|entry| entry.accepted.is_none())
        .count();
    let accepted = entries.len() - to_fix;
    out.push_str(&format!(
        "\n{} to fix, {} accepted.\n",
        plural(to_fix, "finding"),
        accepted
    ));
    let many_databases = checked.places.len() > 1;
    for section in [Section::Tables, Section::Roles, Section::FunctionsAndViews] {
        let mut in_section: Vec<&Entry> = entries
            .iter()
            .filter(|entry| entry.accepted.is_none() && Section::of(&entry.finding) == section)
            .collect();
        if in_section.is_empty() {
            continue;
        }
        in_section
            .sort_by(|a, b| (&a.database, &a.finding.table).cmp(&(&b.database, &b.finding.table)));
        out.push_str(&format!("\n{}\n", section.title()));
        let mut subject: Option<(String, Option<String>)> = None;
        for entry in in_section {
            let this = (entry.database.clone(), entry.finding.table.clone());
            let indent = if let Some(table) = &entry.finding.table {
                if subject.as_ref() != Some(&this) {
                    let name = if many_databases {
                        format!("{}: {table}", entry.database)
                    } else {
                        table.clone()
                    };
                    out.push_str(&format!("  {name}\n"));
                }
                4
            } else {
                2
            };
            subject = Some(this);
            out.push_str(&format!(
                "{}- {}\n",
                " ".repeat(indent),
                kind_code(entry.finding.kind)
            ));
            out.push_str(&wrap(&entry.finding.message, indent + 2, indent + 2));
            out.push_str(&wrap(
                &format!("fix: {}", entry.finding.fix),
                indent + 2,
                indent + 7,
            ));
        }
    }
    if accepted > 0 {
        let from = accepted_file
            .map(|path| format!(" ({})", path.display()))
            .unwrap_or_default();
        out.push_str(&format!("\nACCEPTED{from}\n"));
        for entry in entries {
            if let Some(reason) = &entry.accepted {
                let subject = entry
                    .finding
                    .table
                    .as_ref()
                    .map(|table| format!("{table}: "))
                    .unwrap_or_default();
                out.push_str(&format!(
                    "  - {}: {subject}\n",
                    kind_code(entry.finding.kind)
                ));
                out.push_str(&wrap(&entry.finding.message, 4, 4));
                out.push_str(&wrap(&format!("accepted: {reason}"), 4, 14));
            }
        }
    }
    if !unused.is_empty() {
        out.push_str(
            "\nACCEPTANCES THAT MATCH NOTHING (remove them, or fix their kind, table or text)\n",
        );
        for acceptance in unused {
            out.push_str(&format!("  - {}\n", acceptance.describe()));
        }
    }
    out.push_str(&format!(
        "\nresult: {} (exit {})\n",
        match exit {
            Exit::Clean => "clean".to_owned(),
            _ => plural(to_fix, "finding") + " to fix",
        },
        exit.code()
    ));
    out
}

fn json(
    context: &Context,
    checked: &Checked<'_>,
    entries: &[Entry],
    unused: &[&Acceptance],
    exit: Exit,
) -> String {
    let findings: Vec<serde_json::Value> = entries
        .iter()
        .map(|entry| {
            json!({
                "kind": kind_code(entry.finding.kind),
                "database": entry.database,
                "table": entry.finding.table,
                "message": entry.finding.message,
                "fix": entry.finding.fix,
                "accepted": entry.accepted.is_some(),
                "reason": entry.accepted,
            })
        })
        .collect();
    let unused: Vec<serde_json::Value> = unused
        .iter()
        .map(|acceptance| {
            json!({
                "kind": acceptance.kind,
                "table": acceptance.table,
                "matching": acceptance.matching,
                "reason": acceptance.reason,
            })
        })
        .collect();
    let to_fix = entries
        .iter()
        .filter(|entry| entry.accepted.is_none())
        .count();
    let schemas: Vec<Option<String>> = checked
        .places
        .iter()
        .flat_map(|place| &place.placements)
        .map(|placement| placement.as_ref().map(ToString::to_string))
        .collect();
    let report = json!({
        "database": context.database,
        "user": context.user,
        "server": context.server,
        "at": context.at,
        "checked": {
            "manifest": checked.manifest.as_ref().map(|path| path.display().to_string()),
            "tables": checked.tables,
            "schemas": schemas,
            "databases": checked.places.len(),
        },
        "findings": findings,
        "unused_acceptances": unused,
        "summary": {
            "findings": entries.len(),
            "accepted": entries.len() - to_fix,
            "to_fix": to_fix,
        },
        "exit_code": exit.code(),
    });
    serde_json::to_string_pretty(&report).unwrap_or_default()
}
