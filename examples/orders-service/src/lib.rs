//! An orders service for many tenants, on axum and tenancy.
//!
//! Each request's tenant comes from its API key, verified by the library's
//! extractor; each handler runs in one tenant transaction and builds every
//! statement with the verified tenant, so it cannot read or write another
//! tenant's rows. On PostgreSQL, Row Level Security backs that up; on
//! SQLite, the embedded default, the builder's predicate is the guard.
//!
//! The binary (`src/main.rs`) reads its settings and starts the server; the
//! modules here are the service, reusable by the tests.

pub mod app;
pub mod auth;
pub mod backend;
pub mod banner;
pub mod error;
pub mod export;
pub mod extract;
pub mod model;
pub mod routes;
pub mod schema;
pub mod seed;
pub mod startup;
