//! `orders-service`: run it with no set-up on an SQLite file, or on
//! PostgreSQL with Row Level Security. See the README for a walkthrough.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use orders_service::app::{self, AppState};
use orders_service::routes::customers::CustomerOrder;
use orders_service::routes::dashboard::{StatusSummary, TopCustomer};
use orders_service::routes::plan::TenantPlan;
use orders_service::schema::{Account, Customer, Order, OrderItem};
use orders_service::startup::{self, DatabaseConfig};
use orders_service::{banner, seed};
use tenancy_sqlx::{Backend, DecodeRow, OwnerPool, TenantPool};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

/// An orders API for many tenants, each confined to its own data.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The address to listen on [default: 127.0.0.1:3000, or 127.0.0.1:$PORT].
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,

    /// The port to listen on at 127.0.0.1, when --listen is not given.
    #[arg(long, env = "PORT")]
    port: Option<u16>,

    /// Where the SQLite database lives when no database URL is given.
    #[arg(long, env = "ORDERS_DATA_DIR", value_name = "DIR", default_value = default_data_dir())]
    data_dir: PathBuf,

    /// The database to serve from, as the application role: `postgres://…`
    /// (needs --owner-database-url) or `sqlite://…`. Default: an SQLite file
    /// in the data directory.
    #[arg(long, env = "DATABASE_URL", value_name = "URL", hide_env_values = true)]
    database_url: Option<String>,

    /// PostgreSQL only: the role that owns the tables, which creates them and
    /// their Row Level Security policies at start-up.
    #[arg(
        long,
        env = "OWNER_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    owner_database_url: Option<String>,
}

/// `data/` next to this example's sources: ignored by git.
fn default_data_dir() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/data")
}

impl Args {
    fn listen_address(&self) -> SocketAddr {
        self.listen
            .unwrap_or_else(|| SocketAddr::from((Ipv4Addr::LOCALHOST, self.port.unwrap_or(3000))))
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    // Logs go to stderr; stdout carries only the start-up banner.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=debug"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();

    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("orders-service: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let config = DatabaseConfig::from_urls(
        args.database_url.as_deref(),
        args.owner_database_url.as_deref(),
        &args.data_dir,
    )?;
    let address = args.listen_address();
    let listener = TcpListener::bind(address)
        .await
        .map_err(|error| format!("cannot listen on {address}: {error}"))?;
    match &config {
        DatabaseConfig::Sqlite { url } => {
            let (pool, owner) = startup::open_sqlite(url).await?;
            serve(pool, owner, listener, &config).await
        }
        DatabaseConfig::Postgres { app_url, owner_url } => {
            let (pool, owner) = startup::open_postgres(app_url, owner_url).await?;
            serve(pool, owner, listener, &config).await
        }
    }
}

/// Seeds the demo data, prints how to try the service, and serves until
/// Ctrl-C.
async fn serve<DB: Backend>(
    pool: TenantPool<DB>,
    owner: OwnerPool<DB>,
    listener: TcpListener,
    config: &DatabaseConfig,
) -> Result<(), Box<dyn std::error::Error>>
where
    Order: DecodeRow<DB>,
    OrderItem: DecodeRow<DB>,
    Customer: DecodeRow<DB>,
    CustomerOrder: DecodeRow<DB>,
    TenantPlan: DecodeRow<DB>,
    Account: DecodeRow<DB>,
    StatusSummary: DecodeRow<DB>,
    TopCustomer: DecodeRow<DB>,
    (i64,): DecodeRow<DB>,
    (bool,): DecodeRow<DB>,
    (String,): DecodeRow<DB>,
{
    let seeded = seed::demo_data(&owner, &pool).await?;
    let address = listener.local_addr()?;
    println!("{}", banner::banner(address, config, seeded));
    let router = app::router(AppState::new(pool).with_admin_key(seed::DEMO_ADMIN_KEY));
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            // If the signal cannot be listened for, run until killed.
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        })
        .await?;
    Ok(())
}
