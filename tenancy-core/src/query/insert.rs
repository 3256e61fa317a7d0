//! `INSERT`, with the tenant column's value taken from the witness.

use core::fmt;
use core::marker::PhantomData;

use sea_query::Value;

use crate::BuildError;
use crate::column::Assignable;
use crate::column_type::ColumnType;
use crate::ident::Identifier;
use crate::meta::{GlobalTable, InsertRow, Table, TableMeta, TenantScoped};
use crate::query::expr::{Assign, ExprNode};
use crate::query::filter::{Filter, Node};
use crate::query::lists::{AssignableList, ColumnList, ConflictTarget};
use crate::query::render::{Clause, Renderer, Visible};
use crate::query::returning::Returning;
use crate::query::scope::{refuse_tenant_column, tenant_key};
use crate::query::update::assign;
use crate::statement::{BuildStatement, Dialect, Statement, StatementScope, sealed};
use crate::tenant::{KeyValue, TenantWitness};

/// An `INSERT` into table `T`.
///
/// In a scoped insert, the tenant column is the first column of every row
/// and its value is the witness's key, bound; nothing a caller passes can
/// set it. Rows come from structs ([`row`](Insert::row), [`rows`](Insert::rows))
/// or column by column ([`set`](Insert::set), [`new_row`](Insert::new_row)).
/// Tables marked `#[tenant_scoped]` start one with `Order::insert(&tenant)`.
///
/// ```
/// # include!("../../docs/doctest_setup.rs");
/// # fn main() -> Result<(), tenancy_core::BuildError> {
/// use tenancy_core::{BuildStatement, Insert, TenantId};
///
/// let tenant = TenantId::<i64>::from_verified(7);
/// let statement = Insert::<Order>::scoped(&tenant)
///     .set(Order::CUSTOMER_ID, 3)
///     .set(Order::STATUS, "open")
///     .set(Order::TOTAL, 1250)
///     .returning_all()
///     .to_postgres()?;
/// assert_eq!(
///     statement.sql(),
///     r#"INSERT INTO "public"."orders" ("tenant_id", "customer_id", "status", "total") VALUES ($1, $2, $3, $4) RETURNING *"#
/// );
/// assert_eq!(statement.values().0[0], 7i64.into());
/// # Ok(())
/// # }
/// ```
#[must_use = "a statement does nothing until it is built and executed"]
pub struct Insert<T> {
    query: InsertQuery,
    _table: PhantomData<fn() -> T>,
}

/// The type-erased state of an insert, written by code compiled once for
/// every table.
#[derive(Clone, Debug)]
struct InsertQuery {
    scope: InsertScope,
    table: &'static TableMeta,
    rows: Vec<Row>,
    conflict: Option<Conflict>,
    returning: Returning,
}

/// Whom an insert is for. No entry point inserts across tenants: a row
/// always belongs to the one tenant that inserted it.
#[derive(Clone, Copy, Debug)]
enum InsertScope {
    Tenant(KeyValue),
    Global,
}

