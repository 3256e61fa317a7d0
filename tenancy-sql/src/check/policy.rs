//! What tenant SQL may not call, cast to or read, and what each refused
//! statement is told.

use sqlparser::ast::{ArrayElemTypeDef, DataType, ObjectName, ObjectNamePart};

/// Why a function is denied in `tenant_sql!` text, if it is: it changes or
/// escapes the tenant context or the session, reaches outside the database,
/// or runs SQL text the checker cannot see. `name` is the function's name
/// without schema, folded.
pub(crate) fn denied_function(name: &str) -> Option<&'static str> {
    const EXACT: &[(&str, &str)] = &[
        (
            "set_config",
            "changes a setting, and the tenant is a setting",
        ),
        ("setval", "moves a sequence that every tenant shares"),
        ("pg_notify", "sends data to other sessions"),
        ("pg_terminate_backend", "ends other sessions"),
        ("pg_cancel_backend", "cancels other sessions' statements"),
        ("pg_reload_conf", "reloads the server's configuration"),
        ("pg_rotate_logfile", "operates the server"),
        ("pg_promote", "operates the server"),
        ("pg_switch_wal", "operates the server"),
        ("pg_create_restore_point", "operates the server"),
        ("pg_backup_start", "operates the server"),
        ("pg_backup_stop", "operates the server"),
        ("pg_start_backup", "operates the server"),
        ("pg_stop_backup", "operates the server"),
        ("pg_import_system_collations", "changes the catalog"),
        ("pg_stat_file", "reads the server's files"),
        ("pg_logdir_ls", "reads the server's files"),
        ("loread", "reads large objects, which no tenant owns"),
        ("lowrite", "writes large objects, which no tenant owns"),
        (
            "pg_advisory_lock",
            "takes a lock that outlives the transaction",
        ),
        (
            "pg_advisory_lock_shared",
            "takes a lock that outlives the transaction",
        ),
        (
            "pg_try_advisory_lock",
            "takes a lock that outlives the transaction",
        ),
        (
            "pg_try_advisory_lock_shared",
            "takes a lock that outlives the transaction",
        ),
        ("pg_advisory_unlock", "releases session locks"),
        ("pg_advisory_unlock_shared", "releases session locks"),
        ("pg_advisory_unlock_all", "releases session locks"),
        ("ts_stat", "runs SQL text the checker cannot see"),
        ("ts_rewrite", "can run SQL text the checker cannot see"),
        ("load_extension", "loads native code into SQLite"),
        ("readfile", "reads files"),
        ("writefile", "writes files"),
        ("fts3_tokenizer", "can load native code into SQLite"),
    ];
    const PREFIXES: &[(&str, &str)] = &[
        (
            "dblink",
            "connects to another database, outside the tenant transaction",
        ),
        ("lo_", "reads or writes large objects, which no tenant owns"),
        ("pg_read_", "reads the server's files"),
        ("pg_ls_", "lists the server's files"),
        ("pg_file_", "writes the server's files"),
        ("query_to_xml", "runs SQL text the checker cannot see"),
        ("table_to_xml", "reads a whole table, of every tenant"),
        ("cursor_to_xml", "reads a cursor the checker cannot see"),
        ("schema_to_xml", "reads whole tables, of every tenant"),
        ("database_to_xml", "reads whole tables, of every tenant"),
        ("pg_replication_", "operates replication"),
        ("pg_logical_", "operates replication"),
        ("pg_create_", "operates replication"),
        ("pg_drop_replication_", "operates replication"),
        ("pg_copy_", "operates replication"),
    ];
    EXACT
        .iter()
        .find(|(denied, _)| *denied == name)
        .or_else(|| PREFIXES.iter().find(|(prefix, _)| name.starts_with(prefix)))
        .map(|(_, why)| *why)
}

