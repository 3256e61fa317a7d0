//! What a tenant's schema or database is called, and the URL the
//! application reaches its database at: derived from the tenant id alone,
//! so that every start, and every instance, finds the same place. The
//! names are validated identifiers before any statement uses them.

use tenancy_sqlx::Identifier;
use tenancy_sqlx::directory::{DatabaseUrl, Placement};

use super::{Isolation, StartupError};

/// The names of the tenant places of one service: schemas in its shared
/// database, databases next to it on the same server.
#[derive(Debug, Clone)]
pub struct PlaceNames {
    /// The shared database's name: the stem of every tenant database's.
    shared_database: String,
    /// The application role's URL of the shared database.
    app_url: String,
}

impl PlaceNames {
    /// The names next to `shared_database`, reached by the application at
    /// `app_url` (a tenant database's URL is `app_url` with its database
    /// replaced).
    #[must_use]
    pub fn new(shared_database: &str, app_url: &str) -> Self {
        PlaceNames {
            shared_database: shared_database.to_owned(),
            app_url: app_url.to_owned(),
        }
    }

    /// `tenant_<id>` (`tenant_n<id>` for a negative id, so that no two
    /// tenants share one): the schema of a tenant in the schema model.
    pub fn schema_of(tenant: i64) -> Result<Identifier, StartupError> {
        let name = format!("tenant_{}", id_in_name(tenant));
        Ok(Identifier::new("schema", &name).map_err(tenancy_sqlx::Error::from)?)
    }

    /// `<shared database>_tenant_<id>`: the database of a tenant in the
    /// database model.
    pub fn database_of(&self, tenant: i64) -> Result<Identifier, StartupError> {
        let name = format!("{}_tenant_{}", self.shared_database, id_in_name(tenant));
        Ok(Identifier::new("database", &name).map_err(tenancy_sqlx::Error::from)?)
    }

    /// The directory's placement of `tenant` in `isolation`: the schema, or
    /// the application's URL of the database.
    pub fn placement(&self, tenant: i64, isolation: Isolation) -> Result<Placement, StartupError> {
        Ok(match isolation {
            Isolation::Shared => Placement::Shared,
            Isolation::Schema => Placement::Schema(Self::schema_of(tenant)?),
            Isolation::Database => {
                let database = self.database_of(tenant)?;
                Placement::Database(DatabaseUrl::new(with_database(
                    &self.app_url,
                    database.as_str(),
                ))?)
            }
        })
    }

    /// The application role's URL of the shared database.
    #[must_use]
    pub fn app_url(&self) -> &str {
        &self.app_url
    }
}

/// `url` with its database replaced by `database` (the path between the
/// authority and the query).
#[must_use]
pub fn with_database(url: &str, database: &str) -> String {
    let authority = url.find("://").map_or(0, |at| at + 3);
    let path = url[authority..]
        .find(['/', '?'])
        .map_or(url.len(), |at| authority + at);
    let query = url[path..].find('?').map_or(url.len(), |at| path + at);
    format!("{}/{database}{}", &url[..path], &url[query..])
}

/// A tenant id as part of a name: its digits, `n` first when negative.
fn id_in_name(tenant: i64) -> String {
    if tenant < 0 {
        format!("n{}", tenant.unsigned_abs())
    } else {
        tenant.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_two_tenants_share_a_schema_name() {
        let names: Vec<String> = [7, -7, 0]
            .into_iter()
            .filter_map(|tenant| PlaceNames::schema_of(tenant).ok())
            .map(|schema| schema.as_str().to_owned())
            .collect();
        assert_eq!(names, ["tenant_7", "tenant_n7", "tenant_0"]);
    }

    #[test]
    fn a_tenant_database_url_keeps_everything_but_the_database() {
        assert_eq!(
            with_database(
                "postgres://app:pw@db:6432/orders?sslmode=require",
                "orders_tenant_1"
            ),
            "postgres://app:pw@db:6432/orders_tenant_1?sslmode=require"
        );
        assert_eq!(
            with_database("postgres://app@db", "orders_tenant_2"),
            "postgres://app@db/orders_tenant_2"
        );
    }
}
