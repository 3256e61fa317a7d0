// A PostgreSQL enum column is compared with the Rust enum's variants, not
// with text: a label that is not one of them cannot be written.
use tenancy_core::{TenantId, pg_enum, tenant_scoped};

pg_enum! {
    pub enum TicketState as "ticket_state" {
        Open = "open",
        Closed = "closed",
    }
}

#[tenant_scoped]
pub struct Ticket {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub state: TicketState,
}

fn main() {
    let tenant = TenantId::<i64>::from_verified(42);
    let _tickets = Ticket::select(&tenant).filter(Ticket::STATE.eq("open"));
}
