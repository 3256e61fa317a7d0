//! `INSERT`, with the tenant column's value taken from the witness.

use core::fmt;
use core::marker::PhantomData;

use sea_query::Value;

use crate::BuildError;
use crate::column::Assignable;
use crate::ident::Identifier;
use crate::meta::{ColumnType, GlobalTable, InsertRow, Table, TableMeta, TenantScoped};
use crate::query::lists::{AssignableList, ConflictTarget};
use crate::query::scope::{refuse_tenant_column, tenant_key};
use crate::query::writer::SqlWriter;
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
    returning: bool,
}

/// Whom an insert is for. No entry point inserts across tenants: a row
/// always belongs to the one tenant that inserted it.
#[derive(Clone, Copy, Debug)]
enum InsertScope {
    Tenant(KeyValue),
    Global,
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
                returning: false,
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
        self.query.rows.push(row.insert_values());
        self
    }

    /// Adds a row per struct.
    pub fn rows<'a>(mut self, rows: impl IntoIterator<Item = &'a T>) -> Self
    where
        T: InsertRow,
    {
        self.query
            .rows
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
        let rows = &mut self.query.rows;
        if rows.is_empty() {
            rows.push(Row::new());
        }
        if let Some(row) = rows.last_mut() {
            set_in_row(row, column.name(), value);
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

    /// `ON CONFLICT (<tenant column>, <target>...) DO UPDATE SET c =
    /// excluded.c, ...`. The conflicting row has the same tenant (the
    /// tenant column is part of the target), and the tenant column is never
    /// updated.
    ///
    /// ```
    /// # include!("../../docs/doctest_setup.rs");
    /// # fn main() -> Result<(), tenancy_core::BuildError> {
    /// use tenancy_core::{BuildStatement, Insert, TenantId};
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
    /// # Ok(())
    /// # }
    /// ```
    pub fn on_conflict_do_update(
        mut self,
        target: impl ConflictTarget<T>,
        update_columns: impl AssignableList<T>,
    ) -> Self {
        self.query.conflict = Some(Conflict::DoUpdate {
            target: target.names(),
            columns: update_columns.names(),
        });
        self
    }

    /// `RETURNING *`: the inserted rows, as stored.
    pub fn returning_all(mut self) -> Self {
        self.query.returning = true;
        self
    }
}

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
        let columns: Vec<&'static str> = first.iter().map(|(column, _)| *column).collect();
        let tenant_name = tenant.as_ref().map(|(name, _)| *name);
        if let Some(tenant_name) = tenant_name {
            refuse_tenant_column(table, tenant_name, &columns)?;
        }

        let mut w = SqlWriter::new(dialect, schema);
        w.keyword("INSERT INTO ");
        w.table(self.table);
        w.keyword(" (");
        write_names(
            &mut w,
            tenant_name.into_iter().chain(columns.iter().copied()),
        );
        w.keyword(") VALUES ");
        for (index, row) in self.rows.iter().enumerate() {
            if row.is_empty() && tenant.is_none() {
                return Err(BuildError::EmptyRow { table, row: index });
            }
            if row.len() != columns.len() {
                return Err(BuildError::InconsistentRows { table, row: index });
            }
            w.keyword(if index == 0 { "(" } else { ", (" });
            if let Some((_, key)) = &tenant {
                w.bind(key)?;
            }
            for (position, column) in columns.iter().enumerate() {
                let value = row
                    .iter()
                    .find(|(name, _)| name == column)
                    .map(|(_, value)| value)
                    .ok_or(BuildError::InconsistentRows { table, row: index })?;
                if position > 0 || tenant.is_some() {
                    w.keyword(", ");
                }
                w.bind(value)?;
            }
            w.keyword(")");
        }
        if let Some(conflict) = &self.conflict {
            self.on_conflict(&mut w, conflict, tenant_name)?;
        }
        if self.returning {
            w.keyword(" RETURNING *");
        }
        Ok(w.finish(StatementScope::from(self.scope)))
    }

    /// `ON CONFLICT (<tenant column>, <target>...) DO ...`.
    fn on_conflict(
        &self,
        w: &mut SqlWriter<'_>,
        conflict: &Conflict,
        tenant: Option<&'static str>,
    ) -> Result<(), BuildError> {
        let target = match conflict {
            Conflict::DoNothing { target } | Conflict::DoUpdate { target, .. } => target,
        };
        w.keyword(" ON CONFLICT (");
        write_names(w, tenant.into_iter().chain(target.iter().copied()));
        w.keyword(")");
        match conflict {
            Conflict::DoNothing { .. } => w.keyword(" DO NOTHING"),
            Conflict::DoUpdate { columns, .. } => {
                if let Some(tenant) = tenant {
                    refuse_tenant_column(self.table.name, tenant, columns)?;
                }
                w.keyword(" DO UPDATE SET ");
                for (index, column) in columns.iter().enumerate() {
                    if index > 0 {
                        w.keyword(", ");
                    }
                    w.identifier(column);
                    w.keyword(" = ");
                    w.column("excluded", column);
                }
            }
        }
        Ok(())
    }
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
fn write_names<'a>(w: &mut SqlWriter<'_>, names: impl Iterator<Item = &'a str>) {
    for (index, name) in names.enumerate() {
        if index > 0 {
            w.keyword(", ");
        }
        w.identifier(name);
    }
}

/// Sets `column` in `row`, replacing an earlier value.
fn set_in_row(row: &mut Row, column: &'static str, value: Value) {
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
        row.query
            .rows
            .push(vec![("TENANT_ID", 8i64.into()), ("body", "x".into())]);
        assert_eq!(row.to_postgres(), Err(assigned()));
    }
}
