//! The erasure plan: from the catalog, every table that holds the tenant's
//! rows, in an order the foreign keys accept, or the reasons it cannot be
//! done — decided before anything is deleted.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use sqlx::PgConnection;
use tenancy_core::ddl::TableSet;
use tenancy_core::{Pii, TableMeta};

use super::catalog::{self, CatalogColumn, CatalogTable, ForeignKey};
use super::error::{LifecycleError, PlanProblem};
use crate::directory::TrustedServers;
use crate::ident::quote_catalog_name;
use crate::setting::SettingName;
use crate::{Error, Identifier, Postgres};

/// How an erasure runs: which tables it keeps (anonymised), how big its
/// batches are, where it keeps its records.
///
/// *Available with the `lifecycle` feature.*
///
/// ```
/// # #[tenancy_sqlx::tenant_scoped] pub struct Invoice { pub tenant_id: i64, #[tenancy(primary_key)] pub id: i64, #[tenancy(pii)] pub email: String }
/// use std::time::Duration;
/// use tenancy_sqlx::ddl::TableSet;
/// use tenancy_sqlx::lifecycle::ErasureOptions;
///
/// let tables = TableSet::new().with::<Invoice>();
/// let options = ErasureOptions::new(&tables)
///     .retain::<Invoice>() // kept for the legal period, personal data overwritten
///     .batch_rows(5_000)
///     .batch_time(Duration::from_millis(100));
/// assert_eq!(options.max_batch_rows(), 5_000);
/// # Ok::<(), tenancy_sqlx::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ErasureOptions {
    pub(crate) tables: TableSet,
    pub(crate) retained: Vec<RetainedTable>,
    pub(crate) extra_tenant_columns: Vec<String>,
    pub(crate) batch_rows: u64,
    pub(crate) batch_time: Duration,
    pub(crate) pause: Duration,
    pub(crate) records_schema: Identifier,
    pub(crate) trusted_servers: TrustedServers,
}

/// The schema of the library's own records (the deletion ledger, the
/// certificates, the export audit) unless told otherwise.
pub const DEFAULT_RECORDS_SCHEMA: &str = "tenancy";

impl ErasureOptions {
    /// Defaults for the registered `tables`: batches of at most 10,000 rows,
    /// each sized to hold its locks for about 100 ms and never meant to
    /// reach 200 ms ([`batch_time`](Self::batch_time)); no retained table;
    /// records in schema [`DEFAULT_RECORDS_SCHEMA`]. The tenant column names
    /// of the registered tables are the ones the catalog is searched for.
    ///
    /// # Panics
    ///
    /// Never: the default records schema is a valid identifier.
    #[must_use]
    pub fn new(tables: &TableSet) -> Self {
        ErasureOptions {
            tables: tables.clone(),
            retained: Vec::new(),
            extra_tenant_columns: Vec::new(),
            batch_rows: 10_000,
            batch_time: Duration::from_millis(200),
            pause: Duration::ZERO,
            #[allow(clippy::expect_used, reason = "a constant that is an identifier")]
            records_schema: Identifier::new("schema", DEFAULT_RECORDS_SCHEMA)
                .expect("the default records schema is an identifier"),
            trusted_servers: TrustedServers::new(),
        }
    }

    /// Keeps `T`'s rows (financial records kept for a legal period, say):
    /// erasure overwrites its `#[tenancy(pii)]` columns instead of deleting
    /// the rows, and keeps every other column.
    #[must_use]
    pub fn retain<T: tenancy_core::TenantScoped>(mut self) -> Self {
        let meta = T::meta();
        self.retained.push(RetainedTable {
            schema: meta.schema.map(str::to_owned),
            name: meta.name.to_owned(),
            columns: pii_columns(meta),
        });
        self
    }

    /// Keeps the rows of table `name` (in `schema`, or the registered
    /// tables' default schema), overwriting `columns` as each says — for
    /// tables without a struct (the `tenancy erase` command line uses it).
    /// Names are checked to be identifiers, function names too.
    pub fn retain_table(
        mut self,
        schema: Option<&str>,
        name: &str,
        columns: &[(&str, Anonymisation)],
    ) -> Result<Self, Error> {
        let mut checked = Vec::new();
        for (column, with) in columns {
            if let Anonymisation::Function(function) = with {
                for part in function.split('.') {
                    Identifier::new("function", part)?;
                }
            }
            checked.push((
                Identifier::new("column", column)?.as_str().to_owned(),
                with.clone(),
            ));
        }
        self.retained.push(RetainedTable {
            schema: schema
                .map(|schema| Identifier::new("schema", schema).map(|s| s.as_str().to_owned()))
                .transpose()?,
            name: Identifier::new("table", name)?.as_str().to_owned(),
            columns: checked,
        });
        Ok(self)
    }

