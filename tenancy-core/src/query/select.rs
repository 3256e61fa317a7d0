//! `SELECT`, `SELECT COUNT(*)` and `SELECT EXISTS(..)`.

use core::fmt;
use core::marker::PhantomData;

use crate::BuildError;
use crate::capability::CrossTenant;
use crate::column_type::ColumnType;
use crate::ident::Identifier;
use crate::meta::{GlobalTable, Table, TableMeta, TenantScoped};
use crate::query::compound::QueryNode;
use crate::query::cte::Cte;
use crate::query::expr::{Expr, ExprNode, IntoExpr, Orderable};
use crate::query::filter::{Filter, Node};
use crate::query::lists::{ColumnList, ExprList, OrderingList};
use crate::query::order::{OrderNode, Ordering};
use crate::query::render::Renderer;
use crate::query::source::{Join, JoinKind, JoinTarget, Source, TableAlias};
use crate::query::subquery::Subquery;
use crate::statement::{BuildStatement, Dialect, Statement, StatementScope, sealed};
use crate::tenant::TenantWitness;

/// A `SELECT` from table `T` (or, as `Select<Cte>`, from a [`Cte`]),
/// possibly joined with others.
///
/// Made with [`Select::scoped`] (one tenant), [`Select::across_tenants`]
/// (a [`CrossTenant`] capability) or [`Select::global`] (a global table);
/// `#[tenant_scoped]` tables also get the shorthand `Order::select(&tenant)`,
/// `#[global_table]` ones `Plan::select()`; [`Cte::select`] selects from a CTE.
/// In a scoped select, `T`, every joined tenant-scoped table, every
/// tenant-scoped table in a subquery, a CTE or a union member is
/// restricted to the witness's tenant by a bound, top-level predicate.
///
/// Without [`column`](Select::column)/[`columns`](Select::columns), it selects
/// every column of `T`, qualified, tenant column first, so rows decode into
/// `T` even when other tables are joined. With them, rows decode by the
/// projection's names into any `FromRow` struct: aggregates, `GROUP BY`,
/// `HAVING`, window functions, `DISTINCT`, aliases, row locks and unions
/// are all here.
///
/// ```
/// # include!("../../docs/doctest_setup.rs");
/// # fn main() -> Result<(), tenancy_core::BuildError> {
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
///     statement.sql(),
///     r#"SELECT "orders"."tenant_id", "orders"."id", "orders"."customer_id", "orders"."status", "orders"."total" FROM "public"."orders" LEFT JOIN "public"."customers" ON "customers"."tenant_id" = $1 AND "customers"."id" = "orders"."customer_id" WHERE "orders"."tenant_id" = $2 AND "orders"."status" = $3 ORDER BY "orders"."id" DESC LIMIT $4"#
/// );
/// assert_eq!(statement.values().0[0], 7i64.into());
/// # Ok(())
/// # }
/// ```
#[must_use = "a statement does nothing until it is built and executed"]
pub struct Select<T> {
    query: SelectQuery,
    _table: PhantomData<fn() -> T>,
}

/// The largest row count databases accept: they count in signed 64 bits
/// (and sqlx refuses larger unsigned values).
pub(crate) const MAX_ROWS: u64 = i64::MAX as u64;

/// A `LIMIT` or `OFFSET` as sent: databases count rows in signed 64-bit
/// integers, so a count above `i64::MAX` is sent as `i64::MAX`.
pub(crate) fn row_count(count: u64) -> u64 {
    Ord::min(count, MAX_ROWS)
}

/// A select with its type erased: a statement, a subquery, a CTE's body or
/// a union's member.
#[derive(Clone, Debug)]
pub struct SelectQuery {
    /// Whom it was built for; `None` for a subquery made without a
    /// witness, which takes the scope of the statement that embeds it.
    pub(crate) scope: Option<StatementScope>,
    pub(crate) with: Vec<Cte>,
    pub(crate) from: Source,
    pub(crate) joins: Vec<Join>,
    pub(crate) filters: Vec<Node>,
    /// The items; empty for every column of the source (of a table, tenant
    /// column first).
    pub(crate) projection: Vec<SelectItem>,
    /// `SELECT 1`, for `EXISTS`, whatever the projection.
    pub(crate) probe: bool,
    pub(crate) distinct: Distinct,
    pub(crate) group_by: Vec<ExprNode>,
    pub(crate) having: Vec<Node>,
    pub(crate) order: Vec<OrderNode>,
    pub(crate) limit: Option<u64>,
    pub(crate) offset: Option<u64>,
    pub(crate) lock: Option<Lock>,
}

