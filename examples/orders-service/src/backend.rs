//! The two databases the service runs on, SQLite and PostgreSQL, and what
//! code generic over them gets from each: the routes and the demo data.
//!
//! The handlers are generic over where tenant transactions come from
//! (`T: BeginTenant`), so each says which row types it decodes from
//! `T::Backend` (`Order: DecodeRow<T::Backend>`), and [`app::router`]
//! lists them all once. Rust does not carry a function's or a trait's
//! `where` clauses to its callers, so any other generic function that
//! builds the router would have to repeat that list. Instead, code that is
//! generic over the backend asks for `T::Backend: ServiceBackend` and calls
//! [`ServiceBackend::router`]: each implementation below names a concrete
//! backend, where every bound of the list is known to hold, so the list is
//! checked there and written nowhere else. A new endpoint adds its row
//! types to its handler and to [`app::router`], and nothing more.

use std::future::Future;

use axum::Router;
use tenancy_sqlx::{Backend, BeginTenant, OwnerPool, Postgres, Sqlite};

use crate::app::{self, AppState};
use crate::seed::{self, SeedError, Seeded};

/// A backend the service runs on: SQLite or PostgreSQL.
pub trait ServiceBackend: Backend {
    /// The service's routes over `state` ([`app::router`]).
    fn router<T: BeginTenant<Backend = Self>>(state: AppState<T>) -> Router;

    /// Seeds the demo catalogue and tenants ([`seed::demo_data`]).
    fn demo_data<T: BeginTenant<Backend = Self>>(
        owner: &OwnerPool<Self>,
        tenants: &T,
    ) -> impl Future<Output = Result<Seeded, SeedError>> + Send;
}

/// The implementation for each concrete backend: the same two calls,
/// whose bounds the compiler checks here, once per backend.
macro_rules! service_backend {
    ($($backend:ty),*) => {$(
        impl ServiceBackend for $backend {
            fn router<T: BeginTenant<Backend = Self>>(state: AppState<T>) -> Router {
                app::router(state)
            }

            fn demo_data<T: BeginTenant<Backend = Self>>(
                owner: &OwnerPool<Self>,
                tenants: &T,
            ) -> impl Future<Output = Result<Seeded, SeedError>> + Send {
                seed::demo_data(owner, tenants)
            }
        }
    )*};
}

service_backend!(Sqlite, Postgres);
