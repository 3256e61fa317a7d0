//! `SELECT`, `SELECT COUNT(*)` and `SELECT EXISTS(..)`.

use core::fmt;
use core::marker::PhantomData;

use sea_query::{Asterisk, Expr, ExprTrait, JoinType, Order, Query, SelectStatement};

use crate::BuildError;
use crate::capability::CrossTenant;
use crate::column::{AnyColumn, ColumnRef};
use crate::meta::{GlobalTable, Table, TableMeta, TenantScoped};
use crate::query::filter::{Filter, Node};
use crate::query::lists::ColumnList;
use crate::query::render::{Lowerer, conjoin, render, table_ref};
use crate::query::scope::Scope;
use crate::query::shape::{self, Kind};
use crate::statement::{BuildStatement, Dialect, Statement, StatementScope, sealed};
use crate::tenant::TenantWitness;

/// A `SELECT` from table `T`, possibly joined with others.
///
/// Made with [`Select::scoped`] (one tenant), [`Select::across_tenants`]
/// (a [`CrossTenant`] capability) or [`Select::global`] (a global table);
/// `#[tenant_scoped]` tables also get the shorthands `Order::select(&tenant)`
/// and `Order::select_across_tenants(&capability)`, `#[global_table]` ones
/// `Plan::select()`.
/// In a scoped select, `T`, every joined tenant-scoped table and every
/// tenant-scoped table in a subquery is restricted to the witness's tenant
/// by a bound, top-level predicate.
///
/// Without [`column`](Select::column)/[`columns`](Select::columns), it selects
/// every column of `T`, qualified, tenant column first, so rows decode into
/// `T` even when other tables are joined.
///
/// ```
/// # #[tenancy_core::global_table] pub struct Plan { #[tenancy(primary_key)] pub id: i64, #[tenancy(unique)] pub name: String }
/// # #[tenancy_core::tenant_scoped] pub struct Customer { pub tenant_id: i64, #[tenancy(primary_key, generated)] pub id: i64, #[tenancy(unique)] pub name: String, #[tenancy(references = Plan)] pub plan_id: i64 }
/// # #[tenancy_core::tenant_scoped] pub struct Order { pub tenant_id: i64, #[tenancy(primary_key, generated)] pub id: i64, #[tenancy(references = Customer)] pub customer_id: i64, #[tenancy(index)] pub status: String, pub total: i64 }
/// use tenancy_core::{BuildStatement, Select, TenantId};
///
/// let tenant = TenantId::<i64>::from_verified(7);
/// let statement = Select::<Order>::scoped(&tenant)
///     .left_join::<Customer>(Customer::ID.eq_col(Order::CUSTOMER_ID))
///     .filter(Order::STATUS.eq("open"))
///     .order_by_desc(Order::ID)
///     .limit(20)
///     .to_postgres()?;
/// assert_eq!(
///     statement.sql,
///     r#"SELECT "orders"."tenant_id", "orders"."id", "orders"."customer_id", "orders"."status", "orders"."total" FROM "orders" LEFT JOIN "customers" ON "customers"."tenant_id" = $1 AND "customers"."id" = "orders"."customer_id" WHERE "orders"."tenant_id" = $2 AND "orders"."status" = $3 ORDER BY "orders"."id" DESC LIMIT $4"#
/// );
/// assert_eq!(statement.values.0[0], 7i64.into());
/// # Ok::<(), tenancy_core::BuildError>(())
/// ```
#[must_use = "a statement does nothing until it is built and executed"]
pub struct Select<T> {
    query: SelectQuery,
    _table: PhantomData<fn() -> T>,
}

/// The largest row count databases accept: they count in signed 64 bits
/// (and sqlx refuses larger unsigned values).
const MAX_ROWS: u64 = i64::MAX as u64;

/// The type-erased state of a select.
#[derive(Clone, Debug)]
struct SelectQuery {
    scope: Scope,
    table: &'static TableMeta,
    joins: Vec<Join>,
    filters: Vec<Node>,
    projection: Vec<ColumnRef>,
    order: Vec<(ColumnRef, Order)>,
    limit: Option<u64>,
    offset: Option<u64>,
}

#[derive(Clone, Debug)]
struct Join {
    table: &'static TableMeta,
    on: Node,
    left: bool,
}