/// One item of a projection: `<expr> [AS "<alias>"]`.
#[derive(Clone, Debug)]
pub struct SelectItem {
    pub(crate) expr: ExprNode,
    pub(crate) alias: Option<Identifier>,
}

impl SelectItem {
    pub(crate) fn new(expr: ExprNode, alias: Option<Identifier>) -> Self {
        SelectItem { expr, alias }
    }

    /// The name the item's column has in the result: its alias, or the
    /// name of the column it is.
    pub(crate) fn output_name(&self) -> Option<&str> {
        match (&self.alias, &self.expr) {
            (Some(alias), _) => Some(alias.as_str()),
            (None, ExprNode::Column(column)) => Some(column.column.as_str()),
            (None, _) => None,
        }
    }
}

/// `DISTINCT` or `DISTINCT ON (..)`.
#[derive(Clone, Debug)]
pub enum Distinct {
    /// Every row.
    No,
    /// `DISTINCT`.
    Rows,
    /// `DISTINCT ON (<expressions>)`, PostgreSQL only.
    On(Vec<ExprNode>),
}

/// A row lock: `FOR UPDATE` or `FOR SHARE`, `[NOWAIT | SKIP LOCKED]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lock {
    /// `None` when `SKIP LOCKED` or `NOWAIT` was asked for without a lock,
    /// which building refuses.
    pub(crate) strength: Option<LockStrength>,
    pub(crate) wait: LockWait,
}

/// How strongly a row lock locks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockStrength {
    /// `FOR UPDATE`
    Update,
    /// `FOR SHARE`
    Share,
}

/// What a row lock does with rows another transaction has locked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockWait {
    /// Waits for them.
    Wait,
    /// `NOWAIT`: fails.
    NoWait,
    /// `SKIP LOCKED`: leaves them out.
    SkipLocked,
}

impl<T: TenantScoped> Select<T> {
    /// Selects the rows of one tenant: the witness's.
    pub fn scoped(tenant: &impl TenantWitness<T::Key>) -> Self {
        Select::new(StatementScope::of_witness(tenant))
    }

    /// Selects rows of every tenant, under a cross-tenant capability.
    ///
    /// There is no tenant predicate on `T`; tables joined with
    /// [`join`](Select::join) are matched on the tenant column
    /// (`"<joined>"."tenant_id" = "<T>"."tenant_id"`), so rows of different
    /// tenants are never joined. Subqueries are not restricted: correlate
    /// them with `eq_col` where they must stay within a row's tenant.
    pub fn across_tenants(capability: &CrossTenant) -> Self {
        Select::new(StatementScope::across_tenants(capability, T::meta()))
    }

    /// `INNER JOIN U ON <U's tenant predicate> AND (<on>)`.
    pub fn join<U: TenantScoped<Key = T::Key>>(self, on: Filter) -> Self {
        self.push_join(JoinKind::Inner, Source::table(U::meta()), on)
    }

    /// `LEFT JOIN U ON <U's tenant predicate> AND (<on>)`. The predicate is
    /// in `ON`, not `WHERE`, so rows of `T` without a match are kept.
    pub fn left_join<U: TenantScoped<Key = T::Key>>(self, on: Filter) -> Self {
        self.push_join(JoinKind::Left, Source::table(U::meta()), on)
    }

    /// `RIGHT JOIN U ON <on>`: every row of `U` (of the tenant), with the
    /// rows of `T` that match. Each scoped table of the select is read
    /// through a scoped derived table (see [`JoinKind`]), since a predicate
    /// in `ON` would not confine the side a right join keeps.
    pub fn right_join<U: TenantScoped<Key = T::Key>>(self, on: Filter) -> Self {
        self.push_join(JoinKind::Right, Source::table(U::meta()), on)
    }