    /// Also looks for tables whose tenant column is called `column` (tables
    /// outside the registered set that name it differently).
    pub fn tenant_column(mut self, column: &str) -> Result<Self, Error> {
        self.extra_tenant_columns
            .push(Identifier::new("column", column)?.as_str().to_owned());
        Ok(self)
    }

    /// The most rows one batch deletes or anonymises (at least 1).
    #[must_use]
    pub fn batch_rows(mut self, rows: u64) -> Self {
        self.batch_rows = rows.max(1);
        self
    }

    /// How long one batch may hold its locks. Each table starts with a small
    /// batch, and every next batch is sized from the last one's rate to
    /// take half this time (at most twice the last one's rows, at most
    /// [`batch_rows`](Self::batch_rows)), so the headroom absorbs a batch
    /// that runs slower than the one before.
    #[must_use]
    pub fn batch_time(mut self, time: Duration) -> Self {
        self.batch_time = time;
        self
    }

    /// Waits this long between batches, to leave room for other work (and
    /// for replicas to keep up).
    #[must_use]
    pub fn pause_between_batches(mut self, pause: Duration) -> Self {
        self.pause = pause;
        self
    }

    /// Keeps the ledger and the certificates in `schema` instead of
    /// [`DEFAULT_RECORDS_SCHEMA`].
    pub fn records_schema(mut self, schema: &str) -> Result<Self, Error> {
        self.records_schema = Identifier::new("schema", schema)?;
        Ok(self)
    }

    /// The servers besides this pool's own where
    /// [`remove_tenant`](crate::OwnerPool::remove_tenant) may reach a
    /// tenant's own database, as this pool's role and password; a directory
    /// entry naming another server is refused before anything changes.
    #[must_use]
    pub fn trusted_servers(mut self, servers: TrustedServers) -> Self {
        self.trusted_servers = servers;
        self
    }

    /// The most rows one batch touches.
    #[must_use]
    pub fn max_batch_rows(&self) -> u64 {
        self.batch_rows
    }

    /// The setting the tenant is set in (the registered tables' one).
    pub(crate) fn setting(&self) -> &SettingName {
        self.tables.setting()
    }

    /// The tenant column names to look for, registered ones first.
    pub(crate) fn tenant_columns(&self) -> Result<Vec<String>, Error> {
        let mut names: Vec<String> = Vec::new();
        for table in self.tables.tables()? {
            if let Some(tenant) = &table.tenant
                && !names.iter().any(|name| name == tenant.name)
            {
                names.push(tenant.name.to_owned());
            }
        }
        for name in &self.extra_tenant_columns {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
        if names.is_empty() {
            names.push("tenant_id".to_owned());
        }
        Ok(names)
    }
}

/// How a personal-data column of a retained table is overwritten.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Anonymisation {
    /// NULL for a nullable column, `'redacted'` for a text column.
    Default,
    /// NULL.
    Null,
    /// The text `'redacted'`.
    Redacted,
    /// The result of this function (`name` or `schema.name`), called with
    /// the column's value; it must be idempotent.
    Function(String),
}

impl From<Pii> for Anonymisation {
    fn from(pii: Pii) -> Self {
        match pii {
            Pii::Null => Anonymisation::Null,
            Pii::Redacted => Anonymisation::Redacted,
            Pii::Function(function) => Anonymisation::Function(function.to_owned()),
            _ => Anonymisation::Default,
        }
    }
}

/// A table kept by erasure, and its personal-data columns.
#[derive(Debug, Clone)]
pub(crate) struct RetainedTable {
    schema: Option<String>,
    name: String,
    columns: Vec<(String, Anonymisation)>,
}

/// The `#[tenancy(pii)]` columns of a table.
fn pii_columns(meta: &TableMeta) -> Vec<(String, Anonymisation)> {
    meta.columns
        .iter()
        .filter_map(|column| Some((column.name.to_owned(), column.pii?.into())))
        .collect()
}

