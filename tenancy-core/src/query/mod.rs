//! The scoped query builder.
//!
//! Each builder is a thin typed wrapper around a type-erased, owned
//! description of its statement, so the code that writes statements is
//! compiled once, not per table. `build` walks that description once with
//! the [`writer`]: [`render`] adds the tenant predicate to every reference to
//! a tenant-scoped table, and nothing else in the crate writes one, so there
//! is one place to audit.
//!
//! Expressions ([`expr`]) are typed by the Rust type of their value; what a
//! column type supports (arithmetic, `SUM`, `MIN`, `LIKE`) is declared with
//! the type, in `column_type`.

mod aggregate;
mod compound;
mod cte;
mod delete;
mod expr;
mod filter;
pub mod functions;
mod insert;
mod lists;
mod methods;
mod order;
mod render;
mod returning;
mod scope;
mod select;
mod source;
mod subquery;
mod update;
mod window;
pub(crate) mod writer;

pub use aggregate::Aggregate;
pub use compound::{IntoQuery, Union};
pub use cte::{Cte, CteColumn};
pub use delete::Delete;
pub use expr::{AsExpr, Assign, Case, Expr, IntoExpr, Operand, Orderable};
pub use filter::Filter;
pub use insert::{ConflictUpdate, DoUpdate, Insert};
pub use lists::{AssignableList, ColumnList, ConflictTarget, ExprList, OrderingList, Selectable};
pub use order::{Aliased, Ordering};
pub use select::{Count, Exists, Select};
pub use source::{JoinKind, JoinTarget, TableAlias};
pub use subquery::Subquery;
pub use update::Update;
pub use window::{Window, WindowFunction};