    /// `FULL JOIN U ON <on>`: every row of both sides (of the tenant),
    /// matched where they match; scoped like [`right_join`](Select::right_join).
    pub fn full_join<U: TenantScoped<Key = T::Key>>(self, on: Filter) -> Self {
        self.push_join(JoinKind::Full, Source::table(U::meta()), on)
    }
}

impl<T: GlobalTable> Select<T> {
    /// Selects from a global table; no tenant involved. Tenant-scoped tables
    /// cannot appear in it, not even in subqueries (building fails with
    /// [`BuildError::ScopedTableWithoutTenant`]).
    pub fn global() -> Self {
        Select::new(StatementScope::Global)
    }
}

impl<T: Table> Select<T> {
    fn new(scope: StatementScope) -> Self {
        Select::from_query(SelectQuery::new(Some(scope), Source::table(T::meta())))
    }

    /// Reads `T` under an alias: `FROM "<table>" AS "<alias>"`. Its columns
    /// are then read through the alias ([`TableAlias::col`]), and the
    /// tenant predicate is written on the alias. A subquery on the same
    /// table as its outer statement needs one to tell the two apart.
    pub fn aliased(mut self, alias: &TableAlias<T>) -> Self {
        self.query.from = alias.source();
        self
    }
}

impl Select<Cte> {
    pub(crate) fn from_cte(cte: &Cte) -> Self {
        let scope = cte.def().body.as_ref().and_then(QueryNode::scope);
        let mut query = SelectQuery::new(scope, cte.source());
        query.with.push(cte.clone());
        Select::from_query(query)
    }
}

impl<T> Select<T> {
    fn from_query(query: SelectQuery) -> Self {
        Select {
            query,
            _table: PhantomData,
        }
    }

    pub(crate) fn into_select_query(self) -> SelectQuery {
        self.query
    }

