//! Statement plans: plain data that proptest generates and shrinks, rendered
//! as `tenant_sql!` text in which every table reference has its own type
//! (`{T0}`, `{T1}`, ..) and its own tenant conjunct, so that one conjunct
//! can be removed or spoiled and the reference it confined named.

#![allow(dead_code)] // each test crate uses a part of the plans

pub mod strategies;

use std::fmt::Write as _;

/// How a join joins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Join {
    Inner,
    Left,
    Right,
    Full,
    Cross,
    Comma,
}

/// A source of rows in a `FROM`.
#[derive(Clone, Debug)]
pub enum Source {
    /// A tenant table.
    Table,
    /// A derived table, `LATERAL` or not.
    Derived { query: Box<Query>, lateral: bool },
    /// A `WITH` query of the statement, by index (clamped to those defined).
    Cte(usize),
}

#[derive(Clone, Debug)]
pub struct Joined {
    pub join: Join,
    pub source: Source,
    /// For inner and left joins: the conjunct goes in the `ON`, not the
    /// `WHERE`.
    pub in_on: bool,
}

/// A predicate besides the tenant conjuncts.
#[derive(Clone, Debug)]
pub enum Filter {
    /// `<alias>.n <op> <k>` on a visible alias.
    Leaf(u8),
    /// Several filters joined with `OR`.
    Any(Vec<Filter>),
    Exists(Box<Query>),
    In(Box<Query>),
    Scalar(Box<Query>),
}

#[derive(Clone, Debug)]
pub struct Select {
    pub base: Source,
    pub joins: Vec<Joined>,
    pub filters: Vec<Filter>,
    /// A scalar subquery in the select list.
    pub projected: Option<Box<Query>>,
    pub grouped: bool,
    /// Seeds the parenthesization of the `WHERE`.
    pub shape: u64,
}

#[derive(Clone, Copy, Debug)]
pub enum SetOp {
    Union,
    UnionAll,
    Intersect,
    Except,
}

#[derive(Clone, Debug)]
pub enum Query {
    Select(Select),
    SetOp(Box<Query>, SetOp, Box<Query>),
}

#[derive(Clone, Debug)]
pub enum Cte {
    Plain(Query),
    /// `anchor UNION ALL step`, the step joined with the query itself.
    Tree,
}

#[derive(Clone, Debug)]
pub enum Statement {
    Query {
        ctes: Vec<Cte>,
        query: Query,
    },
    Update {
        from: Vec<Source>,
        filters: Vec<Filter>,
        shape: u64,
    },
    Delete {
        using: Vec<Source>,
        filters: Vec<Filter>,
        shape: u64,
    },
    Insert {
        source: InsertSource,
        conflict: Option<Conflict>,
    },
}

#[derive(Clone, Debug)]
pub enum InsertSource {
    Values(u8),
    Select(Select),
}

#[derive(Clone, Copy, Debug)]
pub enum Conflict {
    /// `ON CONFLICT (tenant_id, id) DO UPDATE ..`.
    Target,
    /// `ON CONFLICT (id) DO UPDATE .. WHERE t.tenant_id = $tenant`.
    Where,
}

/// Ways to spoil one tenant conjunct so that it no longer confines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spoil {
    Remove,
    UnderOr,
    Negated,
    OtherParam,
    Cast,
    OtherAlias,
    OtherColumn,
    InSubquery,
    /// Into the `ON` of the right or full join that brings the reference
    /// in, which keeps all its rows (elsewhere: removed).
    IntoPreservedOn,
}

pub const SPOILS: &[Spoil] = &[
    Spoil::Remove,
    Spoil::UnderOr,
    Spoil::Negated,
    Spoil::OtherParam,
    Spoil::Cast,
    Spoil::OtherAlias,
    Spoil::OtherColumn,
    Spoil::InSubquery,
    Spoil::IntoPreservedOn,
];

