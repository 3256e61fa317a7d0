//! Tenant conjuncts: `<alias>.<column> = $tenant` as a top-level `AND`
//! conjunct of a clause.

use sqlparser::ast::{BinaryOperator, Expr, Value, ValueWithSpan};

use crate::name::Name;
use crate::template::TENANT;

/// The top-level `AND` conjuncts of a clause. Parentheses around a
/// conjunction do not change it; anything else (`OR`, `NOT`, `CASE`, a
/// function) is one opaque conjunct. Iterative, so that a long chain of
/// `AND`s cannot exhaust the stack.
pub(crate) fn conjuncts(clause: &Expr) -> Vec<&Expr> {
    let mut pending = vec![clause];
    let mut found = Vec::new();
    while let Some(expr) = pending.pop() {
        match expr {
            Expr::BinaryOp {
                left,
                op: BinaryOperator::And,
                right,
            } => {
                pending.push(right);
                pending.push(left);
            }
            Expr::Nested(inner) => pending.push(inner),
            other => found.push(other),
        }
    }
    found
}

/// A comparison `<alias>.<column> = $<param>` (either way round).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Comparison {
    pub(crate) alias: Name,
    pub(crate) column: Name,
    pub(crate) param: String,
}

impl Comparison {
    pub(crate) fn is_tenant(&self) -> bool {
        self.param == TENANT
    }
}

/// The comparison `expr` is, if it is one.
pub(crate) fn comparison(expr: &Expr) -> Option<Comparison> {
    let Expr::BinaryOp {
        left,
        op: BinaryOperator::Eq,
        right,
    } = expr
    else {
        return None;
    };
    let (left, right) = (unparenthesized(left), unparenthesized(right));
    column_and_param(left, right).or_else(|| column_and_param(right, left))
}

fn column_and_param(column: &Expr, param: &Expr) -> Option<Comparison> {
    let Expr::CompoundIdentifier(parts) = column else {
        return None;
    };
    let [alias, column] = parts.as_slice() else {
        return None;
    };
    let Expr::Value(ValueWithSpan {
        value: Value::Placeholder(placeholder),
        ..
    }) = param
    else {
        return None;
    };
    Some(Comparison {
        alias: Name::of(alias),
        column: Name::of(column),
        param: placeholder.strip_prefix('$')?.to_owned(),
    })
}

fn unparenthesized(mut expr: &Expr) -> &Expr {
    while let Expr::Nested(inner) = expr {
        expr = inner;
    }
    expr
}

#[cfg(test)]
mod tests {
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::parser::Parser;

    use super::*;

    fn expr(sql: &str) -> Expr {
        Parser::new(&PostgreSqlDialect {})
            .try_with_sql(sql)
            .unwrap()
            .parse_expr()
            .unwrap()
    }

    fn tenant_columns(sql: &str) -> Vec<(String, String)> {
        let clause = expr(sql);
        conjuncts(&clause)
            .into_iter()
            .filter_map(comparison)
            .filter(Comparison::is_tenant)
            .map(|c| (c.alias.into_string(), c.column.into_string()))
            .collect()
    }

    #[test]
    fn only_top_level_conjuncts_with_tenant_count() {
        let pair = |a: &str, c: &str| (a.to_owned(), c.to_owned());
        assert_eq!(
            tenant_columns("a AND (O.Tenant_Id = $tenant AND $tenant = (\"C\".x))"),
            [pair("o", "tenant_id"), pair("C", "x")]
        );
        for sql in [
            "o.tenant_id = $tenant OR true",
            "NOT o.tenant_id = $tenant",
            "CASE WHEN o.tenant_id = $tenant THEN true END",
            "o.tenant_id = $tenant_id",
            "o.tenant_id = $tenant::bigint",
            "o.tenant_id = $tenant + 0",
            "tenant_id = $tenant",
            "s.o.tenant_id = $tenant",
            "o.tenant_id IS NOT DISTINCT FROM $tenant",
            "coalesce(o.tenant_id = $tenant, true)",
        ] {
            assert_eq!(tenant_columns(sql), [], "{sql}");
        }
    }

    #[test]
    fn long_chains_do_not_recurse() {
        let clause = expr(&vec!["x = 1"; 10_000].join(" AND "));
        assert_eq!(conjuncts(&clause).len(), 10_000);
    }
}