    fn push_join(mut self, kind: JoinKind, source: Source, on: Filter) -> Self {
        self.query.joins.push(Join {
            kind,
            source,
            on: on.0,
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
        self.push_join(JoinKind::Inner, Source::table(G::meta()), on)
    }

    /// `LEFT JOIN G ON <on>` with a global table.
    pub fn left_join_global<G: GlobalTable>(self, on: Filter) -> Self {
        self.push_join(JoinKind::Left, Source::table(G::meta()), on)
    }

    /// `<kind> JOIN <target> ON <on>`, where the target is an aliased
    /// table ([`&TableAlias`](TableAlias): a self-join, a parent and its
    /// children) or a [`&Cte`](Cte), with any [`JoinKind`]. An aliased
    /// scoped table is scoped under its alias like any joined table; a
    /// table keyed by another key type than the witness's is refused when
    /// the statement is built ([`BuildError::TenantKeyMismatch`]). A CTE
    /// must be declared with [`with`](Select::with).
    pub fn join_with(self, kind: JoinKind, target: impl JoinTarget, on: Filter) -> Self {
        self.push_join(kind, target.into_source(), on)
    }

    /// `WITH "<name>" AS (<body>)`: declares a CTE that the select, its
    /// subqueries and its joins may read. Declare a CTE before those that
    /// read it; declaring one twice is the same as once.
    pub fn with(mut self, cte: &Cte) -> Self {
        if !self.query.with.iter().any(|known| known.same(cte)) {
            self.query.with.push(cte.clone());
        }
        self
    }

    /// Adds an item to the projection: a column (of the select's table or
    /// a joined one, the tenant column included), an expression, an
    /// aggregate, or an aliased one (`Order::TOTAL.sum().alias(..)`).
    pub fn column(mut self, item: impl ColumnList) -> Self {
        item.push_items(&mut self.query.projection);
        self
    }

    /// Adds a tuple of items to the projection:
    /// `.columns((Order::ID, Customer::NAME))`.
    pub fn columns(mut self, items: impl ColumnList) -> Self {
        items.push_items(&mut self.query.projection);
        self
    }

    /// `SELECT DISTINCT`: each distinct row once.
    pub fn distinct(mut self) -> Self {
        self.query.distinct = Distinct::Rows;
        self
    }

    /// `SELECT DISTINCT ON (<expressions>)`: the first row of each group of
    /// rows equal in the expressions, by the select's ordering (which must
    /// start with the same expressions). PostgreSQL only: building for
    /// SQLite fails with [`BuildError::UnsupportedInDialect`].
    pub fn distinct_on(mut self, expressions: impl ExprList) -> Self {
        let mut on = Vec::new();
        expressions.push_exprs(&mut on);
        self.query.distinct = Distinct::On(on);
        self
    }

    /// `GROUP BY <expressions>`: a column, an expression, or a tuple of
    /// them; repeated calls add to the list. A grouped select needs a
    /// projection of grouped expressions and aggregates.
    pub fn group_by(mut self, expressions: impl ExprList) -> Self {
        expressions.push_exprs(&mut self.query.group_by);
        self
    }

    /// `HAVING <filter>`, a filter on groups (`count_all().gt(1)`);
    /// repeated calls are combined with `AND`. The tenant predicate is in
    /// `WHERE`, so every group is made of the tenant's rows only.
    pub fn having(mut self, filter: Filter) -> Self {
        self.query.having.push(filter.0);
        self
    }

    /// `ORDER BY column ASC`, after any earlier orderings: a column, an
    /// expression or an aggregate.
    pub fn order_by_asc(mut self, key: impl Orderable) -> Self {
        self.query
            .order
            .push(Ordering::of(key.into_node(), false).node);
        self
    }

    /// `ORDER BY column DESC`, after any earlier orderings.
    pub fn order_by_desc(mut self, key: impl Orderable) -> Self {
        self.query
            .order
            .push(Ordering::of(key.into_node(), true).node);
        self
    }

    /// `ORDER BY <orderings>`, after any earlier orderings: one
    /// [`Ordering`] or a tuple of them, each ascending or descending, by an
    /// expression or by an alias of the projection, with NULLs first or
    /// last: `.order_by((revenue.desc(), Customer::NAME.asc().nulls_last()))`.
    pub fn order_by(mut self, orderings: impl OrderingList) -> Self {
        orderings.push_orderings(&mut self.query.order);
        self
    }

    /// `LIMIT limit` (bound). Databases count rows in signed 64-bit
    /// integers, so a limit above `i64::MAX` is sent as `i64::MAX`.
    pub fn limit(mut self, limit: u64) -> Self {
        self.query.limit = Some(row_count(limit));
        self
    }

    /// `OFFSET offset` (bound), capped at `i64::MAX` like
    /// [`limit`](Select::limit). In SQLite, which only accepts `OFFSET`
    /// after a `LIMIT`, an offset without a limit is sent with
    /// `LIMIT i64::MAX`.
    pub fn offset(mut self, offset: u64) -> Self {
        self.query.offset = Some(row_count(offset));
        self
    }

    /// `FOR UPDATE`: locks the selected rows until the transaction ends, so
    /// a read-then-write (read a balance, write it back changed) cannot
    /// lose a concurrent update.
    ///
    /// On SQLite, which has no row locks and lets one transaction write at
    /// a time, the clause is left out: a tenant transaction there holds
    /// the database's write lock once it writes (from `BEGIN` when it
    /// begins `IMMEDIATE`), and one whose reads another writer made stale
    /// fails with `SQLITE_BUSY` instead of overwriting. Locks cannot be
    /// combined with `GROUP BY`, `HAVING`, `DISTINCT`, aggregates, window
    /// functions or unions ([`BuildError::LockNotAllowed`]).
    pub fn for_update(self) -> Self {
        self.lock(LockStrength::Update)
    }

    /// `FOR SHARE`: the rows cannot change until the transaction ends, and
    /// others may share the lock. Left out on SQLite, like
    /// [`for_update`](Select::for_update).
    pub fn for_share(self) -> Self {
        self.lock(LockStrength::Share)
    }

    fn lock(mut self, strength: LockStrength) -> Self {
        let wait = self.query.lock.map_or(LockWait::Wait, |lock| lock.wait);
        self.query.lock = Some(Lock {
            strength: Some(strength),
            wait,
        });
        self
    }

    /// `SKIP LOCKED`: rows locked by another transaction are left out
    /// instead of waited for, so workers of a job queue each claim a
    /// different job. Needs a lock ([`for_update`](Select::for_update) or
    /// [`for_share`](Select::for_share)), or building fails with
    /// [`BuildError::LockWaitWithoutLock`].
    pub fn skip_locked(self) -> Self {
        self.wait(LockWait::SkipLocked)
    }

    /// `NOWAIT`: a row locked by another transaction fails the statement
    /// (SQLSTATE `55P03`) instead of being waited for.
    pub fn nowait(self) -> Self {
        self.wait(LockWait::NoWait)
    }

    fn wait(mut self, wait: LockWait) -> Self {
        let strength = self.query.lock.and_then(|lock| lock.strength);
        self.query.lock = Some(Lock { strength, wait });
        self
    }

    /// `(SELECT <item> FROM ...)` as an expression: the one value of a
    /// one-row select (an aggregate, usually), NULL when it has no row.
    /// Correlate it with the outer statement through its filter; it is
    /// scoped like the select it is, and the statement that embeds it must
    /// be for the same tenant ([`BuildError::MixedScopes`]).
    ///
    /// ```
    /// # include!("../../docs/doctest_setup.rs");
    /// # fn main() -> Result<(), tenancy_core::BuildError> {
    /// use tenancy_core::functions::count_all;
    /// use tenancy_core::{BuildStatement, TenantId, ident};
    ///
    /// let tenant = TenantId::<i64>::from_verified(7);
    /// let orders = Order::select(&tenant)
    ///     .filter(Order::CUSTOMER_ID.eq(Customer::ID))
    ///     .scalar(count_all());
    /// let statement = Customer::select(&tenant)
    ///     .columns((Customer::NAME, orders.alias(ident!("orders"))))
    ///     .to_postgres()?;
    /// assert_eq!(
    ///     statement.sql(),
    ///     r#"SELECT "customers"."name", (SELECT COUNT(*) FROM "public"."orders" WHERE "orders"."tenant_id" = $1 AND "orders"."customer_id" = "customers"."id") AS "orders" FROM "public"."customers" WHERE "customers"."tenant_id" = $2"#
    /// );
    /// # Ok(())
    /// # }
    /// ```
    pub fn scalar<E: IntoExpr>(mut self, item: E) -> Expr<<E::Type as ColumnType>::Nullable> {
        self.query.projection = vec![SelectItem::new(item.into_node(), None)];
        Expr::new(ExprNode::Scalar(Box::new(self.query)))
    }

    /// `SELECT <item> FROM ...` as a one-column subquery, for
    /// [`in_subquery`](crate::Column::in_subquery), scoped like
    /// [`scalar`](Select::scalar).
    pub fn subquery<E: IntoExpr>(mut self, item: E) -> Subquery<E::Type> {
        self.query.projection = vec![SelectItem::new(item.into_node(), None)];
        Subquery::new(self.query)
    }

    /// `SELECT COUNT(*)` over the same rows, ignoring projection, ordering,
    /// limit and offset. A select with `DISTINCT`, `GROUP BY` or `HAVING`
    /// counts its rows: `SELECT COUNT(*) FROM (<select>) AS "counted"`.
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
    pub(crate) fn new(scope: Option<StatementScope>, from: Source) -> Self {
        SelectQuery {
            scope,
            with: Vec::new(),
            from,
            joins: Vec::new(),
            filters: Vec::new(),
            projection: Vec::new(),
            probe: false,
            distinct: Distinct::No,
            group_by: Vec::new(),
            having: Vec::new(),
            order: Vec::new(),
            limit: None,
            offset: None,
            lock: None,
        }
    }

    /// `SELECT <column or 1> FROM <table> WHERE <filter>`, made without a
    /// witness: the statement that embeds it scopes it.
    pub(crate) fn probe(table: &'static TableMeta, column: Option<ExprNode>, filter: Node) -> Self {
        let mut query = SelectQuery::new(None, Source::table(table));
        match column {
            Some(column) => query.projection.push(SelectItem::new(column, None)),
            None => query.probe = true,
        }
        query.filters.push(filter);
        query
    }

    /// `SELECT 1 FROM <table> WHERE <filter>`, for `EXISTS`.
    pub(crate) fn exists_probe(table: &'static TableMeta, filter: Node) -> Self {
        SelectQuery::probe(table, None, filter)
    }

    /// The table the statement is on, for messages: its first table,
    /// through CTEs.
    pub(crate) fn main_table(&self) -> Option<&'static TableMeta> {
        match &self.from {
            Source::Table { table, .. } => Some(table),
            Source::Cte(cte) => cte.def().head().and_then(SelectQuery::main_table),
        }
    }

    /// Whether it groups rows, so its rows are groups.
    pub(crate) fn is_grouped(&self) -> bool {
        !self.group_by.is_empty() || !self.having.is_empty()
    }
}

/// What a select writes before `FROM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Form {
    /// `SELECT <columns> ... ORDER BY .. LIMIT .. OFFSET ..`.
    Rows,
    /// `SELECT COUNT(*) ...`.
    Count,
    /// `SELECT EXISTS(SELECT 1 ...)`.
    Exists,
    /// `SELECT <columns> ...` without ordering and bounds: the rows a
    /// grouped or distinct select's `COUNT(*)` counts.
    Counted,
}