/// What the checker must report when a conjunct is spoiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expected {
    Unconfined,
    NotInserted,
}

/// One tenant conjunct of a rendered statement.
#[derive(Clone, Debug)]
pub struct Site {
    /// The slot of the reference it confines, `{T<n>}`.
    pub slot: String,
    pub expected: Expected,
}

/// A rendered statement.
#[derive(Clone, Debug)]
pub struct Rendered {
    pub sql: String,
    pub sites: Vec<Site>,
    /// How many table references the statement has.
    pub references: usize,
}

/// Renders `statement`, spoiling conjunct `spoiled` (by its index among the
/// sites) if given.
pub fn render(statement: &Statement, spoiled: Option<(usize, Spoil)>) -> Rendered {
    Writer::new(spoiled, None).write(statement)
}

/// Renders `statement` as a tenant's ad hoc query might be written: tables
/// by the SQL names in `tables` (in turn), and no tenant conjuncts at all.
pub fn render_ad_hoc(statement: &Statement, tables: &'static [&'static str]) -> Rendered {
    Writer::new(None, Some(tables)).write(statement)
}

struct Writer {
    sql: String,
    sites: Vec<Site>,
    references: usize,
    aliases: usize,
    ctes: usize,
    spoiled: Option<(usize, Spoil)>,
    /// Ad hoc: tables by these names, no conjuncts.
    ad_hoc: Option<&'static [&'static str]>,
}

/// A reference waiting for its conjunct.
struct Pending {
    alias: String,
    slot: String,
}

