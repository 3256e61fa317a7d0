//! `INSERT`, with the tenant column's value taken from the witness.

use core::fmt;
use core::marker::PhantomData;

use sea_query::{Expr, OnConflict, Query, Value};

use crate::BuildError;
use crate::column::Assignable;
use crate::meta::{ColumnType, GlobalTable, InsertRow, Table, TableMeta, TenantScoped};
use crate::query::lists::{AssignableList, ConflictTarget};
use crate::query::render::{render, table_ref};
use crate::query::scope::{Scope, refuse_tenant_column};
use crate::query::shape::{self, Kind};
use crate::statement::{BuildStatement, Dialect, Statement, StatementScope, sealed};
use crate::tenant::TenantWitness;

/// An `INSERT` into table `T`.
///
/// In a scoped insert, the tenant column is the first column of every row
/// and its value is the witness's key, bound; nothing a caller passes can
/// set it. Rows come from structs ([`row`](Insert::row), [`rows`](Insert::rows))
/// or column by column ([`set`](Insert::set), [`new_row`](Insert::new_row)).
/// Tables marked `#[tenant_scoped]` start one with `Order::insert(&tenant)`.
///
/// ```
/// # #[tenancy_core::global_table] pub struct Plan { #[tenancy(primary_key)] pub id: i64, #[tenancy(unique)] pub name: String }
/// # #[tenancy_core::tenant_scoped] pub struct Customer { pub tenant_id: i64, #[tenancy(primary_key, generated)] pub id: i64, #[tenancy(unique)] pub name: String, #[tenancy(references = Plan)] pub plan_id: i64 }
/// # #[tenancy_core::tenant_scoped] pub struct Order { pub tenant_id: i64, #[tenancy(primary_key, generated)] pub id: i64, #[tenancy(references = Customer)] pub customer_id: i64, #[tenancy(index)] pub status: String, pub total: i64 }
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
///     statement.sql,
///     r#"INSERT INTO "orders" ("tenant_id", "customer_id", "status", "total") VALUES ($1, $2, $3, $4) RETURNING *"#
/// );
/// assert_eq!(statement.values.0[0], 7i64.into());
/// # Ok::<(), tenancy_core::BuildError>(())
/// ```
#[must_use = "a statement does nothing until it is built and executed"]
pub struct Insert<T> {
    scope: Scope,
    table: &'static TableMeta,
    rows: Vec<Row>,
    conflict: Option<Conflict>,
    returning: bool,
    _table: PhantomData<fn() -> T>,
}

