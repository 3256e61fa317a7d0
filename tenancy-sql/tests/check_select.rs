//! `check` on queries: where a tenant conjunct counts and where it does
//! not, construct by construct.

mod support;

use support::{accepted, messages, refused, refused_once};
use tenancy_sql::{JoinKind, Place, Problem, Rule, Scope, StatementKind};

fn unconfined(slot: &str) -> (Problem, String) {
    (Problem::Unconfined, slot.to_owned())
}

#[test]
fn a_where_conjunct_confines_the_from_reference() {
    let checked = accepted("SELECT o.id FROM {Order} o WHERE o.tenant_id = $tenant");
    assert_eq!(checked.kind(), StatementKind::Select);
    assert!(checked.is_read_only());
    let order = &checked.tables()[0];
    assert_eq!(order.type_name(), "Order");
    assert_eq!(order.alias(), Some("o"));
    assert_eq!(order.place(), Place::From(Scope::Select));
    assert_eq!(order.span(), 17..24);
    assert_eq!(
        order.tenant_conjuncts(),
        Some(&["tenant_id".to_owned()][..])
    );
}

#[test]
fn the_conjunct_may_stand_anywhere_among_the_top_level_ands() {
    for sql in [
        "SELECT 1 FROM {Order} o WHERE o.status = $s AND o.tenant_id = $tenant",
        "SELECT 1 FROM {Order} o WHERE $tenant = o.tenant_id",
        "SELECT 1 FROM {Order} o WHERE (o.tenant_id = $tenant)",
        "SELECT 1 FROM {Order} o WHERE ((o.a = 1 AND (o.tenant_id) = ($tenant)) AND o.b = 2)",
        "SELECT 1 FROM {Order} o WHERE (o.a = 1 OR o.b = 2) AND o.tenant_id = $tenant",
        "SELECT 1 FROM {Order} O WHERE o.TENANT_ID = $tenant",
        "SELECT 1 FROM {Order} \"o\" WHERE o.\"tenant_id\" = $tenant",
    ] {
        accepted(sql);
    }
}

#[test]
fn a_comparison_that_is_not_a_top_level_tenant_conjunct_does_not_count() {
    for sql in [
        // Under OR, NOT, CASE or a function.
        "SELECT 1 FROM {Order} o WHERE o.tenant_id = $tenant OR o.public",
        "SELECT 1 FROM {Order} o WHERE NOT (o.tenant_id <> $tenant OR false) AND NOT NOT o.tenant_id = $tenant",
        "SELECT 1 FROM {Order} o WHERE CASE WHEN o.tenant_id = $tenant THEN true ELSE true END",
        "SELECT 1 FROM {Order} o WHERE coalesce(o.tenant_id = $tenant, true)",
        // Compared with something other than `$tenant`.
        "SELECT 1 FROM {Order} o WHERE o.tenant_id = $tenant_id",
        "SELECT 1 FROM {Order} o WHERE o.tenant_id = $tenant::bigint",
        "SELECT 1 FROM {Order} o WHERE o.tenant_id = $tenant + 0",
        "SELECT 1 FROM {Order} o WHERE o.tenant_id = 42",
        "SELECT 1 FROM {Order} o WHERE o.tenant_id = o.tenant_id",
        "SELECT 1 FROM {Order} o WHERE o.tenant_id >= $tenant AND o.tenant_id <= $tenant",
        "SELECT 1 FROM {Order} o WHERE o.tenant_id IN ($tenant)",
        "SELECT 1 FROM {Order} o WHERE o.tenant_id IS NOT DISTINCT FROM $tenant",
        // Unqualified, or qualified otherwise.
        "SELECT 1 FROM {Order} o WHERE tenant_id = $tenant",
        "SELECT 1 FROM {Order} o WHERE s.o.tenant_id = $tenant",
        // Naming another alias, or a quoted alias that is another name.
        "SELECT 1 FROM {Order} o WHERE p.tenant_id = $tenant",
        "SELECT 1 FROM {Order} o WHERE \"O\".tenant_id = $tenant",
        // In the HAVING, or in a subquery's WHERE.
        "SELECT 1 FROM {Order} o GROUP BY o.tenant_id HAVING o.tenant_id = $tenant",
        "SELECT 1 FROM {Order} o WHERE EXISTS (SELECT 1 WHERE o.tenant_id = $tenant)",
    ] {
        assert_eq!(refused(sql), [unconfined("{Order}")], "{sql}");
    }
}

