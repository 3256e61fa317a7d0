//! What the database should contain, as data: every registered table with
//! the columns, keys and indexes its generated DDL creates, the tenant
//! setting its policy reads and the application role it is granted to.
//!
//! A [`Manifest`] is made from the application's [`TableSet`] and
//! [`RlsPolicy`]. The drift check ([`drift`](crate::drift)) and the catalog
//! audit ([`audit`](crate::audit)) compare the live database with it, and
//! the migration generator ([`migrate`](crate::migrate), feature `migrate`)
//! writes its DDL into migration files. With the `migrate` feature it is
//! also written as JSON, which is how the `tenancy` command line learns the
//! tables of an application it cannot link against:
//!
//! ```
//! use tenancy_sqlx::manifest::Manifest;
//! use tenancy_sqlx::rls::RlsPolicy;
//! # #[tenancy_sqlx::tenant_scoped] pub struct Order { pub tenant_id: i64, #[tenancy(primary_key, generated)] pub id: i64, #[tenancy(index)] pub status: String }
//!
//! let tables = tenancy_sqlx::ddl::TableSet::new().with::<Order>();
//! let manifest = Manifest::new(&tables, &RlsPolicy::for_role("app")?)?;
//! let orders = &manifest.tables()[0];
//! assert_eq!(orders.primary_key(), ["tenant_id", "id"]);
//! assert_eq!(orders.indexes()[0].columns(), ["tenant_id", "status"]);
//! # #[cfg(feature = "migrate")]
//! std::fs::write(std::env::temp_dir().join("tenancy.json"), manifest.to_json())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Everything in it is read back from the statements
//! [`OwnerPool::apply_schema`](crate::OwnerPool::apply_schema) runs
//! ([`ddl::create_table`] and [`RlsPolicy::statements`]), so the checks
//! hold the database to exactly what the library would create.

mod parse;

use tenancy_core::ddl::{self, TableSet};
use tenancy_core::{Dialect, SqlType, TableMeta};

use crate::Error;
use crate::ident::Identifier;
use crate::rls::RlsPolicy;
use crate::setting::SettingName;

/// The version of the manifest's JSON form this library writes and reads.
pub const FORMAT: u32 = 1;

/// The registered tables, the tenant setting and the application role, as
/// data (see the [module documentation](self)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "migrate", derive(serde::Serialize, serde::Deserialize))]
pub struct Manifest {
    format: u32,
    #[cfg_attr(feature = "migrate", serde(with = "json::setting"))]
    setting: SettingName,
    #[cfg_attr(feature = "migrate", serde(with = "json::schema"))]
    schema: Identifier,
    #[cfg_attr(feature = "migrate", serde(with = "json::role"))]
    role: Option<Identifier>,
    /// Read as none from a manifest written before enum types were kept.
    #[cfg_attr(feature = "migrate", serde(default))]
    enum_types: Vec<EnumTypeSpec>,
    tables: Vec<TableSpec>,
}

/// A PostgreSQL enum type the tables use ([`pg_enum!`](crate::pg_enum)):
/// created before them, its labels in declaration order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "migrate", derive(serde::Serialize, serde::Deserialize))]
pub struct EnumTypeSpec {
    schema: Option<String>,
    name: String,
    labels: Vec<String>,
    /// Made from the checked name and labels, never read from JSON.
    #[cfg_attr(feature = "migrate", serde(skip))]
    create: String,
}

/// One registered table: what its generated DDL creates.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "migrate", derive(serde::Serialize, serde::Deserialize))]
pub struct TableSpec {
    schema: Option<String>,
    name: String,
    tenant: Option<TenantSpec>,
    columns: Vec<ColumnSpec>,
    primary_key: Vec<String>,
    unique: Vec<Vec<String>>,
    foreign_keys: Vec<ForeignKeySpec>,
    indexes: Vec<IndexSpec>,
    create: Vec<String>,
    rls: Vec<String>,
}

/// The tenant column of a tenant-scoped table.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "migrate", derive(serde::Serialize, serde::Deserialize))]
pub struct TenantSpec {
    column: String,
    key_type: KeyType,
}

/// The SQL type of a tenant key, which the policy casts the setting to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "migrate",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "lowercase")
)]
#[non_exhaustive]
pub enum KeyType {
    /// `bigint`.
    Bigint,
    /// `integer`.
    Integer,
    /// `uuid`.
    Uuid,
}

