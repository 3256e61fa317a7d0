//! What the check found: the statement's kind, every table reference with
//! what must hold of its table for the statement to be confined, and the
//! template to render.

use std::ops::Range;

use crate::diagnostic::{Diagnostic, Diagnostics, Problem};
use crate::template::Template;

/// What a statement does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StatementKind {
    /// `SELECT` (or `VALUES`, or a set operation of them).
    Select,
    /// `INSERT`.
    Insert,
    /// `UPDATE`.
    Update,
    /// `DELETE`.
    Delete,
}

/// How two inputs of a join are joined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JoinKind {
    /// `[INNER] JOIN .. ON`.
    Inner,
    /// `LEFT [OUTER] JOIN .. ON`.
    Left,
    /// `RIGHT [OUTER] JOIN .. ON`.
    Right,
    /// `FULL [OUTER] JOIN .. ON`.
    Full,
    /// `CROSS JOIN`, or a join by `USING` or `NATURAL`: no `ON` clause.
    Cross,
}

impl JoinKind {
    /// Whether this join's `ON` clause confines the rows its right input
    /// contributes: true for inner and left joins, false where the right
    /// input is preserved (right, full) or there is no `ON`.
    pub fn on_confines_right(self) -> bool {
        matches!(self, Self::Inner | Self::Left)
    }

    fn sql(self) -> &'static str {
        match self {
            Self::Inner => "JOIN",
            Self::Left => "LEFT JOIN",
            Self::Right => "RIGHT JOIN",
            Self::Full => "FULL JOIN",
            Self::Cross => "CROSS JOIN",
        }
    }
}

/// The statement whose clause scopes a reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// A `SELECT`: its `WHERE`.
    Select,
    /// An `UPDATE`: its `WHERE`.
    Update,
    /// A `DELETE`: its `WHERE`.
    Delete,
}

impl Scope {
    fn sql(self) -> &'static str {
        match self {
            Self::Select => "SELECT",
            Self::Update => "UPDATE",
            Self::Delete => "DELETE",
        }
    }
}

/// Where a table reference stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Place {
    /// In the `FROM` of a `SELECT`, an `UPDATE .. FROM`, or a
    /// `DELETE .. USING`.
    From(Scope),
    /// Introduced by a join in the `FROM` of `scope`.
    Join {
        /// The join that introduces the reference.
        kind: JoinKind,
        /// The statement whose `FROM` holds the join.
        scope: Scope,
    },
    /// The target of an `UPDATE`.
    UpdateTarget,
    /// The target of a `DELETE`.
    DeleteTarget,
    /// The target of an `INSERT`.
    InsertTarget,
}

/// What a table is, as the caller knows from its metadata.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TableKind<'a> {
    /// Scoped to tenants by the column `column`.
    Tenant {
        /// The tenant column's SQL name, exactly as the catalog stores it.
        column: &'a str,
    },
    /// Shared by all tenants.
    Global,
}

impl<'a> TableKind<'a> {
    fn tenant_column(self) -> Option<&'a str> {
        match self {
            Self::Tenant { column } => Some(column),
            Self::Global => None,
        }
    }
}

/// A condition on a table's tenant column that makes one use of the table
/// confined to one tenant. The checker cannot know from the SQL alone which
/// tables are tenant tables, or what their tenant column is called: a
/// global table meets every rule, and a tenant table meets a rule when its
/// tenant column (its SQL name, as the catalog stores it) does.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Rule {
    /// The tenant column is one of these columns (an empty list: the table
    /// must be global). For a reference that reads or changes rows, these
    /// are the columns its top-level conjuncts `<alias>.<column> = $tenant`
    /// compare; for an `INSERT`, the columns given exactly `$tenant` in
    /// every row.
    TenantColumnIn(Vec<String>),
    /// The tenant column is not this column, which the statement assigns.
    TenantColumnIsNot(String),
}

impl Rule {
    /// Whether the rule holds for a table whose tenant column is
    /// `tenant_column` (`None` for a global table).
    ///
    /// ```
    /// use tenancy_sql::Rule;
    ///
    /// let rule = Rule::TenantColumnIn(vec!["tenant_id".into()]);
    /// assert!(rule.holds(Some("tenant_id")));
    /// assert!(!rule.holds(Some("org_id")));
    /// assert!(rule.holds(None));
    /// assert!(!Rule::TenantColumnIn(vec![]).holds(Some("tenant_id")));
    /// ```
    pub fn holds(&self, tenant_column: Option<&str>) -> bool {
        match self {
            Self::TenantColumnIn(columns) => {
                let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
                tenant_column_in(tenant_column, &columns)
            }
            Self::TenantColumnIsNot(column) => tenant_column_is_not(tenant_column, column),
        }
    }
}