/// What erasure does to one table.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErasureAction {
    /// Deletes the tenant's rows.
    Delete,
    /// Keeps the tenant's rows and overwrites these columns.
    Anonymise {
        /// The columns and what they become.
        columns: Vec<AnonymisedColumn>,
    },
}

/// One personal-data column of a retained table and what erasure writes
/// into it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AnonymisedColumn {
    /// The column's name.
    pub column: String,
    /// What it is set to: `NULL`, `'redacted'` or `function(column)`.
    pub with: String,
}

/// One table of the plan.
#[derive(Debug, Clone)]
pub struct ErasureStep {
    pub(crate) table: CatalogTable,
    pub(crate) action: ErasureAction,
    /// Part of a cycle of deferrable foreign keys: all of the cycle's tables
    /// are erased in one transaction, not in batches.
    pub(crate) in_cycle: bool,
}

impl ErasureStep {
    /// The table, `schema.name`.
    #[must_use]
    pub fn table(&self) -> String {
        self.table.display()
    }

    /// Delete or anonymise.
    #[must_use]
    pub fn action(&self) -> &ErasureAction {
        &self.action
    }

    /// Whether its rows go in bounded batches (`false` only for tables in a
    /// cycle of deferrable foreign keys, which go in one transaction).
    #[must_use]
    pub fn batched(&self) -> bool {
        !self.in_cycle
    }

