//! The walk that writes filters, subqueries and `WHERE`/`ON` clauses, and
//! the one place where tenant predicates are written: beside the user's
//! predicate, as a separate top-level `AND` conjunct, never inside it.
//!
//! Parentheses follow one rule, the one the builder has always written:
//! an operand of `AND`, `OR` or `NOT` is parenthesised unless it is a
//! column, value, constant, subquery or a comparison (`=`, `IN`, `LIKE`,
//! `IS NULL`, ...), or it is the left operand of the same operator
//! (`a AND b AND c`). So the user's side of `tenant AND (user)` is
//! parenthesised whenever it is an `OR`, a `NOT` or a chain of its own, and
//! a user `OR` can never absorb the tenant predicate.

use sea_query::Value;

use crate::BuildError;
use crate::column::ColumnRef;
use crate::ident::Identifier;
use crate::meta::TableMeta;
use crate::query::filter::{CompareOp, Node};
use crate::query::subquery::SubqueryNode;
use crate::query::writer::SqlWriter;
use crate::statement::{Dialect, Statement, StatementScope};

/// Writes one statement for one scope, adding the tenant predicate to every
/// table reference it meets.
pub(crate) struct Renderer<'s> {
    pub(crate) w: SqlWriter<'s>,
    scope: StatementScope,
    /// The statement's own table, named in errors.
    statement_table: &'static TableMeta,
    /// The tables columns may refer to here: the statement's `FROM` and
    /// `JOIN` list, then one entry per enclosing subquery, innermost last.
    visible: Vec<&'static str>,
}

/// What leads a `WHERE` or `ON` clause, before the user's predicate.
pub(crate) enum Lead {
    /// `"<table>"."<tenant column>" = $n`.
    Tenant {
        table: &'static TableMeta,
        column: &'static str,
        key: Value,
    },
    /// `"<joined>"."<tenant>" = "<base>"."<tenant>"`: across tenants, rows
    /// of different tenants are never joined.
    SameTenant { joined: ColumnRef, base: ColumnRef },
}

/// How an expression binds, for parenthesising it as an operand.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    /// A column, value, constant or subquery.
    Atom,
    /// A comparison, `IN`, `LIKE` or `IS [NOT] NULL`.
    Predicate,
    Between,
    And,
    Or,
    Not,
}

/// Where an expression is written.
#[derive(Clone, Copy)]
enum Place {
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

impl<'s> Renderer<'s> {
    pub(crate) fn new(
        dialect: Dialect,
        schema: &'s Identifier,
        scope: StatementScope,
        statement_table: &'static TableMeta,
    ) -> Self {
        Renderer {
            w: SqlWriter::new(dialect, schema),
            scope,
            statement_table,
            visible: Vec::with_capacity(4),
        }
    }

    /// The statement written.
    pub(crate) fn finish(self) -> Statement {
        self.w.finish(self.scope)
    }

