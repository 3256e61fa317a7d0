//! `SELECT`, `SELECT COUNT(*)` and `SELECT EXISTS(..)`.

use core::fmt;
use core::marker::PhantomData;

use crate::BuildError;
use crate::capability::CrossTenant;
use crate::column::{AnyColumn, ColumnRef};
use crate::ident::Identifier;
use crate::meta::{GlobalTable, Table, TableMeta, TenantScoped};
use crate::query::filter::{Filter, Node};
use crate::query::lists::ColumnList;
use crate::query::render::Renderer;
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
const MAX_ROWS: u64 = i64::MAX as u64;

/// The type-erased state of a select.
#[derive(Clone, Debug)]
struct SelectQuery {
    scope: StatementScope,
    table: &'static TableMeta,
    joins: Vec<Join>,
    filters: Vec<Node>,
    projection: Vec<ColumnRef>,
    order: Vec<(ColumnRef, Direction)>,
    limit: Option<u64>,
    offset: Option<u64>,
}

#[derive(Clone, Copy, Debug)]
enum Direction {
    Asc,
    Desc,
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
        Select::new(StatementScope::Global)
    }
}

impl<T: Table> Select<T> {
    fn new(scope: StatementScope) -> Self {
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
        self.query.order.push((column.column_ref(), Direction::Asc));
        self
    }

    /// `ORDER BY column DESC`, after any earlier orderings.
    pub fn order_by_desc(mut self, column: impl AnyColumn) -> Self {
        self.query
            .order
            .push((column.column_ref(), Direction::Desc));
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

/// What a select writes before `FROM`.
#[derive(Clone, Copy)]
enum Form {
    /// `SELECT <columns> ... ORDER BY .. LIMIT .. OFFSET ..`.
    Rows,
    /// `SELECT COUNT(*) ...`.
    Count,
    /// `SELECT EXISTS(SELECT 1 ...)`.
    Exists,
}

impl SelectQuery {
    fn build(
        &self,
        form: Form,
        dialect: Dialect,
        schema: &Identifier,
    ) -> Result<Statement, BuildError> {
        let mut r = Renderer::new(dialect, schema, self.scope, self.table);
        let mut from: Vec<&'static TableMeta> = Vec::with_capacity(1 + self.joins.len());
        from.push(self.table);
        from.extend(self.joins.iter().map(|join| join.table));
        r.set_visible(&from)?;
        match form {
            Form::Rows => {
                r.w.keyword("SELECT ");
                if self.projection.is_empty() {
                    r.columns(all_columns(self.table))?;
                } else {
                    r.columns(self.projection.iter().copied())?;
                }
            }
            Form::Count => r.w.keyword("SELECT COUNT(*)"),
            Form::Exists => r.w.keyword("SELECT EXISTS(SELECT 1"),
        }
        self.write_from_where(&mut r, &from)?;
        match form {
            Form::Rows => self.order_and_bounds(&mut r)?,
            Form::Count => {}
            Form::Exists => r.w.keyword(")"),
        }
        Ok(r.finish())
    }

    /// `FROM`, `JOIN`s and `WHERE`, each table reference scoped.
    fn write_from_where(
        &self,
        r: &mut Renderer<'_>,
        from: &[&'static TableMeta],
    ) -> Result<(), BuildError> {
        let lead = r.tenant_lead(self.table)?;
        r.w.keyword(" FROM ");
        r.w.table(self.table);
        for (index, join) in self.joins.iter().enumerate() {
            let join_lead = r.join_lead(self.table, join.table)?;
            r.w.keyword(if join.left {
                " LEFT JOIN "
            } else {
                " INNER JOIN "
            });
            r.w.table(join.table);
            // ON may refer to this table and those before it, as in SQL.
            r.set_visible(&from[..index + 2])?;
            r.clause(" ON ", join_lead, core::slice::from_ref(&join.on))?;
        }
        r.set_visible(from)?;
        r.clause(" WHERE ", lead, &self.filters)
    }

    fn order_and_bounds(&self, r: &mut Renderer<'_>) -> Result<(), BuildError> {
        for (index, (column, direction)) in self.order.iter().enumerate() {
            r.w.keyword(if index == 0 { " ORDER BY " } else { ", " });
            r.column(*column)?;
            r.w.keyword(match direction {
                Direction::Asc => " ASC",
                Direction::Desc => " DESC",
            });
        }
        let limit = match (r.w.dialect(), self.limit, self.offset) {
            (Dialect::Sqlite, None, Some(_)) => Some(MAX_ROWS),
            (_, limit, _) => limit,
        };
        if let Some(limit) = limit {
            r.w.keyword(" LIMIT ");
            r.w.bind(&limit.into())?;
        }
        if let Some(offset) = self.offset {
            r.w.keyword(" OFFSET ");
            r.w.bind(&offset.into())?;
        }
        Ok(())
    }
}

/// Every column of a table, tenant column first, in metadata order.
fn all_columns(table: &'static TableMeta) -> impl Iterator<Item = ColumnRef> {
    let tenant = table.tenant.map(|tenant| tenant.name);
    let columns = table.columns.iter().map(|column| column.name);
    tenant
        .into_iter()
        .chain(columns)
        .map(|column| ColumnRef::new(table.name, column))
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
                self.query.scope
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