    /// The `SET` list of an anonymising update.
    pub(crate) fn assignments(&self) -> String {
        match &self.action {
            ErasureAction::Delete => String::new(),
            ErasureAction::Anonymise { columns } => columns
                .iter()
                .map(|column| format!("{} = {}", quote_catalog_name(&column.column), column.with))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// The rows of the tenant still to be processed, beyond the tenant
    /// condition: none for a delete; for an anonymisation, rows with a
    /// column that differs from its anonymised form (so a resumed job
    /// skips rows it already did, and verification finds any it missed).
    pub(crate) fn pending_condition(&self) -> String {
        match &self.action {
            ErasureAction::Delete => "true".to_owned(),
            ErasureAction::Anonymise { columns } if columns.is_empty() => "false".to_owned(),
            ErasureAction::Anonymise { columns } => columns
                .iter()
                .map(|column| {
                    format!(
                        "{} IS DISTINCT FROM {}",
                        quote_catalog_name(&column.column),
                        column.with
                    )
                })
                .collect::<Vec<_>>()
                .join(" OR "),
        }
    }
}

/// The tables an erasure covers, in the order it processes them: retained
/// tables (anonymised) first, then deletes with every referencing table
/// before the table it references.
///
/// Made by [`OwnerPool::erasure_plan`](crate::OwnerPool::erasure_plan);
/// [`OwnerPool::erase_tenant`](crate::OwnerPool::erase_tenant) makes it
/// again before it starts and refuses if any table cannot be covered.
#[derive(Debug, Clone)]
pub struct ErasurePlan {
    pub(crate) steps: Vec<ErasureStep>,
    pub(crate) problems: Vec<PlanProblem>,
}

impl ErasurePlan {
    /// The steps, in order.
    #[must_use]
    pub fn steps(&self) -> &[ErasureStep] {
        &self.steps
    }

    /// The tables it cannot cover and why; erasure refuses unless empty.
    #[must_use]
    pub fn problems(&self) -> &[PlanProblem] {
        &self.problems
    }

    /// The plan, or the refusal that names every problem.
    pub(crate) fn accepted(self) -> Result<Self, Error> {
        if self.problems.is_empty() {
            Ok(self)
        } else {
            Err(LifecycleError::PlanRefused {
                problems: self.problems,
            }
            .into())
        }
    }

    /// Reads the catalog and plans.
    pub(crate) async fn read(
        connection: &mut PgConnection,
        options: &ErasureOptions,
    ) -> Result<Self, Error> {
        let tenant_columns = options.tenant_columns()?;
        let tables =
            catalog::tenant_tables(connection, &tenant_columns, options.records_schema.as_str())
                .await?;
        let oids: Vec<i64> = tables.iter().map(|table| table.oid).collect();
        let keys = catalog::foreign_keys(connection, &oids).await?;
        let default_schema = options.tables.schema(<Postgres as crate::Backend>::DIALECT);
        let mut retained = BTreeMap::new();
        let mut problems = Vec::new();
        for meta in &options.retained {
            let schema = meta.schema.as_deref().unwrap_or(default_schema.as_str());
            match tables
                .iter()
                .find(|table| table.schema == schema && table.name == meta.name)
            {
                Some(table) => {
                    let columns = catalog::columns(connection, table.oid).await?;
                    match anonymised_columns(meta, &columns) {
                        Ok(columns) => {
                            retained.insert(table.oid, columns);
                        }
                        Err(reason) => problems.push(PlanProblem {
                            table: table.display(),
                            reason,
                        }),
                    }
                }
                None => problems.push(PlanProblem {
                    table: format!("{schema}.{}", meta.name),
                    reason: format!(
                        "registered as retained, but there is no such table with one of the tenant columns ({})",
                        tenant_columns.join(", ")
                    ),
                }),
            }
        }
        Ok(plan(tables, &keys, retained, problems))
    }
}

/// What each `#[tenancy(pii)]` column of a retained table becomes, checked
/// against the column's live type.
fn anonymised_columns(
    meta: &RetainedTable,
    live: &[CatalogColumn],
) -> Result<Vec<AnonymisedColumn>, String> {
    let mut columns = Vec::new();
    for (name, pii) in &meta.columns {
        let Some(found) = live.iter().find(|found| &found.name == name) else {
            return Err(format!(
                "personal-data column `{name}` does not exist in the database"
            ));
        };
        let text = matches!(
            found.sql_type.split('(').next().unwrap_or_default(),
            "text" | "character varying" | "character"
        );
        let with = match pii {
            Anonymisation::Null | Anonymisation::Default if !found.not_null => "NULL".to_owned(),
            Anonymisation::Redacted | Anonymisation::Default if text => "'redacted'".to_owned(),
            Anonymisation::Function(function) => {
                let function = function
                    .split('.')
                    .map(quote_catalog_name)
                    .collect::<Vec<_>>()
                    .join(".");
                format!("{function}({})", quote_catalog_name(name))
            }
            Anonymisation::Null => {
                return Err(format!(
                    "personal-data column `{name}` is NOT NULL and cannot be set to NULL: use `pii = \"redacted\"` or a function"
                ));
            }
            _ => {
                return Err(format!(
                    "personal-data column `{name}` is of type {}, which is neither nullable nor text: \
                     name a function that anonymises it (`#[tenancy(pii = \"schema.function\")]`)",
                    found.sql_type
                ));
            }
        };
        columns.push(AnonymisedColumn {
            column: name.clone(),
            with,
        });
    }
    Ok(columns)
}

/// Orders the tables and finds what cannot be covered.
fn plan(
    tables: Vec<CatalogTable>,
    keys: &[ForeignKey],
    retained: BTreeMap<i64, Vec<AnonymisedColumn>>,
    mut problems: Vec<PlanProblem>,
) -> ErasurePlan {
    let by_oid: BTreeMap<i64, &CatalogTable> = tables.iter().map(|t| (t.oid, t)).collect();
    for table in &tables {
        if let Some(reason) = access_problem(table, retained.contains_key(&table.oid)) {
            problems.push(PlanProblem {
                table: table.display(),
                reason,
            });
        }
    }
    // Foreign keys into deleted tables from rows that stay would stop the
    // deletes half-way: refuse them now.
    for key in keys.iter().filter(|key| key.blocks_delete()) {
        let Some(parent) = by_oid.get(&key.parent) else {
            continue;
        };
        if retained.contains_key(&key.parent) {
            continue;
        }
        let from_outside = !by_oid.contains_key(&key.child);
        let from_retained = retained.contains_key(&key.child);
        if from_outside || from_retained {
            let what = if from_outside {
                "has no tenant column, so erasure keeps its rows"
            } else {
                "is retained"
            };
            problems.push(PlanProblem {
                table: key.child_name.clone(),
                reason: format!(
                    "its foreign key {} references {}, whose rows erasure deletes, but the table {what}: \
                     make the key ON DELETE SET NULL or CASCADE, or cover the table",
                    key.name,
                    parent.display()
                ),
            });
        }
    }
    let deleted: BTreeSet<i64> = tables
        .iter()
        .map(|t| t.oid)
        .filter(|oid| !retained.contains_key(oid))
        .collect();
    let internal: Vec<&ForeignKey> = keys
        .iter()
        .filter(|key| deleted.contains(&key.child) && deleted.contains(&key.parent))
        .collect();
    let (order, cycles) = children_first(&deleted, &internal);
    for cycle in &cycles {
        let stuck: Vec<&&ForeignKey> = internal
            .iter()
            .filter(|key| cycle.contains(&key.child) && cycle.contains(&key.parent))
            .filter(|key| key.blocks_delete() && !key.deferrable)
            .collect();
        if !stuck.is_empty() {
            let names: Vec<String> = cycle
                .iter()
                .filter_map(|oid| by_oid.get(oid))
                .map(|t| t.display())
                .collect();
            problems.push(PlanProblem {
                table: names.join(", "),
                reason: format!(
                    "foreign keys form a cycle that no delete order satisfies ({}): make them DEFERRABLE \
                     (erasure then deletes the cycle in one transaction) or ON DELETE CASCADE",
                    stuck.iter().map(|key| key.name.as_str()).collect::<Vec<_>>().join(", ")
                ),
            });
        }
    }
    let in_cycle: BTreeSet<i64> = cycles.iter().flatten().copied().collect();
    let mut steps = Vec::new();
    let mut retained = retained;
    for table in &tables {
        if let Some(columns) = retained.remove(&table.oid) {
            steps.push(ErasureStep {
                table: table.clone(),
                action: ErasureAction::Anonymise { columns },
                in_cycle: false,
            });
        }
    }
    for oid in order {
        if let Some(table) = by_oid.get(&oid) {
            steps.push(ErasureStep {
                table: (*table).clone(),
                action: ErasureAction::Delete,
                in_cycle: in_cycle.contains(&oid),
            });
        }
    }
    ErasurePlan { steps, problems }
}

/// Why the owner role cannot erase (or anonymise) the tenant's rows of
/// `table`, if it cannot.
fn access_problem(table: &CatalogTable, retained: bool) -> Option<String> {
    if table.key_cast().is_none() {
        return Some(format!(
            "tenant column `{}` is of type {}; erasure compares keys of type bigint, integer, smallint, uuid or text",
            table.tenant_column, table.key_type
        ));
    }
    let needed = if retained {
        "SELECT and UPDATE"
    } else {
        "SELECT and DELETE"
    };
    let privileged = table.can_select
        && if retained {
            table.can_update
        } else {
            table.can_delete
        };
    if !table.schema_usage || !privileged {
        return Some(format!(
            "the role that runs the erasure lacks {needed} on the table (or USAGE on its schema); grant them or run as its owner"
        ));
    }
    if table.rls_active && !table.library_policy {
        return Some(
            "row-level security applies to the role that runs the erasure, and no tenant policy of this library \
             does: its deletes would see no row and the check would pass on rows it cannot see; apply the \
             generated policies (`OwnerPool::apply_schema` / `apply_rls`, which include the owner policy)"
                .to_owned(),
        );
    }
    if table.rls_active && table.restrictive_policy {
        return Some(
            "a restrictive row-level security policy applies to the role that runs the erasure: rows it hides \
             would be neither deleted nor seen by the check"
                .to_owned(),
        );
    }
    None
}

/// The tables in an order where every table comes before the tables it
/// references, and the cycles (strongly connected groups of more than one
/// table, or a table that references itself in a way that blocks deletes).
/// Members of a cycle are placed together.
fn children_first(tables: &BTreeSet<i64>, keys: &[&ForeignKey]) -> (Vec<i64>, Vec<Vec<i64>>) {
    // child -> parents (edges the order must respect)
    let mut parents: BTreeMap<i64, BTreeSet<i64>> =
        tables.iter().map(|t| (*t, BTreeSet::new())).collect();
    let mut self_blocking = BTreeSet::new();
    for key in keys {
        if key.child == key.parent {
            if key.blocks_delete() {
                self_blocking.insert(key.child);
            }
        } else if let Some(set) = parents.get_mut(&key.child) {
            set.insert(key.parent);
        }
    }
    let groups = strongly_connected(&parents);
    let group_of: BTreeMap<i64, usize> = groups
        .iter()
        .enumerate()
        .flat_map(|(index, group)| group.iter().map(move |oid| (*oid, index)))
        .collect();
    // A group is ready when no other group that references it is left.
    let mut referenced_by: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
    for (child, set) in &parents {
        for parent in set {
            let (c, p) = (group_of[child], group_of[parent]);
            if c != p {
                referenced_by.entry(p).or_default().insert(c);
            }
        }
    }
    let mut done = BTreeSet::new();
    let mut order = Vec::new();
    while done.len() < groups.len() {
        let ready = (0..groups.len()).find(|group| {
            !done.contains(group)
                && referenced_by
                    .get(group)
                    .is_none_or(|children| children.iter().all(|c| done.contains(c)))
        });
        // The groups form a DAG, so one is always ready.
        let Some(ready) = ready else { break };
        done.insert(ready);
        order.extend(groups[ready].iter().copied());
    }
    let cycles = groups
        .into_iter()
        .filter(|group| group.len() > 1 || group.iter().any(|oid| self_blocking.contains(oid)))
        .collect();
    (order, cycles)
}

/// Tarjan's strongly connected components, each sorted.
fn strongly_connected(edges: &BTreeMap<i64, BTreeSet<i64>>) -> Vec<Vec<i64>> {
    struct State<'a> {
        edges: &'a BTreeMap<i64, BTreeSet<i64>>,
        index: BTreeMap<i64, usize>,
        low: BTreeMap<i64, usize>,
        stack: Vec<i64>,
        on_stack: BTreeSet<i64>,
        next: usize,
        groups: Vec<Vec<i64>>,
    }
    fn visit(state: &mut State<'_>, node: i64) {
        state.index.insert(node, state.next);
        state.low.insert(node, state.next);
        state.next += 1;
        state.stack.push(node);
        state.on_stack.insert(node);
        let targets: Vec<i64> = state
            .edges
            .get(&node)
            .into_iter()
            .flatten()
            .copied()
            .collect();
        for target in targets {
            if !state.index.contains_key(&target) {
                visit(state, target);
                let low = state.low[&node].min(state.low[&target]);
                state.low.insert(node, low);
            } else if state.on_stack.contains(&target) {
                let low = state.low[&node].min(state.index[&target]);
                state.low.insert(node, low);
            }
        }
        if state.low[&node] == state.index[&node] {
            let mut group = Vec::new();
            while let Some(member) = state.stack.pop() {
                state.on_stack.remove(&member);
                group.push(member);
                if member == node {
                    break;
                }
            }
            group.sort_unstable();
            state.groups.push(group);
        }
    }
    let mut state = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        groups: Vec::new(),
    };
    for node in edges.keys() {
        if !state.index.contains_key(node) {
            visit(&mut state, *node);
        }
    }
    state.groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(child: i64, parent: i64, blocking: bool, deferrable: bool) -> ForeignKey {
        ForeignKey {
            name: format!("fk_{child}_{parent}"),
            child,
            child_name: child.to_string(),
            parent,
            deferrable,
            on_delete: if blocking { "a" } else { "c" }.to_owned(),
        }
    }