/// [`Rule::TenantColumnIn`] as a `const fn`, for assertions in generated
/// code: whether a table whose tenant column is `tenant_column` (`None` for
/// a global table) meets the rule.
///
/// ```
/// const CONFINED: bool = tenancy_sql::tenant_column_in(Some("tenant_id"), &["org_id", "tenant_id"]);
/// const _: () = assert!(CONFINED);
/// const _: () = assert!(!tenancy_sql::tenant_column_in(Some("tenant_id"), &[]));
/// const _: () = assert!(tenancy_sql::tenant_column_in(None, &[]));
/// ```
pub const fn tenant_column_in(tenant_column: Option<&str>, columns: &[&str]) -> bool {
    let Some(tenant_column) = tenant_column else {
        return true;
    };
    let mut index = 0;
    while index < columns.len() {
        if same(tenant_column, columns[index]) {
            return true;
        }
        index += 1;
    }
    false
}

/// [`Rule::TenantColumnIsNot`] as a `const fn`.
///
/// ```
/// const _: () = assert!(tenancy_sql::tenant_column_is_not(Some("tenant_id"), "status"));
/// const _: () = assert!(!tenancy_sql::tenant_column_is_not(Some("tenant_id"), "tenant_id"));
/// ```
pub const fn tenant_column_is_not(tenant_column: Option<&str>, column: &str) -> bool {
    match tenant_column {
        Some(tenant_column) => !same(tenant_column, column),
        None => true,
    }
}

/// Byte-wise equality, which `const fn` can compute.
const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut index = 0;
    while index < a.len() {
        if a[index] != b[index] {
            return false;
        }
        index += 1;
    }
    true
}

/// How a requirement's error is worded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// A reference that reads or changes rows has no tenant conjunct.
    Unconfined {
        alias: String,
        place: Place,
        /// Columns its top-level conjuncts compare with `$tenant`.
        compared: Vec<String>,
        /// A comparison with `$tenant` naming the alias that does not
        /// count, with the reason, for the help line.
        misplaced: Option<String>,
    },
    /// `ON CONFLICT .. DO UPDATE` can update another tenant's row.
    ConflictUpdate { alias: Option<String> },
    /// An `INSERT` does not give the tenant column `$tenant`.
    Insert { from_select: bool },
    /// The statement assigns a column.
    Assigned {
        column: String,
        statement: &'static str,
    },
}

/// One rule a table reference needs, and the error when it fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    rule: Rule,
    span: Range<usize>,
    type_name: String,
    failure: Failure,
}

impl Requirement {
    pub(crate) fn new(rule: Rule, span: Range<usize>, type_name: &str, failure: Failure) -> Self {
        Self {
            rule,
            span,
            type_name: type_name.to_owned(),
            failure,
        }
    }

    pub(crate) fn failure_mut(&mut self) -> &mut Failure {
        &mut self.failure
    }

    /// The rule.
    pub fn rule(&self) -> &Rule {
        &self.rule
    }

    /// Whether the rule holds for a table whose tenant column is
    /// `tenant_column` (`None` for a global table).
    pub fn holds(&self, tenant_column: Option<&str>) -> bool {
        self.rule.holds(tenant_column)
    }

