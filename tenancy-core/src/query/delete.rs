//! `DELETE`, confined to the tenant's rows.

use core::fmt;
use core::marker::PhantomData;

use sea_query::Query;

use crate::BuildError;
use crate::capability::CrossTenant;
use crate::meta::{GlobalTable, Table, TableMeta, TenantScoped};
use crate::query::filter::{Filter, Node};
use crate::query::render::{Lowerer, conjoin, render, table_ref};
use crate::query::scope::Scope;
use crate::query::shape::{self, Kind};
use crate::statement::{BuildStatement, Dialect, Statement, StatementScope, sealed};
use crate::tenant::TenantWitness;

/// A `DELETE` from table `T`.
///
/// A scoped delete removes only the witness's rows: its `WHERE` leads with
/// the tenant predicate, and the filters follow as a separate conjunct.
/// Without a filter it deletes every row *of that tenant*. Tables marked
/// `#[tenant_scoped]` start one with `Order::delete(&tenant)`.
///
/// ```
/// # #[tenancy_core::global_table] pub struct Plan { #[tenancy(primary_key)] pub id: i64, #[tenancy(unique)] pub name: String }
/// # #[tenancy_core::tenant_scoped] pub struct Customer { pub tenant_id: i64, #[tenancy(primary_key, generated)] pub id: i64, #[tenancy(unique)] pub name: String, #[tenancy(references = Plan)] pub plan_id: i64 }
/// # #[tenancy_core::tenant_scoped] pub struct Order { pub tenant_id: i64, #[tenancy(primary_key, generated)] pub id: i64, #[tenancy(references = Customer)] pub customer_id: i64, #[tenancy(index)] pub status: String, pub total: i64 }
/// use tenancy_core::{BuildStatement, Delete, TenantId};
///
/// let tenant = TenantId::<i64>::from_verified(7);
/// let statement = Delete::<Order>::scoped(&tenant)
///     .filter(Order::STATUS.eq("draft"))
///     .to_sqlite()?;
/// assert_eq!(
///     statement.sql,
///     r#"DELETE FROM "orders" WHERE "orders"."tenant_id" = ? AND "orders"."status" = ?"#
/// );
/// # Ok::<(), tenancy_core::BuildError>(())
/// ```
#[must_use = "a statement does nothing until it is built and executed"]
pub struct Delete<T> {
    scope: Scope,
    table: &'static TableMeta,
    filters: Vec<Node>,
    returning: bool,
    _table: PhantomData<fn() -> T>,
}

impl<T: TenantScoped> Delete<T> {
    /// Deletes rows of one tenant: the witness's.
    pub fn scoped(tenant: &impl TenantWitness<T::Key>) -> Self {
        Delete::new(Scope::of_witness(tenant))
    }

    /// Deletes rows of every tenant, under a cross-tenant capability: no
    /// tenant predicate; subqueries are not restricted either.
    pub fn across_tenants(capability: &CrossTenant) -> Self {
        Delete::new(Scope::across_tenants(capability, T::meta()))
    }
}

impl<T: GlobalTable> Delete<T> {
    /// Deletes from a global table; no tenant involved.
    pub fn global() -> Self {
        Delete::new(Scope::Global)
    }
}

impl<T: Table> Delete<T> {
    fn new(scope: Scope) -> Self {
        Delete {
            scope,
            table: T::meta(),
            filters: Vec::new(),
            returning: false,
            _table: PhantomData,
        }
    }

    /// Adds a filter; repeated calls are combined with `AND`.
    pub fn filter(mut self, filter: Filter) -> Self {
        self.filters.push(filter.0);
        self
    }

    /// `RETURNING *`: the deleted rows.
    pub fn returning_all(mut self) -> Self {
        self.returning = true;
        self
    }

    fn lower(&self) -> Result<sea_query::DeleteStatement, BuildError> {
        let mut lowerer = Lowerer::new(self.scope, self.table);
        let tenant = lowerer.tenant_predicate(self.table)?;
        lowerer.bring_into_scope(self.table)?;
        let user = lowerer.filters(&self.filters)?;

        let mut delete = Query::delete();
        delete.from_table(table_ref(self.table));
        if let Some(condition) = conjoin(tenant, user) {
            delete.and_where(condition);
        }
        if self.returning {
            delete.returning_all();
        }
        Ok(delete)
    }
}

impl<T> sealed::Sealed for Delete<T> {}

impl<T: Table> BuildStatement for Delete<T> {
    fn scope(&self) -> StatementScope {
        self.scope.statement_scope()
    }

    fn build(&self, dialect: Dialect) -> Result<Statement, BuildError> {
        let scope = self.scope.statement_scope();
        shape::build_cached(self, Kind::Delete, dialect, scope, |delete| {
            Ok(render(&delete.lower()?, dialect, delete.scope))
        })
    }
}

// What decides the SQL of a delete, for the statement cache: everything
// but the values, which are its slots.
shape::describe!(impl[T] for Delete<T>, |delete, v| {
    let Delete {
        scope,
        table,
        filters,
        returning,
        _table,
    } = delete;
    v.visit(scope);
    v.table(*table);
    v.len(filters.len());
    for filter in filters {
        v.visit(filter);
    }
    v.token(u64::from(*returning));
});

impl<T> Clone for Delete<T> {
    fn clone(&self) -> Self {
        Delete {
            scope: self.scope,
            table: self.table,
            filters: self.filters.clone(),
            returning: self.returning,
            _table: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Delete<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delete")
            .field("scope", &self.scope)
            .field("table", &self.table.name)
            .field("filters", &self.filters)
            .field("returning", &self.returning)
            .finish()
    }
}
