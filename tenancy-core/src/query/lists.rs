//! Column lists given as tuples: projections, conflict targets, and the
//! columns an upsert updates.

use crate::column::{AnyColumn, Assignable, Column, ColumnRef};

mod sealed {
    /// Implemented for tuples of columns only.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` is not a tuple of columns",
        label = "expected a tuple of 1 to 8 generated columns, such as `(Order::ID, Order::STATUS)`"
    )]
    pub trait Sealed {}
}

/// A tuple of 1 to 8 columns, of any tables, for
/// [`Select::columns`](crate::Select::columns).
pub trait ColumnList: sealed::Sealed {
    /// The columns, in order.
    fn column_refs(&self) -> Vec<ColumnRef>;
}

/// A tuple of 1 to 8 columns of `T` naming a unique key, for
/// [`Insert::on_conflict_do_nothing`](crate::Insert::on_conflict_do_nothing).
/// The tenant column is never part of it: the builder puts it first.
pub trait ConflictTarget<T>: sealed::Sealed {
    /// The columns' names, in order.
    fn names(&self) -> Vec<&'static str>;
}

/// A tuple of 1 to 8 assignable columns of `T`, for
/// [`Insert::on_conflict_do_update`](crate::Insert::on_conflict_do_update).
pub trait AssignableList<T>: sealed::Sealed {
    /// The columns' names, in order.
    fn names(&self) -> Vec<&'static str>;
}

macro_rules! tuple_lists {
    ($($name:ident $value:ident),+) => {
        impl<$($name),+> sealed::Sealed for ($($name,)+) {}

        impl<$($name: AnyColumn),+> ColumnList for ($($name,)+) {
            #[allow(non_snake_case)]
            fn column_refs(&self) -> Vec<ColumnRef> {
                let ($($name,)+) = self;
                vec![$($name.column_ref()),+]
            }
        }

        impl<T, $($value),+> ConflictTarget<T> for ($(Column<T, $value>,)+) {
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

tuple_lists!(A VA);
tuple_lists!(A VA, B VB);
tuple_lists!(A VA, B VB, C VC);
tuple_lists!(A VA, B VB, C VC, D VD);
tuple_lists!(A VA, B VB, C VC, D VD, E VE);
tuple_lists!(A VA, B VB, C VC, D VD, E VE, F VF);
tuple_lists!(A VA, B VB, C VC, D VD, E VE, F VF, G VG);
tuple_lists!(A VA, B VB, C VC, D VD, E VE, F VF, G VG, H VH);
