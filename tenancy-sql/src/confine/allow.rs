//! The tables and functions a tenant's ad hoc SQL may use.

use std::collections::{BTreeMap, BTreeSet};

use crate::analysis::TableKind;
use crate::check::policy;
use crate::name::is_plain_identifier;

/// The longest name PostgreSQL keeps (`NAMEDATALEN - 1`).
const MAX_NAME_BYTES: usize = 63;

/// Functions that only compute a value from their arguments (aggregates,
/// window functions, string, number, date and JSON functions): no side
/// effects, no set-returning functions, nothing that reads the catalog, the
/// session or the server. [`AllowList::analytics`] starts with these.
pub const ANALYTICS_FUNCTIONS: &[&str] = &[
    // Aggregates.
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "bool_and",
    "bool_or",
    "every",
    "string_agg",
    "array_agg",
    "json_agg",
    "jsonb_agg",
    "json_object_agg",
    "jsonb_object_agg",
    "stddev",
    "stddev_pop",
    "stddev_samp",
    "variance",
    "var_pop",
    "var_samp",
    "corr",
    "covar_pop",
    "covar_samp",
    "percentile_cont",
    "percentile_disc",
    "mode",
    // Window functions.
    "row_number",
    "rank",
    "dense_rank",
    "percent_rank",
    "cume_dist",
    "ntile",
    "lag",
    "lead",
    "first_value",
    "last_value",
    "nth_value",
    // Conditionals and constructors.
    "coalesce",
    "nullif",
    "greatest",
    "least",
    "array",
    "row",
    // Strings.
    "lower",
    "upper",
    "length",
    "char_length",
    "character_length",
    "octet_length",
    "btrim",
    "ltrim",
    "rtrim",
    "lpad",
    "rpad",
    "left",
    "right",
    "replace",
    "concat",
    "concat_ws",
    "initcap",
    "strpos",
    "split_part",
    "starts_with",
    "substr",
    "reverse",
    "repeat",
    "translate",
    "md5",
    "to_char",
    "regexp_replace",
    "regexp_like",
    // Numbers.
    "abs",
    "ceil",
    "ceiling",
    "floor",
    "round",
    "trunc",
    "mod",
    "power",
    "sqrt",
    "exp",
    "ln",
    "log",
    "sign",
    "div",
    "width_bucket",
    "to_number",
    // Dates and times.
    "now",
    "current_date",
    "current_time",
    "current_timestamp",
    "localtime",
    "localtimestamp",
    "date_trunc",
    "date_part",
    "date_bin",
    "age",
    "make_date",
    "make_time",
    "make_timestamp",
    "make_timestamptz",
    "make_interval",
    "to_date",
    "to_timestamp",
    "justify_days",
    "justify_hours",
    "justify_interval",
    "isfinite",
    // JSON and arrays.
    "json_build_object",
    "jsonb_build_object",
    "json_build_array",
    "jsonb_build_array",
    "to_json",
    "to_jsonb",
    "row_to_json",
    "json_extract_path",
    "json_extract_path_text",
    "jsonb_extract_path",
    "jsonb_extract_path_text",
    "json_typeof",
    "jsonb_typeof",
    "json_array_length",
    "jsonb_array_length",
    "array_length",
    "cardinality",
    "array_position",
    "array_to_string",
];

/// What a tenant's ad hoc query may read and call: tables by their SQL name
/// (each a tenant table with its tenant column, or a global table) and
/// functions by name.
///
/// Names are SQL names exactly as the catalog stores them (what an unquoted
/// name folds to: usually lower case), plain identifiers of at most 63
/// bytes. System catalogs cannot be added, nor functions that change or
/// escape the tenant context or the session.
///
/// ```
/// use tenancy_sql::AllowList;
///
/// let allow = AllowList::analytics()
///     .tenant_table("orders", "tenant_id")?
///     .tenant_table("customers", "tenant_id")?
///     .global_table("countries")?
///     .function("generate_series")?;
/// assert!(AllowList::new().tenant_table("pg_class", "x").is_err());
/// assert!(AllowList::new().function("set_config").is_err());
/// # Ok::<(), tenancy_sql::AllowListError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowList {
    tables: BTreeMap<String, Option<String>>,
    functions: BTreeSet<String>,
}

