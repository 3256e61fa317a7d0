//! Start-up: from the settings to a database the service can serve from.
//!
//! SQLite needs no set-up; PostgreSQL is set up by the owner role (tables,
//! Row Level Security, the tenant directory, each tenant's schema or
//! database) and served as an application role the policies apply to. Each
//! step has a module of its own:
//!
//! | module | does |
//! |---|---|
//! | `config` | the settings, checked: which database, which isolation model, whether through a pooler |
//! | `error` | why start-up stopped, in words that say what to do |
//! | `sqlite` | the SQLite database and its tables |
//! | `postgres` | the shared PostgreSQL database: tables, policies, directory, the application's pool |
//! | `pooler` | what changes when the application reaches PostgreSQL through a transaction-mode pooler |
//! | `audit` | the export audit made append-only, wherever it lives |
//! | `names` | what each tenant's schema or database is called, and its URL |
//! | `migrations` | what every tenant schema and database is migrated with |
//! | `places` | tenant schemas and databases created, migrated, recorded, and opened for a move |
//! | `router` | the whole PostgreSQL start-up: the demo tenants placed, the router made |

mod audit;
mod config;
mod error;
mod migrations;
mod names;
mod places;
mod pooler;
mod postgres;
mod router;
mod sqlite;

pub use config::{DatabaseConfig, Isolation, PostgresConfig, Settings};
pub use error::StartupError;
pub use names::{PlaceNames, with_database};
pub use places::TenantPlaces;
pub use postgres::open_postgres;
pub use router::{PostgresTenants, open_router};
pub use sqlite::open_sqlite;

use tenancy_sqlx::CrossTenant;

/// The capability the owner pool is made with; its creation is logged.
fn setup_capability() -> Result<CrossTenant, tenancy_sqlx::Error> {
    Ok(CrossTenant::with_reason(
        "orders-service start-up: tables, policies and the demo catalogue",
    )?)
}
