//! Lists given as one item or a tuple: projections, `RETURNING` lists,
//! `GROUP BY` and `PARTITION BY` lists, orderings, conflict targets, and
//! the columns an upsert updates.

use crate::column::{Assignable, Column};
use crate::column_type::{ColumnType, Comparable};
use crate::query::expr::ExprNode;
use crate::query::expr::{Operand, Orderable};
use crate::query::order::{Aliased, OrderNode, Ordering};
use crate::query::select::SelectItem;

mod sealed {
    use crate::query::expr::ExprNode;
    use crate::query::order::OrderNode;
    use crate::query::select::SelectItem;

    /// Adds projection items.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` is not a list of columns or expressions",
        label = "lists of columns are tuples of the library's columns and expressions"
    )]
    pub trait SelectItems {
        /// Adds the items, in order.
        fn push_items(self, items: &mut Vec<SelectItem>);
    }

    /// Adds expressions.
    pub trait Exprs {
        /// Adds the expressions, in order.
        fn push_exprs(self, exprs: &mut Vec<ExprNode>);
    }

    /// Adds orderings.
    pub trait Orderings {
        /// Adds the orderings, in order.
        fn push_orderings(self, orderings: &mut Vec<OrderNode>);
    }

    /// Lowers one projection item.
    pub trait SelectOne {
        /// The item.
        fn select_item(self) -> SelectItem;
    }

    /// Implemented for tuples of columns only.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` is not a tuple of columns",
        label = "expected a tuple of 1 to 8 generated columns, such as `(Order::ID, Order::STATUS)`"
    )]
    pub trait Sealed {}
}

/// One item of a projection or a `RETURNING` list: a column (the tenant
/// column included), an expression, an aggregate, or an [`Aliased`] one.
///
/// Sealed: only the library's column and expression types implement it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be projected",
    label = "expected a column, an expression, or an aliased expression",
    note = "a value is projected with `tenancy_core::functions::value(..)`"
)]
pub trait Selectable: sealed::SelectOne {}

impl<X: Operand> sealed::SelectOne for X {
    fn select_item(self) -> SelectItem {
        SelectItem::new(self.into_node(), None)
    }
}
impl<X: Operand> Selectable for X {}

impl<V> sealed::SelectOne for Aliased<V> {
    fn select_item(self) -> SelectItem {
        SelectItem::new(self.expr, Some(self.alias))
    }
}
impl<V> Selectable for Aliased<V> {}

/// A projection or `RETURNING` list: one [`Selectable`] item or a tuple of
/// 1 to 16 of them, of any tables of the statement, for
/// [`Select::columns`](crate::Select::columns) and the `returning` methods.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a list of columns or expressions",
    label = "expected a column, an expression, or a tuple of up to 16 of them, such as `(Order::ID, Order::STATUS)`",
    note = "a window function (`rank()`, `lag(..)`) becomes an expression with `.over(window)`; a value is projected with `functions::value(..)`"
)]
pub trait ColumnList: sealed::SelectItems {}
impl<X: Selectable> ColumnList for X {}

impl<X: Selectable> sealed::SelectItems for X {
    fn push_items(self, items: &mut Vec<SelectItem>) {
        items.push(self.select_item());
    }
}

/// A list of expressions: one column or expression, or a tuple of 1 to 16
/// of them, for [`Select::group_by`](crate::Select::group_by),
/// [`Select::distinct_on`](crate::Select::distinct_on) and
/// [`Window::partition_by`](crate::Window::partition_by). The tenant column
/// may be one of them. Each is [`Orderable`]: these clauses match rows by
/// equality, which a `json` value has not.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a list of columns or expressions",
    label = "expected a column, an expression, or a tuple of up to 16 of them",
    note = "each must have an equality and an order: a `json` column or `->` member has neither; use a member as text (`.get_text(\"key\")`, `->>`), or store the document as `jsonb`"
)]
pub trait ExprList: sealed::Exprs {}
impl<X: Orderable> ExprList for X {}

impl<X: Orderable> sealed::Exprs for X {
    fn push_exprs(self, exprs: &mut Vec<ExprNode>) {
        exprs.push(self.into_node());
    }
}

/// One [`Ordering`] or a tuple of 1 to 16 of them, for `order_by`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a list of orderings",
    label = "expected an ordering such as `Order::TOTAL.desc()`, or a tuple of them",
    note = "an ordering is made by the `asc()` and `desc()` methods of columns, expressions and aliases"
)]
pub trait OrderingList: sealed::Orderings {}
impl OrderingList for Ordering {}

