//! Lowering to sea-query, and the one place where tenant predicates are
//! placed: beside the user's predicate, never inside it.

use sea_query::{
    BinOper, Expr, ExprTrait, PostgresQueryBuilder, Query, QueryStatementBuilder, SelectStatement,
    SqliteQueryBuilder, TableRef,
};

use crate::BuildError;
use crate::column::ColumnRef;
use crate::meta::TableMeta;
use crate::query::filter::{CompareOp, Node};
use crate::query::scope::Scope;
use crate::query::subquery::SubqueryNode;
use crate::statement::{Dialect, Statement};

/// Turns filters into sea-query expressions for one statement, adding the
/// tenant predicate to every table reference it meets on the way.
pub(crate) struct Lowerer {
    scope: Scope,
    /// The statement's own table, named in errors.
    statement_table: &'static str,
    /// The tables columns may refer to here: the statement's `FROM` and
    /// `JOIN` list, then one entry per enclosing subquery, innermost last.
    visible: Vec<&'static str>,
}

impl Lowerer {
    pub(crate) fn new(scope: Scope, statement_table: &'static TableMeta) -> Self {
        Lowerer {
            scope,
            statement_table: statement_table.name,
            visible: Vec::new(),
        }
    }

    /// Makes `table`'s columns available to the filters lowered next.
    pub(crate) fn bring_into_scope(&mut self, table: &'static TableMeta) -> Result<(), BuildError> {
        if self.visible.contains(&table.name) {
            return Err(BuildError::DuplicateTable { table: table.name });
        }
        self.visible.push(table.name);
        Ok(())
    }

    /// `"<table>"."<tenant column>" = $n` for a reference to `table` in
    /// `FROM`, a subquery, or the target of an UPDATE or DELETE; `None` for a
    /// global table or in a cross-tenant statement.
    pub(crate) fn tenant_predicate(
        &self,
        table: &'static TableMeta,
    ) -> Result<Option<Expr>, BuildError> {
        let value = self.scope.tenant_value(table, self.statement_table)?;
        Ok(match (value, table.tenant) {
            (Some(value), Some(tenant)) => {
                Some(column(table.name, tenant.name).eq(Expr::Value(value)))
            }
            _ => None,
        })
    }

    /// The predicate that leads the `ON` clause of a joined table: the
    /// tenant predicate, or across tenants `"<joined>"."<tenant>" =
    /// "<base>"."<tenant>"`, so rows of different tenants are never joined.
    pub(crate) fn join_predicate(
        &self,
        base: &'static TableMeta,
        joined: &'static TableMeta,
    ) -> Result<Option<Expr>, BuildError> {
        match (self.scope, joined.tenant, base.tenant) {
            (Scope::AllTenants, Some(joined_tenant), Some(base_tenant)) => Ok(Some(
                column(joined.name, joined_tenant.name).equals((base.name, base_tenant.name)),
            )),
            _ => self.tenant_predicate(joined),
        }
    }

    /// A column reference, checked against the tables in scope.
    pub(crate) fn column(&self, column_ref: ColumnRef) -> Result<Expr, BuildError> {
        if self.visible.contains(&column_ref.table) {
            Ok(column(column_ref.table, column_ref.column))
        } else {
            Err(BuildError::UnknownTable {
                table: column_ref.table,
                column: column_ref.column,
            })
        }
    }

