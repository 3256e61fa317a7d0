// A PostgreSQL enum label is 1 to 63 bytes: an empty label is refused when
// the program is compiled, not when `CREATE TYPE` first runs.
use tenancy_core::pg_enum;

pg_enum! {
    pub enum TicketState as "ticket_state" {
        Open = "open",
        Unknown = "",
    }
}

fn main() {}
