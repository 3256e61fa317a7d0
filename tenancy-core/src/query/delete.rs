//! `DELETE`, confined to the tenant's rows.

use core::fmt;
use core::marker::PhantomData;

use crate::BuildError;
use crate::capability::CrossTenant;
use crate::ident::Identifier;
use crate::meta::{GlobalTable, Table, TableMeta, TenantScoped};
use crate::query::filter::{Filter, Node};
use crate::query::lists::ColumnList;
use crate::query::render::{Clause, Renderer, Visible};
use crate::query::returning::Returning;
use crate::query::source::{JoinTarget, Source};
use crate::statement::{BuildStatement, Dialect, Statement, StatementScope, sealed};
use crate::tenant::TenantWitness;

/// A `DELETE` from table `T`.
///
/// A scoped delete removes only the witness's rows: its `WHERE` leads with
/// the tenant predicate, and the filters follow as a separate conjunct.
/// Without a filter it deletes every row *of that tenant*. Tables marked
/// `#[tenant_scoped]` start one with `Order::delete(&tenant)`. Tables read
/// with [`using`](Delete::using) (`DELETE .. USING`, PostgreSQL only) are
/// scoped too, each by its own predicate in the `WHERE`.
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
    using: Vec<Source>,
    filters: Vec<Node>,
    returning: Returning,
}

impl<T: TenantScoped> Delete<T> {
    /// Deletes rows of one tenant: the witness's.
    pub fn scoped(tenant: &impl TenantWitness<T::Key>) -> Self {
        Delete::new(StatementScope::of_witness(tenant))
    }

    /// Deletes rows of every tenant, under a cross-tenant capability: no
    /// tenant predicate; subqueries are not restricted either, and tables
    /// read with [`using`](Delete::using) are matched on the tenant column.
    pub fn across_tenants(capability: &CrossTenant) -> Self {
        Delete::new(StatementScope::across_tenants(capability, T::meta()))
    }

    /// `DELETE FROM T USING U`: deletes the rows of `T` that match a row
    /// of `U` (of the tenant) by the filters. PostgreSQL only: SQLite has
    /// no `USING`, and building for it fails with
    /// [`BuildError::UnsupportedInDialect`]; write the match as
    /// `.filter(Filter::exists::<U>(..))` there.
    ///
    /// ```
    /// # include!("../../docs/doctest_setup.rs");
    /// # fn main() -> Result<(), tenancy_core::BuildError> {
    /// use tenancy_core::{BuildStatement, TenantId};
    ///
    /// let tenant = TenantId::<i64>::from_verified(7);
    /// let statement = Order::delete(&tenant)
    ///     .using::<Customer>()
    ///     .filter(Customer::ID.eq(Order::CUSTOMER_ID).and(Customer::NAME.like("test-%")))
    ///     .returning(Order::ID)
    ///     .to_postgres()?;
    /// assert_eq!(
    ///     statement.sql(),
    ///     r#"DELETE FROM "public"."orders" USING "public"."customers" WHERE "orders"."tenant_id" = $1 AND "customers"."tenant_id" = $2 AND ("customers"."id" = "orders"."customer_id" AND "customers"."name" LIKE $3) RETURNING "orders"."id""#
    /// );
    /// # Ok(())
    /// # }
    /// ```
    pub fn using<U: TenantScoped<Key = T::Key>>(mut self) -> Self {
        self.query.using.push(Source::table(U::meta()));
        self
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
                using: Vec::new(),
                filters: Vec::new(),
                returning: Returning::Nothing,
            },
            _table: PhantomData,
        }
    }

    /// Adds a filter; repeated calls are combined with `AND`.
    pub fn filter(mut self, filter: Filter) -> Self {
        self.query.filters.push(filter.0);
        self
    }

    /// `USING G`: reads a global table as well (PostgreSQL only).
    pub fn using_global<G: GlobalTable>(mut self) -> Self {
        self.query.using.push(Source::table(G::meta()));
        self
    }

    /// `USING <target>`: reads an aliased table ([`&TableAlias`](crate::TableAlias),
    /// scoped under its alias) or a [`&Cte`](crate::Cte) as well
    /// (PostgreSQL only).
    pub fn using_source(mut self, target: impl JoinTarget) -> Self {
        self.query.using.push(target.into_source());
        self
    }

    /// `RETURNING *`: the deleted rows.
    pub fn returning_all(mut self) -> Self {
        self.query.returning = Returning::All;
        self
    }

    /// `RETURNING <items>`: columns or expressions of the deleted rows,
    /// after any earlier ones.
    pub fn returning(mut self, items: impl ColumnList) -> Self {
        self.query.returning.push(items);
        self
    }
}

impl DeleteQuery {
    fn build(&self, dialect: Dialect, schema: &Identifier) -> Result<Statement, BuildError> {
        if dialect == Dialect::Sqlite && !self.using.is_empty() {
            return Err(BuildError::UnsupportedInDialect {
                construct: "DELETE .. USING",
                dialect,
                hint: "filter the deleted rows with `Filter::exists::<U>(..)`, correlated with the deleted table",
            });
        }
        let table = self.table.name;
        let mut r = Renderer::new(dialect, schema, self.scope, Some(self.table));
        let mut sources = Vec::with_capacity(1 + self.using.len());
        sources.push(Visible::table(table, self.table));
        for source in &self.using {
            sources.push(r.visible_source(source)?);
        }
        r.enter(sources, &[], true)?;
        let mut leads = Vec::with_capacity(1 + self.using.len());
        leads.extend(r.tenant_lead(self.table, table)?);
        r.w.keyword("DELETE FROM ");
        r.w.table(self.table);
        for (index, source) in self.using.iter().enumerate() {
            r.w.keyword(if index == 0 { " USING " } else { ", " });
            leads.extend(r.read_source(self.table, table, source)?);
        }
        r.clause(" WHERE ", &leads, &self.filters, Clause::Where)?;
        self.returning.write(&mut r)?;
        r.leave();
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
