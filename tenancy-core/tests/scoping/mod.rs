//! Support for the scoping properties: statement plans, their strategies,
//! and the SQL oracle that checks what the builder emits.

pub mod oracle;
pub mod plans;
pub mod strategies;