#[test]
fn a_conjunct_on_another_column_is_reported_with_the_column() {
    let checked = tenancy_sql::check("SELECT 1 FROM {Order} o WHERE o.org_id = $tenant").unwrap();
    assert_eq!(
        checked.tables()[0].requirements()[0].rule(),
        &Rule::TenantColumnIn(vec!["org_id".into()])
    );
    let text = messages("SELECT 1 FROM {Order} o WHERE o.org_id = $tenant");
    assert!(
        text.contains("(`o.org_id = $tenant` compares a column that is not the tenant column)"),
        "{text}"
    );
}

#[test]
fn every_reference_needs_an_alias() {
    assert_eq!(
        refused_once("SELECT 1 FROM {Order} WHERE tenant_id = $tenant"),
        (Problem::Alias, "{Order}".into())
    );
    let text = messages("SELECT 1 FROM {Order}");
    assert!(
        text.contains("write `{Order} t`, so that its tenant conjunct can name it"),
        "{text}"
    );
}

#[test]
fn column_aliases_could_rename_the_tenant_column() {
    // `o(tenant_id, id)` would call the first column `tenant_id`, whatever
    // it is.
    assert_eq!(
        refused_once("SELECT 1 FROM {Order} o(tenant_id, id) WHERE o.tenant_id = $tenant"),
        (Problem::Alias, "o".into())
    );
}

#[test]
fn names_are_distinct_within_a_from() {
    assert_eq!(
        refused("SELECT 1 FROM {Order} o, {Customer} O WHERE o.tenant_id = $tenant"),
        [(Problem::DuplicateName, "O".into())]
    );
    // The same alias in a subquery is another scope.
    accepted(
        "SELECT 1 FROM {Order} o WHERE o.tenant_id = $tenant AND EXISTS \
         (SELECT 1 FROM {Line} o WHERE o.tenant_id = $tenant)",
    );
}

#[test]
fn a_quoted_alias_is_exact_so_an_outer_alias_cannot_confine_it() {
    // Inside, `o.tenant_id` is the outer `o`: `"O"` is another name.
    assert_eq!(
        refused(
            "SELECT 1 FROM {Order} o WHERE o.tenant_id = $tenant AND EXISTS \
             (SELECT 1 FROM {Line} \"O\" WHERE o.tenant_id = $tenant)"
        ),
        [unconfined("{Line}")]
    );
}

#[test]
fn self_joins_confine_each_alias() {
    let sql = "SELECT child.id FROM {Category} parent JOIN {Category} child \
               ON child.tenant_id = $tenant AND child.parent_id = parent.id \
               WHERE parent.tenant_id = $tenant";
    let checked = accepted(sql);
    assert_eq!(checked.tables().len(), 2);
    assert_eq!(
        checked.tables()[1].place(),
        Place::Join {
            kind: JoinKind::Inner,
            scope: Scope::Select
        }
    );
    assert_eq!(
        refused(
            "SELECT child.id FROM {Category} parent JOIN {Category} child \
             ON parent.tenant_id = $tenant AND child.parent_id = parent.id \
             WHERE parent.tenant_id = $tenant"
        ),
        [unconfined("{Category}")]
    );
}

#[test]
fn inner_and_left_joins_confine_by_on_or_where() {
    for join in ["JOIN", "INNER JOIN", "LEFT JOIN", "LEFT OUTER JOIN"] {
        accepted(&format!(
            "SELECT 1 FROM {{Order}} o {join} {{Customer}} c ON c.tenant_id = $tenant AND c.id = o.c \
             WHERE o.tenant_id = $tenant"
        ));
        accepted(&format!(
            "SELECT 1 FROM {{Order}} o {join} {{Customer}} c ON c.id = o.c \
             WHERE o.tenant_id = $tenant AND c.tenant_id = $tenant"
        ));
    }
}

#[test]
fn the_on_of_a_join_confines_only_what_it_brings_in() {
    // `o` comes from the FROM: its scope is the WHERE, even in an inner join.
    assert_eq!(
        refused(
            "SELECT 1 FROM {Order} o JOIN {Customer} c \
             ON c.tenant_id = $tenant AND o.tenant_id = $tenant"
        ),
        [unconfined("{Order}")]
    );
}

