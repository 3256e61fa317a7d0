//! What `check` refuses outright: statements that change or escape the
//! tenant context or the session, tables not named by type, catalogs,
//! denied functions, misplaced slots and parameters.

mod support;

use support::{accepted, messages, refused, refused_once};
use tenancy_sql::Problem;

#[test]
fn only_select_insert_update_and_delete_are_statements() {
    for (sql, keyword) in [
        ("SET app.tenant_id = '2'", "SET"),
        ("SET LOCAL app.tenant_id = '2'", "SET"),
        ("SET ROLE postgres", "SET"),
        ("SET SESSION AUTHORIZATION postgres", "SET"),
        ("RESET app.tenant_id", "RESET"),
        ("RESET ALL", "RESET"),
        ("SHOW app.tenant_id", "SHOW"),
        ("COPY orders TO STDOUT", "COPY"),
        ("COPY orders FROM STDIN", "COPY"),
        ("COPY (SELECT * FROM orders) TO '/tmp/x'", "COPY"),
        ("BEGIN", "BEGIN"),
        ("START TRANSACTION", "START"),
        ("COMMIT", "COMMIT"),
        ("END", "END"),
        ("ROLLBACK", "ROLLBACK"),
        ("ABORT", "ABORT"),
        ("SAVEPOINT s", "SAVEPOINT"),
        ("RELEASE SAVEPOINT s", "RELEASE"),
        (
            "DO $$ BEGIN PERFORM set_config('app.tenant_id', '2', false); END $$",
            "DO",
        ),
        ("CALL transfer(1, 2)", "CALL"),
        ("PREPARE p AS SELECT * FROM orders", "PREPARE"),
        ("EXECUTE p", "EXECUTE"),
        ("DEALLOCATE p", "DEALLOCATE"),
        ("DECLARE c CURSOR FOR SELECT * FROM orders", "DECLARE"),
        ("FETCH ALL FROM c", "FETCH"),
        ("CLOSE c", "CLOSE"),
        ("LISTEN orders", "LISTEN"),
        ("NOTIFY orders, 'x'", "NOTIFY"),
        ("TRUNCATE orders", "TRUNCATE"),
        ("EXPLAIN ANALYZE DELETE FROM orders", "EXPLAIN"),
        ("CREATE TABLE x (a int)", "CREATE"),
        ("ALTER TABLE orders DISABLE ROW LEVEL SECURITY", "ALTER"),
        ("DROP POLICY tenant ON orders", "DROP"),
        ("GRANT ALL ON orders TO public", "GRANT"),
        ("DISCARD ALL", "DISCARD"),
        ("LOCK TABLE orders", "LOCK"),
        ("VACUUM orders", "VACUUM"),
        (
            "MERGE INTO orders o USING x ON true WHEN MATCHED THEN DELETE",
            "MERGE",
        ),
        ("TABLE orders", "TABLE"),
    ] {
        assert_eq!(
            refused_once(sql),
            (Problem::Statement, keyword.to_owned()),
            "{sql}"
        );
    }
    let text = messages("SET app.tenant_id = '2'");
    assert!(
        text.contains(
            "`SET` changes the session's settings, and the tenant is a setting of the transaction"
        ),
        "{text}"
    );
    let text = messages("COMMIT");
    assert!(
        text.contains("ending it here would run later statements without the tenant"),
        "{text}"
    );
    let text = messages("TRUNCATE orders");
    assert!(text.contains("it ignores row-level security"), "{text}");
}

#[test]
fn exactly_one_statement() {
    let sql = "SELECT o.id FROM {Order} o WHERE o.tenant_id = $tenant; DELETE FROM {Order} x";
    assert_eq!(
        refused_once(sql),
        (Problem::StatementCount, "DELETE FROM {Order} x".into())
    );
    // sqlparser stops at `END` after a statement; the checker does not.
    assert_eq!(
        refused_once(
            "SELECT o.id FROM {Order} o WHERE o.tenant_id = $tenant END; DELETE FROM {Order} x"
        ),
        (Problem::Syntax, "END".into())
    );
    for empty in ["", "   ", ";;", "-- nothing", "/* nothing */ ;"] {
        assert_eq!(refused_once(empty).0, Problem::StatementCount, "{empty:?}");
    }
    // Semicolons around the one statement are fine, and dropped.
    let checked = accepted(";SELECT o.id FROM {Order} o WHERE o.tenant_id = $tenant;;");
    assert_eq!(
        checked.template().to_string(),
        "SELECT o.id FROM {Order} o WHERE o.tenant_id = $tenant"
    );
}