/// One column, as the generated `CREATE TABLE` defines it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "migrate", derive(serde::Serialize, serde::Deserialize))]
pub struct ColumnSpec {
    name: String,
    sql_type: String,
    nullable: bool,
    generated: bool,
}

/// A foreign key: tenant-led on both sides when its target is tenant-scoped.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "migrate", derive(serde::Serialize, serde::Deserialize))]
pub struct ForeignKeySpec {
    columns: Vec<String>,
    target_schema: Option<String>,
    target: String,
    target_columns: Vec<String>,
}

/// An index the generated DDL creates (keys bring their own indexes).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "migrate", derive(serde::Serialize, serde::Deserialize))]
pub struct IndexSpec {
    name: String,
    columns: Vec<String>,
    create: String,
}

impl Manifest {
    /// The manifest of `tables`, protected by `policy`: the tables'
    /// generated DDL, read back into columns, keys and indexes, the set's
    /// tenant setting, and the RLS statements and grants of `policy`. With
    /// [`RlsPolicy::for_public`] no application role is known, and the
    /// checks made from the manifest leave out the policy's target role and
    /// the role's privileges.
    pub fn new(tables: &TableSet, policy: &RlsPolicy) -> Result<Self, Error> {
        let setting = tables.setting();
        let enum_types = tables
            .enum_types()?
            .into_iter()
            .map(|enum_type| {
                EnumTypeSpec::new(
                    enum_type.schema.map(str::to_owned),
                    enum_type.name.to_owned(),
                    enum_type
                        .labels
                        .iter()
                        .map(|&label| label.to_owned())
                        .collect(),
                )
            })
            .collect::<Result<_, _>>()?;
        let specs = tables
            .tables()?
            .iter()
            .map(|table| TableSpec::of(table, policy, setting))
            .collect::<Result<_, _>>()?;
        Ok(Manifest {
            format: FORMAT,
            setting: setting.clone(),
            schema: tables.schema(Dialect::Postgres).clone(),
            role: policy.role().cloned(),
            enum_types,
            tables: specs,
        })
    }

    /// The PostgreSQL enum types the tables use, each once, in the order of
    /// their first use.
    #[must_use]
    pub fn enum_types(&self) -> &[EnumTypeSpec] {
        &self.enum_types
    }

    /// The schema the set places tables declared without one in (`public`
    /// unless [`TableSet::in_schema`] names another): where the checks look
    /// for them unless told to look in a tenant's schema.
    #[must_use]
    pub fn schema(&self) -> &Identifier {
        &self.schema
    }

    /// The setting that carries the tenant.
    #[must_use]
    pub fn setting(&self) -> &SettingName {
        &self.setting
    }

    /// The application role, or `None` when the policies are for `PUBLIC`
    /// (or the role is not known).
    #[must_use]
    pub fn role(&self) -> Option<&Identifier> {
        self.role.as_ref()
    }

    /// The tables, in the order they are created.
    #[must_use]
    pub fn tables(&self) -> &[TableSpec] {
        &self.tables
    }

    /// The registered table `schema.name` (`None`: a table declared without
    /// a schema).
    #[must_use]
    pub fn table(&self, schema: Option<&str>, name: &str) -> Option<&TableSpec> {
        self.tables
            .iter()
            .find(|table| table.schema.as_deref() == schema && table.name == name)
    }

    /// Every statement [`OwnerPool::apply_schema`](crate::OwnerPool::apply_schema)
    /// runs for these tables, in order: each enum type's `CREATE TYPE`
    /// (unless it exists), each table's DDL, then the RLS statements and
    /// grants of every table.
    #[must_use]
    pub fn schema_statements(&self) -> Vec<String> {
        let types = self.enum_types.iter().map(|enum_type| &enum_type.create);
        let create = self.tables.iter().flat_map(|table| table.create.iter());
        let rls = self.tables.iter().flat_map(|table| table.rls.iter());
        types.chain(create).chain(rls).cloned().collect()
    }
}

