//! The HTTP API, one module per resource.

pub mod accounts;
pub mod admin;
pub mod customers;
pub mod dashboard;
pub mod orders;
pub mod plan;
