//! The names one `FROM` clause introduces, and the references in it that
//! wait for their tenant conjuncts.

use crate::analysis::Scope;
use crate::name::Name;

/// One `FROM` (of a `SELECT`, or of an `UPDATE` or `DELETE` with its
/// target): the names it introduces and the table references it holds.
pub(super) struct FromScope {
    pub(super) scope: Scope,
    names: Vec<Name>,
    pub(super) pending: Vec<Pending>,
}

/// A table reference whose confinement is known once its scope's `WHERE`
/// is: the columns the `ON` of its join compared so far.
pub(super) struct Pending {
    /// The index of the reference in the walk's table list.
    pub(super) table: usize,
    pub(super) alias: Name,
    pub(super) columns: Vec<String>,
}

impl FromScope {
    pub(super) fn new(scope: Scope) -> Self {
        Self {
            scope,
            names: Vec::new(),
            pending: Vec::new(),
        }
    }

    /// Declares a name; `false` if the scope already has it, which
    /// PostgreSQL refuses and which would make a conjunct ambiguous.
    pub(super) fn declare(&mut self, name: Name) -> bool {
        if self.names.contains(&name) {
            false
        } else {
            self.names.push(name);
            true
        }
    }

    /// Adds a reference; returns its index among the pending ones.
    pub(super) fn wait(&mut self, table: usize, alias: Name) -> usize {
        self.pending.push(Pending {
            table,
            alias,
            columns: Vec::new(),
        });
        self.pending.len() - 1
    }
}