/// One row: `(column, value)` pairs, without the tenant column.
type Row = Vec<(&'static str, RowValue)>;

/// The value of one column of one row.
#[derive(Clone, Debug)]
enum RowValue {
    Expr(ExprNode),
    /// `DEFAULT`: the column's default.
    Default,
}

#[derive(Clone, Debug)]
enum Conflict {
    DoNothing {
        target: Vec<&'static str>,
    },
    DoUpdate {
        target: Vec<&'static str>,
        assignments: Vec<(&'static str, ExprNode)>,
        filters: Vec<Node>,
    },
}

impl<T: TenantScoped> Insert<T> {
    /// Inserts rows for one tenant: the witness's.
    pub fn scoped(tenant: &impl TenantWitness<T::Key>) -> Self {
        Insert::new(InsertScope::Tenant(tenant.tenant().key_value()))
    }
}

impl<T: GlobalTable> Insert<T> {
    /// Inserts into a global table; no tenant involved.
    pub fn global() -> Self {
        Insert::new(InsertScope::Global)
    }
}

impl<T: Table> Insert<T> {
    fn new(scope: InsertScope) -> Self {
        Insert {
            query: InsertQuery {
                scope,
                table: T::meta(),
                rows: Vec::new(),
                conflict: None,
                returning: Returning::Nothing,
            },
            _table: PhantomData,
        }
    }

    /// Adds a row from a struct: every column except the tenant column and
    /// generated columns.
    pub fn row(mut self, row: &T) -> Self
    where
        T: InsertRow,
    {
        self.query.rows.push(row_of(row));
        self
    }

    /// Adds a row per struct.
    pub fn rows<'a>(mut self, rows: impl IntoIterator<Item = &'a T>) -> Self
    where
        T: InsertRow,
    {
        self.query.rows.extend(rows.into_iter().map(row_of));
        self
    }

    /// Sets a column of the current row (the last one added, or a new one if
    /// there is none yet), replacing an earlier value of that column. The
    /// value is bound, or an expression of the column's type (`now()`, a
    /// scalar subquery); an expression cannot read columns, as there is no
    /// row yet.
    pub fn set<C>(self, column: C, value: impl Assign<C::Value>) -> Self
    where
        C: Assignable<T>,
        C::Value: ColumnType,
    {
        self.set_value(column.name(), RowValue::Expr(value.assign_as()))
    }

    /// Sets a column of the current row to `DEFAULT`: the column's default
    /// in the table's definition.
    ///
    /// SQLite has no `DEFAULT` among `VALUES`: there the column is left
    /// out of the INSERT, which gives it its default, and so every row must
    /// leave it to its default or none ([`BuildError::UnsupportedInDialect`]).
    pub fn set_default<C: Assignable<T>>(self, column: C) -> Self {
        self.set_value(column.name(), RowValue::Default)
    }

    fn set_value(mut self, column: &'static str, value: RowValue) -> Self {
        let rows = &mut self.query.rows;
        if rows.is_empty() {
            rows.push(Row::new());
        }
        if let Some(row) = rows.last_mut() {
            set_in_row(row, column, value);
        }
        self
    }

    /// Starts another row, for [`set`](Insert::set). Every row must set the
    /// same columns.
    pub fn new_row(mut self) -> Self {
        self.query.rows.push(Row::new());
        self
    }

    /// `ON CONFLICT (<tenant column>, <target>...) DO NOTHING`. The target
    /// names a unique key; the tenant column leads it as it leads every key
    /// of a scoped table.
    pub fn on_conflict_do_nothing(mut self, target: impl ConflictTarget<T>) -> Self {
        self.query.conflict = Some(Conflict::DoNothing {
            target: target.names(),
        });
        self
    }

    /// `ON CONFLICT (<tenant column>, <target>...) DO UPDATE SET ...`: with
    /// a tuple of columns, each set to the value the conflicting row
    /// proposed (`c = excluded.c`); with a [`DoUpdate`], set to
    /// expressions of the existing row and the proposed one, under a
    /// filter. The conflicting row has the same tenant (the tenant column
    /// is part of the target), and the tenant column is never updated.
    ///
    /// ```
    /// # include!("../../docs/doctest_setup.rs");
    /// # fn main() -> Result<(), tenancy_core::BuildError> {
    /// use tenancy_core::{BuildStatement, DoUpdate, Insert, TenantId};
    ///
    /// let tenant = TenantId::<i64>::from_verified(7);
    /// let sql = Insert::<Order>::scoped(&tenant)
    ///     .set(Order::ID, 1)
    ///     .set(Order::STATUS, "paid")
    ///     .on_conflict_do_update((Order::ID,), (Order::STATUS,))
    ///     .to_sqlite()?
    ///     .into_parts()
    ///     .0;
    /// assert_eq!(
    ///     sql,
    ///     r#"INSERT INTO "main"."orders" ("tenant_id", "id", "status") VALUES (?, ?, ?) ON CONFLICT ("tenant_id", "id") DO UPDATE SET "status" = "excluded"."status""#
    /// );
    ///
    /// // A counter: add the proposed amount to the stored one, unless closed.
    /// let sql = Insert::<Order>::scoped(&tenant)
    ///     .set(Order::ID, 1)
    ///     .set(Order::TOTAL, 5)
    ///     .on_conflict_do_update(
    ///         (Order::ID,),
    ///         DoUpdate::new()
    ///             .set(Order::TOTAL, Order::TOTAL + Order::TOTAL.excluded())
    ///             .filter(Order::STATUS.ne("closed")),
    ///     )
    ///     .to_postgres()?
    ///     .into_parts()
    ///     .0;
    /// assert_eq!(
    ///     sql,
    ///     r#"INSERT INTO "public"."orders" ("tenant_id", "id", "total") VALUES ($1, $2, $3) ON CONFLICT ("tenant_id", "id") DO UPDATE SET "total" = "orders"."total" + "excluded"."total" WHERE "orders"."status" <> $4"#
    /// );
    /// # Ok(())
    /// # }
    /// ```
    pub fn on_conflict_do_update(
        mut self,
        target: impl ConflictTarget<T>,
        update: impl ConflictUpdate<T>,
    ) -> Self {
        let (assignments, filters) = update.into_update();
        self.query.conflict = Some(Conflict::DoUpdate {
            target: target.names(),
            assignments,
            filters,
        });
        self
    }

    /// `RETURNING *`: the inserted rows, as stored.
    pub fn returning_all(mut self) -> Self {
        self.query.returning = Returning::All;
        self
    }

    /// `RETURNING <items>`: columns or expressions of the inserted rows
    /// (their generated ids, say), after any earlier ones.
    pub fn returning(mut self, items: impl ColumnList) -> Self {
        self.query.returning.push(items);
        self
    }
}

fn row_of<T: InsertRow>(row: &T) -> Row {
    let table = T::meta();
    row.insert_values()
        .into_iter()
        .map(|(column, value)| {
            let node = match table.column(column) {
                Some(meta) => crate::query::expr::value_node(meta.sql_type, value),
                None => ExprNode::Value(value),
            };
            (column, RowValue::Expr(node))
        })
        .collect()
}

/// The `DO UPDATE` of an upsert: `SET column = <expression>, ...` and a
/// `WHERE`, for [`Insert::on_conflict_do_update`].
///
/// The expressions read the existing row through the table's columns
/// (`Order::TOTAL`) and the proposed one through
/// [`excluded`](crate::Column::excluded) (`Order::TOTAL.excluded()`). The
/// filter decides whether the existing row is updated at all; when it is
/// not, the row is left as it is and the INSERT inserts nothing.
#[must_use = "a `DoUpdate` does nothing until it is passed to `on_conflict_do_update`"]
pub struct DoUpdate<T> {
    assignments: Vec<(&'static str, ExprNode)>,
    filters: Vec<Node>,
    _table: PhantomData<fn() -> T>,
}

impl<T: Table> DoUpdate<T> {
    /// An update that sets nothing yet.
    pub fn new() -> Self {
        DoUpdate {
            assignments: Vec::new(),
            filters: Vec::new(),
            _table: PhantomData,
        }
    }

    /// `SET column = value`, replacing an earlier assignment of that column:
    /// a value, or an expression of the existing and the proposed row.
    pub fn set<C>(mut self, column: C, value: impl Assign<C::Value>) -> Self
    where
        C: Assignable<T>,
        C::Value: ColumnType,
    {
        assign(&mut self.assignments, column.name(), value.assign_as());
        self
    }

    /// `WHERE <filter>`: update the existing row only where it holds;
    /// repeated calls are combined with `AND`.
    pub fn filter(mut self, filter: Filter) -> Self {
        self.filters.push(filter.0);
        self
    }
}

impl<T: Table> Default for DoUpdate<T> {
    fn default() -> Self {
        DoUpdate::new()
    }
}

impl<T> Clone for DoUpdate<T> {
    fn clone(&self) -> Self {
        DoUpdate {
            assignments: self.assignments.clone(),
            filters: self.filters.clone(),
            _table: PhantomData,
        }
    }
}

impl<T> fmt::Debug for DoUpdate<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DoUpdate")
            .field("assignments", &self.assignments)
            .field("filters", &self.filters)
            .finish()
    }
}