impl<T: TenantScoped> Select<T> {
    /// Selects the rows of one tenant: the witness's.
    pub fn scoped(tenant: &impl TenantWitness<T::Key>) -> Self {
        Select::new(Scope::of_witness(tenant))
    }

    /// Selects rows of every tenant, under a cross-tenant capability.
    ///
    /// There is no tenant predicate on `T`; tables joined with
    /// [`join`](Select::join) are matched on the tenant column
    /// (`"<joined>"."tenant_id" = "<T>"."tenant_id"`), so rows of different
    /// tenants are never joined. Subqueries are not restricted: correlate
    /// them with `eq_col` where they must stay within a row's tenant.
    pub fn across_tenants(capability: &CrossTenant) -> Self {
        Select::new(Scope::across_tenants(capability, T::meta()))
    }

    /// `INNER JOIN U ON <U's tenant predicate> AND (<on>)`.
    pub fn join<U: TenantScoped<Key = T::Key>>(self, on: Filter) -> Self {
        self.push_join(U::meta(), on, false)
    }

    /// `LEFT JOIN U ON <U's tenant predicate> AND (<on>)`. The predicate is
    /// in `ON`, not `WHERE`, so rows of `T` without a match are kept.
    pub fn left_join<U: TenantScoped<Key = T::Key>>(self, on: Filter) -> Self {
        self.push_join(U::meta(), on, true)
    }
}

impl<T: GlobalTable> Select<T> {
    /// Selects from a global table; no tenant involved. Tenant-scoped tables
    /// cannot appear in it, not even in subqueries (building fails with
    /// [`BuildError::ScopedTableWithoutTenant`]).
    pub fn global() -> Self {
        Select::new(Scope::Global)
    }
}

impl<T: Table> Select<T> {
    fn new(scope: Scope) -> Self {
        Select {
            query: SelectQuery {
                scope,
                table: T::meta(),
                joins: Vec::new(),
                filters: Vec::new(),
                projection: Vec::new(),
                order: Vec::new(),
                limit: None,
                offset: None,
            },
            _table: PhantomData,
        }
    }

    fn push_join(mut self, table: &'static TableMeta, on: Filter, left: bool) -> Self {
        self.query.joins.push(Join {
            table,
            on: on.0,
            left,
        });
        self
    }

    /// Adds a filter; repeated calls are combined with `AND`.
    pub fn filter(mut self, filter: Filter) -> Self {
        self.query.filters.push(filter.0);
        self
    }

    /// `INNER JOIN G ON <on>` with a global table.
    pub fn join_global<G: GlobalTable>(self, on: Filter) -> Self {
        self.push_join(G::meta(), on, false)
    }

    /// `LEFT JOIN G ON <on>` with a global table.
    pub fn left_join_global<G: GlobalTable>(self, on: Filter) -> Self {
        self.push_join(G::meta(), on, true)
    }

    /// Adds a column to the projection (of `T` or a joined table).
    pub fn column(mut self, column: impl AnyColumn) -> Self {
        self.query.projection.push(column.column_ref());
        self
    }

    /// Adds a tuple of columns to the projection:
    /// `.columns((Order::ID, Customer::NAME))`.
    pub fn columns(mut self, columns: impl ColumnList) -> Self {
        self.query.projection.extend(columns.column_refs());
        self
    }

    /// `ORDER BY column ASC`, after any earlier orderings.
    pub fn order_by_asc(mut self, column: impl AnyColumn) -> Self {
        self.query.order.push((column.column_ref(), Order::Asc));
        self
    }

    /// `ORDER BY column DESC`, after any earlier orderings.
    pub fn order_by_desc(mut self, column: impl AnyColumn) -> Self {
        self.query.order.push((column.column_ref(), Order::Desc));
        self
    }

    /// `LIMIT limit` (bound). Databases count rows in signed 64-bit
    /// integers, so a limit above `i64::MAX` is sent as `i64::MAX`.
    pub fn limit(mut self, limit: u64) -> Self {
        self.query.limit = Some(Ord::min(limit, MAX_ROWS));
        self
    }

    /// `OFFSET offset` (bound), capped at `i64::MAX` like
    /// [`limit`](Select::limit). In SQLite, which only accepts `OFFSET`
    /// after a `LIMIT`, an offset without a limit is sent with
    /// `LIMIT i64::MAX`.
    pub fn offset(mut self, offset: u64) -> Self {
        self.query.offset = Some(Ord::min(offset, MAX_ROWS));
        self
    }

