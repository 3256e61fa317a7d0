//! `tenancy isolate-tenant`: a noisy tenant's own shards on Citus.

use tenancy_sqlx::citus::{self, ShardPlacement, TenantShard};

use crate::cli::IsolateTenantArgs;
use crate::error::CliError;
use crate::server::parse_server;
use crate::text::Exit;

pub async fn isolate_tenant(args: IsolateTenantArgs) -> Result<Exit, CliError> {
    let (schema, table) = match args.table.split_once('.') {
        Some((schema, table)) => (Some(schema), table),
        None => (None, args.table.as_str()),
    };
    let to_worker = args.to_worker.as_deref().map(worker_address).transpose()?;
    let shard = TenantShard::named(schema, table, &args.tenant)?;
    let (_, mut connection) = args.connection.connect().await?;
    if !citus::is_coordinator(&mut connection).await? {
        return Err(CliError::Usage(
            "the database is not a Citus coordinator: connect --database-url to the coordinator"
                .to_owned(),
        ));
    }
    let before = citus::tenant_placement(&mut connection, &shard).await?;
    println!("before:   {}", describe(&before));
    let mut after = citus::isolate_tenant(&mut connection, &shard).await?;
    println!("isolated: {}", describe(&after));
    if let Some((host, port)) = to_worker {
        after = citus::move_tenant(&mut connection, &shard, &host, port).await?;
        println!("moved:    {}", describe(&after));
    }
    Ok(Exit::Clean)
}

/// `HOST:PORT`, the port a number.
fn worker_address(text: &str) -> Result<(String, i32), CliError> {
    parse_server(text)
        .map(|(host, port)| (host, i32::from(port)))
        .map_err(|_| {
            CliError::Usage(format!(
                "--to-worker {text:?} is not HOST:PORT (a worker as `pg_dist_node` names it)"
            ))
        })
}

fn describe(placement: &ShardPlacement) -> String {
    format!(
        "shard {} on {}:{}{}",
        placement.shard_id,
        placement.host,
        placement.port,
        if placement.isolated {
            " (this tenant only)"
        } else {
            " (shared with other tenants)"
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_addresses_need_a_host_and_a_numeric_port() {
        assert_eq!(
            worker_address("10.0.0.2:5432").ok(),
            Some(("10.0.0.2".to_owned(), 5432))
        );
        assert!(worker_address("10.0.0.2").is_err());
        assert!(worker_address(":5432").is_err());
        assert!(worker_address("host:port").is_err());
    }
}