impl sealed::Orderings for Ordering {
    fn push_orderings(self, orderings: &mut Vec<OrderNode>) {
        orderings.push(self.node);
    }
}

/// A tuple of 1 to 8 columns of `T` naming a unique key, for
/// [`Insert::on_conflict_do_nothing`](crate::Insert::on_conflict_do_nothing).
/// The tenant column is never part of it: the builder puts it first. Each
/// column's type is [`Comparable`]: a unique key matches by equality, which
/// a `json` column has not (nor can it have a unique index).
pub trait ConflictTarget<T>: sealed::Sealed {
    /// The columns' names, in order.
    fn names(&self) -> Vec<&'static str>;
}

/// A tuple of 1 to 8 assignable columns of `T`, for
/// [`Insert::on_conflict_do_update`](crate::Insert::on_conflict_do_update):
/// each is set to the value the conflicting row proposed.
pub trait AssignableList<T>: sealed::Sealed {
    /// The columns' names, in order.
    fn names(&self) -> Vec<&'static str>;
}

macro_rules! tuple_lists {
    ($($name:ident),+) => {
        impl<$($name: Selectable),+> ColumnList for ($($name,)+) {}
        impl<$($name: Orderable),+> ExprList for ($($name,)+) {}
        impl OrderingList for ($(tuple_lists!(@ordering $name),)+) {}

        impl<$($name: Selectable),+> sealed::SelectItems for ($($name,)+) {
            #[allow(non_snake_case)]
            fn push_items(self, items: &mut Vec<SelectItem>) {
                let ($($name,)+) = self;
                $(items.push($name.select_item());)+
            }
        }

        impl<$($name: Orderable),+> sealed::Exprs for ($($name,)+) {
            #[allow(non_snake_case)]
            fn push_exprs(self, exprs: &mut Vec<ExprNode>) {
                let ($($name,)+) = self;
                $(exprs.push($name.into_node());)+
            }
        }

        impl sealed::Orderings for ($(tuple_lists!(@ordering $name),)+) {
            #[allow(non_snake_case)]
            fn push_orderings(self, orderings: &mut Vec<OrderNode>) {
                let ($($name,)+) = self;
                $(orderings.push($name.node);)+
            }
        }
    };
    (@ordering $name:ident) => { Ordering };
}

macro_rules! column_tuples {
    ($($name:ident $value:ident),+) => {
        impl<$($name),+> sealed::Sealed for ($($name,)+) {}

        impl<T, $($value),+> ConflictTarget<T> for ($(Column<T, $value>,)+)
        where
            $($value: ColumnType, $value::Compare: Comparable,)+
        {
            #[allow(non_snake_case)]
            fn names(&self) -> Vec<&'static str> {
                let ($($value,)+) = self;
                vec![$($value.name()),+]
            }
        }

        impl<T, $($name: Assignable<T>),+> AssignableList<T> for ($($name,)+) {
            #[allow(non_snake_case)]
            fn names(&self) -> Vec<&'static str> {
                let ($($name,)+) = self;
                vec![$(Assignable::name($name)),+]
            }
        }
    };
}

tuple_lists!(A);
tuple_lists!(A, B);
tuple_lists!(A, B, C);
tuple_lists!(A, B, C, D);
tuple_lists!(A, B, C, D, E);
tuple_lists!(A, B, C, D, E, F);
tuple_lists!(A, B, C, D, E, F, G);
tuple_lists!(A, B, C, D, E, F, G, H);
tuple_lists!(A, B, C, D, E, F, G, H, I);
tuple_lists!(A, B, C, D, E, F, G, H, I, J);
tuple_lists!(A, B, C, D, E, F, G, H, I, J, K);
tuple_lists!(A, B, C, D, E, F, G, H, I, J, K, L);
tuple_lists!(A, B, C, D, E, F, G, H, I, J, K, L, M);
tuple_lists!(A, B, C, D, E, F, G, H, I, J, K, L, M, N);
tuple_lists!(A, B, C, D, E, F, G, H, I, J, K, L, M, N, O);
tuple_lists!(A, B, C, D, E, F, G, H, I, J, K, L, M, N, O, P);

column_tuples!(A VA);
column_tuples!(A VA, B VB);
column_tuples!(A VA, B VB, C VC);
column_tuples!(A VA, B VB, C VC, D VD);
column_tuples!(A VA, B VB, C VC, D VD, E VE);
column_tuples!(A VA, B VB, C VC, D VD, E VE, F VF);
column_tuples!(A VA, B VB, C VC, D VD, E VE, F VF, G VG);
column_tuples!(A VA, B VB, C VC, D VD, E VE, F VF, G VG, H VH);
