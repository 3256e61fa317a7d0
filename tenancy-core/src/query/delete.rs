//! `DELETE`, confined to the tenant's rows.

use core::fmt;
use core::marker::PhantomData;

use crate::BuildError;
use crate::capability::CrossTenant;
use crate::ident::Identifier;
use crate::meta::{GlobalTable, Table, TableMeta, TenantScoped};
use crate::query::filter::{Filter, Node};
use crate::query::render::Renderer;
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
/// # include!("../../docs/doctest_setup.rs");
/// # fn main() -> Result<(), tenancy_core::BuildError> {
/// use tenancy_core::{BuildStatement, Delete, TenantId};
///
/// let tenant = TenantId::<i64>::from_verified(7);
/// let statement = Delete::<Order>::scoped(&tenant)
///     .filter(Order::STATUS.eq("draft"))
///     .to_sqlite()?;
/// assert_eq!(
///     statement.sql(),
///     r#"DELETE FROM "main"."orders" WHERE "orders"."tenant_id" = ? AND "orders"."status" = ?"#
/// );
/// # Ok(())
/// # }
/// ```
#[must_use = "a statement does nothing until it is built and executed"]
pub struct Delete<T> {
    query: DeleteQuery,
    _table: PhantomData<fn() -> T>,
}

/// The type-erased state of a delete, written by code compiled once for
/// every table.
#[derive(Clone, Debug)]
struct DeleteQuery {
    scope: StatementScope,
    table: &'static TableMeta,
    filters: Vec<Node>,
    returning: bool,
}

impl<T: TenantScoped> Delete<T> {
    /// Deletes rows of one tenant: the witness's.
    pub fn scoped(tenant: &impl TenantWitness<T::Key>) -> Self {
        Delete::new(StatementScope::of_witness(tenant))
    }

    /// Deletes rows of every tenant, under a cross-tenant capability: no
    /// tenant predicate; subqueries are not restricted either.
    pub fn across_tenants(capability: &CrossTenant) -> Self {
        Delete::new(StatementScope::across_tenants(capability, T::meta()))
    }
}

impl<T: GlobalTable> Delete<T> {
    /// Deletes from a global table; no tenant involved.
    pub fn global() -> Self {
        Delete::new(StatementScope::Global)
    }
}

impl<T: Table> Delete<T> {
    fn new(scope: StatementScope) -> Self {
        Delete {
            query: DeleteQuery {
                scope,
                table: T::meta(),
                filters: Vec::new(),
                returning: false,
            },
            _table: PhantomData,
        }
    }

    /// Adds a filter; repeated calls are combined with `AND`.
    pub fn filter(mut self, filter: Filter) -> Self {
        self.query.filters.push(filter.0);
        self
    }

    /// `RETURNING *`: the deleted rows.
    pub fn returning_all(mut self) -> Self {
        self.query.returning = true;
        self
    }
}

impl DeleteQuery {
    fn build(&self, dialect: Dialect, schema: &Identifier) -> Result<Statement, BuildError> {
        let mut r = Renderer::new(dialect, schema, self.scope, self.table);
        let lead = r.tenant_lead(self.table)?;
        r.set_visible(&[self.table])?;
        r.w.keyword("DELETE FROM ");
        r.w.table(self.table);
        r.clause(" WHERE ", lead, &self.filters)?;
        if self.returning {
            r.w.keyword(" RETURNING *");
        }
        Ok(r.finish())
    }
}

impl<T> sealed::Sealed for Delete<T> {}

impl<T> BuildStatement for Delete<T> {
    fn scope(&self) -> StatementScope {
        self.query.scope
    }

    fn build_in(&self, dialect: Dialect, schema: &Identifier) -> Result<Statement, BuildError> {
        self.query.build(dialect, schema)
    }
}

impl<T> Clone for Delete<T> {
    fn clone(&self) -> Self {
        Delete {
            query: self.query.clone(),
            _table: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Delete<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Delete").field(&self.query).finish()
    }
}
