//! The application's registry of tables: the one place it configures them.

use crate::error::DdlError;
use crate::ident::Identifier;
use crate::meta::{EnumType, Table, TableMeta};
use crate::setting::SettingName;
use crate::statement::Dialect;

/// The application's tables, in order, and how they are configured: the
/// schema of tables declared without one, and the setting that carries the
/// tenant. It is what the application creates, what the PostgreSQL adapter
/// enables row-level security on and audits, and the registry a pool checks
/// statements against.
///
/// A set never holds two descriptions of one physical table. Adding a
/// second, different table type that names the same schema and table
/// (compared ignoring ASCII case: SQLite folds case, and two spellings on
/// PostgreSQL are a mistake too; a table declared without a schema is in
/// the set's schema, `public` unless [`in_schema`](TableSet::in_schema)
/// names another) is recorded as a conflict, and every use of
/// the set ([`validate`](TableSet::validate), [`tables`](TableSet::tables),
/// [`create_statements`](TableSet::create_statements),
/// [`lookup`](TableSet::lookup), ...) reports it instead of acting on
/// half of it.
///
/// ```
/// # include!("../../docs/doctest_setup.rs");
/// # fn main() -> Result<(), tenancy_core::DdlError> {
/// use tenancy_core::ddl::TableSet;
/// use tenancy_core::{Dialect, SettingName};
///
/// let tables = TableSet::new().with::<Plan>().with::<Customer>().with::<Order>();
/// let names: Vec<_> = tables.tables()?.iter().map(|t| t.name).collect();
/// assert_eq!(names, ["plans", "customers", "orders"]);
/// assert_eq!(tables.schema(Dialect::Postgres).as_str(), "public");
/// assert_eq!(tables.setting(), &SettingName::default());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default)]
pub struct TableSet {
    tables: Vec<&'static TableMeta>,
    schema: Option<Identifier>,
    setting: SettingName,
    /// Conflicts found while adding tables, in the order found.
    conflicts: Vec<DdlError>,
    /// Two enums declaring one PostgreSQL type differently, found when the
    /// tables were added: [`lookup`](TableSet::lookup) runs for every
    /// statement, so it must not walk every column of every table.
    enum_conflict: Option<DdlError>,
}

/// How a [`TableSet`] knows a table a statement references.
#[derive(Clone, Copy, Debug)]
pub enum Registration {
    /// The set holds this very table.
    Registered,
    /// The set holds another table type under the same physical name: the
    /// statement's table is described differently from the registered one.
    RegisteredAs(&'static TableMeta),
    /// The set has no table of that name.
    Unregistered,
}

impl TableSet {
    /// An empty set: tables declared without a schema are in the dialect's
    /// default schema (`public` on PostgreSQL, `main` on SQLite), and the
    /// tenant is carried by `app.tenant_id`.
    #[must_use]
    pub fn new() -> Self {
        TableSet::default()
    }

    /// Adds table `T` (once; adding it again changes nothing). Add referenced
    /// tables before the tables that reference them. A second table type
    /// naming the same physical table is recorded as a conflict.
    #[must_use]
    pub fn with<T: Table>(self) -> Self {
        self.with_meta(T::meta())
    }

    /// Adds a table by its metadata (once), like [`with`](TableSet::with).
    #[must_use]
    pub fn with_meta(mut self, table: &'static TableMeta) -> Self {
        if self.tables.iter().any(|known| core::ptr::eq(*known, table)) {
            return self;
        }
        if let Some(known) = self.same_physical(table) {
            let conflict = conflict(known, table, self.default_schema());
            self.conflicts.push(conflict);
        }
        self.tables.push(table);
        self.enum_conflict = self.enum_types().err();
        self
    }

    /// Puts tables declared without a schema in `schema`, for statements
    /// built for this set, its DDL and the adapter's transactions.
    #[must_use]
    pub fn in_schema(mut self, schema: Identifier) -> Self {
        self.schema = Some(schema);
        self.conflicts = self.find_conflicts();
        self.enum_conflict = self.enum_types().err();
        self
    }

    /// Carries the tenant in `setting` instead of `app.tenant_id`.
    #[must_use]
    pub fn with_setting(mut self, setting: SettingName) -> Self {
        self.setting = setting;
        self
    }

    /// The schema tables declared without one are in, for `dialect`: the
    /// one given to [`in_schema`](TableSet::in_schema), else the dialect's
    /// [default](Dialect::default_schema).
    #[must_use]
    pub fn schema(&self, dialect: Dialect) -> &Identifier {
        self.schema
            .as_ref()
            .unwrap_or_else(|| dialect.default_schema())
    }