#[test]
fn tables_are_named_by_their_rust_type() {
    for (sql, table) in [
        (
            "SELECT o.id FROM orders o WHERE o.tenant_id = $tenant",
            "orders",
        ),
        (
            "SELECT o.id FROM public.orders o WHERE o.tenant_id = $tenant",
            "public.orders",
        ),
        ("SELECT o.id FROM \"Orders\" o", "\"Orders\""),
        (
            "SELECT o.id FROM {Order} o JOIN customers c ON c.tenant_id = $tenant WHERE o.tenant_id = $tenant",
            "customers",
        ),
        (
            "UPDATE orders o SET x = 1 WHERE o.tenant_id = $tenant",
            "orders",
        ),
        ("DELETE FROM orders o WHERE o.tenant_id = $tenant", "orders"),
        ("INSERT INTO orders (tenant_id) VALUES ($tenant)", "orders"),
        ("SELECT 1 WHERE EXISTS (SELECT 1 FROM orders o)", "orders"),
    ] {
        assert_eq!(
            refused(sql),
            [(Problem::TableName, table.to_owned())],
            "{sql}"
        );
    }
    let text = messages("SELECT i.id FROM order_items i");
    assert!(
        text.contains("`order_items` is not named by its Rust type")
            && text.contains("name the table by its Rust type: `{OrderItem}`"),
        "{text}"
    );
}

#[test]
fn system_catalogs_are_refused() {
    for (sql, name) in [
        ("SELECT c.relname FROM pg_class c", "pg_class"),
        (
            "SELECT * FROM pg_catalog.pg_authid a",
            "pg_catalog.pg_authid",
        ),
        (
            "SELECT * FROM information_schema.tables t",
            "information_schema.tables",
        ),
        ("SELECT * FROM pg_settings s", "pg_settings"),
        ("SELECT * FROM pg_stat_activity s", "pg_stat_activity"),
        ("SELECT * FROM sqlite_master m", "sqlite_master"),
        ("SELECT * FROM PG_SHADOW s", "PG_SHADOW"),
    ] {
        assert_eq!(
            refused(sql),
            [(Problem::SystemCatalog, name.to_owned())],
            "{sql}"
        );
    }
}

#[test]
fn functions_that_change_or_escape_the_context_are_refused() {
    for call in [
        "set_config('app.tenant_id', '2', false)",
        "pg_catalog.set_config('app.tenant_id', '2', true)",
        "SET_CONFIG('app.tenant_id', '2', true)",
        "dblink('dbname=x', 'SELECT 1')",
        "dblink_exec('DELETE FROM orders')",
        "pg_read_file('/etc/passwd')",
        "pg_read_binary_file('/etc/passwd')",
        "pg_ls_dir('.')",
        "pg_stat_file('x')",
        "lo_import('/etc/passwd')",
        "lo_export(1, '/tmp/x')",
        "query_to_xml('SELECT * FROM orders', true, true, '')",
        "table_to_xml('orders', true, true, '')",
        "ts_stat('SELECT v FROM docs')",
        "pg_advisory_lock(1)",
        "pg_notify('c', 'x')",
        "pg_terminate_backend(1)",
        "setval('orders_id_seq', 1)",
    ] {
        let sql = format!("SELECT {call}");
        let (problem, _) = refused_once(&sql);
        assert_eq!(problem, Problem::Function, "{sql}");
    }
    assert_eq!(
        refused_once("SELECT x.n FROM dblink('dbname=x', 'SELECT n FROM orders') AS x(n int)"),
        (Problem::Function, "dblink".into())
    );
    // Reading the context, sleeping and transaction-scoped locks are fine.
    accepted(
        "SELECT current_setting('app.tenant_id'), pg_sleep(0), pg_advisory_xact_lock(1), o.id \
         FROM {Order} o WHERE o.tenant_id = $tenant",
    );
}