impl TableSpec {
    fn of(
        table: &'static TableMeta,
        policy: &RlsPolicy,
        setting: &SettingName,
    ) -> Result<Self, Error> {
        let create = ddl::create_table_unqualified(table, Dialect::Postgres)?;
        let unreadable = |error: parse::ParseError| Error::UnreadableDdl {
            table: table.qualified_name(),
            reason: error.to_string(),
        };
        let (first, index_statements) =
            create.split_first().ok_or_else(|| Error::UnreadableDdl {
                table: table.qualified_name(),
                reason: "the generator returned no statement".to_owned(),
            })?;
        let parsed = parse::create_table(first).map_err(unreadable)?;
        let indexes = index_statements
            .iter()
            .map(|statement| {
                parse::create_index(statement)
                    .map(|index| IndexSpec {
                        name: index.name,
                        columns: index.columns,
                        create: statement.clone(),
                    })
                    .map_err(unreadable)
            })
            .collect::<Result<_, _>>()?;
        let tenant = match &table.tenant {
            Some(tenant) => Some(TenantSpec {
                column: tenant.name.to_owned(),
                key_type: KeyType::of(table, tenant.name, tenant.sql_type)?,
            }),
            None => None,
        };
        Ok(TableSpec {
            schema: table.schema.map(str::to_owned),
            name: table.name.to_owned(),
            tenant,
            columns: parsed
                .columns
                .into_iter()
                .map(|column| ColumnSpec {
                    name: column.name,
                    sql_type: column.sql_type,
                    nullable: column.nullable,
                    generated: column.generated,
                })
                .collect(),
            primary_key: parsed.primary_key,
            unique: parsed.unique,
            foreign_keys: parsed
                .foreign_keys
                .into_iter()
                .map(|key| {
                    // The target's declared schema, not the one the DDL
                    // names: a table declared without one is placed with
                    // the referencing table, wherever that is.
                    let declared = key
                        .columns
                        .last()
                        .and_then(|column| table.column(column))
                        .and_then(|column| column.references)
                        .map(|target| target().schema);
                    ForeignKeySpec {
                        columns: key.columns,
                        target_schema: declared
                            .unwrap_or(key.target.schema.as_deref())
                            .map(str::to_owned),
                        target: key.target.name,
                        target_columns: key.target_columns,
                    }
                })
                .collect(),
            indexes,
            rls: policy.rls_of(table, setting)?,
            create,
        })
    }

    /// The schema the table was declared in; `None` for a table that lives
    /// in whatever schema it is placed in (the `search_path`'s first).
    #[must_use]
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// The table's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `schema.name` or `name`, unquoted, for messages.
    #[must_use]
    pub fn qualified_name(&self) -> String {
        match &self.schema {
            Some(schema) => format!("{schema}.{}", self.name),
            None => self.name.clone(),
        }
    }

    /// The tenant column, or `None` for a global table.
    #[must_use]
    pub fn tenant(&self) -> Option<&TenantSpec> {
        self.tenant.as_ref()
    }

    /// Whether the table is tenant-scoped.
    #[must_use]
    pub fn is_scoped(&self) -> bool {
        self.tenant.is_some()
    }

    /// Every column, the tenant column first, in the order of the DDL.
    #[must_use]
    pub fn columns(&self) -> &[ColumnSpec] {
        &self.columns
    }

    /// The column named `name`.
    #[must_use]
    pub fn column(&self, name: &str) -> Option<&ColumnSpec> {
        self.columns.iter().find(|column| column.name == name)
    }

    /// The primary key's columns (tenant column first); empty without one.
    #[must_use]
    pub fn primary_key(&self) -> &[String] {
        &self.primary_key
    }

    /// The unique keys' columns (each tenant-led on a tenant-scoped table).
    #[must_use]
    pub fn unique(&self) -> &[Vec<String>] {
        &self.unique
    }

    /// The foreign keys.
    #[must_use]
    pub fn foreign_keys(&self) -> &[ForeignKeySpec] {
        &self.foreign_keys
    }

    /// The indexes the DDL creates besides the keys' own.
    #[must_use]
    pub fn indexes(&self) -> &[IndexSpec] {
        &self.indexes
    }

    /// The `CREATE TABLE` and `CREATE INDEX` statements.
    #[must_use]
    pub fn create_statements(&self) -> &[String] {
        &self.create
    }

    /// The row-level security statements and grants.
    #[must_use]
    pub fn rls_statements(&self) -> &[String] {
        &self.rls
    }