#[test]
fn right_and_full_joins_keep_their_right_side_whatever_the_on_says() {
    for join in [
        "RIGHT JOIN",
        "RIGHT OUTER JOIN",
        "FULL JOIN",
        "FULL OUTER JOIN",
    ] {
        let sql = format!(
            "SELECT 1 FROM {{Order}} o {join} {{Customer}} c ON c.tenant_id = $tenant AND c.id = o.c \
             WHERE o.tenant_id = $tenant"
        );
        assert_eq!(refused(&sql), [unconfined("{Customer}")], "{sql}");
        let text = messages(&sql);
        assert!(
            text.contains("keeps every row of `c` whatever its `ON` says"),
            "{text}"
        );
        accepted(&format!(
            "SELECT 1 FROM {{Order}} o {join} {{Customer}} c ON c.id = o.c \
             WHERE o.tenant_id = $tenant AND c.tenant_id = $tenant"
        ));
    }
}

#[test]
fn joins_without_on_are_confined_by_the_where() {
    for join in [
        "CROSS JOIN {Customer} c",
        ", {Customer} c",
        "JOIN {Customer} c USING (id)",
        "NATURAL JOIN {Customer} c",
    ] {
        accepted(&format!(
            "SELECT 1 FROM {{Order}} o {join} WHERE o.tenant_id = $tenant AND c.tenant_id = $tenant"
        ));
        assert_eq!(
            refused(&format!(
                "SELECT 1 FROM {{Order}} o {join} WHERE o.tenant_id = $tenant"
            )),
            [unconfined("{Customer}")],
            "{join}"
        );
    }
}

#[test]
fn an_outer_on_confines_every_reference_of_its_nested_join() {
    accepted(
        "SELECT 1 FROM {Order} o LEFT JOIN ({Line} l JOIN {Product} p ON p.id = l.product) \
         ON l.tenant_id = $tenant AND p.tenant_id = $tenant AND l.order_id = o.id \
         WHERE o.tenant_id = $tenant",
    );
    assert_eq!(
        refused(
            "SELECT 1 FROM {Order} o RIGHT JOIN ({Line} l JOIN {Product} p ON p.tenant_id = $tenant) \
             ON l.tenant_id = $tenant WHERE o.tenant_id = $tenant"
        ),
        [unconfined("{Line}")]
    );
    assert_eq!(
        refused_once(
            "SELECT 1 FROM ({Order} o JOIN {Line} l ON l.tenant_id = $tenant) AS j \
             WHERE o.tenant_id = $tenant"
        )
        .0,
        Problem::Unsupported
    );
}

#[test]
fn subqueries_are_scopes_of_their_own() {
    let inner = |sql: &str| {
        assert_eq!(refused(sql), [unconfined("{Line}")], "{sql}");
        accepted(&sql.replace("WHERE l.x = 1", "WHERE l.x = 1 AND l.tenant_id = $tenant"));
    };
    inner(
        "SELECT 1 FROM {Order} o WHERE o.tenant_id = $tenant AND EXISTS (SELECT 1 FROM {Line} l WHERE l.x = 1)",
    );
    inner(
        "SELECT 1 FROM {Order} o WHERE o.tenant_id = $tenant AND NOT EXISTS (SELECT 1 FROM {Line} l WHERE l.x = 1)",
    );
    inner(
        "SELECT 1 FROM {Order} o WHERE o.tenant_id = $tenant AND o.id IN (SELECT l.o FROM {Line} l WHERE l.x = 1)",
    );
    inner(
        "SELECT 1 FROM {Order} o WHERE o.tenant_id = $tenant AND o.id NOT IN (SELECT l.o FROM {Line} l WHERE l.x = 1)",
    );
    inner(
        "SELECT 1 FROM {Order} o WHERE o.tenant_id = $tenant AND o.n > (SELECT count(*) FROM {Line} l WHERE l.x = 1)",
    );
    inner(
        "SELECT 1 FROM {Order} o WHERE o.tenant_id = $tenant AND o.n = ANY (SELECT l.n FROM {Line} l WHERE l.x = 1)",
    );
    inner(
        "SELECT 1 FROM {Order} o WHERE o.tenant_id = $tenant AND o.n > ALL (SELECT l.n FROM {Line} l WHERE l.x = 1)",
    );
    inner(
        "SELECT (SELECT max(l.n) FROM {Line} l WHERE l.x = 1) FROM {Order} o WHERE o.tenant_id = $tenant",
    );
    inner(
        "SELECT ARRAY(SELECT l.n FROM {Line} l WHERE l.x = 1) FROM {Order} o WHERE o.tenant_id = $tenant",
    );
    inner(
        "SELECT 1 FROM {Order} o JOIN {Customer} c ON c.tenant_id = $tenant AND EXISTS (SELECT 1 FROM {Line} l WHERE l.x = 1) WHERE o.tenant_id = $tenant",
    );
    inner(
        "SELECT 1 FROM {Order} o WHERE o.tenant_id = $tenant GROUP BY o.s HAVING count(*) > (SELECT count(*) FROM {Line} l WHERE l.x = 1)",
    );
    inner(
        "SELECT 1 FROM {Order} o WHERE o.tenant_id = $tenant ORDER BY (SELECT max(l.n) FROM {Line} l WHERE l.x = 1)",
    );
    inner(
        "SELECT 1 FROM {Order} o WHERE o.tenant_id = $tenant LIMIT (SELECT count(*) FROM {Line} l WHERE l.x = 1)",
    );
    inner(
        "SELECT sum(o.n) FILTER (WHERE o.id IN (SELECT l.o FROM {Line} l WHERE l.x = 1)) FROM {Order} o WHERE o.tenant_id = $tenant",
    );
    inner(
        "SELECT CASE WHEN EXISTS (SELECT 1 FROM {Line} l WHERE l.x = 1) THEN 1 END FROM {Order} o WHERE o.tenant_id = $tenant",
    );
    inner(
        "SELECT coalesce((SELECT max(l.n) FROM {Line} l WHERE l.x = 1), 0) FROM {Order} o WHERE o.tenant_id = $tenant",
    );
    inner(
        "SELECT 1 FROM {Order} o WHERE o.tenant_id = $tenant AND (o.a OR EXISTS (SELECT 1 FROM {Line} l WHERE l.x = 1))",
    );
}

