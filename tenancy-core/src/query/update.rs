//! `UPDATE`, confined to the tenant's rows; the tenant column is never set.

use core::fmt;
use core::marker::PhantomData;

use sea_query::Value;

use crate::BuildError;
use crate::capability::CrossTenant;
use crate::column::Assignable;
use crate::ident::Identifier;
use crate::meta::{ColumnType, GlobalTable, Table, TableMeta, TenantScoped};
use crate::query::filter::{Filter, Node};
use crate::query::render::Renderer;
use crate::query::scope::refuse_tenant_column;
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
/// # include!("../../docs/doctest_setup.rs");
/// # fn main() -> Result<(), tenancy_core::BuildError> {
/// use tenancy_core::{BuildStatement, Update, TenantId};
///
/// let tenant = TenantId::<i64>::from_verified(7);
/// let statement = Update::<Order>::scoped(&tenant)
///     .set(Order::STATUS, "cancelled")
///     .filter(Order::STATUS.eq("open").or(Order::TOTAL.eq(0)))
///     .to_postgres()?;
/// assert_eq!(
///     statement.sql(),
///     r#"UPDATE "public"."orders" SET "status" = $1 WHERE "orders"."tenant_id" = $2 AND ("orders"."status" = $3 OR "orders"."total" = $4)"#
/// );
/// # Ok(())
/// # }
/// ```
#[must_use = "a statement does nothing until it is built and executed"]
pub struct Update<T> {
    query: UpdateQuery,
    _table: PhantomData<fn() -> T>,
}

/// The type-erased state of an update, written by code compiled once for
/// every table.
#[derive(Clone, Debug)]
struct UpdateQuery {
    scope: StatementScope,
    table: &'static TableMeta,
    assignments: Vec<(&'static str, Value)>,
    filters: Vec<Node>,
    returning: bool,
}

impl<T: TenantScoped> Update<T> {
    /// Updates rows of one tenant: the witness's.
    pub fn scoped(tenant: &impl TenantWitness<T::Key>) -> Self {
        Update::new(StatementScope::of_witness(tenant))
    }

    /// Updates rows of every tenant, under a cross-tenant capability: no
    /// tenant predicate; subqueries are not restricted either.
    pub fn across_tenants(capability: &CrossTenant) -> Self {
        Update::new(StatementScope::across_tenants(capability, T::meta()))
    }
}

impl<T: GlobalTable> Update<T> {
    /// Updates a global table; no tenant involved.
    pub fn global() -> Self {
        Update::new(StatementScope::Global)
    }
}

impl<T: Table> Update<T> {
    fn new(scope: StatementScope) -> Self {
        Update {
            query: UpdateQuery {
                scope,
                table: T::meta(),
                assignments: Vec::new(),
                filters: Vec::new(),
                returning: false,
            },
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
            .query
            .assignments
            .iter_mut()
            .find(|(column, _)| *column == name)
        {
            Some(slot) => slot.1 = value,
            None => self.query.assignments.push((name, value)),
        }
        self
    }

    /// Adds a filter; repeated calls are combined with `AND`.
    pub fn filter(mut self, filter: Filter) -> Self {
        self.query.filters.push(filter.0);
        self
    }

    /// `RETURNING *`: the updated rows, as stored.
    pub fn returning_all(mut self) -> Self {
        self.query.returning = true;
        self
    }
}

impl UpdateQuery {
    fn build(&self, dialect: Dialect, schema: &Identifier) -> Result<Statement, BuildError> {
        let table = self.table.name;
        if self.assignments.is_empty() {
            return Err(BuildError::EmptyUpdate { table });
        }
        if let Some(tenant) = self.table.tenant {
            let columns: Vec<&'static str> =
                self.assignments.iter().map(|(column, _)| *column).collect();
            refuse_tenant_column(table, tenant.name, &columns)?;
        }

        let mut r = Renderer::new(dialect, schema, self.scope, self.table);
        let lead = r.tenant_lead(self.table)?;
        r.set_visible(&[self.table])?;
        r.w.keyword("UPDATE ");
        r.w.table(self.table);
        r.w.keyword(" SET ");
        for (index, (column, value)) in self.assignments.iter().enumerate() {
            if index > 0 {
                r.w.keyword(", ");
            }
            r.w.identifier(column);
            r.w.keyword(" = ");
            r.w.bind(value)?;
        }
        r.clause(" WHERE ", lead, &self.filters)?;
        if self.returning {
            r.w.keyword(" RETURNING *");
        }
        Ok(r.finish())
    }
}

impl<T> sealed::Sealed for Update<T> {}

impl<T> BuildStatement for Update<T> {
    fn scope(&self) -> StatementScope {
        self.query.scope
    }

    fn build_in(&self, dialect: Dialect, schema: &Identifier) -> Result<Statement, BuildError> {
        self.query.build(dialect, schema)
    }
}

impl<T> Clone for Update<T> {
    fn clone(&self) -> Self {
        Update {
            query: self.query.clone(),
            _table: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Update<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Update").field(&self.query).finish()
    }
}
