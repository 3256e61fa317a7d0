//! `orders-service`: run it with no set-up on an SQLite file, or on
//! PostgreSQL with Row Level Security, its tenants in shared tables, a
//! schema each or a database each, directly or through PgBouncer. See the
//! README for a walkthrough.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use orders_service::app::AppState;
use orders_service::backend::ServiceBackend;
use orders_service::seed::DEMO_TENANTS;
use orders_service::startup::{self, DatabaseConfig, Isolation, Settings};
use orders_service::{banner, seed};
use tenancy_sqlx::directory::Placement;
use tenancy_sqlx::{BeginTenant, OwnerPool};
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

    /// Where the demo tenants' rows live (PostgreSQL; SQLite has `shared`
    /// only): `shared` tables with Row Level Security, a `schema` per tenant
    /// (`tenant_<id>`), or a `database` per tenant (`<database>_tenant_<id>`,
    /// created by the owner role, which then needs CREATEDB). A tenant placed
    /// by an earlier start stays where it is.
    #[arg(
        long,
        env = "ORDERS_ISOLATION",
        value_enum,
        value_name = "MODEL",
        default_value_t = Isolation::Shared
    )]
    isolation: Isolation,

    /// DATABASE_URL is a pooler in transaction mode (PgBouncer's
    /// `pool_mode = transaction`): no named, cached prepared statements.
    /// Keep OWNER_DATABASE_URL straight to PostgreSQL.
    #[arg(long, env = "ORDERS_TRANSACTION_POOLER")]
    transaction_pooler: bool,
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
    let settings = Settings {
        database_url: args.database_url.as_deref(),
        owner_database_url: args.owner_database_url.as_deref(),
        isolation: args.isolation,
        transaction_pooler: args.transaction_pooler,
    };
    let config = DatabaseConfig::new(&settings, &args.data_dir)?;
    let address = args.listen_address();
    let listener = TcpListener::bind(address)
        .await
        .map_err(|error| format!("cannot listen on {address}: {error}"))?;
    match &config {
        DatabaseConfig::Sqlite { url } => {
            let (pool, owner) = startup::open_sqlite(url).await?;
            let places = shared_places();
            serve(pool, owner, listener, &config, &places).await
        }
        DatabaseConfig::Postgres(postgres) => {
            let tenants: Vec<(i64, Isolation)> = DEMO_TENANTS
                .iter()
                .map(|demo| (demo.id, postgres.isolation))
                .collect();
            let opened = startup::open_router(postgres, &tenants).await?;
            let places: Vec<(i64, String)> = opened
                .placements
                .iter()
                .map(|(tenant, entry)| (*tenant, banner::placement(&entry.placement)))
                .collect();
            serve(opened.router, opened.owner, listener, &config, &places).await
        }
    }
}

/// Every demo tenant in the shared tables.
fn shared_places() -> Vec<(i64, String)> {
    DEMO_TENANTS
        .iter()
        .map(|demo| (demo.id, banner::placement(&Placement::Shared)))
        .collect()
}

/// Seeds the demo data, prints how to try the service, and serves until
/// Ctrl-C.
async fn serve<T: BeginTenant<Backend: ServiceBackend>>(
    tenants: T,
    owner: OwnerPool<T::Backend>,
    listener: TcpListener,
    config: &DatabaseConfig,
    places: &[(i64, String)],
) -> Result<(), Box<dyn std::error::Error>> {
    let seeded = T::Backend::demo_data(&owner, &tenants).await?;
    let address = listener.local_addr()?;
    println!("{}", banner::banner(address, config, places, seeded));
    let router = T::Backend::router(AppState::new(tenants).with_admin_key(seed::DEMO_ADMIN_KEY));
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