    /// The error to report when the rule fails. With `tenant_column` the
    /// message names the column; without it (when the macro that reports it
    /// cannot know the column) it says `<tenant column>`.
    pub fn diagnostic(&self, tenant_column: Option<&str>) -> Diagnostic {
        let column = tenant_column.unwrap_or("<tenant column>");
        let table = format!("`{{{}}}`", self.type_name);
        match &self.failure {
            Failure::Unconfined {
                alias,
                place,
                compared,
                misplaced,
            } => {
                let (message, help) = unconfined(alias, &table, *place, column);
                let mut help = help;
                if !compared.is_empty() {
                    let names: Vec<String> = compared
                        .iter()
                        .map(|c| format!("`{alias}.{c} = $tenant`"))
                        .collect();
                    help.push_str(&format!(
                        " ({} compares a column that is not the tenant column)",
                        names.join(", ")
                    ));
                }
                if let Some(misplaced) = misplaced {
                    help.push_str(&format!(" ({misplaced})"));
                }
                Diagnostic::new(Problem::Unconfined, self.span.clone(), message).with_help(help)
            }
            Failure::ConflictUpdate { alias } => {
                let filter = match alias {
                    Some(alias) => format!("add `WHERE {alias}.{column} = $tenant` to `DO UPDATE`"),
                    None => format!(
                        "give the target an alias (`INSERT INTO {table} AS t`) and add \
                         `WHERE t.{column} = $tenant` to `DO UPDATE`"
                    ),
                };
                Diagnostic::new(
                    Problem::Unconfined,
                    self.span.clone(),
                    format!("`ON CONFLICT .. DO UPDATE` on {table} could update another tenant's row"),
                )
                .with_help(format!(
                    "put `{column}` in the conflict target (`ON CONFLICT ({column}, ..)`) or {filter}"
                ))
            }
            Failure::Insert { from_select } => {
                let how = if *from_select {
                    format!("list `{column}` among the columns and select `$tenant` for it")
                } else {
                    format!("list `{column}` among the columns and give it `$tenant` in every row")
                };
                Diagnostic::new(
                    Problem::TenantColumnNotInserted,
                    self.span.clone(),
                    format!(
                        "this INSERT into {table} does not give `{column}` the value `$tenant`"
                    ),
                )
                .with_help(how)
            }
            Failure::Assigned {
                column: assigned,
                statement,
            } => Diagnostic::new(
                Problem::TenantColumnAssigned,
                self.span.clone(),
                format!("this {statement} assigns `{assigned}`, the tenant column of {table}"),
            )
            .with_help("a row cannot move to another tenant: remove the assignment"),
        }
    }
}

fn unconfined(alias: &str, table: &str, place: Place, column: &str) -> (String, String) {
    let conjunct = format!("`AND {alias}.{column} = $tenant`");
    match place {
        Place::From(scope) => (
            format!("`{alias}` ({table}) has no tenant conjunct"),
            format!("add {conjunct} to the `WHERE` of this {}", scope.sql()),
        ),
        Place::Join { kind, scope } if kind.on_confines_right() => (
            format!("`{alias}` ({table}) in this JOIN has no tenant conjunct"),
            format!(
                "add {conjunct} to its `ON` clause or to the `WHERE` of this {}",
                scope.sql()
            ),
        ),
        Place::Join { kind, scope } => (
            format!(
                "`{alias}` ({table}) in this {} has no tenant conjunct",
                kind.sql()
            ),
            format!(
                "a {} keeps every row of `{alias}` whatever its `ON` says: add {conjunct} to \
                 the `WHERE` of this {}",
                kind.sql(),
                scope.sql()
            ),
        ),
        Place::UpdateTarget => (
            format!("the UPDATE target `{alias}` ({table}) has no tenant conjunct"),
            format!("add {conjunct} to the `WHERE` of this UPDATE"),
        ),
        Place::DeleteTarget => (
            format!("the DELETE target `{alias}` ({table}) has no tenant conjunct"),
            format!("add {conjunct} to the `WHERE` of this DELETE"),
        ),
        Place::InsertTarget => (
            format!("the INSERT target {table} has no tenant conjunct"),
            format!("add {conjunct}"),
        ),
    }
}

/// One reference to a table slot `{Type}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableRef {
    pub(crate) slot: usize,
    pub(crate) type_name: String,
    pub(crate) alias: Option<String>,
    pub(crate) span: Range<usize>,
    pub(crate) place: Place,
    pub(crate) requirements: Vec<Requirement>,
}

impl TableRef {
    /// The type name (or path) between the braces.
    pub fn type_name(&self) -> &str {
        &self.type_name
    }

    /// The index of its slot in [`Template::slots`].
    pub fn slot(&self) -> usize {
        self.slot
    }

    /// Its alias as written (`o`, `"O"`), if it has one.
    pub fn alias(&self) -> Option<&str> {
        self.alias.as_deref()
    }

