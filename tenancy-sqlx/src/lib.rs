//! Tenant isolation for sqlx, with PostgreSQL Row Level Security as the
//! backstop.
//!
//! One dependency gives you the whole library: this crate re-exports
//! `tenancy-core` (the [`TenantId`] witness, `#[tenant_scoped]`, the scoped
//! builder, [`ddl`]) at its root. The flow, end to end:
//!
//! ```no_run
//! use tenancy_sqlx::ddl::TableSet;
//! use tenancy_sqlx::rls::RlsPolicy;
//! use tenancy_sqlx::{CrossTenant, OwnerPool, TenantId, TenantPool, TenantPoolOptions, tenant_scoped};
//!
//! #[tenant_scoped]
//! #[derive(Debug, sqlx::FromRow)]
//! pub struct Order {
//!     pub tenant_id: i64,
//!     #[tenancy(primary_key, generated)]
//!     pub id: i64,
//!     pub status: String,
//! }
//!
//! # async fn run() -> Result<(), tenancy_sqlx::Error> {
//! let tables = TableSet::new().with::<Order>();
//!
//! // Deploy: as the role that owns the tables, create them and their RLS
//! // policies (idempotent, one transaction).
//! let owner = OwnerPool::connect("postgres://owner@db/shop", CrossTenant::with_reason("migrations")?).await?;
//! owner.apply_schema(&tables, &RlsPolicy::for_role("app")?).await?;
//!
//! // The application connects as a role RLS applies to; a superuser,
//! // BYPASSRLS or owner role is refused here.
//! let pool = TenantPool::connect("postgres://app@db/shop", TenantPoolOptions::new(&tables)).await?;
//!
//! // Per request, with the tenant your authentication layer verified:
//! let tenant = TenantId::from_verified(42);
//! let mut tx = pool.begin(&tenant).await?; // BEGIN + SET LOCAL app.tenant_id: one round trip
//! tx.execute(Order::insert(&tenant).set(Order::STATUS, "open".to_owned())).await?;
//! let open: Vec<Order> = tx.fetch_all(Order::select(&tenant).filter(Order::STATUS.eq("open"))).await?;
//! tx.commit().await?;
//! # let _ = open;
//! # Ok(()) }
//! ```
//!
//! Three layers stand between a tenant and another tenant's rows:
//!
//! 1. **Types.** Statements on tenant tables need a [`TenantId`]; a
//!    [`TenantTransaction`] runs only statements built for its own tenant and
//!    refuses others before sending anything ([`Error::TenantMismatch`]).
//! 2. **The builder.** Every reference to a tenant table carries
//!    `tenant_id = $n`, bound to the witness.
//! 3. **Row Level Security.** [`TenantPool::begin`] sets `app.tenant_id`
//!    transaction-locally, and the policies from [`rls`] filter every row
//!    any SQL touches — raw SQL through
//!    [`TenantTransaction::raw_connection`] included.
//!
//! # Connections and the tenant context
//!
//! The tenant setting lives exactly as long as the transaction: `BEGIN` and
//! `SET LOCAL "app"."tenant_id" = '<key>'` (the same as `set_config(.., true)`)
//! are sent as one simple query, never a session-level `SET`, so commit,
//! rollback, an error, a panic or a dropped future all end it. sqlx can hand
//! a connection back to the pool while a cancelled `BEGIN` is still open on
//! the server; [`TenantPool::begin`] closes such a connection instead (see
//! [`TenantPool`]), as a transaction does whose statement future was dropped
//! mid-flight. What raw SQL leaves on the session (a role, settings, locks,
//! temporary tables…) is reset before the transaction ends, or the
//! connection is closed ([`TenantTransaction::raw_connection`]). None of
//! these guards costs a round trip on the normal path.
//!
//! # Reads
//!
//! For work that only reads, [`TenantPool::read`] opens a `READ ONLY`
//! tenant transaction, a [`TenantRead`], whose end does not wait for the
//! server: `ROLLBACK` is queued and the connection handed back, and the pool
//! sends it and reads its answer before lending the connection again
//! (closing it if that fails). One statement costs the caller two round
//! trips instead of three; a write in it fails rather than being rolled
//! back unseen. Anything that writes uses [`TenantPool::begin`] and
//! [`TenantTransaction::commit`], which waits and reports the truth.
//!
//! The pools the crate makes ([`TenantPool::connect`], the router's) do not
//! ping a connection before handing it out. A connection the server closed
//! while idle is found by its `BEGIN`, which is sent once more on another
//! connection when it failed with a lost connection before it could have
//! reached the server; nothing else is ever retried ([`TenantPool::begin`]).
//!
//! # Roles
//!
//! | role | used by | attributes |
//! |---|---|---|
//! | application | [`TenantPool`] | `NOSUPERUSER NOBYPASSRLS NOCREATEROLE`, owns no table, and is a member of no role that is any of these (nor of the roles that read the server's files); SELECT/INSERT/UPDATE/DELETE granted by [`rls`]; checked on every connection the pool opens |
//! | owner | [`OwnerPool`] | owns the tables; runs migrations and the RLS DDL |
//!
//! Cross-tenant work (erasure, exports) goes through [`OwnerPool`], made
//! with a [`CrossTenant`] capability. No role needs `BYPASSRLS` for
//! anything the library does: RLS is forced on the owner too, and the
//! generated policies give the owner (as the application) the rows of the
//! tenant its transaction sets; erasure and export set one tenant per
//! transaction (`lifecycle`, feature `lifecycle`), and admin work over many
//! tenants runs one tenant transaction each with [`TenantPool::fan_out`].
//!
//! # Checking a live database
//!
//! [`audit::verify_tables`] reports tables without RLS, policies of the wrong
//! form, keys or indexes that do not lead with the tenant column, and
//! [`drift`] from the tables' structs (a field added to a struct is a
//! missing column, which [`OwnerPool::apply_schema`] refuses to paper over);
//! [`audit::RoleAudit`] lists the login roles that skip every policy or can
//! make themselves such a role, except those you accept.
//! The `tenancy` command line (crate `tenancy-cli`) runs every check from a
//! [`manifest`] of the registered tables, and [`migrate`] (feature
//! `migrate`) versions schema changes and runs them across a fleet of
//! tenant schemas or databases.
//!
//! # SQLite: no Row Level Security
//!
//! With the `sqlite` feature the same [`TenantPool`] and
//! [`TenantTransaction`] run on an embedded SQLite database, for demos,
//! local development and tests of code that does not need RLS. **SQLite has
//! no Row Level Security.** There, the builder's tenant predicate is the only
//! runtime guard: a statement built with a [`TenantId`] is still confined to
//! its tenant, and a transaction still refuses another tenant's statements,
//! but raw SQL through [`TenantTransaction::raw_connection`] is not filtered
//! by anything — it sees and changes every tenant's rows. [`OwnerPool`]
//! creates the tables with [`ddl`] (tenant-led keys, composite foreign keys,
//! enforced: foreign keys are switched on for every connection) and no
//! policies.
//!
//! ```
//! use tenancy_sqlx::ddl::TableSet;
//! use tenancy_sqlx::{CrossTenant, TenantId, TenantPool, TenantPoolOptions, tenant_scoped};
//!
//! #[tenant_scoped]
//! #[derive(Debug, sqlx::FromRow)]
//! pub struct Note {
//!     pub tenant_id: i64,
//!     #[tenancy(primary_key, generated)]
//!     pub id: i64,
//!     pub body: String,
//! }
//!
//! # #[cfg(feature = "sqlite")]
//! # async fn run() -> Result<(), tenancy_sqlx::Error> {
//! let tables = TableSet::new().with::<Note>();
//! let pool = TenantPool::connect_sqlite("sqlite::memory:", TenantPoolOptions::new(&tables)).await?;
//! pool.owner_pool(CrossTenant::with_reason("create the tables")?)
//!     .apply_schema(&tables)
//!     .await?;
//!
//! let tenant = TenantId::from_verified(7);
//! let mut tx = pool.begin(&tenant).await?; // BEGIN IMMEDIATE
//! tx.execute(Note::insert(&tenant).set(Note::BODY, "hello".to_owned())).await?;
//! let notes: Vec<Note> = tx.fetch_all(Note::select(&tenant)).await?;
//! tx.commit().await?;
//! assert_eq!(notes.len(), 1);
//! # Ok(()) }
//! # #[cfg(feature = "sqlite")]
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(sqlx::Error::from)?.block_on(run())?;
//! # Ok::<(), tenancy_sqlx::Error>(())
//! ```
//!
//! # Dashboards: rows of your own
//!
//! Aggregates, window functions and expressions project under aliases, and
//! rows decode by those names into any `FromRow` struct: a dashboard row
//! is not a table. Every reference to a tenant table in the statement is
//! scoped, so the sums are the tenant's.
//!
//! ```
//! use tenancy_sqlx::ddl::TableSet;
//! use tenancy_sqlx::functions::count_all;
//! use tenancy_sqlx::{CrossTenant, TenantId, TenantPool, TenantPoolOptions, ident, tenant_scoped};
//!
//! #[tenant_scoped]
//! pub struct Sale {
//!     pub tenant_id: i64,
//!     #[tenancy(primary_key, generated)]
//!     pub id: i64,
//!     pub status: String,
//!     pub amount: i64,
//! }
//!
//! /// One row of the dashboard.
//! #[derive(Debug, PartialEq, sqlx::FromRow)]
//! struct StatusTotal {
//!     status: String,
//!     sales: i64,
//!     revenue: Option<i64>,
//! }
//!
//! # #[cfg(feature = "sqlite")]
//! # async fn run() -> Result<(), tenancy_sqlx::Error> {
//! let tables = TableSet::new().with::<Sale>();
//! let pool = TenantPool::connect_sqlite("sqlite::memory:", TenantPoolOptions::new(&tables)).await?;
//! pool.owner_pool(CrossTenant::with_reason("create the tables")?)
//!     .apply_schema(&tables)
//!     .await?;
//! for (key, amount) in [(7, 10), (7, 15), (8, 1000)] {
//!     let tenant = TenantId::from_verified(key);
//!     let mut tx = pool.begin(&tenant).await?;
//!     tx.execute(Sale::insert(&tenant).set(Sale::STATUS, "paid").set(Sale::AMOUNT, amount)).await?;
//!     tx.commit().await?;
//! }
//!
//! let tenant = TenantId::from_verified(7);
//! let revenue = Sale::AMOUNT.sum().alias(ident!("revenue"));
//! let mut tx = pool.begin(&tenant).await?;
//! let dashboard: Vec<StatusTotal> = tx
//!     .fetch_all(
//!         Sale::select(&tenant)
//!             .columns((Sale::STATUS, count_all().alias(ident!("sales")), revenue.clone()))
//!             .group_by(Sale::STATUS)
//!             .order_by(revenue.desc()),
//!     )
//!     .await?;
//! tx.commit().await?;
//! assert_eq!(
//!     dashboard,
//!     [StatusTotal { status: "paid".into(), sales: 2, revenue: Some(25) }]
//! );
//! # Ok(()) }
//! # #[cfg(feature = "sqlite")]
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(sqlx::Error::from)?.block_on(run())?;
//! # Ok::<(), tenancy_sqlx::Error>(())
//! ```
//!
//! # Features
//!
//! - `postgres` (default): the PostgreSQL backend.
//! - `sqlite`: the SQLite backend (bundled SQLite; no Row Level Security).
//!   At least one of `postgres` and `sqlite` is needed.
//! - `uuid`: `uuid::Uuid` tenant keys and columns.
//! - `chrono`: `chrono` date and time columns.
//! - `decimal`: `rust_decimal::Decimal` as `NUMERIC` (PostgreSQL only).
//! - `json`: `serde_json::Value` as `JSONB` (`TEXT` on SQLite), with the
//!   JSON operators.
//! - `ipnetwork`: `ipnetwork::IpNetwork` as `INET`, with the containment
//!   operators (PostgreSQL only).
//! - `array`: `Vec<String>` and `Vec<i64>` as `TEXT[]` and `BIGINT[]`, with
//!   `@>` and `= ANY` (PostgreSQL only).
//!
//!   Each type feature turns on the core's column type, its binding and
//!   sqlx's decoding together; the column types and their operators are
//!   listed in the core's documentation (`tenancy_core`, "Column types").
//!
//!   PostgreSQL enum types need no feature: [`pg_enum!`] declares one with
//!   its name and labels written once, for the builder, sqlx's decoding
//!   (`TEXT` holding the label on SQLite) and the schema:
//!   [`OwnerPool::apply_schema`] creates the type before the tables and
//!   adds labels declared later, and [`drift`] reports a type that differs.
//! - `axum`: [`axum`](mod@crate::axum), an extractor that yields a
//!   [`TenantId`] only after verifying a credential, and a verifier of
//!   hashed API keys.
//! - `serde`: `Serialize` for [`TenantId`] (its bare key) and `Serialize`
//!   and `Deserialize` for [`TenantJob`], the unverified form of a tenant
//!   that a job queue carries ([`job`]).
//! - `testing`: [`testing`], a throwaway PostgreSQL cluster for tests, and
//!   the leak-test kit ([`testing::LeakTest`]).
//! - `migrate`: [`migrate`], versioned migrations in sqlx's layout (the
//!   first generated from the registered tables, the next drafted from
//!   drift) and a runner across tenant schemas and databases; and the JSON
//!   form of the [`manifest`].
//! - `lifecycle`: [`lifecycle`], erasure of a tenant with a certificate of
//!   deletion, and the library's append-only records.

