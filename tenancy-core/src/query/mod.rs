//! The scoped query builder.
//!
//! Builders hold type-erased, owned descriptions of a statement; they are
//! lowered to sea-query only in `build`, where [`render`] adds the tenant
//! predicate to every reference to a tenant-scoped table. Nothing else in
//! the crate writes a tenant predicate, so there is one place to audit.

mod delete;
mod filter;
mod insert;
mod lists;
mod render;
mod scope;
mod select;
mod shape;
mod subquery;
mod update;

pub use delete::Delete;
pub use filter::{Filter, TextColumn};
pub use insert::Insert;
pub use lists::{AssignableList, ColumnList, ConflictTarget};
pub use select::{Count, Exists, Select};
pub use subquery::Subquery;
pub use update::Update;
