//! `UPDATE`, confined to the tenant's rows; the tenant column is never set.

use core::fmt;
use core::marker::PhantomData;

use crate::BuildError;
use crate::capability::CrossTenant;
use crate::column::Assignable;
use crate::column_type::ColumnType;
use crate::ident::Identifier;
use crate::meta::{GlobalTable, Table, TableMeta, TenantScoped};
use crate::query::expr::{Assign, ExprNode};
use crate::query::filter::{Filter, Node};
use crate::query::lists::ColumnList;
use crate::query::render::{Clause, Renderer, Visible};
use crate::query::returning::Returning;
use crate::query::scope::refuse_tenant_column;
use crate::query::source::{JoinTarget, Source};
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
/// A column is set to a value or to an expression of the row
/// (`SET balance = balance - $1`), which the database computes from the row
/// as it is when the update reaches it: two concurrent updates of one row
/// each apply, where a read followed by a write of the result would lose
/// one. Tables read with [`from`](Update::from) (`UPDATE .. FROM`) are
/// scoped too, each by its own predicate in the `WHERE`.
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
///
/// // An atomic transfer out of an account: no read, no lost update.
/// let debit = Update::<Order>::scoped(&tenant)
///     .set(Order::TOTAL, Order::TOTAL - 250)
///     .filter(Order::ID.eq(3).and(Order::TOTAL.gte(250)))
///     .returning(Order::TOTAL)
///     .to_postgres()?;
/// assert_eq!(
///     debit.sql(),
///     r#"UPDATE "public"."orders" SET "total" = "orders"."total" - $1 WHERE "orders"."tenant_id" = $2 AND ("orders"."id" = $3 AND "orders"."total" >= $4) RETURNING "orders"."total""#
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
    assignments: Vec<(&'static str, ExprNode)>,
    from: Vec<Source>,
    filters: Vec<Node>,
    returning: Returning,
}

impl<T: TenantScoped> Update<T> {
    /// Updates rows of one tenant: the witness's.
    pub fn scoped(tenant: &impl TenantWitness<T::Key>) -> Self {
        Update::new(StatementScope::of_witness(tenant))
    }

    /// Updates rows of every tenant, under a cross-tenant capability: no
    /// tenant predicate; subqueries are not restricted either, and tables
    /// read with [`from`](Update::from) are matched on the tenant column.
    pub fn across_tenants(capability: &CrossTenant) -> Self {
        Update::new(StatementScope::across_tenants(capability, T::meta()))
    }

    /// `UPDATE T .. FROM U`: reads the tenant's rows of `U` as well, to
    /// compute the new values and to filter by; correlate them with `T`'s
    /// rows in a [`filter`](Update::filter). `U`'s tenant predicate is a
    /// conjunct of the `WHERE`.
    pub fn from<U: TenantScoped<Key = T::Key>>(mut self) -> Self {
        self.query.from.push(Source::table(U::meta()));
        self
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
                from: Vec::new(),
                filters: Vec::new(),
                returning: Returning::Nothing,
            },
            _table: PhantomData,
        }
    }

    /// `SET column = value`, replacing an earlier assignment of that column.
    /// The value is bound, or an expression of the same type
    /// (`Order::TOTAL * 2`), which may read the row being updated and the
    /// tables of [`from`](Update::from).
    pub fn set<C>(mut self, column: C, value: impl Assign<C::Value>) -> Self
    where
        C: Assignable<T>,
        C::Value: ColumnType,
    {
        assign(
            &mut self.query.assignments,
            column.name(),
            value.assign_as(),
        );
        self
    }

    /// `FROM G`: reads a global table as well.
    pub fn from_global<G: GlobalTable>(mut self) -> Self {
        self.query.from.push(Source::table(G::meta()));
        self
    }

    /// `FROM <target>`: reads an aliased table ([`&TableAlias`](crate::TableAlias),
    /// scoped under its alias) or a [`&Cte`](crate::Cte) as well.
    pub fn from_source(mut self, target: impl JoinTarget) -> Self {
        self.query.from.push(target.into_source());
        self
    }

    /// Adds a filter; repeated calls are combined with `AND`.
    pub fn filter(mut self, filter: Filter) -> Self {
        self.query.filters.push(filter.0);
        self
    }

    /// `RETURNING *`: the updated rows, as stored.
    pub fn returning_all(mut self) -> Self {
        self.query.returning = Returning::All;
        self
    }

    /// `RETURNING <items>`: columns or expressions of the updated rows (on
    /// PostgreSQL, of the tables of [`from`](Update::from) too), after any
    /// earlier ones; `.returning((Order::ID, Order::TOTAL))`.
    pub fn returning(mut self, items: impl ColumnList) -> Self {
        self.query.returning.push(items);
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

        let mut r = Renderer::new(dialect, schema, self.scope, Some(self.table));
        let mut sources = Vec::with_capacity(1 + self.from.len());
        sources.push(Visible::table(table, self.table));
        for source in &self.from {
            sources.push(r.visible_source(source)?);
        }
        r.enter(sources, &[], true)?;
        let mut leads = Vec::with_capacity(1 + self.from.len());
        leads.extend(r.tenant_lead(self.table, table)?);
        r.w.keyword("UPDATE ");
        r.w.table(self.table);
        r.w.keyword(" SET ");
        for (index, (column, value)) in self.assignments.iter().enumerate() {
            if index > 0 {
                r.w.keyword(", ");
            }
            r.w.identifier(column);
            r.w.keyword(" = ");
            r.expr_in(Clause::Set, value)?;
        }
        for (index, source) in self.from.iter().enumerate() {
            r.w.keyword(if index == 0 { " FROM " } else { ", " });
            leads.extend(r.read_source(self.table, table, source)?);
        }
        r.clause(" WHERE ", &leads, &self.filters, Clause::Where)?;
        self.returning.write(&mut r)?;
        r.leave();
        Ok(r.finish())
    }
}

/// Sets `name` to `value` in `assignments`: replaces an earlier assignment
/// of the column, or adds one (`UPDATE … SET` and `DO UPDATE SET`).
pub(crate) fn assign(
    assignments: &mut Vec<(&'static str, ExprNode)>,
    name: &'static str,
    value: ExprNode,
) {
    match assignments.iter_mut().find(|(known, _)| *known == name) {
        Some(slot) => slot.1 = value,
        None => assignments.push((name, value)),
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