#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(not(any(feature = "postgres", feature = "sqlite")))]
compile_error!(
    "tenancy-sqlx needs a backend: enable its `postgres` feature (on by default) or its `sqlite` feature"
);

#[cfg(feature = "adhoc")]
#[cfg_attr(docsrs, doc(cfg(feature = "adhoc")))]
pub mod adhoc;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub mod analytics;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub mod audit;
mod backend;
mod begin;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub mod citus;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub mod directory;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub mod drift;
mod error;
mod execute;
mod fan_out;
mod guard;
mod ident;
pub mod job;
#[cfg(feature = "lifecycle")]
#[cfg_attr(docsrs, doc(cfg(feature = "lifecycle")))]
pub mod lifecycle;
pub mod limits;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub mod manifest;
#[cfg(feature = "migrate")]
#[cfg_attr(docsrs, doc(cfg(feature = "migrate")))]
pub mod migrate;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub mod moves;
mod owner;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub mod partition;
mod pg_enum;
mod pin;
mod pool;
#[cfg(feature = "migrate")]
#[cfg_attr(docsrs, doc(cfg(feature = "migrate")))]
pub mod provision;
mod refusal;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub mod rls;
#[cfg(feature = "postgres")]
mod role;
#[cfg(feature = "postgres")]
mod router;
mod row;
#[cfg(feature = "postgres")]
mod search_path;
mod setting;
pub mod telemetry;
mod transaction;