    /// The byte range of its `{Type}` in the SQL text.
    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }

    /// Where it stands.
    pub fn place(&self) -> Place {
        self.place
    }

    /// What must hold of its table. A reference that reads or changes rows
    /// has a [`Rule::TenantColumnIn`] listing the columns its tenant
    /// conjuncts compare (empty when it has none); an `INSERT` target one
    /// listing the columns given `$tenant`; each assigned column adds a
    /// [`Rule::TenantColumnIsNot`].
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// The columns its top-level conjuncts `<alias>.<column> = $tenant`
    /// compare (folded as PostgreSQL folds names), or `None` for a
    /// reference that reads no rows (a plain `INSERT` target).
    pub fn tenant_conjuncts(&self) -> Option<&[String]> {
        self.requirements
            .iter()
            .find_map(|r| match (&r.rule, &r.failure) {
                (Rule::TenantColumnIn(columns), Failure::Unconfined { .. }) => {
                    Some(columns.as_slice())
                }
                _ => None,
            })
    }

    /// Whether every requirement holds for a table whose tenant column is
    /// `tenant_column` (`None` for a global table).
    pub fn holds(&self, tenant_column: Option<&str>) -> bool {
        self.requirements.iter().all(|r| r.holds(tenant_column))
    }
}

/// A statement that passed the check: its kind, its table references and
/// what each needs, and its [`Template`].
///
/// The check proves everything it can from the SQL alone. What it cannot
/// know, which `{Type}` is a tenant table and what its tenant column is, it
/// leaves as [`Requirement`]s on each [`TableRef`]: `tenant_sql!` turns them
/// into compile-time assertions against the types' metadata, and
/// [`Analysis::verify`] checks them against a catalog at run time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Analysis {
    pub(crate) sql: String,
    pub(crate) kind: StatementKind,
    pub(crate) read_only: bool,
    pub(crate) tables: Vec<TableRef>,
    pub(crate) template: Template,
    pub(crate) param_spans: Vec<Range<usize>>,
}

impl Analysis {
    /// The SQL text that was checked.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// What the statement does.
    pub fn kind(&self) -> StatementKind {
        self.kind
    }

    /// Whether the statement only reads: a `SELECT` without `FOR UPDATE` or
    /// `FOR SHARE` and without data-modifying `WITH` queries. (Functions it
    /// calls are not looked into.)
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Every reference to a table slot, in the order of the text.
    pub fn tables(&self) -> &[TableRef] {
        &self.tables
    }

    /// The statement as segments, for rendering.
    pub fn template(&self) -> &Template {
        &self.template
    }

    /// The byte range of the first occurrence of parameter `index` (an
    /// index into [`Template::params`]), for errors about it.
    ///
    /// ```
    /// let checked = tenancy_sql::check("SELECT o.id FROM {Order} o WHERE o.tenant_id = $tenant AND o.s = $s").unwrap();
    /// assert_eq!(&checked.sql()[checked.param_span(1).unwrap()], "$s");
    /// ```
    pub fn param_span(&self, index: usize) -> Option<Range<usize>> {
        self.param_spans.get(index).cloned()
    }

    /// Checks every requirement against what `kind_of` says each type name
    /// is; `None` means the name is unknown, which is an error too.
    ///
    /// ```
    /// use tenancy_sql::TableKind;
    ///
    /// let checked = tenancy_sql::check(
    ///     "SELECT o.id, c.name FROM {Order} o JOIN {Country} c ON c.code = o.country \
    ///      WHERE o.tenant_id = $tenant",
    /// )
    /// .unwrap();
    /// let catalog = |name: &str| match name {
    ///     "Order" => Some(TableKind::Tenant { column: "tenant_id" }),
    ///     "Country" => Some(TableKind::Global),
    ///     _ => None,
    /// };
    /// assert!(checked.verify(catalog).is_ok());
    ///
    /// let tenant_countries = |name: &str| Some(TableKind::Tenant { column: "tenant_id" });
    /// let error = checked.verify(tenant_countries).unwrap_err();
    /// assert!(error.to_string().contains(
    ///     "add `AND c.tenant_id = $tenant` to its `ON` clause or to the `WHERE` of this SELECT"
    /// ));
    /// ```
    pub fn verify<'k>(
        &self,
        mut kind_of: impl FnMut(&str) -> Option<TableKind<'k>>,
    ) -> Result<(), Diagnostics> {
        let mut problems = Vec::new();
        for table in &self.tables {
            let Some(kind) = kind_of(&table.type_name) else {
                problems.push(
                    Diagnostic::new(
                        Problem::UnknownTable,
                        table.span.clone(),
                        format!("`{{{}}}` is not a known table", table.type_name),
                    )
                    .with_help("declare it as a tenant table or as a global table"),
                );
                continue;
            };
            let column = kind.tenant_column();
            problems.extend(
                table
                    .requirements
                    .iter()
                    .filter(|r| !r.holds(column))
                    .map(|r| r.diagnostic(column)),
            );
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Diagnostics::new(&self.sql, problems))
        }
    }
}
