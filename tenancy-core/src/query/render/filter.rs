//! Writing filters.
//!
//! Parentheses follow one rule, the one the builder has always written:
//! an operand of `AND`, `OR` or `NOT` is parenthesised unless it is a
//! column, value, constant, subquery or a comparison (`=`, `IN`, `LIKE`,
//! `IS NULL`, ...), or it is the left operand of the same operator
//! (`a AND b AND c`). So the user's side of `tenant AND (user)` is
//! parenthesised whenever it is an `OR`, a `NOT` or a chain of its own, and
//! a user `OR` can never absorb the tenant predicate.

use crate::BuildError;
use crate::query::filter::{CompareOp, Node};
use crate::query::render::{Clause, Renderer};
use crate::statement::Dialect;

/// How a filter binds, for parenthesising it as an operand.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// A constant or subquery.
    Atom,
    /// A comparison, `IN`, `LIKE` or `IS [NOT] NULL`.
    Predicate,
    Between,
    And,
    Or,
    Not,
}

/// Where a filter is written.
#[derive(Clone, Copy)]
pub(crate) enum Place {
    /// Alone: a whole clause.
    Alone,
    /// The left operand of this operator (`Class::And` or `Class::Or`).
    Left(Class),
    /// A right operand of `AND` or `OR`, or the operand of `NOT`.
    Operand,
}

impl Place {
    fn needs_parentheses(self, class: Class) -> bool {
        let simple = matches!(class, Class::Atom | Class::Predicate);
        match self {
            Place::Alone => false,
            Place::Left(op) => !simple && class != op,
            Place::Operand => !simple,
        }
    }
}