pub use backend::{Backend, DefaultBackend};
pub use begin::BeginTenant;
pub use error::{Error, PrivilegedRole};
pub use fan_out::{FanOut, FanOutProgress, FanOutReport, OnError, TenantWork};
pub use owner::OwnerPool;
pub use pin::{PlanCacheMode, TransactionSettings};
pub use pool::{TenantPool, TenantPoolOptions};
#[cfg(feature = "postgres")]
pub use router::{RouterOptions, TenantRouter};
pub use row::DecodeRow;
pub use transaction::{TenantRead, TenantTransaction};

/// The PostgreSQL backend (feature `postgres`, on by default).
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use sqlx::Postgres;
/// The SQLite backend (feature `sqlite`).
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sqlx::Sqlite;

// The core's public API, by name, so that what this crate offers is the
// list below and nothing the core adds later leaks through unseen.
pub use tenancy_core::{
    Aggregate, Aliased, AnyColumn, AsExpr, Assign, Assignable, AssignableList, Bind, BuildError,
    BuildStatement, Case, Column, ColumnList, ColumnMeta, ColumnRef, ColumnType, Comparable,
    ConflictTarget, ConflictUpdate, Count, CrossTenant, CrossTenantError, Cte, CteColumn, DdlError,
    Delete, Dialect, DoUpdate, EnumType, Exists, Expr, ExprList, Filter, GlobalTable, Identifier,
    IdentifierError, IdentifierProblem, Insert, InsertRow, IntoExpr, IntoQuery, JobError, JoinKind,
    JoinTarget, KeyValue, MAX_INDEX_NAME_LEN, Numeric, Operand, Orderable, Ordered, Ordering,
    OrderingList, Pii, Select, Selectable, SettingName, SettingNameError, SqlType, Statement,
    StatementScope, StoreKeyError, StoreKeyParts, Subquery, Table, TableAlias, TableMeta,
    TenantColumn, TenantColumnMeta, TenantId, TenantIdError, TenantJob, TenantKey, TenantScoped,
    TenantSql, TenantStatus, TenantStatusError, TenantWitness, TextColumn, Union, Update,
    VerifyTenant, Window, WindowFunction, ddl, functions, global_table, ident, sea_query,
    tenant_scoped, tenant_sql,
};