    /// The user's filters, all of which must hold; `None` when there are none.
    pub(crate) fn filters<'f>(
        &mut self,
        filters: impl IntoIterator<Item = &'f Node>,
    ) -> Result<Option<Expr>, BuildError> {
        let mut combined: Option<Expr> = None;
        for filter in filters {
            let expr = self.filter(filter)?;
            combined = Some(match combined {
                Some(left) => left.and(expr),
                None => expr,
            });
        }
        Ok(combined)
    }

    /// One filter tree.
    pub(crate) fn filter(&mut self, node: &Node) -> Result<Expr, BuildError> {
        Ok(match node {
            Node::Compare { column, op, value } => self
                .column(*column)?
                .binary(bin_oper(*op), Expr::Value(value.clone())),
            Node::ColumnsEqual { left, right } => self.column(*left)?.eq(self.column(*right)?),
            Node::In {
                column,
                values,
                negated,
            } => {
                let column = self.column(*column)?;
                let values = values.iter().cloned().map(Expr::Value);
                match (values.len(), *negated) {
                    // `IN ()` is not SQL: an empty list matches nothing.
                    (0, negated) => constant(negated),
                    (_, false) => column.is_in(values),
                    (_, true) => column.is_not_in(values),
                }
            }
            Node::Between { column, low, high } => self
                .column(*column)?
                .between(Expr::Value(low.clone()), Expr::Value(high.clone())),
            Node::Like {
                column,
                pattern,
                negated,
            } => {
                let op = if *negated {
                    BinOper::NotLike
                } else {
                    BinOper::Like
                };
                self.column(*column)?
                    .binary(op, Expr::Value(pattern.clone().into()))
            }
            Node::Null { column, negated } => {
                let column = self.column(*column)?;
                if *negated {
                    column.is_not_null()
                } else {
                    column.is_null()
                }
            }
            Node::InSubquery {
                column,
                subquery,
                negated,
            } => {
                let column = self.column(*column)?;
                let subquery = self.subquery(subquery)?;
                if *negated {
                    column.not_in_subquery(subquery)
                } else {
                    column.in_subquery(subquery)
                }
            }
            Node::Exists { subquery, negated } => {
                let subquery = self.subquery(subquery)?;
                if *negated {
                    Expr::not_exists(subquery)
                } else {
                    Expr::exists(subquery)
                }
            }
            Node::All(nodes) => self.chain(nodes, true)?,
            Node::Any(nodes) => self.chain(nodes, false)?,
            Node::Not(node) => self.filter(node)?.not(),
        })
    }

    /// `a AND b AND ...` or `a OR b OR ...`; an empty chain is its identity.
    fn chain(&mut self, nodes: &[Node], all: bool) -> Result<Expr, BuildError> {
        let mut chained: Option<Expr> = None;
        for node in nodes {
            let expr = self.filter(node)?;
            chained = Some(match chained {
                Some(left) if all => left.and(expr),
                Some(left) => left.or(expr),
                None => expr,
            });
        }
        Ok(chained.unwrap_or_else(|| constant(all)))
    }

    /// `SELECT <column or 1> FROM <table> WHERE <tenant predicate> AND (<filter>)`.
    /// Inside it, the subquery's table is in scope as well as every outer
    /// one, for correlation.
    fn subquery(&mut self, subquery: &SubqueryNode) -> Result<SelectStatement, BuildError> {
        let table = subquery.table;
        let tenant = self.tenant_predicate(table)?;
        // An inner reference to a table of an outer scope shadows it, as in
        // SQL, so a subquery may name the outer statement's table again.
        self.visible.push(table.name);
        let filter = self.filter(&subquery.filter);
        self.visible.pop();

        let mut select = Query::select();
        match subquery.column {
            Some(name) => select.expr(column(table.name, name)),
            None => select.expr(Expr::Constant(1.into())),
        };
        select.from(table_ref(table));
        if let Some(condition) = conjoin(tenant, Some(filter?)) {
            select.and_where(condition);
        }
        Ok(select)
    }
}

/// The tenant predicate and the user's predicate as two top-level
/// conjuncts: `tenant AND (user)`. sea-query parenthesises the user's side
/// whenever its precedence requires, so a user `OR` cannot absorb the
/// tenant predicate.
pub(crate) fn conjoin(tenant: Option<Expr>, user: Option<Expr>) -> Option<Expr> {
    match (tenant, user) {
        (Some(tenant), Some(user)) => Some(tenant.and(user)),
        (tenant, user) => tenant.or(user),
    }
}

/// `"table"."column"`.
pub(crate) fn column(table: &'static str, column: &'static str) -> Expr {
    Expr::col((table, column))
}

/// The table, schema-qualified when it has a schema. Columns are qualified
/// with the bare table name, which is how SQL refers to it either way.
pub(crate) fn table_ref(table: &'static TableMeta) -> TableRef {
    match table.schema {
        Some(schema) => (schema, table.name).into(),
        None => table.name.into(),
    }
}

/// Renders a sea-query statement with placeholders and bound values.
pub(crate) fn render(
    statement: &impl QueryStatementBuilder,
    dialect: Dialect,
    scope: Scope,
) -> Statement {
    let (sql, values) = match dialect {
        Dialect::Postgres => statement.build_any(&PostgresQueryBuilder),
        Dialect::Sqlite => statement.build_any(&SqliteQueryBuilder),
    };
    Statement {
        sql,
        values,
        scope: scope.statement_scope(),
    }
}

fn constant(value: bool) -> Expr {
    Expr::Constant(value.into())
}

fn bin_oper(op: CompareOp) -> BinOper {
    match op {
        CompareOp::Eq => BinOper::Equal,
        CompareOp::Ne => BinOper::NotEqual,
        CompareOp::Lt => BinOper::SmallerThan,
        CompareOp::Lte => BinOper::SmallerThanOrEqual,
        CompareOp::Gt => BinOper::GreaterThan,
        CompareOp::Gte => BinOper::GreaterThanOrEqual,
    }
}
