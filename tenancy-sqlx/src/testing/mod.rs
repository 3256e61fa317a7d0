//! Tests against a real PostgreSQL, with no set-up.
//!
//! *Available with the `testing` feature:*
//!
//! ```toml
//! [dev-dependencies]
//! tenancy-sqlx = { version = "0.1", features = ["testing"] }
//! ```
//!
//! Row Level Security can only be tested against a real server, and only
//! when connected as a role that policies apply to: a superuser, a
//! `BYPASSRLS` role and (without `FORCE ROW LEVEL SECURITY`) a table's owner
//! silently see every row, so a test run as any of them proves nothing. This
//! module gives each test a fresh database and the right roles to connect as.
//!
//! # Where the server comes from
//!
//! - If [`TENANCY_TEST_DATABASE_URL`](DATABASE_URL_ENV) is set, it must be a
//!   superuser URL (`postgres://postgres:password@localhost:5432/postgres`);
//!   the tests create their roles and databases there.
//! - Otherwise the first [`TestDatabase::create`] of the test process starts
//!   a throwaway cluster: `initdb` and `pg_ctl` from `pg_config --bindir`,
//!   `/usr/lib/postgresql/*/bin`, `/usr/pgsql-*/bin` or `PATH`, in a private
//!   temporary directory, on a free port of 127.0.0.1, with durability
//!   switched off for speed. As root it runs them as the `postgres` system
//!   user (PostgreSQL refuses to run as root). A small watcher process stops
//!   the server and deletes the directory when the test process exits, even
//!   if it is killed. All tests of the process share the cluster, whichever
//!   runtime each `#[tokio::test]` runs on.
//! - If neither is available, [`TestDatabase::create`] fails with a
//!   [`TestSupportError`] that says how to install PostgreSQL. Tests never
//!   pass silently for want of a server.
//!
//! # What each test gets
//!
//! Two roles exist on the server, created once (and reset to these attributes
//! if they were changed):
//!
//! | role | is | for |
//! |---|---|---|
//! | [`OWNER_ROLE`] (`tenancy_owner`) | owner of every test database and its `public` schema; no superuser, no `BYPASSRLS`, no `CREATEROLE` | migrations: creating tables, enabling RLS |
//! | [`APP_ROLE`] (`tenancy_app`) | no superuser, no `BYPASSRLS`, not a member of the owner, owner of nothing | the application's queries, which RLS filters |
//!
//! [`TestDatabase::create`] makes a database with a unique name, owned by
//! the owner role. The application role has no privilege on the tables the
//! owner creates until something grants it one — as in production, where
//! [`OwnerPool::apply_schema`](crate::OwnerPool::apply_schema) and
//! [`apply_rls`](crate::OwnerPool::apply_rls) grant it exactly what
//! [`RlsPolicy::for_role`](crate::rls::RlsPolicy::for_role) generates (read
//! and write on tenant tables, read on global ones): a test that passes here
//! does not fail there for want of a grant, and a write to a global table
//! fails here as it does there. Connect with [`owner_url`](TestDatabase::owner_url)
//! / [`owner_pool`](TestDatabase::owner_pool),
//! [`app_url`](TestDatabase::app_url) / [`app_pool`](TestDatabase::app_pool),
//! and, where a test needs a superuser,
//! [`admin_url`](TestDatabase::admin_url) /
//! [`admin_pool`](TestDatabase::admin_pool). Tests that need another kind of
//! role, say one with `BYPASSRLS`, make it with
//! [`create_role`](TestDatabase::create_role).
//!
//! # Example
//!
//! A table with a tenant policy, rows for two tenants, and the application
//! role seeing only the rows of the tenant its transaction is set to:
//!
//! ```
//! use tenancy_sqlx::testing::TestDatabase;
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let db = TestDatabase::create().await?;
//!
//! // Migrations run as the owner role.
//! let owner = db.owner_pool().await?;
//! sqlx::raw_sql(
//!     "CREATE TABLE notes (tenant_id bigint NOT NULL, body text NOT NULL);
//!      INSERT INTO notes VALUES (1, 'for tenant 1'), (2, 'for tenant 2');
//!      ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
//!      ALTER TABLE notes FORCE ROW LEVEL SECURITY;
//!      CREATE POLICY tenant_isolation ON notes USING
//!          (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint);
//!      GRANT SELECT ON notes TO tenancy_app;",
//! )
//! .execute(&owner)
//! .await?;
//!
//! // The application role sees nothing without a tenant...
//! let app = db.app_pool().await?;
//! let visible: i64 = sqlx::query_scalar("SELECT count(*) FROM notes")
//!     .fetch_one(&app)
//!     .await?;
//! assert_eq!(visible, 0);
//!
//! // ...and only its tenant's rows with one.
//! let mut tx = app.begin().await?;
//! sqlx::query("SELECT set_config('app.tenant_id', '2', true)")
//!     .execute(&mut *tx)
//!     .await?;
//! let bodies: Vec<String> = sqlx::query_scalar("SELECT body FROM notes")
//!     .fetch_all(&mut *tx)
//!     .await?;
//! assert_eq!(bodies, ["for tenant 2"]);
//! # Ok(())
//! # }
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! #     tokio::runtime::Builder::new_current_thread()
//! #         .enable_all()
//! #         .build()?
//! #         .block_on(example())
//! # }
//! ```
//!
//! In a test suite the body above sits in a
//! `#[tokio::test] async fn ...() -> Result<(), Box<dyn std::error::Error>>`.
//!
//! # Citus
//!
//! With the `citus` feature, [`CitusTestDatabase::create`] gives a test a
//! database on a real Citus cluster: a coordinator and two workers, each a
//! throwaway cluster with `shared_preload_libraries = 'citus'`, started once
//! per test process, and per test a database of the same name on all three
//! with `CREATE EXTENSION citus` and the workers added to the coordinator.
//! The Citus extension must be installed into the local PostgreSQL; without
//! it the call fails with [`TestSupportError::CitusMissing`]. Starting the
//! three nodes takes a few seconds, each database about a second.
//!
//! # Behind PgBouncer
//!
//! [`PgBouncer::start`] starts a real PgBouncer (`pool_mode = transaction`,
//! a server pool of the size asked for, the test roles as its users) in
//! front of a [`TestDatabase`], on a free port, from `PATH` or `/usr/sbin`;
//! it stops when dropped or when the test process exits. It routes the
//! other databases of the same server as well (each with a server pool of
//! its own), so tenants in databases of their own are reached through it
//! too ([`PgBouncer::app_url_of`]).
//!
//! # Cleaning up
//!
//! A throwaway cluster disappears with the test process, databases and all.
//! On a server given by URL, call [`TestDatabase::drop_database`] at the end
//! of a test, or drop the `tenancy_test_*` databases now and then.
//!
//! # Cost
//!
//! Starting the cluster takes about a second, once per test process; each
//! database takes a few tens of milliseconds more.

#![cfg_attr(docsrs, doc(cfg(feature = "testing")))]

mod binaries;
#[cfg(feature = "citus")]
mod citus;
mod cluster;
mod database;
mod error;
pub mod leak;
mod pgbouncer;
mod pools;
mod reaper;
mod roles;
mod run_as;
mod server;
mod sql;

#[cfg(feature = "citus")]
pub use citus::{CITUS_WORKERS, CitusTestDatabase};
pub use database::{TestDatabase, TestRole};
pub use error::TestSupportError;
pub use leak::{LeakReport, LeakTest, LeakTestError, TenantSeed};
pub use pgbouncer::PgBouncer;
pub use roles::{APP_ROLE, OWNER_ROLE, RoleAttribute};
pub use server::DATABASE_URL_ENV;
