#![doc = include_str!("../docs/crate.md")]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod analysis;
mod check;
mod confine;
mod diagnostic;
mod lex;
mod name;
mod source;
mod template;

pub use analysis::{
    Analysis, JoinKind, Place, Requirement, Rule, Scope, StatementKind, TableKind, TableRef,
    tenant_column_in, tenant_column_is_not,
};
pub use check::check;
pub use confine::{ANALYTICS_FUNCTIONS, AllowList, AllowListError, Confined, confine};
pub use diagnostic::{Diagnostic, Diagnostics, Problem};
pub use template::{
    Backend, Param, QualifiedName, RenderError, Rendered, Segment, Template, quote_identifier,
};