    /// The table's quoted name in `schema` when it was declared without one:
    /// where a schema-per-tenant deployment places its copy.
    pub(crate) fn quoted_in(&self, placement: Option<&Identifier>) -> Result<String, Error> {
        let schema = self.schema.as_deref().or(placement.map(Identifier::as_str));
        crate::ident::quoted_table(schema, &self.name)
    }

    /// The table's name for messages, in `placement` when declared without
    /// a schema.
    pub(crate) fn display_in(&self, placement: Option<&Identifier>) -> String {
        match (&self.schema, placement) {
            (None, Some(schema)) => format!("{schema}.{}", self.name),
            _ => self.qualified_name(),
        }
    }
}

impl EnumTypeSpec {
    /// The schema the type was declared in; `None` for a type that lives
    /// with the tables, in whatever schema they are placed in.
    #[must_use]
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// The type's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The labels, in declaration order.
    #[must_use]
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// `schema.name` or `name`, unquoted, for messages.
    #[must_use]
    pub fn qualified_name(&self) -> String {
        match &self.schema {
            Some(schema) => format!("{schema}.{}", self.name),
            None => self.name.clone(),
        }
    }

    /// The type as the tables' DDL names it in a column: `"schema"."name"`,
    /// or `"name"` for a type declared without a schema.
    #[must_use]
    pub fn column_type(&self) -> String {
        match &self.schema {
            Some(schema) => format!("\"{schema}\".\"{}\"", self.name),
            None => format!("\"{}\"", self.name),
        }
    }

    /// The type, its name and labels checked, with the statement that
    /// creates it.
    fn new(schema: Option<String>, name: String, labels: Vec<String>) -> Result<Self, Error> {
        let create = ddl::create_enum_type(schema.as_deref(), &name, &labels)?;
        Ok(EnumTypeSpec {
            schema,
            name,
            labels,
            create,
        })
    }

    /// The statement that creates the type unless it exists
    /// ([`ddl::create_enum_type`]), unqualified when it was declared
    /// without a schema: it is created in the first schema of
    /// `search_path`, with the tables.
    #[must_use]
    pub fn create_statement(&self) -> &str {
        &self.create
    }

    #[cfg(test)]
    pub(crate) fn for_tests(labels: &[&str]) -> Self {
        let labels = labels.iter().map(|label| (*label).to_owned()).collect();
        EnumTypeSpec::new(Some("public".to_owned()), "state".to_owned(), labels)
            .expect("valid labels")
    }

    /// The schema it is in when `placement` holds the tables: its declared
    /// one, else `placement`, else `default`.
    pub(crate) fn schema_in<'a>(
        &'a self,
        placement: Option<&'a Identifier>,
        default: &'a Identifier,
    ) -> &'a str {
        self.schema
            .as_deref()
            .unwrap_or_else(|| placement.unwrap_or(default).as_str())
    }
}

impl TenantSpec {
    /// The tenant column's name.
    #[must_use]
    pub fn column(&self) -> &str {
        &self.column
    }

    /// The key's SQL type.
    #[must_use]
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }
}

impl KeyType {
    fn of(table: &TableMeta, column: &'static str, sql_type: SqlType) -> Result<Self, Error> {
        match sql_type {
            SqlType::BigInt => Ok(KeyType::Bigint),
            SqlType::Integer => Ok(KeyType::Integer),
            SqlType::Uuid => Ok(KeyType::Uuid),
            other => Err(Error::UnsupportedTenantType {
                table: table.qualified_name(),
                column,
                sql_type: format!("{other:?}"),
            }),
        }
    }

    /// The type as PostgreSQL names it: `bigint`, `integer`, `uuid`.
    #[must_use]
    pub fn as_sql(self) -> &'static str {
        match self {
            KeyType::Bigint => "bigint",
            KeyType::Integer => "integer",
            KeyType::Uuid => "uuid",
        }
    }
}

impl ColumnSpec {
    /// The column's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its type as the DDL writes it (`BIGINT`, `NUMERIC(12, 2)`).
    #[must_use]
    pub fn sql_type(&self) -> &str {
        &self.sql_type
    }

    /// Whether it accepts NULL.
    #[must_use]
    pub fn nullable(&self) -> bool {
        self.nullable
    }

    /// Whether the database generates it (`GENERATED BY DEFAULT AS IDENTITY`).
    #[must_use]
    pub fn generated(&self) -> bool {
        self.generated
    }