#[test]
fn derived_and_lateral_tables_are_scopes_of_their_own() {
    accepted(
        "SELECT d.n FROM (SELECT count(*) AS n FROM {Order} o WHERE o.tenant_id = $tenant) AS d",
    );
    // The outer WHERE cannot confine a reference inside a derived table.
    assert_eq!(
        refused(
            "SELECT d.n FROM (SELECT o.tenant_id, o.n FROM {Order} o) AS d WHERE d.tenant_id = $tenant"
        ),
        [unconfined("{Order}")]
    );
    accepted(
        "SELECT o.id, l.n FROM {Order} o, LATERAL (SELECT x.n FROM {Line} x \
         WHERE x.tenant_id = $tenant AND x.order_id = o.id ORDER BY x.n DESC LIMIT 3) AS l \
         WHERE o.tenant_id = $tenant",
    );
    assert_eq!(
        refused(
            "SELECT o.id FROM {Order} o LEFT JOIN LATERAL (SELECT x.n FROM {Line} x \
             WHERE x.order_id = o.id) AS l ON true WHERE o.tenant_id = $tenant"
        ),
        [unconfined("{Line}")]
    );
}

#[test]
fn set_operations_confine_each_branch() {
    for op in ["UNION", "UNION ALL", "INTERSECT", "EXCEPT", "EXCEPT ALL"] {
        accepted(&format!(
            "SELECT o.id FROM {{Order}} o WHERE o.tenant_id = $tenant {op} \
             SELECT a.id FROM {{Archive}} a WHERE a.tenant_id = $tenant"
        ));
        assert_eq!(
            refused(&format!(
                "SELECT o.id FROM {{Order}} o WHERE o.tenant_id = $tenant {op} \
                 SELECT a.id FROM {{Archive}} a"
            )),
            [unconfined("{Archive}")],
            "{op}"
        );
    }
    accepted(
        "(SELECT o.id FROM {Order} o WHERE o.tenant_id = $tenant ORDER BY o.id LIMIT 5) \
         UNION (SELECT a.id FROM {Archive} a WHERE a.tenant_id = $tenant) ORDER BY 1",
    );
}

#[test]
fn with_queries_are_checked_where_they_are_defined() {
    let checked = accepted(
        "WITH recent AS (SELECT o.id, o.total FROM {Order} o WHERE o.tenant_id = $tenant), \
         big AS (SELECT r.id FROM recent r WHERE r.total > $min) \
         SELECT b.id, c.name FROM big b JOIN {Customer} c ON c.tenant_id = $tenant AND c.id = b.id",
    );
    // References to a WITH query need no conjunct; its body has one.
    assert_eq!(checked.tables().len(), 2);
    assert_eq!(
        refused("WITH recent AS (SELECT o.id FROM {Order} o) SELECT r.id FROM recent r"),
        [unconfined("{Order}")]
    );
}