/// Array columns' operators (feature `array`).
#[cfg(feature = "array")]
#[cfg_attr(docsrs, doc(cfg(feature = "array")))]
pub use tenancy_core::ArrayColumn;
/// Network address columns' operators, and `cidr` networks (feature
/// `ipnetwork`).
#[cfg(feature = "ipnetwork")]
#[cfg_attr(docsrs, doc(cfg(feature = "ipnetwork")))]
pub use tenancy_core::{Cidr, CidrError, NetworkColumn};
/// `interval` values and the timestamps they shift (feature `interval`).
#[cfg(feature = "interval")]
#[cfg_attr(docsrs, doc(cfg(feature = "interval")))]
pub use tenancy_core::{Interval, TimestampColumn};
/// JSON columns' operators, typed `jsonb` documents and `json` documents
/// (feature `json`).
#[cfg(feature = "json")]
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub use tenancy_core::{Json, JsonColumn, JsonbColumn, PlainJson};

#[doc(hidden)]
pub use sqlx as __sqlx;
/// Support for code the macros generate; not public API (see
/// `tenancy_core::__private_v0_1`).
#[doc(hidden)]
pub use tenancy_core::__private_v0_1;
/// For `pg_enum!`: the core's declaration, sqlx, and the decoding helpers.
#[doc(hidden)]
pub use tenancy_core::pg_enum as __core_pg_enum;
#[doc(hidden)]
pub mod __private_enum {
    #[cfg(feature = "postgres")]
    pub use crate::pg_enum::postgres_compatible;
    pub use crate::pg_enum::unknown_label;
}

#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;

/// The README's code, compiled as doc tests so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