mod conflict_sealed {
    use crate::query::expr::ExprNode;
    use crate::query::filter::Node;

    /// Lowers an upsert's update of a row of `T`.
    pub trait Lower<T> {
        /// The assignments and the filters.
        fn into_update(self) -> (Vec<(&'static str, ExprNode)>, Vec<Node>);
    }
}

/// What [`Insert::on_conflict_do_update`] does to the conflicting row: a
/// tuple of columns ([`AssignableList`]), each set to its proposed value,
/// or a [`DoUpdate`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an update of `{T}`'s conflicting row",
    label = "expected a tuple of columns of `{T}`, or a `DoUpdate`"
)]
pub trait ConflictUpdate<T>: conflict_sealed::Lower<T> {}

impl<T: Table, L: AssignableList<T>> conflict_sealed::Lower<T> for L {
    fn into_update(self) -> (Vec<(&'static str, ExprNode)>, Vec<Node>) {
        let assignments = self
            .names()
            .into_iter()
            .map(|column| {
                (
                    column,
                    ExprNode::Excluded {
                        table: T::meta(),
                        column,
                    },
                )
            })
            .collect();
        (assignments, Vec::new())
    }
}
impl<T: Table, L: AssignableList<T>> ConflictUpdate<T> for L {}

impl<T: Table> conflict_sealed::Lower<T> for DoUpdate<T> {
    fn into_update(self) -> (Vec<(&'static str, ExprNode)>, Vec<Node>) {
        (self.assignments, self.filters)
    }
}
impl<T: Table> ConflictUpdate<T> for DoUpdate<T> {}

impl InsertQuery {
    /// The tenant column and the witness's key, for a scoped insert.
    fn tenant_column(&self) -> Result<Option<(&'static str, Value)>, BuildError> {
        match (self.scope, self.table.tenant) {
            (InsertScope::Tenant(key), Some(tenant)) => Ok(Some((
                tenant.name,
                tenant_key(self.table, tenant.sql_type, key)?,
            ))),
            (_, None) => Ok(None),
            (InsertScope::Global, Some(_)) => Err(BuildError::ScopedTableWithoutTenant {
                table: self.table.name,
                outer: self.table.name,
            }),
        }
    }