/// Whether a table name (its last part, folded) or schema names a system
/// catalog.
pub(crate) fn is_catalog(schema: Option<&str>, table: &str) -> bool {
    let catalog_schema = schema.is_some_and(|schema| {
        matches!(schema, "pg_catalog" | "information_schema" | "pg_toast")
            || schema.starts_with("pg_temp")
    });
    catalog_schema || table.starts_with("pg_") || table.starts_with("sqlite_")
}

/// The name parts of `name`, or `None` if a part is not an identifier.
pub(crate) fn name_parts(name: &ObjectName) -> Option<Vec<&sqlparser::ast::Ident>> {
    name.0
        .iter()
        .map(|part| match part {
            ObjectNamePart::Identifier(ident) => Some(ident),
            ObjectNamePart::Function(_) => None,
        })
        .collect()
}

/// The object-identifier types whose input looks names up in the catalog.
const REG_TYPES: &[&str] = &[
    "regclass",
    "regcollation",
    "regconfig",
    "regdictionary",
    "regnamespace",
    "regoper",
    "regoperator",
    "regproc",
    "regprocedure",
    "regrole",
    "regtype",
];

/// Why a cast to `data_type` is refused, if it is. Types that carry
/// expressions or column definitions are refused everywhere; with
/// `catalog_lookups` refused too, so are the `reg*` types, whose input
/// reads the catalog.
pub(crate) fn type_problem(data_type: &DataType, no_catalog_lookups: bool) -> Option<&'static str> {
    match data_type {
        DataType::Table(_)
        | DataType::NamedTable { .. }
        | DataType::Nested(_)
        | DataType::Object(_)
        | DataType::Enum(..)
        | DataType::Tuple(_)
        | DataType::Struct(..)
        | DataType::Union(_)
        | DataType::Map(..)
        | DataType::Set(_)
        | DataType::Trigger
        | DataType::AnyType
        | DataType::Unspecified => Some("is not a type a value can be cast to here"),
        DataType::Regclass if no_catalog_lookups => Some("looks names up in the system catalog"),
        DataType::Custom(name, _) => {
            let Some(parts) = name_parts(name) else {
                return Some("is not a type name");
            };
            let last = parts
                .last()
                .map(|ident| crate::name::Name::of(ident).into_string())
                .unwrap_or_default();
            (no_catalog_lookups && REG_TYPES.contains(&last.as_str()))
                .then_some("looks names up in the system catalog")
        }
        DataType::Array(element) => match element {
            ArrayElemTypeDef::None => None,
            ArrayElemTypeDef::AngleBracket(inner)
            | ArrayElemTypeDef::SquareBracket(inner, _)
            | ArrayElemTypeDef::Parenthesis(inner)
            | ArrayElemTypeDef::ParenthesisNotNull(inner)
            | ArrayElemTypeDef::Qualified(inner, _) => type_problem(inner, no_catalog_lookups),
        },
        DataType::Zerofill(inner)
        | DataType::Collate(inner, _)
        | DataType::Nullable(inner)
        | DataType::LowCardinality(inner) => type_problem(inner, no_catalog_lookups),
        _ => None,
    }
}

/// Whether a statement starting with `keyword` is refused whatever follows.
pub(crate) fn refused_keyword(keyword: &str) -> bool {
    !matches!(
        keyword.to_ascii_uppercase().as_str(),
        "SELECT" | "INSERT" | "UPDATE" | "DELETE" | "WITH" | "VALUES" | ""
    ) && keyword.chars().all(|c| c.is_ascii_alphabetic())
}

