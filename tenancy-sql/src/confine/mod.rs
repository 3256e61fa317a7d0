//! Tenant analytics: a tenant's ad hoc `SELECT`, confined to the tenant
//! whatever it does.
//!
//! Each reference to a tenant table `t AS a` is replaced by
//! `(SELECT * FROM {t} AS "t" WHERE "t"."<tenant column>" = $tenant) AS a`:
//! the only rows of `t` the rest of the query can see are the tenant's,
//! whatever joins them (inner, outer, `LATERAL`), correlates with them or
//! combines them, because the derived table's `WHERE` is ours alone and no
//! predicate of the query can reach inside it. Conjuncts added to the
//! query's own `WHERE` and `ON` clauses would be weaker: the preserved side
//! of an outer join ignores its `ON`. PostgreSQL pulls such a subquery up
//! into the outer query, so the tenant conjunct is planned (and indexed) as
//! if written there.
//!
//! The rewritten query is printed back from its syntax tree (comments gone,
//! a string with a backslash written as `E'..'`, so that it reads the same
//! whatever `standard_conforming_strings` is) and checked again by
//! [`check`]'s rules, so what runs passed the same check as `tenant_sql!`
//! text.
//!
//! [`check`]: crate::check

mod allow;

use sqlparser::ast::helpers::attached_token::AttachedToken;
use sqlparser::ast::{
    BinaryOperator, Expr, GroupByExpr, Ident, ObjectName, Query, Select, SelectFlavor, SelectItem,
    SetExpr, TableAlias, TableFactor, TableWithJoins, Value, WildcardAdditionalOptions,
};

pub use allow::{ANALYTICS_FUNCTIONS, AllowList, AllowListError};

use crate::analysis::{Analysis, TableKind, TableRef};
use crate::check::{Functions, Rules, Tables, analyze};
use crate::diagnostic::{Diagnostic, Diagnostics, Problem};
use crate::lex::Syntax;
use crate::template::{Backend, Param, QualifiedName, RenderError, Rendered, TENANT, Template};

/// Confines a tenant's ad hoc SQL to the tenant.
///
/// Accepts exactly one read-only `SELECT` (`WITH` queries allowed, but no
/// data-modifying ones, no `FOR UPDATE`/`FOR SHARE`, no `SELECT INTO`) that
/// names only the tables in `allow` (without schema), calls only its
/// functions, and reads no system catalog; refuses everything else with a
/// message that says what is not allowed, every problem at once. Returns
/// the query rewritten so that every reference to a tenant table reads only
/// the tenant's rows (see the module docs), as a [`Template`] whose only
/// parameter is the tenant.
///
/// ```
/// use tenancy_sql::{AllowList, Backend, QualifiedName};
///
/// let allow = AllowList::analytics()
///     .tenant_table("orders", "tenant_id")?
///     .global_table("countries")?;
/// let confined = tenancy_sql::confine(
///     "SELECT c.name, count(*) FROM orders o RIGHT JOIN countries c ON c.code = o.country \
///      GROUP BY c.name -- every country, even without orders",
///     &allow,
/// )
/// .unwrap();
/// assert_eq!(
///     confined.sql(),
///     "SELECT c.name, count(*) FROM (SELECT * FROM {orders} AS \"orders\" \
///      WHERE \"orders\".\"tenant_id\" = $tenant) AS o RIGHT JOIN {countries} AS c \
///      ON c.code = o.country GROUP BY c.name"
/// );
/// let rendered = confined
///     .render(Backend::Postgres, |table| QualifiedName::new("acme", table))
///     .unwrap();
/// assert!(rendered.sql.contains("FROM \"acme\".\"orders\" AS \"orders\" WHERE \"orders\".\"tenant_id\" = $1"));
///
/// let refused = tenancy_sql::confine("SELECT * FROM pg_shadow; DELETE FROM orders", &allow).unwrap_err();
/// assert!(refused.to_string().contains("only one statement is allowed"));
/// # Ok::<(), tenancy_sql::AllowListError>(())
/// ```
pub fn confine(sql: &str, allow: &AllowList) -> Result<Confined, Diagnostics> {
    let rewrite = Rules {
        tables: Tables::Confine(allow),
        functions: Functions::AllowList(allow),
        read_only: true,
    };
    let (_, statement) = analyze(sql, Syntax::Plain, &rewrite)?;
    let confined_sql = statement.to_string();

    // The same rules as `tenant_sql!` text, on what will run.
    let check = Rules {
        tables: Tables::Slots,
        functions: Functions::AllowList(allow),
        read_only: true,
    };
    let internal = |found: Diagnostics| internal_error(&confined_sql, found);
    let (analysis, _) = analyze(&confined_sql, Syntax::Confined, &check).map_err(internal)?;
    analysis
        .verify(|table| allow.table_kind(table))
        .map_err(internal)?;
    let only_tenant = analysis
        .template()
        .params()
        .iter()
        .all(|param| *param == Param::Tenant);
    if !only_tenant {
        return Err(internal_error(
            &confined_sql,
            Diagnostics::new(
                &confined_sql,
                vec![Diagnostic::new(
                    Problem::Parameter,
                    0..0,
                    "a parameter other than `$tenant`",
                )],
            ),
        ));
    }
    Ok(Confined { analysis })
}

