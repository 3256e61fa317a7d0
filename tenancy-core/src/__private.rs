//! Items that generated code calls. Not public API: names and signatures may
//! change in any release.

pub use core::option::Option::{None, Some};
pub use sea_query::Value;