#[test]
fn recursive_with_queries_confine_the_anchor_and_the_step() {
    let tree = |anchor: &str, step: &str| {
        format!(
            "WITH RECURSIVE tree AS (\
             SELECT c.id, c.parent_id FROM {{Category}} c WHERE c.parent_id IS NULL{anchor} \
             UNION ALL \
             SELECT k.id, k.parent_id FROM {{Kid}} k JOIN tree t ON t.id = k.parent_id{step}) \
             SELECT t.id FROM tree t"
        )
    };
    accepted(&tree(
        " AND c.tenant_id = $tenant",
        " WHERE k.tenant_id = $tenant",
    ));
    assert_eq!(
        refused(&tree("", " WHERE k.tenant_id = $tenant")),
        [unconfined("{Category}")]
    );
    assert_eq!(
        refused(&tree(" AND c.tenant_id = $tenant", "")),
        [unconfined("{Kid}")]
    );
}

#[test]
fn a_with_name_shadows_a_table_only_where_postgres_says() {
    // Without RECURSIVE, a WITH query sees only those before it: `later` in
    // `first` would be a table named `later`.
    let sql = "WITH first AS (SELECT l.id FROM later l), later AS (SELECT 1 AS id) SELECT f.id FROM first f";
    assert_eq!(refused(sql), [(Problem::TableName, "later".into())]);
    let text = messages(sql);
    assert!(
        text.contains("is a WITH query defined after this one, so here it names a table"),
        "{text}"
    );
    // With RECURSIVE it sees them all.
    accepted(
        "WITH RECURSIVE first AS (SELECT l.id FROM later l), later AS (SELECT 1 AS id) SELECT f.id FROM first f",
    );
    // A WITH query defined in a subquery is not visible outside it.
    assert_eq!(
        refused(
            "SELECT x.id FROM (WITH inner_q AS (SELECT 1 AS id) SELECT i.id FROM inner_q i) x, inner_q y"
        ),
        [(Problem::TableName, "inner_q".into())]
    );
    // Names fold as PostgreSQL folds them.
    accepted("WITH Recent AS (SELECT 1 AS id) SELECT r.id FROM RECENT r");
    assert_eq!(
        refused("WITH \"Recent\" AS (SELECT 1 AS id) SELECT r.id FROM recent r"),
        [(Problem::TableName, "recent".into())]
    );
}

#[test]
fn aggregates_windows_and_grouping_are_walked() {
    accepted(
        "SELECT o.status, count(*), count(DISTINCT o.customer_id), sum(o.total) AS revenue, \
         rank() OVER (PARTITION BY o.status ORDER BY sum(o.total) DESC NULLS LAST), \
         lag(o.total, 1) OVER w, percentile_cont(0.5) WITHIN GROUP (ORDER BY o.total) \
         FROM {Order} o WHERE o.tenant_id = $tenant AND o.created_at >= $from \
         GROUP BY o.status HAVING sum(o.total) > $min WINDOW w AS (ORDER BY o.created_at) \
         ORDER BY revenue DESC NULLS FIRST LIMIT $limit OFFSET $offset",
    );
    accepted(
        "SELECT DISTINCT ON (o.customer_id) o.id FROM {Order} o WHERE o.tenant_id = $tenant ORDER BY o.customer_id, o.created_at DESC",
    );
    assert_eq!(
        refused(
            "SELECT DISTINCT ON ((SELECT max(l.n) FROM {Line} l)) o.id FROM {Order} o WHERE o.tenant_id = $tenant"
        ),
        [unconfined("{Line}")]
    );
    assert_eq!(
        refused(
            "SELECT sum(o.n) OVER (PARTITION BY (SELECT max(l.n) FROM {Line} l)) FROM {Order} o WHERE o.tenant_id = $tenant"
        ),
        [unconfined("{Line}")]
    );
}