impl Writer {
    fn new(spoiled: Option<(usize, Spoil)>, ad_hoc: Option<&'static [&'static str]>) -> Self {
        Self {
            sql: String::new(),
            sites: Vec::new(),
            references: 0,
            aliases: 0,
            ctes: 0,
            spoiled,
            ad_hoc,
        }
    }

    fn write(mut self, statement: &Statement) -> Rendered {
        self.statement(statement);
        Rendered {
            sql: self.sql,
            sites: self.sites,
            references: self.references,
        }
    }

    fn statement(&mut self, statement: &Statement) {
        match statement {
            Statement::Query { ctes, query } => {
                if !ctes.is_empty() {
                    self.sql.push_str("WITH RECURSIVE ");
                    for (index, cte) in ctes.iter().enumerate() {
                        if index > 0 {
                            self.sql.push_str(", ");
                        }
                        let _ = write!(self.sql, "c{index} AS (");
                        match cte {
                            Cte::Plain(query) => self.query(query),
                            Cte::Tree => self.tree(index),
                        }
                        self.sql.push(')');
                        self.ctes = index + 1;
                    }
                    self.sql.push(' ');
                }
                self.query(query);
            }
            Statement::Update {
                from,
                filters,
                shape,
            } => self.write_rows(
                "UPDATE {} {} SET n = n + 1",
                " FROM ",
                from,
                filters,
                *shape,
            ),
            Statement::Delete {
                using,
                filters,
                shape,
            } => self.write_rows("DELETE FROM {} {}", " USING ", using, filters, *shape),
            Statement::Insert { source, conflict } => self.insert(source, *conflict),
        }
    }

    /// An `UPDATE` or `DELETE` (`head` with the target's slot and alias for
    /// its `{}`s), its other tables after `more`, and the `WHERE` that
    /// confines them all.
    fn write_rows(
        &mut self,
        head: &str,
        more: &str,
        sources: &[Source],
        filters: &[Filter],
        shape: u64,
    ) {
        let target = self.table();
        self.sql.push_str(
            &head
                .replacen("{}", &target.slot, 1)
                .replacen("{}", &target.alias, 1),
        );
        let mut aliases = vec![target.alias.clone()];
        let mut pending = vec![target];
        for (index, source) in sources.iter().enumerate() {
            self.sql.push_str(if index == 0 { more } else { ", " });
            let (brought, alias) = self.source(source);
            pending.extend(brought);
            aliases.push(alias);
        }
        let conjuncts = pending
            .iter()
            .map(|reference| self.conjunct(reference, Expected::Unconfined))
            .collect();
        self.where_clause(conjuncts, filters, &aliases, shape);
    }

    fn insert(&mut self, source: &InsertSource, conflict: Option<Conflict>) {
        let target = self.table();
        let _ = write!(
            self.sql,
            "INSERT INTO {} AS {} (tenant_id, id) ",
            target.slot, target.alias
        );
        let site = self.site(&target.slot, Expected::NotInserted);
        let tenant = if self.is_spoiled(site) {
            "$other"
        } else {
            "$tenant"
        };
        match source {
            InsertSource::Values(rows) => {
                self.sql.push_str("VALUES ");
                // Spoiling changes one row only: every row must take `$tenant`.
                for row in 0..=*rows {
                    if row > 0 {
                        self.sql.push_str(", ");
                    }
                    let value = if row == *rows { tenant } else { "$tenant" };
                    let _ = write!(self.sql, "({value}, $id{row})");
                }
            }
            InsertSource::Select(select) => {
                let projection = format!("{tenant}, 1");
                self.select(select, Some(&projection));
            }
        }
        match conflict {
            None => {}
            Some(Conflict::Target) => {
                let site = self.site(&target.slot, Expected::Unconfined);
                let columns = if self.is_spoiled(site) {
                    "id"
                } else {
                    "tenant_id, id"
                };
                let _ = write!(
                    self.sql,
                    " ON CONFLICT ({columns}) DO UPDATE SET n = {}.n + 1",
                    target.alias
                );
            }
            Some(Conflict::Where) => {
                let _ = write!(
                    self.sql,
                    " ON CONFLICT (id) DO UPDATE SET n = EXCLUDED.n WHERE "
                );
                let conjunct = self.conjunct(&target, Expected::Unconfined);
                self.sql.push_str(if conjunct.is_empty() {
                    "true"
                } else {
                    &conjunct
                });
            }
        }
    }

    /// A recursive tree: the anchor and the step each read a tenant table.
    fn tree(&mut self, index: usize) {
        let anchor = self.table();
        let _ = write!(
            self.sql,
            "SELECT {a}.id, {a}.parent, {a}.n FROM {} {a} WHERE {a}.parent IS NULL",
            anchor.slot,
            a = anchor.alias
        );
        let conjunct = self.conjunct(&anchor, Expected::Unconfined);
        if !conjunct.is_empty() {
            let _ = write!(self.sql, " AND {conjunct}");
        }
        let step = self.table();
        let _ = write!(
            self.sql,
            " UNION ALL SELECT {s}.id, {s}.parent, {s}.n FROM {} {s} JOIN c{index} r{index} ON r{index}.id = {s}.parent",
            step.slot,
            s = step.alias
        );
        let conjunct = self.conjunct(&step, Expected::Unconfined);
        if !conjunct.is_empty() {
            let _ = write!(self.sql, " WHERE {conjunct}");
        }
    }

    fn query(&mut self, query: &Query) {
        match query {
            Query::Select(select) => self.select(select, None),
            Query::SetOp(left, op, right) => {
                // sqlparser cannot read a subquery that starts with `(`, so
                // only a right-hand set operation is parenthesized.
                self.query(left);
                self.sql.push_str(match op {
                    SetOp::Union => " UNION ",
                    SetOp::UnionAll => " UNION ALL ",
                    SetOp::Intersect => " INTERSECT ",
                    SetOp::Except => " EXCEPT ",
                });
                let nested = matches!(**right, Query::SetOp(..));
                if nested {
                    self.sql.push('(');
                }
                self.query(right);
                if nested {
                    self.sql.push(')');
                }
            }
        }
    }

    fn select(&mut self, select: &Select, projection: Option<&str>) {
        self.sql.push_str("SELECT ");
        let projection_at = self.sql.len();
        self.sql.push_str(" FROM ");
        let (mut pending, base_alias) = self.source(&select.base);
        let mut aliases = vec![base_alias];
        let mut where_conjuncts = Vec::new();
        for joined in &select.joins {
            let (keyword, has_on) = match joined.join {
                Join::Inner => (" JOIN ", true),
                Join::Left => (" LEFT JOIN ", true),
                Join::Right => (" RIGHT JOIN ", true),
                Join::Full => (" FULL JOIN ", true),
                Join::Cross => (" CROSS JOIN ", false),
                Join::Comma => (", ", false),
            };
            self.sql.push_str(keyword);
            let (brought, alias) = self.source(&joined.source);
            aliases.push(alias);
            let on_confines = matches!(joined.join, Join::Inner | Join::Left) && joined.in_on;
            let preserved = matches!(joined.join, Join::Right | Join::Full);
            if has_on {
                let mut on = vec!["true".to_owned()];
                if on_confines {
                    for reference in &brought {
                        on.push(self.conjunct(reference, Expected::Unconfined));
                    }
                } else if preserved {
                    // Its conjunct belongs in the WHERE; spoiled, in the ON.
                    for reference in &brought {
                        let site = self.sites.len();
                        let conjunct = self.conjunct(reference, Expected::Unconfined);
                        if self.spoiled == Some((site, Spoil::IntoPreservedOn)) {
                            on.push(format!("{}.tenant_id = $tenant", reference.alias));
                        } else {
                            where_conjuncts.push(conjunct);
                        }
                    }
                } else {
                    pending.extend(brought);
                }
                on.retain(|c| !c.is_empty());
                let _ = write!(self.sql, " ON {}", on.join(" AND "));
            } else {
                pending.extend(brought);
            }
        }
        for reference in &pending {
            where_conjuncts.push(self.conjunct(reference, Expected::Unconfined));
        }
        self.where_clause(where_conjuncts, &select.filters, &aliases, select.shape);
        if select.grouped {
            let _ = write!(self.sql, " GROUP BY {}.n", aliases[0]);
        }
        let mut list = match projection {
            Some(projection) => projection.to_owned(),
            None => format!("{}.n", aliases[0]),
        };
        if let Some(query) = &select.projected {
            let mut inner = std::mem::take(&mut self.sql);
            self.query(query);
            std::mem::swap(&mut inner, &mut self.sql);
            let _ = write!(list, ", ({inner})");
        }
        self.sql.insert_str(projection_at, &list);
    }

    /// Writes a `FROM` source; returns the references it brings in that
    /// need a conjunct from the enclosing scope, and the source's alias.
    fn source(&mut self, source: &Source) -> (Vec<Pending>, String) {
        match source {
            Source::Table => {
                let table = self.table();
                let _ = write!(self.sql, "{} {}", table.slot, table.alias);
                let alias = table.alias.clone();
                (vec![table], alias)
            }
            Source::Derived { query, lateral } => {
                if *lateral {
                    self.sql.push_str("LATERAL ");
                }
                self.sql.push('(');
                self.query(query);
                let alias = self.alias("d");
                let _ = write!(self.sql, ") AS {alias}");
                (Vec::new(), alias)
            }
            Source::Cte(index) => {
                if self.ctes == 0 {
                    return self.source(&Source::Table);
                }
                let alias = self.alias("w");
                let _ = write!(self.sql, "c{} {alias}", index % self.ctes);
                (Vec::new(), alias)
            }
        }
    }

    fn where_clause(
        &mut self,
        conjuncts: Vec<String>,
        filters: &[Filter],
        aliases: &[String],
        shape: u64,
    ) {
        let mut parts: Vec<String> = conjuncts.into_iter().filter(|c| !c.is_empty()).collect();
        for filter in filters {
            let text = self.filter(filter, aliases);
            parts.push(text);
        }
        if parts.is_empty() {
            return;
        }
        // Interleave conjuncts and filters, and parenthesize some runs of
        // them: `AND`s nest however they are grouped.
        let count = parts.len();
        parts.rotate_left((shape as usize) % count);
        let mut grouped = Vec::new();
        let mut bits = shape;
        let mut index = 0;
        while index < parts.len() {
            if index + 1 < parts.len() && bits & 1 == 1 {
                grouped.push(format!("({} AND {})", parts[index], parts[index + 1]));
                index += 2;
            } else {
                grouped.push(parts[index].clone());
                index += 1;
            }
            bits >>= 1;
        }
        let _ = write!(self.sql, " WHERE {}", grouped.join(" AND "));
    }

    fn filter(&mut self, filter: &Filter, aliases: &[String]) -> String {
        match filter {
            Filter::Leaf(k) => {
                let alias = &aliases[*k as usize % aliases.len()];
                format!("{alias}.n > {k}")
            }
            Filter::Any(filters) => {
                let parts: Vec<String> = filters.iter().map(|f| self.filter(f, aliases)).collect();
                if parts.is_empty() {
                    "false".into()
                } else {
                    format!("({})", parts.join(" OR "))
                }
            }
            Filter::Exists(query) => format!("EXISTS ({})", self.subquery(query)),
            Filter::In(query) => format!("{}.n IN ({})", aliases[0], self.subquery(query)),
            Filter::Scalar(query) => format!("{}.n < ({})", aliases[0], self.subquery(query)),
        }
    }

    fn subquery(&mut self, query: &Query) -> String {
        let mut inner = std::mem::take(&mut self.sql);
        self.query(query);
        std::mem::swap(&mut inner, &mut self.sql);
        inner
    }

    fn table(&mut self) -> Pending {
        let number = self.references;
        self.references += 1;
        let slot = match self.ad_hoc {
            Some(tables) => tables[number % tables.len()].to_owned(),
            None => format!("{{T{number}}}"),
        };
        Pending {
            alias: self.alias("t"),
            slot,
        }
    }

    fn alias(&mut self, prefix: &str) -> String {
        self.aliases += 1;
        format!("{prefix}{}", self.aliases)
    }

    fn site(&mut self, slot: &str, expected: Expected) -> usize {
        self.sites.push(Site {
            slot: slot.to_owned(),
            expected,
        });
        self.sites.len() - 1
    }

    fn is_spoiled(&self, site: usize) -> bool {
        self.spoiled.is_some_and(|(spoiled, _)| spoiled == site)
    }

    /// The conjunct confining `reference`, as spoiled if it is the one;
    /// empty when removed.
    fn conjunct(&mut self, reference: &Pending, expected: Expected) -> String {
        let site = self.site(&reference.slot, expected);
        if self.ad_hoc.is_some() {
            return String::new();
        }
        let alias = &reference.alias;
        let spoil = match self.spoiled {
            Some((spoiled, spoil)) if spoiled == site => spoil,
            _ => return format!("{alias}.tenant_id = $tenant"),
        };
        match spoil {
            Spoil::Remove | Spoil::IntoPreservedOn => String::new(),
            Spoil::UnderOr => format!("({alias}.tenant_id = $tenant OR {alias}.n = 0)"),
            Spoil::Negated => format!("NOT ({alias}.tenant_id <> $tenant)"),
            Spoil::OtherParam => format!("{alias}.tenant_id = $tenant_id"),
            Spoil::Cast => format!("{alias}.tenant_id = $tenant::bigint"),
            Spoil::OtherAlias => "zz.tenant_id = $tenant".to_owned(),
            Spoil::OtherColumn => format!("{alias}.org_id = $tenant"),
            Spoil::InSubquery => format!("EXISTS (SELECT 1 WHERE {alias}.tenant_id = $tenant)"),
        }
    }
}