    fn build(&self, dialect: Dialect, schema: &Identifier) -> Result<Statement, BuildError> {
        let table = self.table.name;
        let Some(first) = self.rows.first() else {
            return Err(BuildError::EmptyInsert { table });
        };
        let tenant = self.tenant_column()?;
        let named: Vec<&'static str> = first.iter().map(|(column, _)| *column).collect();
        let tenant_name = tenant.as_ref().map(|(name, _)| *name);
        if let Some(tenant_name) = tenant_name {
            refuse_tenant_column(table, tenant_name, &named)?;
        }
        for (index, row) in self.rows.iter().enumerate() {
            if row.is_empty() && tenant.is_none() {
                return Err(BuildError::EmptyRow { table, row: index });
            }
            let same_columns = row.len() == named.len()
                && named
                    .iter()
                    .all(|column| row.iter().any(|(name, _)| name == column));
            if !same_columns {
                return Err(BuildError::InconsistentRows { table, row: index });
            }
        }
        let columns = self.written_columns(dialect, &named)?;

        let mut r = Renderer::new(
            dialect,
            schema,
            StatementScope::from(self.scope),
            Some(self.table),
        );
        r.w.keyword("INSERT INTO ");
        r.w.table(self.table);
        if columns.is_empty() && tenant.is_none() {
            // SQLite, every column to its default: the one INSERT it has
            // for that (one row; `written_columns` refuses more).
            r.w.keyword(" DEFAULT VALUES");
        } else {
            r.w.keyword(" (");
            write_names(
                &mut r,
                tenant_name.into_iter().chain(columns.iter().copied()),
            );
            r.w.keyword(") VALUES ");
            // Values see no table: there is no row yet.
            r.enter(Vec::new(), &[], true)?;
            for (index, row) in self.rows.iter().enumerate() {
                r.w.keyword(if index == 0 { "(" } else { ", (" });
                if let Some((_, key)) = &tenant {
                    r.w.bind(key)?;
                }
                for (position, column) in columns.iter().enumerate() {
                    if position > 0 || tenant.is_some() {
                        r.w.keyword(", ");
                    }
                    match value_of(row, column) {
                        Some(RowValue::Expr(value)) => r.expr_in(Clause::Values, value)?,
                        Some(RowValue::Default) => r.w.keyword("DEFAULT"),
                        None => return Err(BuildError::InconsistentRows { table, row: index }),
                    }
                }
                r.w.keyword(")");
            }
            r.leave();
        }
        r.enter(vec![Visible::table(table, self.table)], &[], true)?;
        if let Some(conflict) = &self.conflict {
            self.on_conflict(&mut r, conflict, tenant_name)?;
        }
        self.returning.write(&mut r)?;
        r.leave();
        Ok(r.finish())
    }

