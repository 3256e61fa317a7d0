//! `UPDATE`, confined to the tenant's rows; the tenant column is never set.

use core::fmt;
use core::marker::PhantomData;

use sea_query::{Expr, Query, Value};

use crate::BuildError;
use crate::capability::CrossTenant;
use crate::column::Assignable;
use crate::meta::{ColumnType, GlobalTable, Table, TableMeta, TenantScoped};
use crate::query::filter::{Filter, Node};
use crate::query::render::{Lowerer, conjoin, render, table_ref};
use crate::query::scope::{Scope, refuse_tenant_column};
use crate::query::shape::{self, Kind};
use crate::statement::{BuildStatement, Dialect, Statement, StatementScope, sealed};
use crate::tenant::TenantWitness;

/// An `UPDATE` of table `T`.
///
/// A scoped update changes only the witness's rows: its `WHERE` leads with
/// the tenant predicate, and the filters follow as a separate conjunct.
/// Without a filter it updates every row *of that tenant*. The tenant column
/// cannot be passed to [`set`](Update::set), so a row cannot be moved to
/// another tenant. Tables marked `#[tenant_scoped]` start one with
/// `Order::update(&tenant)`.
///
/// ```
/// # #[tenancy_core::global_table] pub struct Plan { #[tenancy(primary_key)] pub id: i64, #[tenancy(unique)] pub name: String }
/// # #[tenancy_core::tenant_scoped] pub struct Customer { pub tenant_id: i64, #[tenancy(primary_key, generated)] pub id: i64, #[tenancy(unique)] pub name: String, #[tenancy(references = Plan)] pub plan_id: i64 }
/// # #[tenancy_core::tenant_scoped] pub struct Order { pub tenant_id: i64, #[tenancy(primary_key, generated)] pub id: i64, #[tenancy(references = Customer)] pub customer_id: i64, #[tenancy(index)] pub status: String, pub total: i64 }
/// use tenancy_core::{BuildStatement, Update, TenantId};
///
/// let tenant = TenantId::<i64>::from_verified(7);
/// let statement = Update::<Order>::scoped(&tenant)
///     .set(Order::STATUS, "cancelled")
///     .filter(Order::STATUS.eq("open").or(Order::TOTAL.eq(0)))
///     .to_postgres()?;
/// assert_eq!(
///     statement.sql,
///     r#"UPDATE "orders" SET "status" = $1 WHERE "orders"."tenant_id" = $2 AND ("orders"."status" = $3 OR "orders"."total" = $4)"#
/// );
/// # Ok::<(), tenancy_core::BuildError>(())
/// ```
#[must_use = "a statement does nothing until it is built and executed"]
pub struct Update<T> {
    scope: Scope,
    table: &'static TableMeta,
    assignments: Vec<(&'static str, Value)>,
    filters: Vec<Node>,
    returning: bool,
    _table: PhantomData<fn() -> T>,
}

impl<T: TenantScoped> Update<T> {
    /// Updates rows of one tenant: the witness's.
    pub fn scoped(tenant: &impl TenantWitness<T::Key>) -> Self {
        Update::new(Scope::of_witness(tenant))
    }

    /// Updates rows of every tenant, under a cross-tenant capability: no
    /// tenant predicate; subqueries are not restricted either.
    pub fn across_tenants(capability: &CrossTenant) -> Self {
        Update::new(Scope::across_tenants(capability, T::meta()))
    }
}

impl<T: GlobalTable> Update<T> {
    /// Updates a global table; no tenant involved.
    pub fn global() -> Self {
        Update::new(Scope::Global)
    }
}

impl<T: Table> Update<T> {
    fn new(scope: Scope) -> Self {
        Update {
            scope,
            table: T::meta(),
            assignments: Vec::new(),
            filters: Vec::new(),
            returning: false,
            _table: PhantomData,
        }
    }

    /// `SET column = value` (bound), replacing an earlier value of that column.
    pub fn set<C>(mut self, column: C, value: impl Into<C::Value>) -> Self
    where
        C: Assignable<T>,
        C::Value: ColumnType,
    {
        let value = value.into().into_value();
        let name = column.name();
        match self
            .assignments
            .iter_mut()
            .find(|(column, _)| *column == name)
        {
            Some(slot) => slot.1 = value,
            None => self.assignments.push((name, value)),
        }
        self
    }

    /// Adds a filter; repeated calls are combined with `AND`.
    pub fn filter(mut self, filter: Filter) -> Self {
        self.filters.push(filter.0);
        self
    }

    /// `RETURNING *`: the updated rows, as stored.
    pub fn returning_all(mut self) -> Self {
        self.returning = true;
        self
    }

    fn lower(&self) -> Result<sea_query::UpdateStatement, BuildError> {
        let table = self.table.name;
        if self.assignments.is_empty() {
            return Err(BuildError::EmptyUpdate { table });
        }
        if let Some(tenant) = self.table.tenant {
            let columns: Vec<&'static str> =
                self.assignments.iter().map(|(column, _)| *column).collect();
            refuse_tenant_column(table, tenant.name, &columns)?;
        }

        let mut lowerer = Lowerer::new(self.scope, self.table);
        let tenant = lowerer.tenant_predicate(self.table)?;
        lowerer.bring_into_scope(self.table)?;
        let user = lowerer.filters(&self.filters)?;

        let mut update = Query::update();
        update.table(table_ref(self.table));
        update.values(
            self.assignments
                .iter()
                .map(|(column, value)| (*column, Expr::Value(value.clone()))),
        );
        if let Some(condition) = conjoin(tenant, user) {
            update.and_where(condition);
        }
        if self.returning {
            update.returning_all();
        }
        Ok(update)
    }
}

impl<T> sealed::Sealed for Update<T> {}

impl<T: Table> BuildStatement for Update<T> {
    fn scope(&self) -> StatementScope {
        self.scope.statement_scope()
    }

    fn build(&self, dialect: Dialect) -> Result<Statement, BuildError> {
        let scope = self.scope.statement_scope();
        shape::build_cached(self, Kind::Update, dialect, scope, |update| {
            Ok(render(&update.lower()?, dialect, update.scope))
        })
    }
}

// What decides the SQL of an update, for the statement cache: everything
// but the values, which are its slots.
shape::describe!(impl[T] for Update<T>, |update, v| {
    let Update {
        scope,
        table,
        assignments,
        filters,
        returning,
        _table,
    } = update;
    v.visit(scope);
    v.table(*table);
    v.len(assignments.len());
    for (column, value) in assignments {
        v.str(*column);
        v.value(value);
    }
    v.len(filters.len());
    for filter in filters {
        v.visit(filter);
    }
    v.token(u64::from(*returning));
});

impl<T> Clone for Update<T> {
    fn clone(&self) -> Self {
        Update {
            scope: self.scope,
            table: self.table,
            assignments: self.assignments.clone(),
            filters: self.filters.clone(),
            returning: self.returning,
            _table: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Update<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Update")
            .field("scope", &self.scope)
            .field("table", &self.table.name)
            .field("assignments", &self.assignments)
            .field("filters", &self.filters)
            .field("returning", &self.returning)
            .finish()
    }
}