    /// `SELECT COUNT(*)` over the same rows, ignoring projection, ordering,
    /// limit and offset.
    pub fn count(self) -> Count<T> {
        Count {
            query: self.query,
            _table: PhantomData,
        }
    }

    /// `SELECT EXISTS(SELECT 1 ...)` over the same rows: whether there is
    /// any. Ignores projection, ordering, limit and offset.
    pub fn exists(self) -> Exists<T> {
        Exists {
            query: self.query,
            _table: PhantomData,
        }
    }
}

impl SelectQuery {
    /// `FROM`, `JOIN`s and `WHERE`, each table reference scoped; returns the
    /// lowerer with every table of the statement in scope.
    fn lower_from_where(&self) -> Result<(SelectStatement, Lowerer), BuildError> {
        let mut lowerer = Lowerer::new(self.scope, self.table);
        let mut select = Query::select();

        let tenant = lowerer.tenant_predicate(self.table)?;
        lowerer.bring_into_scope(self.table)?;
        select.from(table_ref(self.table));

        for join in &self.joins {
            let tenant = lowerer.join_predicate(self.table, join.table)?;
            // ON may refer to this table and those before it, as in SQL.
            lowerer.bring_into_scope(join.table)?;
            let on = lowerer.filter(&join.on)?;
            let kind = if join.left {
                JoinType::LeftJoin
            } else {
                JoinType::InnerJoin
            };
            let on = match tenant {
                Some(tenant) => tenant.and(on),
                None => on,
            };
            select.join(kind, table_ref(join.table), on);
        }

        let user = lowerer.filters(&self.filters)?;
        if let Some(condition) = conjoin(tenant, user) {
            select.and_where(condition);
        }
        Ok((select, lowerer))
    }

    fn rows(&self, dialect: Dialect) -> Result<SelectStatement, BuildError> {
        let (mut select, lowerer) = self.lower_from_where()?;
        if self.projection.is_empty() {
            for column in all_columns(self.table) {
                select.expr(lowerer.column(column)?);
            }
        } else {
            for column in &self.projection {
                select.expr(lowerer.column(*column)?);
            }
        }
        for (column, order) in &self.order {
            select.order_by_expr(lowerer.column(*column)?, order.clone());
        }
        let limit = match (dialect, self.limit, self.offset) {
            (Dialect::Sqlite, None, Some(_)) => Some(MAX_ROWS),
            (_, limit, _) => limit,
        };
        if let Some(limit) = limit {
            select.limit(limit);
        }
        if let Some(offset) = self.offset {
            select.offset(offset);
        }
        Ok(select)
    }

    fn count(&self, _: Dialect) -> Result<SelectStatement, BuildError> {
        let (mut select, _) = self.lower_from_where()?;
        select.expr(Expr::col(Asterisk).count());
        Ok(select)
    }

    fn exists(&self, _: Dialect) -> Result<SelectStatement, BuildError> {
        let (mut inner, _) = self.lower_from_where()?;
        inner.expr(Expr::Constant(1.into()));
        let mut select = Query::select();
        select.expr(Expr::exists(inner));
        Ok(select)
    }
}

/// Every column of a table, tenant column first, in metadata order.
fn all_columns(table: &'static TableMeta) -> impl Iterator<Item = ColumnRef> {
    let tenant = table.tenant.map(|tenant| tenant.name);
    let columns = table.columns.iter().map(|column| column.name);
    tenant.into_iter().chain(columns).map(|column| ColumnRef {
        table: table.name,
        column,
    })
}

/// `SELECT COUNT(*)` over the rows of a [`Select`], made by
/// [`Select::count`]. Decodes as one `i64`.
///
/// ```
/// # #[tenancy_core::global_table] pub struct Plan { #[tenancy(primary_key)] pub id: i64, #[tenancy(unique)] pub name: String }
/// # #[tenancy_core::tenant_scoped] pub struct Customer { pub tenant_id: i64, #[tenancy(primary_key, generated)] pub id: i64, #[tenancy(unique)] pub name: String, #[tenancy(references = Plan)] pub plan_id: i64 }
/// # #[tenancy_core::tenant_scoped] pub struct Order { pub tenant_id: i64, #[tenancy(primary_key, generated)] pub id: i64, #[tenancy(references = Customer)] pub customer_id: i64, #[tenancy(index)] pub status: String, pub total: i64 }
/// use tenancy_core::{BuildStatement, Select, TenantId};
///
/// let tenant = TenantId::<i64>::from_verified(7);
/// let sql = Select::<Order>::scoped(&tenant).count().to_sqlite()?.sql;
/// assert_eq!(sql, r#"SELECT COUNT(*) FROM "orders" WHERE "orders"."tenant_id" = ?"#);
/// # Ok::<(), tenancy_core::BuildError>(())
/// ```
#[must_use = "a statement does nothing until it is built and executed"]
pub struct Count<T> {
    query: SelectQuery,
    _table: PhantomData<fn() -> T>,
}

