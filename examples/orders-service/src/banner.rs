//! What the binary prints when it is ready: where it listens, where each
//! demo tenant lives, the demo API keys, and `curl` commands that work as
//! printed.

use std::fmt::Write as _;
use std::net::SocketAddr;

use sqlx::postgres::PgConnectOptions;
use tenancy_sqlx::directory::Placement;

use crate::seed::{ACME, DEMO_ADMIN_KEY, DEMO_TENANTS, GLOBEX, Seeded};
use crate::startup::DatabaseConfig;

/// The first line of the banner; the rest follows once the service is
/// ready to take requests.
pub const READY_LINE: &str = "orders-service listening on";

/// What precedes each tenant's place in the banner.
pub const PLACED_IN: &str = "lives in";

/// The last line of the banner.
pub const STOP_LINE: &str = "Ctrl-C stops the service.";

/// One example request: what it shows, and the command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// A one-line explanation.
    pub comment: String,
    /// A `curl` command line.
    pub command: String,
}

/// The example requests, against the service at `address`, using the ids
/// seeding left in the database.
#[must_use]
pub fn examples(address: SocketAddr, seeded: Seeded) -> Vec<Example> {
    let base = format!("http://{address}");
    let acme = format!("-H 'Authorization: Bearer {}'", ACME.api_key);
    let globex = format!("-H 'Authorization: Bearer {}'", GLOBEX.api_key);
    let admin = format!("-H 'Authorization: Bearer {DEMO_ADMIN_KEY}'");
    let order = seeded.acme.order;
    let acme_only = seeded.acme_only_order;
    let example = |comment: String, command: String| Example { comment, command };
    vec![
        example(
            format!("{}'s orders, newest first", ACME.name),
            format!("curl -s {acme} '{base}/orders?limit=10'"),
        ),
        example(
            format!("{}'s order {order} and its items", ACME.name),
            format!("curl -s {acme} {base}/orders/{order}/items"),
        ),
        example(
            format!(
                "{} asks for {}'s order {acme_only}: 404, the same answer as for an order that does not exist",
                GLOBEX.name, ACME.name
            ),
            format!("curl -s -i {globex} {base}/orders/{acme_only}"),
        ),
        example(
            format!("{} places an order", ACME.name),
            format!(
                "curl -s {acme} -H 'Content-Type: application/json' \
                 -d '{{\"customer_id\": {}, \"items\": [{{\"sku\": \"ACME-TNT\", \"quantity\": 3, \"unit_price_cents\": 750}}]}}' \
                 {base}/orders",
                seeded.acme.customer
            ),
        ),
        example(
            format!("{}'s plan, from the shared plan catalogue", ACME.name),
            format!("curl -s {acme} {base}/plan"),
        ),
        example(
            format!(
                "as the admin, export the paid orders of {} and {} as CSV (one tenant transaction each; each export is recorded, append-only, in export_audit)",
                ACME.name, GLOBEX.name
            ),
            format!(
                "curl -s {admin} '{base}/admin/export/orders?tenants={},{}&format=csv&status=paid'",
                ACME.id, GLOBEX.id
            ),
        ),
        example(
            format!("{}'s key on the admin export: 403", ACME.name),
            format!(
                "curl -s -i {acme} '{base}/admin/export/orders?tenants={}'",
                ACME.id
            ),
        ),
        example(
            "no API key: 401".to_owned(),
            format!("curl -s -i {base}/orders"),
        ),
    ]
}

/// Where a tenant lives, in a few words: `shared tables`, `schema
/// tenant_1`, `database orders_tenant_1` (never the URL, which may hold a
/// password).
#[must_use]
pub fn placement(placement: &Placement) -> String {
    match placement {
        Placement::Shared => "shared tables".to_owned(),
        Placement::Schema(schema) => format!("schema {}", schema.as_str()),
        Placement::Database(url) => {
            let database = url
                .as_str()
                .parse::<PgConnectOptions>()
                .ok()
                .and_then(|options| options.get_database().map(str::to_owned))
                .unwrap_or_else(|| url.to_string());
            format!("database {database}")
        }
    }
}

/// The whole banner; `places` says where each demo tenant lives (see
/// [`placement`]).
#[must_use]
pub fn banner(
    address: SocketAddr,
    database: &DatabaseConfig,
    places: &[(i64, String)],
    seeded: Seeded,
) -> String {
    let mut text = format!("{READY_LINE} http://{address}\n");
    let _ = writeln!(text, "database: {}", database.describe());
    let _ = writeln!(text, "\nTenants:");
    for tenant in DEMO_TENANTS {
        let place = places
            .iter()
            .find(|(id, _)| *id == tenant.id)
            .map_or("not placed", |(_, place)| place.as_str());
        let _ = writeln!(text, "  {:<20} {PLACED_IN} {place}", tenant.name);
    }
    let _ = writeln!(
        text,
        "\nDemo API keys (send `Authorization: Bearer <key>`):"
    );
    for tenant in DEMO_TENANTS {
        let _ = writeln!(text, "  {:<20} {}", tenant.name, tenant.api_key);
    }
    let _ = writeln!(text, "  {:<20} {DEMO_ADMIN_KEY} (only /admin)", "admin");
    let _ = writeln!(text, "\nTry:");
    for example in examples(address, seeded) {
        let _ = writeln!(text, "  # {}\n  {}", example.comment, example.command);
    }
    let _ = write!(text, "\n{STOP_LINE}");
    text
}
