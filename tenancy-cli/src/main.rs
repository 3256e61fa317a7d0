//! The `tenancy` command line: audit a database's tenant isolation, migrate
//! fleets of tenant schemas and databases, list tenants and their versions.
//! `tenancy --help` and `tenancy <command> --help` explain each command.

#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod accepted;
mod audit;
mod citus;
mod cli;
mod duration;
mod erase;
mod error;
mod input;
mod migrate;
mod progress;
mod server;
mod targets;
mod text;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::text::Exit;

fn main() -> ExitCode {
    // Usage errors exit with 2, as clap does it.
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("tenancy: cannot start: {error}");
            return ExitCode::from(Exit::Error.code());
        }
    };
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Audit(args) => audit::run(args).await,
            Command::Migrate(args) => migrate::run(args.command).await,
            Command::IsolateTenant(args) => citus::isolate_tenant(args).await,
            Command::Tenants(args) => migrate::tenants(args).await,
            Command::Erase(args) => erase::run(args).await,
        }
    });
    match outcome {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(error) => {
            eprintln!("tenancy: {error}");
            ExitCode::from(Exit::Error.code())
        }
    }
}