    /// Makes exactly `tables` visible to the columns written next. A table
    /// may appear once: without aliases, a second reference could not be
    /// told apart (nor scoped apart) from the first.
    pub(crate) fn set_visible(&mut self, tables: &[&'static TableMeta]) -> Result<(), BuildError> {
        self.visible.clear();
        for table in tables {
            if self.visible.contains(&table.name) {
                return Err(BuildError::DuplicateTable { table: table.name });
            }
            self.visible.push(table.name);
        }
        Ok(())
    }

    /// The predicate that leads the `WHERE` of a reference to `table` in
    /// `FROM`, a subquery, or the target of an UPDATE or DELETE; `None` for a
    /// global table or in a cross-tenant statement.
    pub(crate) fn tenant_lead(
        &self,
        table: &'static TableMeta,
    ) -> Result<Option<Lead>, BuildError> {
        let key = self.scope.tenant_value(table, self.statement_table)?;
        Ok(match (key, table.tenant) {
            (Some(key), Some(tenant)) => Some(Lead::Tenant {
                table,
                column: tenant.name,
                key,
            }),
            _ => None,
        })
    }

    /// The predicate that leads the `ON` of a joined table: the tenant
    /// predicate, or across tenants the match of the two tenant columns.
    pub(crate) fn join_lead(
        &self,
        base: &'static TableMeta,
        joined: &'static TableMeta,
    ) -> Result<Option<Lead>, BuildError> {
        match (self.scope, joined.tenant, base.tenant) {
            (StatementScope::AllTenants, Some(joined_tenant), Some(base_tenant)) => {
                Ok(Some(Lead::SameTenant {
                    joined: ColumnRef::new(joined.name, joined_tenant.name),
                    base: ColumnRef::new(base.name, base_tenant.name),
                }))
            }
            _ => self.tenant_lead(joined),
        }
    }

    /// A column, checked against the tables in scope.
    pub(crate) fn column(&mut self, column: ColumnRef) -> Result<(), BuildError> {
        if self.visible.contains(&column.table()) {
            self.w.column(column.table(), column.column());
            Ok(())
        } else {
            Err(BuildError::UnknownTable {
                table: column.table(),
                column: column.column(),
            })
        }
    }

    /// `a, b, ...`, each column checked against the tables in scope.
    pub(crate) fn columns(
        &mut self,
        columns: impl IntoIterator<Item = ColumnRef>,
    ) -> Result<(), BuildError> {
        for (index, column) in columns.into_iter().enumerate() {
            if index > 0 {
                self.w.keyword(", ");
            }
            self.column(column)?;
        }
        Ok(())
    }

    /// `<keyword><lead> AND (<filters>)`, the filters combined with `AND`;
    /// nothing at all when there is neither.
    pub(crate) fn clause(
        &mut self,
        keyword: &'static str,
        lead: Option<Lead>,
        filters: &[Node],
    ) -> Result<(), BuildError> {
        if lead.is_none() && filters.is_empty() {
            return Ok(());
        }
        self.w.keyword(keyword);
        let place = match lead {
            Some(lead) => {
                self.lead(lead)?;
                if filters.is_empty() {
                    return Ok(());
                }
                self.w.keyword(" AND ");
                Place::Operand
            }
            None => Place::Alone,
        };
        self.chain(filters, Class::And, place)
    }

    fn lead(&mut self, lead: Lead) -> Result<(), BuildError> {
        match lead {
            Lead::Tenant { table, column, key } => {
                self.w.column(table.name, column);
                self.w.keyword(" = ");
                self.w.bind(&key)
            }
            Lead::SameTenant { joined, base } => {
                self.w.column(joined.table(), joined.column());
                self.w.keyword(" = ");
                self.w.column(base.table(), base.column());
                Ok(())
            }
        }
    }

    /// `a AND b AND ...` (or `OR`) written at `place`; an empty chain is its
    /// identity, `TRUE` (or `FALSE`).
    fn chain(&mut self, nodes: &[Node], op: Class, place: Place) -> Result<(), BuildError> {
        let (separator, identity) = match op {
            Class::Or => (" OR ", "FALSE"),
            _ => (" AND ", "TRUE"),
        };
        match nodes {
            [] => {
                self.w.keyword(identity);
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

    /// One filter tree written at `place`.
    fn node(&mut self, node: &Node, place: Place) -> Result<(), BuildError> {
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
    fn bare(&mut self, node: &Node) -> Result<(), BuildError> {
        match node {
            Node::Compare { column, op, value } => {
                self.column(*column)?;
                self.w.keyword(compare_op(*op));
                self.w.bind(value)
            }
            Node::ColumnsEqual { left, right } => {
                self.column(*left)?;
                self.w.keyword(" = ");
                self.column(*right)
            }
            // `IN ()` is not SQL: an empty list matches nothing.
            Node::In {
                values, negated, ..
            } if values.is_empty() => {
                self.w.keyword(if *negated { "TRUE" } else { "FALSE" });
                Ok(())
            }
            Node::In {
                column,
                values,
                negated,
            } => {
                self.column(*column)?;
                self.w.keyword(if *negated { " NOT IN (" } else { " IN (" });
                for (index, value) in values.iter().enumerate() {
                    if index > 0 {
                        self.w.keyword(", ");
                    }
                    self.w.bind(value)?;
                }
                self.w.keyword(")");
                Ok(())
            }
            Node::Between { column, low, high } => {
                self.column(*column)?;
                self.w.keyword(" BETWEEN ");
                self.w.bind(low)?;
                self.w.keyword(" AND ");
                self.w.bind(high)
            }
            Node::Like {
                column,
                pattern,
                negated,
            } => {
                self.column(*column)?;
                self.w
                    .keyword(if *negated { " NOT LIKE " } else { " LIKE " });
                self.w.bind(pattern)
            }
            Node::Null { column, negated } => {
                self.column(*column)?;
                self.w
                    .keyword(if *negated { " IS NOT NULL" } else { " IS NULL" });
                Ok(())
            }
            Node::InSubquery {
                column,
                subquery,
                negated,
            } => {
                self.column(*column)?;
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

    /// `SELECT <column or 1> FROM <table> WHERE <tenant predicate> AND
    /// (<filter>)`. Inside it, the subquery's table is in scope as well as
    /// every outer one, for correlation.
    fn subquery(&mut self, subquery: &SubqueryNode) -> Result<(), BuildError> {
        let table = subquery.table;
        let lead = self.tenant_lead(table)?;
        self.w.keyword("SELECT ");
        match subquery.column {
            Some(name) => self.w.column(table.name, name),
            None => self.w.keyword("1"),
        }
        self.w.keyword(" FROM ");
        self.w.table(table);
        // An inner reference to a table of an outer scope shadows it, as in
        // SQL, so a subquery may name the outer statement's table again.
        self.visible.push(table.name);
        let written = self.clause(" WHERE ", lead, core::slice::from_ref(&*subquery.filter));
        self.visible.pop();
        written
    }
}

fn class(node: &Node) -> Class {
    match node {
        Node::Compare { .. }
        | Node::ColumnsEqual { .. }
        | Node::Like { .. }
        | Node::Null { .. }
        | Node::InSubquery { .. } => Class::Predicate,
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

fn compare_op(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Eq => " = ",
        CompareOp::Ne => " <> ",
        CompareOp::Lt => " < ",
        CompareOp::Lte => " <= ",
        CompareOp::Gt => " > ",
        CompareOp::Gte => " >= ",
    }
}