    /// The column's definition for `ALTER TABLE .. ADD COLUMN`.
    pub(crate) fn definition(&self) -> Result<String, Error> {
        let name = Identifier::new("column", &self.name)?.quoted();
        Ok(if self.generated {
            format!("{name} {} GENERATED BY DEFAULT AS IDENTITY", self.sql_type)
        } else if self.nullable {
            format!("{name} {}", self.sql_type)
        } else {
            format!("{name} {} NOT NULL", self.sql_type)
        })
    }
}

impl ForeignKeySpec {
    /// The referencing columns.
    #[must_use]
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The referenced table's schema, if it was declared with one.
    #[must_use]
    pub fn target_schema(&self) -> Option<&str> {
        self.target_schema.as_deref()
    }

    /// The referenced table.
    #[must_use]
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The referenced columns.
    #[must_use]
    pub fn target_columns(&self) -> &[String] {
        &self.target_columns
    }
}

impl IndexSpec {
    /// The index's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its columns, tenant column first on a tenant-scoped table.
    #[must_use]
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The `CREATE INDEX IF NOT EXISTS` statement that creates it.
    #[must_use]
    pub fn create_statement(&self) -> &str {
        &self.create
    }
}

/// Reading and writing the JSON form (feature `migrate`).
#[cfg(feature = "migrate")]
mod json {
    use super::{FORMAT, Manifest};
    use crate::Error;
    use crate::ident::Identifier;

    impl Manifest {
        /// The manifest as pretty-printed JSON, for `tenancy --manifest`.
        ///
        /// *Feature `migrate`.*
        #[cfg_attr(docsrs, doc(cfg(feature = "migrate")))]
        #[must_use]
        pub fn to_json(&self) -> String {
            // Plain data with string keys: serialising cannot fail.
            serde_json::to_string_pretty(self).unwrap_or_default()
        }

        /// Reads a manifest written by [`to_json`](Self::to_json), checking
        /// its format version and that every name is a valid identifier.
        ///
        /// *Feature `migrate`.*
        #[cfg_attr(docsrs, doc(cfg(feature = "migrate")))]
        pub fn from_json(json: &str) -> Result<Self, Error> {
            let mut manifest: Manifest =
                serde_json::from_str(json).map_err(|error| Error::InvalidManifest {
                    reason: error.to_string(),
                })?;
            if manifest.format != FORMAT {
                return Err(Error::InvalidManifest {
                    reason: format!(
                        "format {} is not the format {FORMAT} this version of tenancy reads: \
                         write the manifest again with the same version of the library",
                        manifest.format
                    ),
                });
            }
            manifest.check_names()?;
            for enum_type in &mut manifest.enum_types {
                let checked = super::EnumTypeSpec::new(
                    enum_type.schema.take(),
                    core::mem::take(&mut enum_type.name),
                    core::mem::take(&mut enum_type.labels),
                )
                .map_err(|error| Error::InvalidManifest {
                    reason: error.to_string(),
                })?;
                *enum_type = checked;
            }
            Ok(manifest)
        }

        /// Every name a check or a generated statement places in SQL is
        /// validated here, so a hand-edited manifest cannot inject SQL.
        fn check_names(&self) -> Result<(), Error> {
            for table in &self.tables {
                let mut names: Vec<(&'static str, &str)> = vec![("table", &table.name)];
                names.extend(table.schema.as_deref().map(|schema| ("schema", schema)));
                names.extend(
                    table
                        .tenant
                        .iter()
                        .map(|tenant| ("column", tenant.column.as_str())),
                );
                names.extend(
                    table
                        .columns
                        .iter()
                        .map(|column| ("column", column.name.as_str())),
                );
                names.extend(
                    table
                        .indexes
                        .iter()
                        .map(|index| ("index", index.name.as_str())),
                );
                let keys = table
                    .unique
                    .iter()
                    .chain(core::iter::once(&table.primary_key))
                    .flatten();
                names.extend(keys.map(|column| ("column", column.as_str())));
                for key in &table.foreign_keys {
                    names.push(("table", &key.target));
                    names.extend(
                        key.target_schema
                            .as_deref()
                            .map(|schema| ("schema", schema)),
                    );
                    names.extend(
                        key.columns
                            .iter()
                            .chain(&key.target_columns)
                            .map(|column| ("column", column.as_str())),
                    );
                }
                for (kind, name) in names {
                    Identifier::new(kind, name)?;
                }
                for column in &table.columns {
                    if !is_plain_type(&column.sql_type) {
                        return Err(Error::InvalidManifest {
                            reason: format!(
                                "column `{}.{}` has type {:?}, which could end a statement or start a comment",
                                table.name, column.name, column.sql_type
                            ),
                        });
                    }
                }
            }
            Ok(())
        }
    }