/// What a statement that is not allowed is told, by its first keyword.
pub(crate) fn statement_refusal(keyword: &str, read_only: bool) -> (String, &'static str) {
    let upper = keyword.to_ascii_uppercase();
    let (why, help) = match upper.as_str() {
        "SET" | "RESET" => (
            "changes the session's settings, and the tenant is a setting of the transaction",
            "the tenant transaction sets everything its statements need",
        ),
        "SHOW" => (
            "reads the session's settings",
            "query tenant data with SELECT",
        ),
        "COPY" => (
            "reads or writes files and streams that the tenant checks do not cover",
            "use SELECT or INSERT",
        ),
        "BEGIN" | "START" | "COMMIT" | "END" | "ROLLBACK" | "ABORT" | "SAVEPOINT" | "RELEASE" => (
            "is transaction control, which belongs to the tenant transaction: ending it here \
             would run later statements without the tenant",
            "commit or roll back through the transaction",
        ),
        "DO" => (
            "runs procedural code the checker cannot see into",
            "write the statement itself",
        ),
        "CALL" => (
            "runs a procedure the checker cannot see into, which can commit and change the session",
            "write the statement itself",
        ),
        "PREPARE" | "EXECUTE" | "DEALLOCATE" => (
            "runs SQL text the checker cannot see",
            "write the statement itself",
        ),
        "DECLARE" | "FETCH" | "CLOSE" | "MOVE" => (
            "uses a cursor, which can outlive the checks",
            "write the query itself",
        ),
        "LISTEN" | "NOTIFY" | "UNLISTEN" => (
            "talks to other sessions",
            "keep tenant data inside the tenant transaction",
        ),
        "TRUNCATE" => (
            "removes every tenant's rows: it ignores row-level security and any tenant filter",
            "use DELETE .. WHERE <alias>.<tenant column> = $tenant",
        ),
        "EXPLAIN" => (
            "is not a query of tenant data (and EXPLAIN ANALYZE runs the statement unchecked)",
            "run the query itself",
        ),
        "TABLE" => (
            "reads a whole table, which no tenant conjunct can confine",
            "write `SELECT * FROM ..` instead",
        ),
        "REPLACE" | "UPSERT" => (
            "deletes whatever row is in the way, of any tenant",
            "use INSERT .. ON CONFLICT (..) DO UPDATE, with the tenant column in the conflict target",
        ),
        "MERGE" => (
            "is not supported",
            "write INSERT .. ON CONFLICT, UPDATE or DELETE",
        ),
        "INSERT" | "UPDATE" | "DELETE" if read_only => (
            "changes data, and only reading is allowed here",
            "write a SELECT",
        ),
        "CREATE" | "ALTER" | "DROP" | "GRANT" | "REVOKE" | "COMMENT" | "SECURITY" | "REFRESH"
        | "REINDEX" | "CLUSTER" | "VACUUM" | "ANALYZE" | "CHECKPOINT" | "LOCK" | "LOAD"
        | "DISCARD" | "IMPORT" | "REASSIGN" | "ATTACH" | "DETACH" | "PRAGMA" => (
            "changes the schema or operates the database, which tenant SQL may not do",
            "run schema changes as migrations",
        ),
        _ => (
            "is not a statement tenant SQL may run",
            if read_only {
                "write one SELECT"
            } else {
                "write one SELECT, INSERT, UPDATE or DELETE"
            },
        ),
    };
    (format!("`{upper}` {why}"), help)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deny_list_catches_families() {
        for name in [
            "set_config",
            "dblink_exec",
            "lo_import",
            "pg_read_binary_file",
            "pg_ls_dir",
            "query_to_xml_and_xmlschema",
            "pg_advisory_lock",
        ] {
            assert!(denied_function(name).is_some(), "{name}");
        }
        for name in [
            "lower",
            "count",
            "pg_sleep",
            "current_setting",
            "pg_advisory_xact_lock",
        ] {
            assert_eq!(denied_function(name), None, "{name}");
        }
    }

    #[test]
    fn catalogs() {
        assert!(is_catalog(None, "pg_class"));
        assert!(is_catalog(Some("information_schema"), "tables"));
        assert!(is_catalog(Some("pg_temp_3"), "x"));
        assert!(is_catalog(None, "sqlite_master"));
        assert!(!is_catalog(Some("public"), "orders"));
    }
}