/// `SELECT EXISTS(SELECT 1 ...)` over the rows of a [`Select`], made by
/// [`Select::exists`]. Decodes as one `bool`.
///
/// ```
/// # #[tenancy_core::global_table] pub struct Plan { #[tenancy(primary_key)] pub id: i64, #[tenancy(unique)] pub name: String }
/// # #[tenancy_core::tenant_scoped] pub struct Customer { pub tenant_id: i64, #[tenancy(primary_key, generated)] pub id: i64, #[tenancy(unique)] pub name: String, #[tenancy(references = Plan)] pub plan_id: i64 }
/// # #[tenancy_core::tenant_scoped] pub struct Order { pub tenant_id: i64, #[tenancy(primary_key, generated)] pub id: i64, #[tenancy(references = Customer)] pub customer_id: i64, #[tenancy(index)] pub status: String, pub total: i64 }
/// use tenancy_core::{BuildStatement, Select, TenantId};
///
/// let tenant = TenantId::<i64>::from_verified(7);
/// let sql = Select::<Order>::scoped(&tenant).exists().to_postgres()?.sql;
/// assert_eq!(sql, r#"SELECT EXISTS(SELECT 1 FROM "orders" WHERE "orders"."tenant_id" = $1)"#);
/// # Ok::<(), tenancy_core::BuildError>(())
/// ```
#[must_use = "a statement does nothing until it is built and executed"]
pub struct Exists<T> {
    query: SelectQuery,
    _table: PhantomData<fn() -> T>,
}

macro_rules! select_builder {
    ($builder:ident, $lower:ident, $kind:expr) => {
        impl<T> sealed::Sealed for $builder<T> {}

        impl<T> BuildStatement for $builder<T> {
            fn scope(&self) -> StatementScope {
                self.query.scope.statement_scope()
            }

            fn build(&self, dialect: Dialect) -> Result<Statement, BuildError> {
                let scope = self.query.scope.statement_scope();
                shape::build_cached(&self.query, $kind, dialect, scope, |query| {
                    Ok(render(&query.$lower(dialect)?, dialect, query.scope))
                })
            }
        }

        impl<T> Clone for $builder<T> {
            fn clone(&self) -> Self {
                $builder {
                    query: self.query.clone(),
                    _table: PhantomData,
                }
            }
        }

        impl<T> fmt::Debug for $builder<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($builder))
                    .field(&self.query)
                    .finish()
            }
        }
    };
}

select_builder!(Select, rows, Kind::SelectRows);
select_builder!(Count, count, Kind::SelectCount);
select_builder!(Exists, exists, Kind::SelectExists);

// What decides the SQL of a select, for the statement cache: everything
// but the values, which are its slots.
shape::describe!(impl for SelectQuery, |query, v| {
    let SelectQuery {
        scope,
        table,
        joins,
        filters,
        projection,
        order,
        limit,
        offset,
    } = query;
    v.visit(scope);
    v.table(*table);
    v.len(joins.len());
    for join in joins {
        v.visit(join);
    }
    v.len(filters.len());
    for filter in filters {
        v.visit(filter);
    }
    v.len(projection.len());
    for column in projection {
        v.column(column);
    }
    v.len(order.len());
    for (column, direction) in order {
        v.column(column);
        match direction {
            Order::Asc => v.token(1),
            Order::Desc => v.token(2),
            _ => v.uncacheable(),
        }
    }
    for bound in [limit, offset] {
        match bound {
            Some(count) => {
                v.token(1);
                v.count(count);
            }
            None => v.token(0),
        }
    }
});

shape::describe!(impl for Join, |join, v| {
    let Join { table, on, left } = join;
    v.table(*table);
    v.token(u64::from(*left));
    v.visit(on);
});