    /// The same rule the DDL generator applies to custom types; double
    /// quotes only as the DDL writes a PostgreSQL enum type,
    /// `"schema"."name"` or `"name"`, each part an identifier.
    pub(super) fn is_plain_type(text: &str) -> bool {
        if text.contains('"') {
            return is_quoted_type_name(text);
        }
        !(text.trim().is_empty()
            || text.contains([';', '\'', '\\'])
            || text.contains("--")
            || text.contains("/*")
            || text.chars().any(char::is_control))
    }

    fn is_quoted_type_name(text: &str) -> bool {
        let quoted = |part: &str| {
            part.strip_prefix('"')
                .and_then(|part| part.strip_suffix('"'))
                .is_some_and(|name| Identifier::new("type", name).is_ok())
        };
        match text.split_once("\".\"") {
            Some((schema, name)) => quoted(&format!("{schema}\"")) && quoted(&format!("\"{name}")),
            None => quoted(text),
        }
    }

    pub(super) mod setting {
        use serde::{Deserialize, Deserializer, Serializer};

        use crate::setting::SettingName;

        pub(crate) fn serialize<S: Serializer>(
            setting: &SettingName,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            serializer.serialize_str(setting.as_str())
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<SettingName, D::Error> {
            let name = String::deserialize(deserializer)?;
            SettingName::new(&name).map_err(serde::de::Error::custom)
        }
    }

    pub(super) mod schema {
        use serde::{Deserialize, Deserializer, Serializer};

        use crate::ident::Identifier;

        pub(crate) fn serialize<S: Serializer>(
            schema: &Identifier,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            serializer.serialize_str(schema.as_str())
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Identifier, D::Error> {
            let name = String::deserialize(deserializer)?;
            Identifier::new("schema", &name).map_err(serde::de::Error::custom)
        }
    }

    pub(super) mod role {
        use serde::{Deserialize, Deserializer, Serializer};

        use crate::ident::Identifier;

