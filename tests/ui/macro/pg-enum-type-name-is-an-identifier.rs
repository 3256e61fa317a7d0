// The name of a PostgreSQL enum type is written into statements (in the
// cast of every value), so it must be an identifier.
use tenancy_core::pg_enum;

pg_enum! {
    pub enum TicketState as "ticket state\"; DROP TABLE tickets; --" {
        Open = "open",
    }
}

fn main() {}