#[test]
fn slots_name_tables_and_nothing_else() {
    for sql in [
        "SELECT {Order}.id FROM {Order} o WHERE o.tenant_id = $tenant",
        "SELECT 1 FROM {Order} o WHERE o.tenant_id = $tenant AND o.x = {Order}",
        "SELECT {Order}(1)",
        "SELECT 1 FROM {Order} {Customer} WHERE true",
    ] {
        assert!(
            refused(sql)
                .iter()
                .any(|(problem, _)| *problem == Problem::Slot),
            "{sql}: {:?}",
            refused(sql)
        );
    }
    assert_eq!(
        refused_once("SELECT 1 FROM {Order o"),
        (Problem::Slot, "{Order o".into())
    );
    assert_eq!(refused_once("SELECT 1 FROM {} o").0, Problem::Slot);
    assert_eq!(refused_once("SELECT 1 FROM {1Order} o").0, Problem::Slot);
    assert_eq!(refused_once("SELECT 1 FROM Order} o").0, Problem::Slot);
    // Braces in strings, quoted names and comments are not slots.
    accepted(
        "SELECT '{Order}', \"{x}\" /* {Order} */ FROM {Order} o WHERE o.tenant_id = $tenant -- {Order}",
    );
}

#[test]
fn parameters_are_named() {
    assert_eq!(
        refused_once("SELECT o.id FROM {Order} o WHERE o.tenant_id = $1"),
        (Problem::Parameter, "$1".into())
    );
    let text = messages("SELECT o.id FROM {Order} o WHERE o.tenant_id = $tenant AND o.x = $1");
    assert!(
        text.contains("name the parameter, for example `$status`"),
        "{text}"
    );
    assert_eq!(
        refused_once("SELECT $größe FROM {Order} o WHERE o.tenant_id = $tenant"),
        (Problem::Parameter, "$größe".into())
    );
    // A dollar-quoted string is not a parameter, whatever it holds.
    accepted("SELECT $q$ $tenant $q$ FROM {Order} o WHERE o.tenant_id = $tenant");
}

#[test]
fn the_librarys_names_are_reserved() {
    assert_eq!(
        refused_once("SELECT __tenancy_slot_0.id FROM {Order} o WHERE o.tenant_id = $tenant"),
        (Problem::ReservedName, "__tenancy_slot_0".into())
    );
    assert_eq!(
        refused_once("SELECT 1 FROM \"__TENANCY_x\" o").0,
        Problem::ReservedName
    );
}

#[test]
fn lexical_forms_postgres_could_read_otherwise_are_refused() {
    // To PostgreSQL `U&"o"` is the name `o`; to sqlparser, `U & "o"`.
    assert_eq!(
        refused_once("SELECT 1 FROM {Order} o WHERE U&\"o\".tenant_id = $tenant").0,
        Problem::Lexical
    );
    assert_eq!(refused_once("SELECT $1x$ a $1x$").0, Problem::Lexical);
    // A Unicode string literal is fine: both read it the same.
    accepted("SELECT U&'d\\0061t' FROM {Order} o WHERE o.tenant_id = $tenant");
}

#[test]
fn syntax_errors_point_at_the_token() {
    let (problem, at) = refused_once("SELECT o.id FROM {Order} o WHER o.tenant_id = $tenant");
    assert_eq!(problem, Problem::Syntax);
    assert_eq!(at, "WHER");
    let text = messages("SELECT o.id FROM {Order} o WHER o.tenant_id = $tenant");
    assert!(
        text.contains("expected the end of the statement, found `WHER`"),
        "{text}"
    );
    let text = messages("SELECT 1 FROM {Order} o WHERE");
    assert!(
        !text.contains("__tenancy"),
        "slot markers leak into messages: {text}"
    );
}

#[test]
fn unsupported_dialects_are_refused_not_trusted() {
    for sql in [
        "SELECT TOP 5 o.id FROM {Order} o WHERE o.tenant_id = $tenant",
        "SELECT o.id FROM {Order} o WHERE o.tenant_id = $tenant LIMIT 1, 2",
        "SELECT o.id INTO archive FROM {Order} o WHERE o.tenant_id = $tenant",
        "SELECT o.id FROM {Order} o TABLESAMPLE SYSTEM (10) WHERE o.tenant_id = $tenant",
    ] {
        let problems = refused(sql);
        assert!(
            problems.iter().all(|(p, _)| matches!(
                p,
                Problem::Unsupported | Problem::Syntax | Problem::Statement
            )),
            "{sql}: {problems:?}"
        );
    }
}