/// One row: `(column, value)` pairs, without the tenant column.
type Row = Vec<(&'static str, Value)>;

#[derive(Clone, Debug)]
enum Conflict {
    DoNothing {
        target: Vec<&'static str>,
    },
    DoUpdate {
        target: Vec<&'static str>,
        columns: Vec<&'static str>,
    },
}

impl<T: TenantScoped> Insert<T> {
    /// Inserts rows for one tenant: the witness's.
    pub fn scoped(tenant: &impl TenantWitness<T::Key>) -> Self {
        Insert::new(Scope::of_witness(tenant))
    }
}

impl<T: GlobalTable> Insert<T> {
    /// Inserts into a global table; no tenant involved.
    pub fn global() -> Self {
        Insert::new(Scope::Global)
    }
}

impl<T: Table> Insert<T> {
    fn new(scope: Scope) -> Self {
        Insert {
            scope,
            table: T::meta(),
            rows: Vec::new(),
            conflict: None,
            returning: false,
            _table: PhantomData,
        }
    }

    /// Adds a row from a struct: every column except the tenant column and
    /// generated columns.
    pub fn row(mut self, row: &T) -> Self
    where
        T: InsertRow,
    {
        self.rows.push(row.insert_values());
        self
    }

    /// Adds a row per struct.
    pub fn rows<'a>(mut self, rows: impl IntoIterator<Item = &'a T>) -> Self
    where
        T: InsertRow,
    {
        self.rows
            .extend(rows.into_iter().map(InsertRow::insert_values));
        self
    }

    /// Sets a column of the current row (the last one added, or a new one if
    /// there is none yet), replacing an earlier value of that column.
    pub fn set<C>(mut self, column: C, value: impl Into<C::Value>) -> Self
    where
        C: Assignable<T>,
        C::Value: ColumnType,
    {
        let value = value.into().into_value();
        if self.rows.is_empty() {
            self.rows.push(Row::new());
        }
        if let Some(row) = self.rows.last_mut() {
            set_in_row(row, column.name(), value);
        }
        self
    }

    /// Starts another row, for [`set`](Insert::set). Every row must set the
    /// same columns.
    pub fn new_row(mut self) -> Self {
        self.rows.push(Row::new());
        self
    }

    /// `ON CONFLICT (<tenant column>, <target>...) DO NOTHING`. The target
    /// names a unique key; the tenant column leads it as it leads every key
    /// of a scoped table.
    pub fn on_conflict_do_nothing(mut self, target: impl ConflictTarget<T>) -> Self {
        self.conflict = Some(Conflict::DoNothing {
            target: target.names(),
        });
        self
    }

    /// `ON CONFLICT (<tenant column>, <target>...) DO UPDATE SET c =
    /// excluded.c, ...`. The conflicting row has the same tenant (the
    /// tenant column is part of the target), and the tenant column is never
    /// updated.
    ///
    /// ```
    /// # #[tenancy_core::global_table] pub struct Plan { #[tenancy(primary_key)] pub id: i64, #[tenancy(unique)] pub name: String }
    /// # #[tenancy_core::tenant_scoped] pub struct Customer { pub tenant_id: i64, #[tenancy(primary_key, generated)] pub id: i64, #[tenancy(unique)] pub name: String, #[tenancy(references = Plan)] pub plan_id: i64 }
    /// # #[tenancy_core::tenant_scoped] pub struct Order { pub tenant_id: i64, #[tenancy(primary_key, generated)] pub id: i64, #[tenancy(references = Customer)] pub customer_id: i64, #[tenancy(index)] pub status: String, pub total: i64 }
    /// use tenancy_core::{BuildStatement, Insert, TenantId};
    ///
    /// let tenant = TenantId::<i64>::from_verified(7);
    /// let sql = Insert::<Order>::scoped(&tenant)
    ///     .set(Order::ID, 1)
    ///     .set(Order::STATUS, "paid")
    ///     .on_conflict_do_update((Order::ID,), (Order::STATUS,))
    ///     .to_sqlite()?
    ///     .sql;
    /// assert_eq!(
    ///     sql,
    ///     r#"INSERT INTO "orders" ("tenant_id", "id", "status") VALUES (?, ?, ?) ON CONFLICT ("tenant_id", "id") DO UPDATE SET "status" = "excluded"."status""#
    /// );
    /// # Ok::<(), tenancy_core::BuildError>(())
    /// ```
    pub fn on_conflict_do_update(
        mut self,
        target: impl ConflictTarget<T>,
        update_columns: impl AssignableList<T>,
    ) -> Self {
        self.conflict = Some(Conflict::DoUpdate {
            target: target.names(),
            columns: update_columns.names(),
        });
        self
    }

    /// `RETURNING *`: the inserted rows, as stored.
    pub fn returning_all(mut self) -> Self {
        self.returning = true;
        self
    }

    /// The tenant column and the witness's key, for a scoped insert.
    fn tenant_column(&self) -> Result<Option<(&'static str, Value)>, BuildError> {
        let value = self.scope.tenant_value(self.table, self.table.name)?;
        match (self.table.tenant, value) {
            (Some(tenant), Some(value)) => Ok(Some((tenant.name, value))),
            (None, _) => Ok(None),
            // No entry point makes this; refuse rather than insert unscoped.
            (Some(_), None) => Err(BuildError::ScopedTableWithoutTenant {
                table: self.table.name,
                outer: self.table.name,
            }),
        }
    }

    fn lower(&self) -> Result<sea_query::InsertStatement, BuildError> {
        let table = self.table.name;
        let Some(first) = self.rows.first() else {
            return Err(BuildError::EmptyInsert { table });
        };
        let tenant = self.tenant_column()?;
        let columns: Vec<&'static str> = first.iter().map(|(column, _)| *column).collect();
        if let Some((tenant_column, _)) = tenant {
            refuse_tenant_column(table, tenant_column, &columns)?;
        }

        let mut insert = Query::insert();
        insert.into_table(table_ref(self.table));
        let tenant_name = tenant.as_ref().map(|(name, _)| *name);
        insert.columns(tenant_name.into_iter().chain(columns.iter().copied()));

        for (index, row) in self.rows.iter().enumerate() {
            if row.is_empty() && tenant.is_none() {
                return Err(BuildError::EmptyRow { table, row: index });
            }
            let values = values_in_order(row, &columns)
                .ok_or(BuildError::InconsistentRows { table, row: index })?;
            let tenant_value = tenant.as_ref().map(|(_, value)| Expr::Value(value.clone()));
            insert
                .values(tenant_value.into_iter().chain(values))
                .map_err(|_| BuildError::InconsistentRows { table, row: index })?;
        }

        if let Some(conflict) = &self.conflict {
            insert.on_conflict(self.on_conflict(conflict, tenant_name)?);
        }
        if self.returning {
            insert.returning_all();
        }
        Ok(insert)
    }

    fn on_conflict(
        &self,
        conflict: &Conflict,
        tenant: Option<&'static str>,
    ) -> Result<OnConflict, BuildError> {
        let lead = |target: &[&'static str]| {
            tenant
                .into_iter()
                .chain(target.iter().copied())
                .collect::<Vec<_>>()
        };
        Ok(match conflict {
            Conflict::DoNothing { target } => {
                OnConflict::columns(lead(target)).do_nothing().to_owned()
            }
            Conflict::DoUpdate { target, columns } => {
                if let Some(tenant) = tenant {
                    refuse_tenant_column(self.table.name, tenant, columns)?;
                }
                OnConflict::columns(lead(target))
                    .update_columns(columns.iter().copied())
                    .to_owned()
            }
        })
    }
}