/// The rewritten query failed its own check: never expected, reported as
/// a defect rather than run.
fn internal_error(confined_sql: &str, found: Diagnostics) -> Diagnostics {
    let list = found
        .into_iter()
        .map(|d| {
            Diagnostic::new(
                Problem::Internal,
                d.span(),
                format!(
                    "the confined query failed its own check, a defect of tenancy-sql: {}",
                    d
                ),
            )
        })
        .collect();
    Diagnostics::new(confined_sql, list)
}

/// A tenant's query, confined: ready to render for the tenant's transaction
/// (run it `READ ONLY`, with a statement timeout and a row limit).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Confined {
    analysis: Analysis,
}

impl Confined {
    /// The confined query as text, tables as `{table}` slots and the tenant
    /// as `$tenant`.
    pub fn sql(&self) -> &str {
        self.analysis.sql()
    }

    /// The confined query as segments.
    pub fn template(&self) -> &Template {
        self.analysis.template()
    }

    /// Every table reference in the confined query.
    pub fn tables(&self) -> &[TableRef] {
        self.analysis.tables()
    }

    /// The check of the confined query.
    pub fn analysis(&self) -> &Analysis {
        &self.analysis
    }

    /// Renders the query for `backend`, writing each table as the quoted
    /// name `table` returns for its name; the one parameter, bound at every
    /// bind position, is the tenant's key.
    pub fn render<'s, 'n>(
        &'s self,
        backend: Backend,
        table: impl FnMut(&'s str) -> QualifiedName<'n>,
    ) -> Result<Rendered, RenderError> {
        self.analysis.template().render(backend, table)
    }
}

/// The confined replacement of a reference to `table` known by `alias`.
pub(crate) fn confined_factor(
    table: &str,
    kind: TableKind<'_>,
    mut alias: TableAlias,
) -> TableFactor {
    alias.explicit = true;
    let slot = ObjectName::from(vec![Ident::new(format!("{{{table}}}"))]);
    let TableKind::Tenant { column } = kind else {
        return plain_table(slot, alias);
    };
    let inner = Ident::with_quote('"', table);
    let inner_alias = TableAlias {
        explicit: true,
        name: inner.clone(),
        columns: Vec::new(),
        at: None,
    };
    let conjunct = Expr::BinaryOp {
        left: Box::new(Expr::CompoundIdentifier(vec![
            inner,
            Ident::with_quote('"', column),
        ])),
        op: BinaryOperator::Eq,
        right: Box::new(Expr::Value(
            Value::Placeholder(format!("${TENANT}")).with_empty_span(),
        )),
    };
    let select = Select {
        select_token: AttachedToken::empty(),
        optimizer_hints: Vec::new(),
        distinct: None,
        select_modifiers: None,
        top: None,
        top_before_distinct: false,
        projection: vec![SelectItem::Wildcard(WildcardAdditionalOptions::default())],
        exclude: None,
        into: None,
        from: vec![TableWithJoins {
            relation: plain_table(slot, inner_alias),
            joins: Vec::new(),
        }],
        lateral_views: Vec::new(),
        prewhere: None,
        selection: Some(conjunct),
        connect_by: Vec::new(),
        group_by: GroupByExpr::Expressions(Vec::new(), Vec::new()),
        cluster_by: Vec::new(),
        distribute_by: Vec::new(),
        sort_by: Vec::new(),
        having: None,
        named_window: Vec::new(),
        qualify: None,
        window_before_qualify: false,
        value_table_mode: None,
        flavor: SelectFlavor::Standard,
    };
    let query = Query {
        with: None,
        body: Box::new(SetExpr::Select(Box::new(select))),
        order_by: None,
        limit_clause: None,
        fetch: None,
        locks: Vec::new(),
        for_clause: None,
        settings: None,
        format_clause: None,
        pipe_operators: Vec::new(),
    };
    TableFactor::Derived {
        lateral: false,
        subquery: Box::new(query),
        alias: Some(alias),
        sample: None,
    }
}

fn plain_table(name: ObjectName, alias: TableAlias) -> TableFactor {
    TableFactor::Table {
        name,
        alias: Some(alias),
        args: None,
        with_hints: Vec::new(),
        version: None,
        with_ordinality: false,
        partitions: Vec::new(),
        json_path: None,
        sample: None,
        index_directives: Vec::new(),
        inheritance: None,
    }
}
