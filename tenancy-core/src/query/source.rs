//! What a statement reads from: tables under their own name or an alias,
//! and CTEs; and the joins between them.

use core::fmt;
use core::marker::PhantomData;

use crate::column::Column;
use crate::ident::Identifier;
use crate::meta::{Table, TableMeta};
use crate::query::cte::Cte;
use crate::query::expr::{ColumnNode, Expr, ExprNode};
use crate::query::filter::Node;

/// A name for a reference to table `T` within one statement, for the
/// same table twice (a self-join, a parent and its children) or a
/// subquery that must tell its table from the outer statement's.
///
/// Each aliased reference is scoped on its own: a scoped table under alias
/// `parent` carries `"parent"."tenant_id" = $n` in its own clause, so a
/// self-join never reaches another tenant's rows through either side.
/// Columns of the aliased reference are read with [`col`](TableAlias::col).
///
/// ```
/// # include!("../../docs/doctest_setup.rs");
/// # fn main() -> Result<(), tenancy_core::BuildError> {
/// use tenancy_core::{BuildStatement, JoinKind, TableAlias, TenantId, ident};
///
/// let tenant = TenantId::<i64>::from_verified(7);
/// // Orders placed by the same customer as order 1.
/// let first = TableAlias::<Order>::new(ident!("first"));
/// let statement = Order::select(&tenant)
///     .join_with(JoinKind::Inner, &first, first.col(Order::CUSTOMER_ID).eq(Order::CUSTOMER_ID))
///     .filter(first.col(Order::ID).eq(1))
///     .column(Order::ID)
///     .to_postgres()?;
/// assert_eq!(
///     statement.sql(),
///     r#"SELECT "orders"."id" FROM "public"."orders" INNER JOIN "public"."orders" AS "first" ON "first"."tenant_id" = $1 AND "first"."customer_id" = "orders"."customer_id" WHERE "orders"."tenant_id" = $2 AND "first"."id" = $3"#
/// );
/// # Ok(())
/// # }
/// ```
pub struct TableAlias<T> {
    name: Identifier,
    _table: PhantomData<fn() -> T>,
}

impl<T: Table> TableAlias<T> {
    /// An alias for `T`; the name is an [`Identifier`] (use
    /// [`ident!`](crate::ident!) for one checked when the program is
    /// compiled). Two references in one statement cannot share a name:
    /// building fails with [`BuildError::DuplicateTable`](crate::BuildError::DuplicateTable).
    #[must_use]
    pub fn new(name: Identifier) -> Self {
        TableAlias {
            name,
            _table: PhantomData,
        }
    }

    /// The column of the aliased reference: `"<alias>"."<column>"`.
    pub fn col<V>(&self, column: Column<T, V>) -> Expr<V> {
        Expr::new(ExprNode::Column(ColumnNode {
            qualifier: self.name.clone(),
            column: Identifier::from_metadata(column.name()),
        }))
    }

    /// The alias.
    #[must_use]
    pub fn name(&self) -> &Identifier {
        &self.name
    }

    pub(crate) fn source(&self) -> Source {
        Source::Table {
            table: T::meta(),
            alias: Some(self.name.clone()),
        }
    }
}

impl<T> Clone for TableAlias<T> {
    fn clone(&self) -> Self {
        TableAlias {
            name: self.name.clone(),
            _table: PhantomData,
        }
    }
}

impl<T: Table> fmt::Debug for TableAlias<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} AS {}", T::meta().name, self.name)
    }
}

/// How a join combines the rows on either side.
///
/// Whatever the kind, every scoped table on either side is confined to
/// the statement's tenant. For `Inner` and `Left` joins the joined table's
/// tenant predicate is in its `ON` clause (so a left join stays a left
/// join). `Right` and `Full` joins keep the rows of a side that has no
/// match, so a predicate in `ON` would not confine that side: when a select
/// has one, each of its scoped tables is read through a scoped derived
/// table instead, `(SELECT * FROM "t" WHERE "t"."tenant_id" = $n) AS "t"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JoinKind {
    /// `INNER JOIN`: rows that match on both sides.
    Inner,
    /// `LEFT JOIN`: every row of the left side, matched or not.
    Left,
    /// `RIGHT JOIN`: every row of the joined side, matched or not.
    Right,
    /// `FULL JOIN`: every row of both sides, matched or not.
    Full,
}

impl JoinKind {
    pub(crate) fn sql(self) -> &'static str {
        match self {
            JoinKind::Inner => " INNER JOIN ",
            JoinKind::Left => " LEFT JOIN ",
            JoinKind::Right => " RIGHT JOIN ",
            JoinKind::Full => " FULL JOIN ",
        }
    }

    /// Whether the join keeps unmatched rows of its right side.
    pub(crate) fn preserves_right(self) -> bool {
        matches!(self, JoinKind::Right | JoinKind::Full)
    }
}

mod sealed {
    use super::Source;

    /// Turns a join target into a source.
    pub trait IntoSource {
        /// The source.
        fn into_source(self) -> Source;
    }
}

/// What [`Select::join_with`](crate::Select::join_with), the `from_source`
/// of an UPDATE and the `using_source` of a DELETE accept: a
/// [`&TableAlias`](TableAlias) or a [`&Cte`](Cte). A table keyed by another
/// key type than the statement's witness is refused when the statement is
/// built ([`BuildError::TenantKeyMismatch`](crate::BuildError::TenantKeyMismatch)).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be joined",
    label = "expected `&TableAlias<T>` or `&Cte`",
    note = "a table under its own name is joined with `.join::<T>(..)`, `.left_join::<T>(..)`, `.right_join::<T>(..)` or `.full_join::<T>(..)`"
)]
pub trait JoinTarget: sealed::IntoSource {}

impl<T: Table> sealed::IntoSource for &TableAlias<T> {
    fn into_source(self) -> Source {
        self.source()
    }
}
impl<T: Table> JoinTarget for &TableAlias<T> {}

impl sealed::IntoSource for &Cte {
    fn into_source(self) -> Source {
        Source::Cte(self.clone())
    }
}
impl JoinTarget for &Cte {}

/// One entry of a FROM list.
#[derive(Clone, Debug)]
pub enum Source {
    /// A table, under its own name or an alias.
    Table {
        /// The table.
        table: &'static TableMeta,
        /// Its alias, if any.
        alias: Option<Identifier>,
    },
    /// A CTE, by name.
    Cte(Cte),
}

impl Source {
    pub(crate) fn table(table: &'static TableMeta) -> Self {
        Source::Table { table, alias: None }
    }

    /// The name the source is referred to by: its alias, the table's name,
    /// or the CTE's.
    pub(crate) fn name(&self) -> &str {
        match self {
            Source::Table {
                alias: Some(alias), ..
            } => alias.as_str(),
            Source::Table { table, alias: None } => table.name,
            Source::Cte(cte) => cte.name().as_str(),
        }
    }

    /// The table, when the source is one.
    pub(crate) fn table_meta(&self) -> Option<&'static TableMeta> {
        match self {
            Source::Table { table, .. } => Some(table),
            Source::Cte(_) => None,
        }
    }
}

/// A join: `<kind> <source> ON <on>`.
#[derive(Clone, Debug)]
pub struct Join {
    pub(crate) kind: JoinKind,
    pub(crate) source: Source,
    pub(crate) on: Node,
}
