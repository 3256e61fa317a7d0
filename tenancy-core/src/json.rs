//! Typed JSON documents in `jsonb` columns (feature `json`).

use core::ops::Deref;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A JSON document of type `T` in a `jsonb` column (`TEXT` in SQLite):
/// the value, and the document it serializes to.
///
/// The document is made once, by [`Json::new`], which reports a value that
/// cannot be serialized (a map with non-string keys, say) as an error, so
/// that binding it later cannot fail. The column has the JSON operators of
/// [`JsonColumn`](crate::JsonColumn) and compares with other `Json<T>`.
///
/// A row decodes it from the column's document, deserialized into `T` (an
/// error for a document of another shape): with tenancy-sqlx (the core's
/// feature `sqlx`) `Json<T>` and `Option<Json<T>>` are fields of a
/// `sqlx::FromRow` row as they are; `#[sqlx(try_from =
/// "serde_json::Value")]` also works.
///
/// ```
/// # include!("../docs/doctest_setup.rs");
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use tenancy_core::{BuildStatement, Json, TenantId, tenant_scoped};
///
/// #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
/// pub struct Settings {
///     pub theme: String,
/// }
///
/// #[tenant_scoped]
/// pub struct Profile {
///     pub tenant_id: i64,
///     #[tenancy(primary_key)]
///     pub id: i64,
///     pub settings: Json<Settings>,
/// }
///
/// let tenant = TenantId::<i64>::from_verified(7);
/// let dark = Json::new(Settings { theme: "dark".to_owned() })?;
/// assert_eq!(dark.theme, "dark");
/// let statement = Profile::update(&tenant)
///     .set(Profile::SETTINGS, dark)
///     .filter(Profile::SETTINGS.get_text("theme").eq("light"))
///     .to_postgres()?;
/// assert_eq!(
///     statement.sql(),
///     r#"UPDATE "public"."profiles" SET "settings" = $1 WHERE "profiles"."tenant_id" = $2 AND "profiles"."settings" ->> $3 = $4"#
/// );
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Json<T> {
    value: T,
    document: serde_json::Value,
}

impl<T: Serialize> Json<T> {
    /// `value` with its JSON document; an error when `value` cannot be
    /// serialized to JSON.
    pub fn new(value: T) -> Result<Self, serde_json::Error> {
        let document = serde_json::to_value(&value)?;
        Ok(Json { value, document })
    }
}

impl<T> Json<T> {
    /// The document the value serializes to, as it is stored.
    #[must_use]
    pub fn document(&self) -> &serde_json::Value {
        &self.document
    }

    /// The value.
    #[must_use]
    pub fn into_inner(self) -> T {
        self.value
    }

    pub(crate) fn into_document(self) -> serde_json::Value {
        self.document
    }
}

impl<T> Deref for Json<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

/// Deserializes a stored document into `T`, keeping the document.
impl<T: DeserializeOwned> TryFrom<serde_json::Value> for Json<T> {
    type Error = serde_json::Error;

    fn try_from(document: serde_json::Value) -> Result<Self, Self::Error> {
        let value = T::deserialize(&document)?;
        Ok(Json { value, document })
    }
}

/// A document in a `json` column (not `jsonb`): PostgreSQL keeps its text
/// as written, key order and duplicate keys included; `TEXT` holding JSON
/// in SQLite.
///
/// A `json` column has the member operators `->` and `->>` of
/// [`JsonColumn`](crate::JsonColumn), whose results are `json` again; it
/// has neither `@>` nor `?` (PostgreSQL has them for `jsonb` only) nor
/// `=`, `<` or `IN` (PostgreSQL has no equality of `json`): a filter that
/// uses them does not compile. Values bind as JSON cast to `json`. With
/// tenancy-sqlx it decodes as a field of a `sqlx::FromRow` row, and
/// `Option<PlainJson>` from a nullable column.
///
/// ```
/// # include!("../docs/doctest_setup.rs");
/// # fn main() -> Result<(), tenancy_core::BuildError> {
/// use tenancy_core::{BuildStatement, PlainJson, TenantId};
///
/// let tenant = TenantId::<i64>::from_verified(7);
/// let statement = Webhook::update(&tenant)
///     .set(Webhook::BODY, PlainJson(serde_json::json!({"event": "paid"})))
///     .filter(Webhook::BODY.get("event").get_text("kind").eq("card"))
///     .to_postgres()?;
/// assert_eq!(
///     statement.sql(),
///     r#"UPDATE "public"."webhooks" SET "body" = CAST($1 AS JSON) WHERE "webhooks"."tenant_id" = $2 AND ("webhooks"."body" -> $3) ->> $4 = $5"#
/// );
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct PlainJson(pub serde_json::Value);

impl From<serde_json::Value> for PlainJson {
    fn from(document: serde_json::Value) -> Self {
        PlainJson(document)
    }
}