#[test]
fn expressions_of_every_kind_are_walked() {
    let inside = |expr: &str| {
        let sql = format!(
            "SELECT {expr} FROM {{Order}} o WHERE o.tenant_id = $tenant",
            expr = expr.replace("Q", "(SELECT max(l.n) FROM {Line} l)")
        );
        assert_eq!(refused(&sql), [unconfined("{Line}")], "{sql}");
    };
    for expr in [
        "Q",
        "-Q",
        "Q + 1",
        "Q::text",
        "CAST(Q AS text)",
        "Q IS NULL",
        "Q IS NOT DISTINCT FROM 1",
        "Q BETWEEN 1 AND 2",
        "1 BETWEEN Q AND 2",
        "Q LIKE 'a%'",
        "'a' ILIKE Q",
        "Q SIMILAR TO 'a'",
        "Q IN (1, 2)",
        "1 IN (Q)",
        "CASE Q WHEN 1 THEN 2 END",
        "CASE WHEN true THEN Q END",
        "CASE WHEN true THEN 1 ELSE Q END",
        "coalesce(Q, 0)",
        "nullif(1, Q)",
        "greatest(1, Q)",
        "lower(Q)",
        "extract(year FROM Q)",
        "substring(Q FROM 1 FOR 2)",
        "position('a' IN Q)",
        "trim(Q)",
        "overlay(Q PLACING 'x' FROM 1)",
        "Q AT TIME ZONE 'UTC'",
        "ARRAY[Q]",
        "(Q, 1)",
        "ROW(Q, 1)",
        "Q COLLATE \"C\"",
        "interval '1 day' * Q",
        "o.tags[Q]",
        "o.data -> Q",
        "o.data ->> 'k' = Q::text",
        "count(*) FILTER (WHERE o.n > Q)",
        "sum(o.n) OVER (ORDER BY Q)",
        "sum(o.n) OVER (ROWS BETWEEN Q PRECEDING AND CURRENT ROW)",
        "string_agg(o.s, ',' ORDER BY Q)",
        "Q IS TRUE",
    ] {
        inside(expr);
    }
}

#[test]
fn locking_makes_a_select_read_write() {
    let checked = accepted(
        "SELECT j.id FROM {Job} j WHERE j.tenant_id = $tenant AND j.state = 'ready' \
         ORDER BY j.id LIMIT 1 FOR UPDATE SKIP LOCKED",
    );
    assert_eq!(checked.kind(), StatementKind::Select);
    assert!(!checked.is_read_only());
    accepted("SELECT j.id FROM {Job} j WHERE j.tenant_id = $tenant FOR SHARE OF j NOWAIT");
}

#[test]
fn values_and_global_tables_need_no_conjunct() {
    accepted("VALUES (1, 'a'), (2, $b)");
    accepted("SELECT v.x FROM (VALUES (1), (2)) AS v(x)");
    let checked = accepted(
        "SELECT o.id, c.name FROM {Order} o JOIN {Country} c ON c.code = o.country WHERE o.tenant_id = $tenant",
    );
    assert_eq!(
        checked.tables()[1].requirements()[0].rule(),
        &Rule::TenantColumnIn(vec![])
    );
    assert!(checked.tables()[1].holds(None));
    assert!(!checked.tables()[1].holds(Some("tenant_id")));
}

#[test]
fn functions_in_from_are_not_tables() {
    accepted(
        "SELECT g.n, o.id FROM generate_series(1, 3) AS g(n) \
         JOIN {Order} o ON o.tenant_id = $tenant AND o.n = g.n",
    );
    accepted("SELECT u.x FROM unnest(ARRAY[1, 2]) AS u(x)");
    accepted(
        "SELECT e.key FROM {Order} o, LATERAL jsonb_each(o.data) AS e WHERE o.tenant_id = $tenant",
    );
}

#[test]
fn table_queries_need_a_select() {
    assert_eq!(
        refused_once("SELECT 1 WHERE 1 IN (TABLE {Order})"),
        (Problem::Unconfined, "{Order}".into())
    );
    accepted("WITH ids AS (SELECT 1 AS id) SELECT x.id FROM (TABLE ids) AS x");
}

#[test]
fn several_problems_are_reported_at_once() {
    let problems = refused(
        "SELECT 1 FROM {Order} o JOIN {Customer} c ON c.id = o.c \
         WHERE EXISTS (SELECT 1 FROM {Line} l) AND o.x = 1",
    );
    assert_eq!(
        problems,
        [
            unconfined("{Order}"),
            unconfined("{Customer}"),
            unconfined("{Line}")
        ]
    );
}
