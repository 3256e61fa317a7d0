//! The HTTP API, one module per resource.

pub mod admin;
pub mod customers;
pub mod orders;
pub mod plan;