        pub(crate) fn serialize<S: Serializer>(
            role: &Option<Identifier>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match role {
                Some(role) => serializer.serialize_some(role.as_str()),
                None => serializer.serialize_none(),
            }
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<Identifier>, D::Error> {
            Option::<String>::deserialize(deserializer)?
                .map(|name| Identifier::new("role", &name).map_err(serde::de::Error::custom))
                .transpose()
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(dead_code)] // tables declared for their metadata

    use tenancy_core::tenant_scoped;

    use super::*;

    #[tenant_scoped(table = "customers")]
    struct Customer {
        tenant_id: i64,
        #[tenancy(primary_key, generated)]
        id: i64,
        #[tenancy(unique)]
        email: String,
    }

    #[tenant_scoped(table = "orders")]
    struct Order {
        tenant_id: i64,
        #[tenancy(primary_key, generated)]
        id: i64,
        #[tenancy(references = Customer)]
        customer_id: i64,
        #[tenancy(index)]
        status: String,
        #[tenancy(sql_type = "NUMERIC(12, 2)")]
        total: Option<String>,
    }

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    #[cfg(feature = "migrate")]
    #[test]
    fn quoted_type_names_are_plain_only_as_enum_type_names() {
        use super::json::is_plain_type;
        for plain in [
            "\"public\".\"ticket_state\"",
            "\"ticket_state\"",
            "NUMERIC(12, 2)",
            "TEXT[]",
        ] {
            assert!(is_plain_type(plain), "{plain}");
        }
        for hostile in [
            "\"a\"; DROP TABLE t",
            "\"a\" DEFAULT 1",
            "\"a\".\"b\".\"c\"",
            "\"a b\"",
            "\"\"",
            "\"a\".\"b\" --",
        ] {
            assert!(!is_plain_type(hostile), "{hostile}");
        }
    }

    #[test]
    fn the_spec_is_what_the_ddl_creates() {
        let tables = TableSet::new().with::<Customer>().with::<Order>();
        let manifest = Manifest::new(&tables, &RlsPolicy::for_role("app").unwrap()).unwrap();
        let orders = manifest.table(None, "orders").unwrap();
        assert_eq!(
            orders.tenant(),
            Some(&TenantSpec {
                column: "tenant_id".into(),
                key_type: KeyType::Bigint
            })
        );
        let columns: Vec<_> = orders
            .columns()
            .iter()
            .map(|c| (c.name(), c.sql_type(), c.nullable(), c.generated()))
            .collect();
        assert_eq!(
            columns,
            [
                ("tenant_id", "BIGINT", false, false),
                ("id", "BIGINT", false, true),
                ("customer_id", "BIGINT", false, false),
                ("status", "TEXT", false, false),
                ("total", "NUMERIC(12, 2)", true, false),
            ]
        );
        assert_eq!(orders.primary_key(), strings(&["tenant_id", "id"]));
        assert_eq!(
            orders.foreign_keys(),
            [ForeignKeySpec {
                columns: strings(&["tenant_id", "customer_id"]),
                target_schema: None,
                target: "customers".into(),
                target_columns: strings(&["tenant_id", "id"]),
            }]
        );
        let indexes: Vec<_> = orders
            .indexes()
            .iter()
            .map(|i| (i.name(), i.columns()))
            .collect();
        assert_eq!(
            indexes,
            [
                (
                    "orders_tenant_id_customer_id_idx",
                    &strings(&["tenant_id", "customer_id"])[..]
                ),
                (
                    "orders_tenant_id_status_idx",
                    &strings(&["tenant_id", "status"])[..]
                ),
            ]
        );
        let customers = manifest.table(None, "customers").unwrap();
        assert_eq!(customers.unique(), [strings(&["tenant_id", "email"])]);
        assert_eq!(
            manifest.schema_statements().len(),
            customers.create_statements().len()
                + orders.create_statements().len()
                + customers.rls_statements().len()
                + orders.rls_statements().len()
        );
    }

    #[test]
    fn generated_columns_are_added_with_their_identity() {
        let manifest =
            Manifest::new(&TableSet::new().with::<Order>(), &RlsPolicy::for_public()).unwrap();
        let orders = &manifest.tables()[0];
        assert_eq!(
            orders.column("id").unwrap().definition().unwrap(),
            "\"id\" BIGINT GENERATED BY DEFAULT AS IDENTITY"
        );
        assert_eq!(
            orders.column("total").unwrap().definition().unwrap(),
            "\"total\" NUMERIC(12, 2)"
        );
        assert_eq!(manifest.role(), None);
    }

    #[cfg(feature = "migrate")]
    #[test]
    fn json_round_trips_and_refuses_hostile_names() {
        let tables = TableSet::new().with::<Customer>().with::<Order>();
        let manifest = Manifest::new(&tables, &RlsPolicy::for_role("app").unwrap()).unwrap();
        let json = manifest.to_json();
        assert_eq!(Manifest::from_json(&json).unwrap(), manifest);

        let hostile = json.replace(
            "\"name\": \"orders\"",
            "\"name\": \"orders\\\"; DROP TABLE x; --\"",
        );
        assert_ne!(hostile, json);
        assert!(matches!(
            Manifest::from_json(&hostile),
            Err(Error::InvalidIdentifier { .. })
        ));
        let bad_type = json.replace("NUMERIC(12, 2)", "NUMERIC; DROP TABLE x");
        assert!(matches!(
            Manifest::from_json(&bad_type),
            Err(Error::InvalidManifest { .. })
        ));
        let bad_schema = json.replace("\"schema\": \"public\"", "\"schema\": \"public; --\"");
        assert_ne!(bad_schema, json);
        assert!(matches!(
            Manifest::from_json(&bad_schema),
            Err(Error::InvalidManifest { .. })
        ));
        let bad_setting = json.replace("app.tenant_id", "app.x'; --");
        assert!(matches!(
            Manifest::from_json(&bad_setting),
            Err(Error::InvalidManifest { .. })
        ));
        let future = json.replace("\"format\": 1", "\"format\": 2");
        let error = Manifest::from_json(&future).unwrap_err().to_string();
        assert!(error.contains("format 2"), "{error}");
    }
}
