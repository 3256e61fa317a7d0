//! Error types of the core crate.

use crate::meta::SqlType;
use crate::statement::{Dialect, StatementScope};
use crate::tenant::KeyValue;

/// A tenant key that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TenantIdError {
    /// The text is not the canonical form of a key of the expected type.
    #[error("malformed tenant id {input:?}: expected {expected}")]
    Malformed {
        /// The offending input, truncated.
        input: String,
        /// What a valid key looks like.
        expected: &'static str,
    },
}

/// A statement that cannot be built. Nothing is ever built half-scoped: every
/// case that could lose the tenant predicate is an error instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// An INSERT with no rows.
    #[error("INSERT into `{table}` has no rows: add one with `.row(..)` or `.set(..)`")]
    EmptyInsert {
        /// The table.
        table: &'static str,
    },
    /// INSERT rows that do not set the same columns.
    #[error(
        "INSERT into `{table}`: row {row} sets different columns than row 0; every row must set the same columns"
    )]
    InconsistentRows {
        /// The table.
        table: &'static str,
        /// The index of the first row that differs.
        row: usize,
    },
    /// An UPDATE that sets nothing.
    #[error("UPDATE of `{table}` sets no column: add `.set(column, value)`")]
    EmptyUpdate {
        /// The table.
        table: &'static str,
    },
    /// A subquery or join on a tenant-scoped table inside a statement that has
    /// no tenant (a statement on a global table).
    #[error(
        "`{table}` is tenant-scoped, but the statement on global table `{outer}` has no tenant to scope it with; build the statement from a tenant-scoped table with a `TenantId`"
    )]
    ScopedTableWithoutTenant {
        /// The tenant-scoped table referenced.
        table: &'static str,
        /// The global table the statement is on.
        outer: &'static str,
    },
    /// Two references in one FROM list with the same name: the same table
    /// twice without an alias, or an alias (or CTE) named like another
    /// reference.
    #[error(
        "`{table}` is named twice in one FROM list; give one of the references its own name with `TableAlias::new(ident!(\"..\"))` and `join_with`"
    )]
    DuplicateTable {
        /// The name.
        table: String,
    },
    /// A row of an INSERT into a global table that sets no column.
    #[error("INSERT into `{table}`: row {row} sets no column; set at least one with `.set(..)`")]
    EmptyRow {
        /// The table.
        table: &'static str,
        /// The index of the empty row.
        row: usize,
    },
    /// An INSERT or UPDATE that assigns the tenant column. The typed API
    /// cannot do this; a hand-written `Assignable` or `InsertRow` impl can.
    #[error(
        "`{table}.{column}` is the tenant column: its value comes from the `TenantId` witness and cannot be assigned; remove it from the row or the `.set(..)` calls"
    )]
    TenantColumnAssigned {
        /// The table.
        table: &'static str,
        /// The tenant column.
        column: &'static str,
    },
    /// A tenant-scoped table whose tenant column has another key type than
    /// the statement's witness (possible only in subqueries, whose tables are
    /// not tied to the witness's type at compile time).
    #[error(
        "`{table}` is keyed by {column_type:?}, but the statement is for {key_type} tenant {key}; subqueries may only use tables keyed like the statement's own table"
    )]
    TenantKeyMismatch {
        /// The table.
        table: &'static str,
        /// The SQL type of its tenant column.
        column_type: SqlType,
        /// The witness's key.
        key: KeyValue,
        /// A description of the witness's key type.
        key_type: &'static str,
    },
    /// A bound value of a kind the library never makes: only the values of
    /// its column types and tenant keys are bound. A value of another kind
    /// (reachable only through a field with a verbatim `sql_type` whose
    /// type converts into one) is refused, because some kinds would be
    /// written with text taken from the value.
    #[error(
        "a value of kind `{kind}` cannot be bound: statements bind only integers, floats, booleans, text, bytes, UUIDs and dates; convert the field's type into one of those"
    )]
    UnsupportedValue {
        /// The kind of value (a `sea_query::Value` variant).
        kind: String,
    },
    /// A `tenant_sql!` statement built for SQLite whose text uses syntax
    /// that SQLite reads differently from PostgreSQL (a `::` cast, a
    /// dollar-quoted or escape string, an operator with `?`, `@` or `:`, a
    /// subscript), which could misplace its parameters there.
    #[error("this `tenant_sql!` statement can only run on PostgreSQL: {reason}")]
    PostgresOnlySql {
        /// What in the text is PostgreSQL-only: its line with a caret under
        /// it, and what to write instead.
        reason: &'static str,
    },
    /// A column of a table the statement does not reference.
    #[error(
        "column `{table}.{column}` is used, but `{table}` is not in the statement's FROM or JOIN list; a table read under an alias is read through the alias (`alias.col(..)`), and a CTE or derived table cannot see the tables of the statement around it"
    )]
    UnknownTable {
        /// The table (or alias) the column is qualified by.
        table: String,
        /// The column.
        column: String,
    },
    /// A column read from a CTE that its body does not project.
    #[error(
        "`{source_name}` has no column `{column}`: a CTE's columns are the names of its body's projection; project it there, or give the expression that name with `.alias(..)`"
    )]
    UnknownColumn {
        /// The CTE.
        source_name: String,
        /// The column.
        column: String,
    },
    /// An item of a CTE's projection that has no name to be read by.
    #[error(
        "item {position} of the projection of CTE `{cte}` has no name: give it one with `.alias(ident!(\"..\"))`"
    )]
    UnnamedOutput {
        /// The CTE.
        cte: String,
        /// The item's position, from 0.
        position: usize,
    },
    /// An ordering by an alias that the projection does not have.
    #[error(
        "`{alias}` is not an alias of the projection it orders: aliases order the select (or union) that projects them, not a window, a subquery or an outer statement"
    )]
    UnknownAlias {
        /// The alias.
        alias: String,
    },
    /// A construct that the dialect does not have.
    #[error("{construct} is not available on {dialect:?}: {hint}")]
    UnsupportedInDialect {
        /// What was asked for.
        construct: &'static str,
        /// The dialect the statement was built for.
        dialect: Dialect,
        /// What to write instead.
        hint: &'static str,
    },
    /// An aggregate or window function where SQL does not allow one.
    #[error(
        "{function} cannot be used in {clause}: aggregates belong in the projection, HAVING and ORDER BY, window functions in the projection and ORDER BY; filter groups with `.having(..)`, and filter on a window function through a CTE"
    )]
    MisplacedAggregate {
        /// The function (`"an aggregate"`, `"a window function"`).
        function: &'static str,
        /// Where it was (`"WHERE"`, `"GROUP BY"`, ...).
        clause: &'static str,
    },
    /// A subquery, CTE or union member built for another scope than the
    /// statement that embeds it.
    #[error(
        "a subquery, CTE or union member was built for {inner:?}, but the statement is for {outer:?}; build every part of a statement with the same `TenantId`"
    )]
    MixedScopes {
        /// The statement's scope.
        outer: StatementScope,
        /// The embedded part's scope.
        inner: StatementScope,
    },
    /// A CTE read without being declared with `with`.
    #[error("CTE `{name}` is read but not declared: add `.with(&{name})` to the statement")]
    UndeclaredCte {
        /// The CTE.
        name: String,
    },
    /// Two different CTEs with the same name in one statement.
    #[error("two different CTEs are named `{name}` in one statement; give each its own name")]
    DuplicateCte {
        /// The name.
        name: String,
    },
    /// The reference that a recursive CTE's member makes to its CTE, used
    /// outside that member.
    #[error(
        "`{name}` is the reference a recursive CTE's member makes to the CTE; outside the member, use the CTE that `Cte::recursive` returned"
    )]
    RecursiveReference {
        /// The CTE.
        name: String,
    },
    /// The members of a union, or of a recursive CTE, whose projections
    /// differ.
    #[error(
        "the members of a UNION differ: {difference}; every member must project the same number of columns, of the same types"
    )]
    UnionMismatch {
        /// How they differ.
        difference: String,
    },
    /// A `SELECT DISTINCT` or a `UNION` (not `UNION ALL`) that projects a
    /// `json` value: both compare whole rows, and PostgreSQL has no
    /// equality for `json` (`could not identify an equality operator for
    /// type json`). Refused on SQLite too, so that one statement means the
    /// same on both.
    #[error(
        "{construct} compares whole rows, and column {position} of its projection is `json`, which PostgreSQL has no equality for: project a member as text (`.get_text(\"key\")`), store the document as `jsonb`, or use {instead}"
    )]
    JsonRowsCompared {
        /// `SELECT DISTINCT` or `UNION`.
        construct: &'static str,
        /// The position of the `json` column in the projection, from 0.
        position: usize,
        /// What keeps every row instead: `UNION ALL`, or no `DISTINCT`.
        instead: &'static str,
    },
    /// An ordering of a union that is not one of its column names.
    #[error(
        "a UNION is ordered by the names of its columns: order it by a projected column or an alias of the first member"
    )]
    UnionOrdering,
    /// A clause that a union member cannot have.
    #[error("a member of a UNION cannot have {clause}: put it on the union")]
    UnionMemberClause {
        /// The clause.
        clause: &'static str,
    },
    /// A row lock that the select cannot take.
    #[error(
        "a row lock cannot be taken on a select with {reason}: lock the rows in a select of the rows themselves"
    )]
    LockNotAllowed {
        /// What the select has.
        reason: &'static str,
    },
    /// `SKIP LOCKED` or `NOWAIT` without a lock.
    #[error(
        "`SKIP LOCKED` and `NOWAIT` say what a row lock does with rows that are locked: add `.for_update()` (or `.for_share()`, ...)"
    )]
    LockWaitWithoutLock,
    /// A join across tenants that cannot be matched on the tenant column.
    #[error(
        "across tenants, `{table}` can only be joined to a tenant-scoped table, on whose tenant column it is matched: rows of different tenants are never joined"
    )]
    CrossTenantJoin {
        /// The joined table or CTE.
        table: String,
    },
    /// `"excluded"."<column>"` outside an upsert's `DO UPDATE` on its table.
    #[error(
        "`{table}.{column}.excluded()` is the value an upsert proposed: it can be read only in the `DoUpdate` of an INSERT into `{table}`"
    )]
    ExcludedOutsideUpsert {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
    },
    /// A cast to a type the library cannot name.
    #[error("cannot cast to {sql_type:?}: casts name the library's own types only")]
    UnsupportedCast {
        /// The target type.
        sql_type: SqlType,
    },
}