    /// The setting that carries the tenant inside a transaction.
    #[must_use]
    pub fn setting(&self) -> &SettingName {
        &self.setting
    }

    /// `Ok` unless two table types describe one physical table; the error
    /// names both types and how they differ.
    ///
    /// Likewise two Rust enums that declare one PostgreSQL enum type (the
    /// same schema and name, a type declared without a schema being in the
    /// set's) with different labels: the error names both and their labels.
    pub fn validate(&self) -> Result<(), DdlError> {
        match self.conflicts.first().or(self.enum_conflict.as_ref()) {
            Some(conflict) => Err(conflict.clone()),
            None => Ok(()),
        }
    }

    /// The PostgreSQL enum types the tables' columns use, each once, in the
    /// order of their first use; an error if two Rust enums declare one
    /// type with different labels.
    pub fn enum_types(&self) -> Result<Vec<&'static EnumType>, DdlError> {
        let mut types: Vec<&'static EnumType> = Vec::new();
        for table in &self.tables {
            for enum_type in super::enum_types(table) {
                match types.iter().find(|known| self.same_enum(known, enum_type)) {
                    Some(known) if known.labels != enum_type.labels => {
                        return Err(DdlError::ConflictingEnumTypes {
                            type_name: format!("{}.{}", self.enum_schema(known), known.name),
                            first: known.type_name,
                            first_labels: known.labels,
                            second: enum_type.type_name,
                            second_labels: enum_type.labels,
                        });
                    }
                    Some(_) => {}
                    None => types.push(enum_type),
                }
            }
        }
        Ok(types)
    }

    /// The tables, in the order they were added.
    pub fn tables(&self) -> Result<&[&'static TableMeta], DdlError> {
        self.validate()?;
        Ok(&self.tables)
    }

    /// The tenant-scoped tables, in the order they were added.
    pub fn scoped_tables(&self) -> Result<impl Iterator<Item = &'static TableMeta> + '_, DdlError> {
        Ok(self
            .tables()?
            .iter()
            .copied()
            .filter(|table| table.is_scoped()))
    }

    /// The registered table with this physical name: `schema` (`None` for
    /// the set's default schema) and `name`, both compared ignoring ASCII
    /// case.
    pub fn lookup(
        &self,
        schema: Option<&str>,
        name: &str,
    ) -> Result<Option<&'static TableMeta>, DdlError> {
        self.validate()?;
        let schema = schema.unwrap_or_else(|| self.default_schema());
        Ok(self.tables.iter().copied().find(|table| {
            table.name.eq_ignore_ascii_case(name)
                && self.schema_of(table).eq_ignore_ascii_case(schema)
        }))
    }

    /// How the set knows `table`, which a statement references: an
    /// executor refuses a statement whose table the set describes
    /// differently (or, by its own policy, does not know).
    pub fn registration(&self, table: &'static TableMeta) -> Result<Registration, DdlError> {
        Ok(
            match self.lookup(Some(self.schema_of(table)), table.name)? {
                Some(known) if core::ptr::eq(known, table) => Registration::Registered,
                Some(known) => Registration::RegisteredAs(known),
                None => Registration::Unregistered,
            },
        )
    }

    /// [`create_table`](super::create_table_in) for every table, in the
    /// order they were added, in the set's schema.
    ///
    /// On PostgreSQL, each enum type the tables use is created first, just
    /// before the first table that uses it and once however many use it, in
    /// its declared schema or else the set's, unless it exists already
    /// ([`create_enum_type`](super::create_enum_type)). SQLite stores enums
    /// as `TEXT` and has no types to create.
    pub fn create_statements(&self, dialect: Dialect) -> Result<Vec<String>, DdlError> {
        let schema = self.schema(dialect);
        self.enum_types()?;
        let mut created: Vec<&'static EnumType> = Vec::new();
        let mut statements = Vec::new();
        for table in self.tables()? {
            if dialect == Dialect::Postgres {
                for enum_type in super::enum_types(table) {
                    if created.iter().any(|known| self.same_enum(known, enum_type)) {
                        continue;
                    }
                    created.push(enum_type);
                    statements.push(super::create_enum_type(
                        Some(enum_type.schema.unwrap_or(schema.as_str())),
                        enum_type.name,
                        enum_type.labels,
                    )?);
                }
            }
            statements.extend(super::create_table_in(table, dialect, schema)?);
        }
        Ok(statements)
    }

    /// Where an enum type declared without a schema is: the set's schema.
    fn enum_schema<'t>(&'t self, enum_type: &'static EnumType) -> &'t str {
        enum_type.schema.unwrap_or_else(|| self.default_schema())
    }

    /// Whether two declarations name one PostgreSQL type.
    fn same_enum(&self, a: &'static EnumType, b: &'static EnumType) -> bool {
        core::ptr::eq(a, b)
            || (a.name.eq_ignore_ascii_case(b.name)
                && self
                    .enum_schema(a)
                    .eq_ignore_ascii_case(self.enum_schema(b)))
    }

    /// Where conflicts are decided: the explicit schema, else `public`.
    fn default_schema(&self) -> &str {
        self.schema.as_ref().map_or(
            Dialect::Postgres.default_schema().as_str(),
            Identifier::as_str,
        )
    }

    fn schema_of<'t>(&'t self, table: &'static TableMeta) -> &'t str {
        table.schema.unwrap_or_else(|| self.default_schema())
    }

    /// An earlier table with the physical name of `table`.
    fn same_physical(&self, table: &'static TableMeta) -> Option<&'static TableMeta> {
        let schema = self.schema_of(table);
        self.tables.iter().copied().find(|known| {
            known.name.eq_ignore_ascii_case(table.name)
                && self.schema_of(known).eq_ignore_ascii_case(schema)
        })
    }

    fn find_conflicts(&self) -> Vec<DdlError> {
        let mut conflicts = Vec::new();
        for (index, table) in self.tables.iter().enumerate() {
            let schema = self.schema_of(table);
            let earlier = self.tables[..index].iter().find(|known| {
                known.name.eq_ignore_ascii_case(table.name)
                    && self.schema_of(known).eq_ignore_ascii_case(schema)
            });
            if let Some(known) = earlier {
                conflicts.push(conflict(known, table, self.default_schema()));
            }
        }
        conflicts
    }
}