/// Sets `column` in `row`, replacing an earlier value.
fn set_in_row(row: &mut Row, column: &'static str, value: Value) {
    match row.iter_mut().find(|(name, _)| *name == column) {
        Some(slot) => slot.1 = value,
        None => row.push((column, value)),
    }
}

/// The row's values in the order of `columns`; `None` when the row does not
/// set exactly these columns.
fn values_in_order(row: &Row, columns: &[&'static str]) -> Option<Vec<Expr>> {
    if row.len() != columns.len() {
        return None;
    }
    columns
        .iter()
        .map(|column| {
            row.iter()
                .find(|(name, _)| name == column)
                .map(|(_, value)| Expr::Value(value.clone()))
        })
        .collect()
}

impl<T> sealed::Sealed for Insert<T> {}

impl<T: Table> BuildStatement for Insert<T> {
    fn scope(&self) -> StatementScope {
        self.scope.statement_scope()
    }

    fn build(&self, dialect: Dialect) -> Result<Statement, BuildError> {
        let scope = self.scope.statement_scope();
        shape::build_cached(self, Kind::Insert, dialect, scope, |insert| {
            Ok(render(&insert.lower()?, dialect, insert.scope))
        })
    }
}

// What decides the SQL of an insert, for the statement cache: everything
// but the values, which are its slots.
shape::describe!(impl[T] for Insert<T>, |insert, v| {
    let Insert {
        scope,
        table,
        rows,
        conflict,
        returning,
        _table,
    } = insert;
    v.visit(scope);
    v.table(*table);
    v.len(rows.len());
    for row in rows {
        v.len(row.len());
        for (column, value) in row {
            v.str(*column);
            v.value(value);
        }
    }
    match conflict {
        None => v.token(0),
        Some(Conflict::DoNothing { target }) => {
            v.token(1);
            v.len(target.len());
            for column in target {
                v.str(*column);
            }
        }
        Some(Conflict::DoUpdate { target, columns }) => {
            v.token(2);
            v.len(target.len());
            for column in target {
                v.str(*column);
            }
            v.len(columns.len());
            for column in columns {
                v.str(*column);
            }
        }
    }
    v.token(u64::from(*returning));
});

impl<T> Clone for Insert<T> {
    fn clone(&self) -> Self {
        Insert {
            scope: self.scope,
            table: self.table,
            rows: self.rows.clone(),
            conflict: self.conflict.clone(),
            returning: self.returning,
            _table: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Insert<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Insert")
            .field("scope", &self.scope)
            .field("table", &self.table.name)
            .field("rows", &self.rows)
            .field("conflict", &self.conflict)
            .field("returning", &self.returning)
            .finish()
    }
}