/// Table metadata that cannot be turned into DDL. Names and types are
/// checked before anything is rendered, so a bad name is an error, never SQL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DdlError {
    /// A table, schema, column or index name that is not a plain identifier.
    #[error(
        "`{table}`: {what} name {name:?} is not a valid identifier; use 1 to 63 bytes: an ASCII letter or `_`, then ASCII letters, digits or `_`"
    )]
    InvalidIdentifier {
        /// The table.
        table: &'static str,
        /// What the name names (`"column"`, `"schema"`, ...).
        what: &'static str,
        /// The offending name.
        name: String,
    },
    /// A `Custom` SQL type that could end the statement or start a comment.
    #[error(
        "`{table}.{column}`: SQL type {sql_type:?} contains `;`, a quote, a comment or a control character; give a plain type such as `NUMERIC(12, 2)`"
    )]
    InvalidSqlType {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
        /// The offending type text.
        sql_type: &'static str,
    },
    /// Two columns with the same name (the tenant column included).
    #[error("`{table}` has two columns named `{column}`")]
    DuplicateColumn {
        /// The table.
        table: &'static str,
        /// The repeated name.
        column: &'static str,
    },
    /// An index that names a column the table does not have.
    #[error("an index of `{table}` names column `{column}`, which the table does not have")]
    UnknownIndexColumn {
        /// The table.
        table: &'static str,
        /// The unknown column.
        column: &'static str,
    },
    /// A generated (identity) column whose type is not an integer.
    #[error(
        "`{table}.{column}` is generated, but identity columns must be SMALLINT, INTEGER or BIGINT"
    )]
    GeneratedNotInteger {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
    },
    /// A column type the dialect does not have: SQLite has no exact decimal
    /// (`NUMERIC`), network address (`INET`) or array type.
    #[error(
        "`{table}.{column}` is {sql_type:?}, which {dialect:?} does not have; keep such tables on PostgreSQL, or give the field a type that dialect stores (text, integer, bytes)"
    )]
    UnsupportedType {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
        /// The column's type.
        sql_type: SqlType,
        /// The dialect the DDL was asked for.
        dialect: Dialect,
    },
    /// More than one generated column in a SQLite table, which allows only
    /// one `INTEGER PRIMARY KEY AUTOINCREMENT`.
    #[error(
        "`{table}` has more than one generated column; SQLite allows one `INTEGER PRIMARY KEY AUTOINCREMENT` per table"
    )]
    SqliteGeneratedColumns {
        /// The table.
        table: &'static str,
    },
    /// Two registrations of one physical table: two different table types
    /// name the same schema and table (compared ignoring ASCII case).
    #[error(
        "`{first}` and `{second}` both describe table `{table}` ({difference}); a table is registered once: remove one of the types, or give it its own table"
    )]
    ConflictingTables {
        /// The table, schema-qualified as registered first.
        table: String,
        /// The Rust type registered first.
        first: &'static str,
        /// The Rust type registered second.
        second: &'static str,
        /// How their descriptions differ.
        difference: String,
    },
    /// A PostgreSQL enum type whose name or labels cannot be written into
    /// DDL.
    #[error("PostgreSQL enum type `{type_name}`: {reason}")]
    InvalidEnumType {
        /// The type, schema-qualified where it has a schema.
        type_name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Two Rust enums declare one PostgreSQL enum type (same schema and
    /// name, compared ignoring ASCII case) with different labels.
    #[error(
        "`{first}` and `{second}` both declare PostgreSQL enum type `{type_name}`, with labels {first_labels:?} and {second_labels:?}; a type has one list of labels: make the two declarations one, or give one its own type name"
    )]
    ConflictingEnumTypes {
        /// The type, schema-qualified.
        type_name: String,
        /// The Rust enum registered first.
        first: &'static str,
        /// Its labels.
        first_labels: &'static [&'static str],
        /// The Rust enum registered second.
        second: &'static str,
        /// Its labels.
        second_labels: &'static [&'static str],
    },
    /// A foreign key that cannot be made to lead with the tenant column.
    #[error("foreign key `{table}.{column}` references `{target}`: {reason}")]
    ForeignKey {
        /// The table.
        table: &'static str,
        /// The referencing column.
        column: &'static str,
        /// The referenced table.
        target: &'static str,
        /// What is wrong and how to fix it.
        reason: &'static str,
    },
}
