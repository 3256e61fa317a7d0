//! The scoped query builder.
//!
//! Each builder is a thin typed wrapper around a type-erased, owned
//! description of its statement, so the code that writes statements is
//! compiled once, not per table. `build` walks that description once with
//! the [`writer`]: [`render`] adds the tenant predicate to every reference to
//! a tenant-scoped table, and nothing else in the crate writes one, so there
//! is one place to audit.

mod delete;
mod filter;
mod insert;
mod lists;
mod render;
mod scope;
mod select;
mod subquery;
mod update;
pub(crate) mod writer;

pub use delete::Delete;
pub use filter::{Filter, TextColumn};
pub use insert::Insert;
pub use lists::{AssignableList, ColumnList, ConflictTarget};
pub use select::{Count, Exists, Select};
pub use subquery::Subquery;
pub use update::Update;