impl<'q> Renderer<'_, 'q> {
    /// `a AND b AND ...` (or `OR`) written at `place`; an empty chain is its
    /// identity, true (or false): see [`Renderer::identity`].
    pub(crate) fn chain(
        &mut self,
        nodes: &'q [Node],
        op: Class,
        place: Place,
    ) -> Result<(), BuildError> {
        let separator = match op {
            Class::Or => " OR ",
            _ => " AND ",
        };
        match nodes {
            [] => {
                self.identity(op != Class::Or);
                Ok(())
            }
            [only] => self.node(only, place),
            [first, rest @ ..] => {
                let parenthesised = place.needs_parentheses(op);
                if parenthesised {
                    self.w.keyword("(");
                }
                self.node(first, Place::Left(op))?;
                for node in rest {
                    self.w.keyword(separator);
                    self.node(node, Place::Operand)?;
                }
                if parenthesised {
                    self.w.keyword(")");
                }
                Ok(())
            }
        }
    }

    /// The constant `TRUE` (or `FALSE`) of an empty chain. In a `WHERE` or
    /// `ON`, written as a test of the tenant column of the first scoped
    /// table in reach, `(t.tenant IS NULL OR t.tenant IS NOT NULL)` (or
    /// `AND`), which is true (or false) for every row and never NULL, like
    /// the constant. PostgreSQL folds a constant `FALSE`, and a `NOT TRUE`,
    /// together with the tenant predicate beside it: Citus would then plan
    /// the table without its tenant and refuse to route the statement, or
    /// send it to every worker. Elsewhere (a `HAVING`, a `CASE WHEN` in the
    /// projection) a column could be one the statement does not group by,
    /// and the constant routes nothing anyway.
    fn identity(&mut self, value: bool) {
        let column = match self.place.clause {
            Clause::Where | Clause::On => self.tenant_column_in_reach(),
            _ => None,
        };
        match (column, value) {
            (Some((reference, column)), value) => {
                self.w.keyword("(");
                self.w.column(reference, column);
                self.w.keyword(if value {
                    " IS NULL OR "
                } else {
                    " IS NULL AND "
                });
                self.w.column(reference, column);
                self.w.keyword(" IS NOT NULL)");
            }
            (None, true) => self.w.keyword("TRUE"),
            (None, false) => self.w.keyword("FALSE"),
        }
    }

    /// One filter, alone: a `CASE WHEN` condition.
    pub(crate) fn filter(&mut self, node: &'q Node) -> Result<(), BuildError> {
        self.node(node, Place::Alone)
    }

    /// One filter tree written at `place`.
    fn node(&mut self, node: &'q Node, place: Place) -> Result<(), BuildError> {
        match node {
            Node::All(nodes) => return self.chain(nodes, Class::And, place),
            Node::Any(nodes) => return self.chain(nodes, Class::Or, place),
            _ => {}
        }
        let parenthesised = place.needs_parentheses(class(node));
        if parenthesised {
            self.w.keyword("(");
        }
        self.bare(node)?;
        if parenthesised {
            self.w.keyword(")");
        }
        Ok(())
    }

    /// A filter other than a chain, without parentheses around it.
    fn bare(&mut self, node: &'q Node) -> Result<(), BuildError> {
        match node {
            Node::Compare { left, op, right } => {
                if let Some(construct) = op.postgres_only()
                    && self.dialect() == Dialect::Sqlite
                {
                    return Err(BuildError::UnsupportedInDialect {
                        construct,
                        dialect: Dialect::Sqlite,
                        hint: "SQLite has no such operator; filter on PostgreSQL, or compare with `eq`",
                    });
                }
                self.operand(left)?;
                self.w.keyword(op.sql());
                self.operand(right)?;
                if *op == CompareOp::EqAny {
                    self.w.keyword(")");
                }
                Ok(())
            }
            // `IN ()` is not SQL: an empty list matches no row, NULL
            // included, and `NOT IN ()` every row. Written as a test of the
            // expression that is always false (or true) rather than as the
            // constant, which PostgreSQL folds together with the tenant
            // predicate beside it: Citus would then plan a table without its
            // tenant and refuse to route the statement.
            Node::In {
                expr,
                values,
                negated,
            } if values.is_empty() => {
                let (first, join, second) = match negated {
                    false => ("(", " IS NULL AND ", " IS NOT NULL)"),
                    true => ("(", " IS NULL OR ", " IS NOT NULL)"),
                };
                self.w.keyword(first);
                self.operand(expr)?;
                self.w.keyword(join);
                self.operand(expr)?;
                self.w.keyword(second);
                Ok(())
            }
            Node::In {
                expr,
                values,
                negated,
            } => {
                self.operand(expr)?;
                self.w.keyword(if *negated { " NOT IN (" } else { " IN (" });
                for (index, value) in values.iter().enumerate() {
                    if index > 0 {
                        self.w.keyword(", ");
                    }
                    self.operand(value)?;
                }
                self.w.keyword(")");
                Ok(())
            }
            Node::Between { expr, low, high } => {
                self.operand(expr)?;
                self.w.keyword(" BETWEEN ");
                self.operand(low)?;
                self.w.keyword(" AND ");
                self.operand(high)
            }
            Node::Like {
                expr,
                pattern,
                negated,
            } => {
                self.operand(expr)?;
                self.w
                    .keyword(if *negated { " NOT LIKE " } else { " LIKE " });
                self.w.bind(pattern)
            }
            Node::Null { expr, negated } => {
                self.operand(expr)?;
                self.w
                    .keyword(if *negated { " IS NOT NULL" } else { " IS NULL" });
                Ok(())
            }
            Node::InSubquery {
                expr,
                subquery,
                negated,
            } => {
                self.operand(expr)?;
                self.w.keyword(if *negated { " NOT IN (" } else { " IN (" });
                self.subquery(subquery)?;
                self.w.keyword(")");
                Ok(())
            }
            Node::Exists { subquery, negated } => {
                self.w
                    .keyword(if *negated { "NOT EXISTS(" } else { "EXISTS(" });
                self.subquery(subquery)?;
                self.w.keyword(")");
                Ok(())
            }
            Node::Not(inner) => {
                self.w.keyword("NOT ");
                self.node(inner, Place::Operand)
            }
            // `node` writes chains itself, parenthesised for their place.
            Node::All(nodes) => self.chain(nodes, Class::And, Place::Alone),
            Node::Any(nodes) => self.chain(nodes, Class::Or, Place::Alone),
        }
    }
}

fn class(node: &Node) -> Class {
    match node {
        Node::Compare { .. } | Node::Like { .. } | Node::Null { .. } | Node::InSubquery { .. } => {
            Class::Predicate
        }
        Node::In { values, .. } if values.is_empty() => Class::Atom,
        Node::In { .. } => Class::Predicate,
        Node::Between { .. } => Class::Between,
        Node::Exists { negated: false, .. } => Class::Atom,
        Node::Exists { negated: true, .. } | Node::Not(_) => Class::Not,
        Node::All(nodes) => chain_class(nodes, Class::And),
        Node::Any(nodes) => chain_class(nodes, Class::Or),
    }
}

fn chain_class(nodes: &[Node], op: Class) -> Class {
    match nodes {
        [] => Class::Atom,
        [only] => class(only),
        _ => op,
    }
}
