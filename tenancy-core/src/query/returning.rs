//! `RETURNING` of an INSERT, UPDATE or DELETE.

use crate::BuildError;
use crate::query::lists::ColumnList;
use crate::query::render::{Clause, Renderer};
use crate::query::select::SelectItem;
use crate::statement::Dialect;

/// What a write returns.
#[derive(Clone, Debug, Default)]
pub(crate) enum Returning {
    /// Nothing: the rows affected are counted.
    #[default]
    Nothing,
    /// `RETURNING *`: the rows as stored.
    All,
    /// `RETURNING <items>`.
    Items(Vec<SelectItem>),
}

impl Returning {
    /// Adds items (after any earlier ones).
    pub(crate) fn push(&mut self, items: impl ColumnList) {
        let mut list = match core::mem::take(self) {
            Returning::Items(list) => list,
            Returning::Nothing | Returning::All => Vec::new(),
        };
        items.push_items(&mut list);
        *self = Returning::Items(list);
    }

    /// Writes the clause at the renderer's innermost level, whose first
    /// reference is the written table. SQLite's `RETURNING` sees only that
    /// table.
    pub(crate) fn write<'q>(&'q self, r: &mut Renderer<'_, 'q>) -> Result<(), BuildError> {
        match self {
            Returning::Nothing => Ok(()),
            Returning::All => {
                r.w.keyword(" RETURNING *");
                Ok(())
            }
            Returning::Items(items) => {
                r.w.keyword(" RETURNING ");
                if r.dialect() == Dialect::Sqlite {
                    r.limit_visible(1);
                }
                let written = r.items(items, Clause::Returning);
                r.limit_visible(usize::MAX);
                written
            }
        }
    }
}