fn conflict(first: &'static TableMeta, second: &'static TableMeta, schema: &str) -> DdlError {
    DdlError::ConflictingTables {
        table: format!("{}.{}", first.schema.unwrap_or(schema), first.name),
        first: first.type_name,
        second: second.type_name,
        difference: describe_difference(first, second),
    }
}

/// What differs between two descriptions of one table, in words, for an
/// error message: the tenant column (or its absence), else the columns only
/// one of them has, else the spelling of the name.
#[must_use]
pub fn describe_difference(first: &TableMeta, second: &TableMeta) -> String {
    let (a, b) = (first.type_name, second.type_name);
    match (first.tenant, second.tenant) {
        (Some(tenant), None) => {
            return format!(
                "`{a}` is tenant-scoped by `{}`, `{b}` is global",
                tenant.name
            );
        }
        (None, Some(tenant)) => {
            return format!(
                "`{a}` is global, `{b}` is tenant-scoped by `{}`",
                tenant.name
            );
        }
        (Some(x), Some(y)) if x != y => {
            return format!(
                "tenant column `{}` ({:?}) in `{a}`, `{}` ({:?}) in `{b}`",
                x.name, x.sql_type, y.name, y.sql_type
            );
        }
        _ => {}
    }
    let only_in = |one: &TableMeta, other: &TableMeta| -> Vec<&'static str> {
        one.columns
            .iter()
            .filter(|column| {
                !other.columns.iter().any(|theirs| {
                    theirs.name.eq_ignore_ascii_case(column.name)
                        && theirs.sql_type == column.sql_type
                        && theirs.nullable == column.nullable
                })
            })
            .map(|column| column.name)
            .collect()
    };
    let (first_only, second_only) = (only_in(first, second), only_in(second, first));
    if first_only.is_empty() && second_only.is_empty() {
        if first.name != second.name || first.schema != second.schema {
            format!(
                "spelled `{}` in `{a}` and `{}` in `{b}`",
                first.qualified_name(),
                second.qualified_name()
            )
        } else {
            "the same columns, declared twice".to_owned()
        }
    } else {
        let list = |columns: &[&str]| {
            if columns.is_empty() {
                "nothing".to_owned()
            } else {
                columns
                    .iter()
                    .map(|column| format!("`{column}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        format!(
            "other columns: only `{a}` has {}, only `{b}` has {}",
            list(&first_only),
            list(&second_only)
        )
    }
}