impl SelectQuery {
    fn build(
        &self,
        form: Form,
        dialect: Dialect,
        schema: &Identifier,
    ) -> Result<Statement, BuildError> {
        let scope = self.scope.unwrap_or(StatementScope::Global);
        let mut r = Renderer::new(dialect, schema, scope, self.main_table());
        r.statement_select(self, form)?;
        Ok(r.finish())
    }
}

/// Every column of a table, tenant column first, in metadata order.
pub(crate) fn all_columns(table: &'static TableMeta) -> impl Iterator<Item = &'static str> {
    let tenant = table.tenant.map(|tenant| tenant.name);
    let columns = table.columns.iter().map(|column| column.name);
    tenant.into_iter().chain(columns)
}

/// `SELECT COUNT(*)` over the rows of a [`Select`], made by
/// [`Select::count`]. Decodes as one `i64`.
///
/// ```
/// # include!("../../docs/doctest_setup.rs");
/// # fn main() -> Result<(), tenancy_core::BuildError> {
/// use tenancy_core::{BuildStatement, Select, TenantId};
///
/// let tenant = TenantId::<i64>::from_verified(7);
/// let statement = Select::<Order>::scoped(&tenant).count().to_sqlite()?;
/// assert_eq!(
///     statement.sql(),
///     r#"SELECT COUNT(*) FROM "main"."orders" WHERE "orders"."tenant_id" = ?"#
/// );
/// # Ok(())
/// # }
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
/// # include!("../../docs/doctest_setup.rs");
/// # fn main() -> Result<(), tenancy_core::BuildError> {
/// use tenancy_core::{BuildStatement, Select, TenantId};
///
/// let tenant = TenantId::<i64>::from_verified(7);
/// let statement = Select::<Order>::scoped(&tenant).exists().to_postgres()?;
/// assert_eq!(
///     statement.sql(),
///     r#"SELECT EXISTS(SELECT 1 FROM "public"."orders" WHERE "orders"."tenant_id" = $1)"#
/// );
/// # Ok(())
/// # }
/// ```
#[must_use = "a statement does nothing until it is built and executed"]
pub struct Exists<T> {
    query: SelectQuery,
    _table: PhantomData<fn() -> T>,
}

macro_rules! select_builder {
    ($builder:ident, $form:expr) => {
        impl<T> sealed::Sealed for $builder<T> {}

        impl<T> BuildStatement for $builder<T> {
            fn scope(&self) -> StatementScope {
                self.query.scope.unwrap_or(StatementScope::Global)
            }

            fn build_in(
                &self,
                dialect: Dialect,
                schema: &Identifier,
            ) -> Result<Statement, BuildError> {
                self.query.build($form, dialect, schema)
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

select_builder!(Select, Form::Rows);
select_builder!(Count, Form::Count);
select_builder!(Exists, Form::Exists);