    #[test]
    fn children_come_before_the_tables_they_reference() {
        // 1 <- 2 <- 3, and 4 references 1 and 3.
        let tables: BTreeSet<i64> = [1, 2, 3, 4].into();
        let keys = [
            key(2, 1, true, false),
            key(3, 2, true, false),
            key(4, 1, true, false),
            key(4, 3, true, false),
        ];
        let refs: Vec<&ForeignKey> = keys.iter().collect();
        let (order, cycles) = children_first(&tables, &refs);
        let at = |oid: i64| order.iter().position(|o| *o == oid).unwrap();
        assert!(at(4) < at(3) && at(3) < at(2) && at(2) < at(1), "{order:?}");
        assert!(cycles.is_empty());
    }

    #[test]
    fn cycles_are_found_and_kept_together() {
        let tables: BTreeSet<i64> = [1, 2, 3, 5].into();
        let keys = [
            key(1, 2, true, true),
            key(2, 1, true, true),
            key(3, 1, true, false),
            key(5, 5, true, true),
        ];
        let refs: Vec<&ForeignKey> = keys.iter().collect();
        let (order, mut cycles) = children_first(&tables, &refs);
        cycles.sort();
        assert_eq!(cycles, [vec![1, 2], vec![5]]);
        let at = |oid: i64| order.iter().position(|o| *o == oid).unwrap();
        assert!(at(3) < at(1) && at(3) < at(2));
        assert_eq!(at(1).abs_diff(at(2)), 1);
    }

    #[test]
    fn a_cascading_self_reference_is_no_cycle() {
        let tables: BTreeSet<i64> = [7].into();
        let keys = [key(7, 7, false, false)];
        let refs: Vec<&ForeignKey> = keys.iter().collect();
        assert!(children_first(&tables, &refs).1.is_empty());
    }
}
