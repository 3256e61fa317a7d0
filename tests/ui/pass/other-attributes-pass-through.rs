// Other derives and their attributes see the struct as written, minus our
// `#[tenancy(..)]` attributes.
use tenancy_core::{Table, tenant_scoped};

#[tenant_scoped]
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub tenant_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    #[tenancy(rename = "state")]
    #[sqlx(rename = "state")]
    pub status: String,
    /// Doc comments stay, too.
    #[tenancy(skip)]
    #[sqlx(skip)]
    #[serde(skip)]
    pub cached_label: Option<String>,
}

fn main() -> Result<(), serde_json::Error> {
    let order = Order {
        tenant_id: 7,
        id: 1,
        status: "open".to_owned(),
        cached_label: Some("#1".to_owned()),
    };
    let json = serde_json::to_string(&order)?;
    assert_eq!(json, r#"{"tenantId":7,"id":1,"status":"open"}"#);
    assert_eq!(order.clone(), order);
    assert!(Order::meta().column("state").is_some());
    Ok(())
}
