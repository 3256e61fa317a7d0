//! `tenancy erase`: one tenant, with its certificate of deletion.

use sqlx::postgres::PgPoolOptions;
use tenancy_sqlx::ddl::TableSet;
use tenancy_sqlx::lifecycle::{Anonymisation, ErasureAction, ErasureOptions, LifecycleError};
use tenancy_sqlx::{CrossTenant, OwnerPool, SettingName, TenantId};

use crate::cli::EraseArgs;
use crate::error::CliError;
use crate::text::Exit;

pub async fn run(args: EraseArgs) -> Result<Exit, CliError> {
    let options = options(&args)?;
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(args.connection.options()?)
        .await
        .map_err(CliError::Connect)?;
    let owner = OwnerPool::from_pool(pool, CrossTenant::with_reason(&args.reason)?);
    if args.plan {
        let plan = owner.erasure_plan(&options).await?;
        for step in plan.steps() {
            let action = match step.action() {
                ErasureAction::Delete => "delete".to_owned(),
                ErasureAction::Anonymise { columns } => format!(
                    "anonymise {}",
                    columns
                        .iter()
                        .map(|column| format!("{} = {}", column.column, column.with))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                _ => "?".to_owned(),
            };
            let batched = if step.batched() {
                ""
            } else {
                " (in a cycle of foreign keys: one transaction)"
            };
            println!("{}: {action}{batched}", step.table());
        }
        for problem in plan.problems() {
            println!("cannot cover {problem}");
        }
        return Ok(if plan.problems().is_empty() {
            Exit::Clean
        } else {
            Exit::Findings
        });
    }
    let erasure = owner
        .erase_tenant(&TenantId::from_verified(args.tenant), &options)
        .await?;
    let json = erasure
        .certificate
        .to_json()
        .map_err(|error| CliError::Library(LifecycleError::from(error).into()))?;
    println!("{json}");
    eprintln!(
        "tenancy: tenant {} erased in {} batches (longest {:?})",
        args.tenant, erasure.batches, erasure.longest_batch
    );
    Ok(Exit::Clean)
}

fn options(args: &EraseArgs) -> Result<ErasureOptions, CliError> {
    let setting =
        SettingName::new(&args.setting).map_err(|error| CliError::Usage(error.to_string()))?;
    let mut options = ErasureOptions::new(&TableSet::new().with_setting(setting))
        .batch_rows(args.batch_rows)
        .batch_time(args.batch_time)
        .pause_between_batches(args.pause.unwrap_or_default());
    for column in &args.tenant_columns {
        options = options.tenant_column(column)?;
    }
    let mut anonymised: Vec<(String, String, Anonymisation)> = Vec::new();
    for given in &args.anonymised {
        let usage = || CliError::Usage(format!("--anonymise {given}: expected TABLE.COLUMN=WITH"));
        let (target, with) = given.split_once('=').ok_or_else(usage)?;
        let (table, column) = target.rsplit_once('.').ok_or_else(usage)?;
        let with = match with {
            "null" => Anonymisation::Null,
            "redacted" => Anonymisation::Redacted,
            "default" => Anonymisation::Default,
            function => Anonymisation::Function(function.to_owned()),
        };
        if !args.retained.iter().any(|retained| retained == table) {
            return Err(CliError::Usage(format!(
                "--anonymise {given}: `{table}` is not a --retain table"
            )));
        }
        anonymised.push((table.to_owned(), column.to_owned(), with));
    }
    for retained in &args.retained {
        let (schema, name) = match retained.split_once('.') {
            Some((schema, name)) => (Some(schema), name),
            None => (None, retained.as_str()),
        };
        let columns: Vec<(&str, Anonymisation)> = anonymised
            .iter()
            .filter(|(table, _, _)| table == retained)
            .map(|(_, column, with)| (column.as_str(), with.clone()))
            .collect();
        options = options.retain_table(schema, name, &columns)?;
    }
    Ok(options)
}