    /// The columns the INSERT names: on SQLite, which has no `DEFAULT`
    /// among `VALUES`, those that every row leaves to their default are
    /// left out (a row cannot leave to its default a column another row
    /// sets).
    fn written_columns(
        &self,
        dialect: Dialect,
        named: &[&'static str],
    ) -> Result<Vec<&'static str>, BuildError> {
        if dialect != Dialect::Sqlite {
            return Ok(named.to_vec());
        }
        let mut columns = Vec::with_capacity(named.len());
        for column in named {
            let defaults = self
                .rows
                .iter()
                .filter(|row| matches!(value_of(row, column), Some(RowValue::Default)))
                .count();
            if defaults == 0 {
                columns.push(*column);
            } else if defaults < self.rows.len() {
                return Err(mixed_defaults());
            }
        }
        if columns.is_empty() && self.table.tenant.is_none() && self.rows.len() > 1 {
            return Err(mixed_defaults());
        }
        Ok(columns)
    }

    /// `ON CONFLICT (<tenant column>, <target>...) DO ...`.
    fn on_conflict<'q>(
        &self,
        r: &mut Renderer<'_, 'q>,
        conflict: &'q Conflict,
        tenant: Option<&'static str>,
    ) -> Result<(), BuildError> {
        let target = match conflict {
            Conflict::DoNothing { target } | Conflict::DoUpdate { target, .. } => target,
        };
        r.w.keyword(" ON CONFLICT (");
        write_names(r, tenant.into_iter().chain(target.iter().copied()));
        r.w.keyword(")");
        match conflict {
            Conflict::DoNothing { .. } => r.w.keyword(" DO NOTHING"),
            Conflict::DoUpdate {
                assignments,
                filters,
                ..
            } => {
                if let Some(tenant) = tenant {
                    let columns: Vec<&'static str> =
                        assignments.iter().map(|(column, _)| *column).collect();
                    refuse_tenant_column(self.table.name, tenant, &columns)?;
                }
                if assignments.is_empty() {
                    return Err(BuildError::EmptyUpdate {
                        table: self.table.name,
                    });
                }
                r.set_excluded(Some(self.table));
                r.w.keyword(" DO UPDATE SET ");
                let mut written = Ok(());
                for (index, (column, value)) in assignments.iter().enumerate() {
                    if index > 0 {
                        r.w.keyword(", ");
                    }
                    r.w.identifier(column);
                    r.w.keyword(" = ");
                    written = r.expr_in(Clause::Set, value);
                    if written.is_err() {
                        break;
                    }
                }
                let written =
                    written.and_then(|()| r.clause(" WHERE ", &[], filters, Clause::Where));
                r.set_excluded(None);
                written?;
            }
        }
        Ok(())
    }
}

fn mixed_defaults() -> BuildError {
    BuildError::UnsupportedInDialect {
        construct: "DEFAULT among the VALUES of some rows only",
        dialect: Dialect::Sqlite,
        hint: "SQLite gives a column its default only when the INSERT leaves it out: insert the rows that leave it to its default separately",
    }
}

fn value_of<'r>(row: &'r Row, column: &str) -> Option<&'r RowValue> {
    row.iter()
        .find(|(name, _)| *name == column)
        .map(|(_, value)| value)
}