/// Why a name cannot be added to an [`AllowList`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AllowListError {
    /// Not a plain identifier of at most 63 bytes.
    #[error(
        "`{name}` is not a plain SQL name: an ASCII letter or `_` followed by letters, digits \
         or `_`, at most 63 bytes"
    )]
    NotAName {
        /// The name given.
        name: String,
    },
    /// A system catalog.
    #[error("`{name}` is a system catalog, which analytics queries may not read")]
    SystemCatalog {
        /// The name given.
        name: String,
    },
    /// A function that changes or escapes the tenant context or the session.
    #[error("the function `{name}` {why}, so analytics queries may not call it")]
    DeniedFunction {
        /// The name given.
        name: String,
        /// What it does.
        why: &'static str,
    },
    /// The table is already listed, as a different kind.
    #[error("`{name}` is already in the allow-list as another kind of table")]
    Conflict {
        /// The name given.
        name: String,
    },
}

impl AllowList {
    /// No tables, no functions.
    pub fn new() -> Self {
        Self::default()
    }

    /// No tables, and the functions in [`ANALYTICS_FUNCTIONS`].
    pub fn analytics() -> Self {
        Self {
            tables: BTreeMap::new(),
            functions: ANALYTICS_FUNCTIONS
                .iter()
                .map(|f| (*f).to_owned())
                .collect(),
        }
    }

    /// Allows the tenant table `name`, scoped by `tenant_column`.
    pub fn tenant_table(self, name: &str, tenant_column: &str) -> Result<Self, AllowListError> {
        check_name(tenant_column)?;
        self.table(name, Some(tenant_column.to_owned()))
    }

    /// Allows the global table `name`, which every tenant may read whole.
    pub fn global_table(self, name: &str) -> Result<Self, AllowListError> {
        self.table(name, None)
    }

    fn table(mut self, name: &str, tenant_column: Option<String>) -> Result<Self, AllowListError> {
        check_name(name)?;
        if policy::is_catalog(None, name) {
            return Err(AllowListError::SystemCatalog {
                name: name.to_owned(),
            });
        }
        match self.tables.get(name) {
            Some(existing) if *existing != tenant_column => Err(AllowListError::Conflict {
                name: name.to_owned(),
            }),
            _ => {
                self.tables.insert(name.to_owned(), tenant_column);
                Ok(self)
            }
        }
    }

    /// Allows calls to the function `name`.
    pub fn function(mut self, name: &str) -> Result<Self, AllowListError> {
        check_name(name)?;
        if let Some(why) = policy::denied_function(&name.to_ascii_lowercase()) {
            return Err(AllowListError::DeniedFunction {
                name: name.to_owned(),
                why,
            });
        }
        self.functions.insert(name.to_owned());
        Ok(self)
    }

    /// The allowed tables, by name.
    pub fn table_names(&self) -> impl Iterator<Item = &str> {
        self.tables.keys().map(String::as_str)
    }

    /// The allowed functions, by name.
    pub fn functions(&self) -> impl Iterator<Item = &str> {
        self.functions.iter().map(String::as_str)
    }

    /// What the table `name` is, if it is allowed.
    pub fn table_kind(&self, name: &str) -> Option<TableKind<'_>> {
        self.tables.get(name).map(|column| match column {
            Some(column) => TableKind::Tenant { column },
            None => TableKind::Global,
        })
    }

    pub(crate) fn allows_function(&self, folded: &str) -> bool {
        self.functions.contains(folded)
    }
}

fn check_name(name: &str) -> Result<(), AllowListError> {
    if is_plain_identifier(name) && name.len() <= MAX_NAME_BYTES {
        Ok(())
    } else {
        Err(AllowListError::NotAName {
            name: name.to_owned(),
        })
    }
}