impl From<InsertScope> for StatementScope {
    fn from(scope: InsertScope) -> Self {
        match scope {
            InsertScope::Tenant(key) => StatementScope::Tenant(key),
            InsertScope::Global => StatementScope::Global,
        }
    }
}

/// `"a", "b", ...`.
fn write_names<'a>(r: &mut Renderer<'_, '_>, names: impl Iterator<Item = &'a str>) {
    for (index, name) in names.enumerate() {
        if index > 0 {
            r.w.keyword(", ");
        }
        r.w.identifier(name);
    }
}

/// Sets `column` in `row`, replacing an earlier value.
fn set_in_row(row: &mut Row, column: &'static str, value: RowValue) {
    match row.iter_mut().find(|(name, _)| *name == column) {
        Some(slot) => slot.1 = value,
        None => row.push((column, value)),
    }
}

impl<T> sealed::Sealed for Insert<T> {}

impl<T> BuildStatement for Insert<T> {
    fn scope(&self) -> StatementScope {
        self.query.scope.into()
    }

    fn build_in(&self, dialect: Dialect, schema: &Identifier) -> Result<Statement, BuildError> {
        self.query.build(dialect, schema)
    }
}

impl<T> Clone for Insert<T> {
    fn clone(&self) -> Self {
        Insert {
            query: self.query.clone(),
            _table: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Insert<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Insert").field(&self.query).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::column::Column;
    use crate::query::Update;
    use crate::{TenantId, tenant_scoped};

    #[tenant_scoped]
    #[allow(dead_code)] // declared for its metadata and columns
    struct Note {
        tenant_id: i64,
        #[tenancy(primary_key)]
        id: i64,
        body: String,
    }

    /// Names the tenant column in another case: the types never make one
    /// (the tenant column is not `Assignable`, rows are generated), but the
    /// statement itself is checked too.
    const FORGED: Column<Note, i64> = Column::new("TENANT_ID");

    fn assigned() -> BuildError {
        BuildError::TenantColumnAssigned {
            table: "notes",
            column: "TENANT_ID",
        }
    }

    #[test]
    fn a_forged_tenant_column_is_never_assigned() {
        let tenant = TenantId::<i64>::from_verified(7);
        let update = Update::<Note>::scoped(&tenant).set(FORGED, 8);
        assert_eq!(update.to_postgres(), Err(assigned()));
        let insert = Insert::<Note>::scoped(&tenant).set(FORGED, 8);
        assert_eq!(insert.to_sqlite(), Err(assigned()));
        let upsert = Insert::<Note>::scoped(&tenant)
            .set(Note::ID, 1)
            .on_conflict_do_update((Note::ID,), (FORGED,));
        assert_eq!(upsert.to_postgres(), Err(assigned()));

        let mut row = Insert::<Note>::scoped(&tenant);
        row.query.rows.push(vec![
            ("TENANT_ID", RowValue::Expr(ExprNode::Value(8i64.into()))),
            ("body", RowValue::Expr(ExprNode::Value("x".into()))),
        ]);
        assert_eq!(row.to_postgres(), Err(assigned()));
    }
}
