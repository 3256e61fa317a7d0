//! Checks the SQL with `tenancy-sql`, matches its `$name` parameters with
//! the macro's arguments, and turns what only the tables' metadata can
//! settle into assertions for the compiler to evaluate.

use syn::Path;
use tenancy_sql::{Analysis, Backend, Diagnostic, Param, Problem, QualifiedName, Rule, Segment};

use super::input::Input;
use crate::errors::Errors;
use crate::symbol::edit_distance;

/// The statement, checked: everything the expansion writes.
pub(crate) struct Checked {
    /// The SQL as written.
    pub(crate) source: String,
    /// The distinct table types, in order of first appearance.
    pub(crate) tables: Vec<Path>,
    pub(crate) pieces: Vec<Piece>,
    /// For each named parameter in the order of the SQL, its name and the
    /// index of its argument.
    pub(crate) params: Vec<(String, usize)>,
    /// What each table's metadata must meet.
    pub(crate) assertions: Vec<Assertion>,
    /// Why the SQL cannot run on SQLite, rendered, if it cannot.
    pub(crate) postgres_only: Option<String>,
    pub(crate) read_only: bool,
}

/// One piece of the statement's text.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Piece {
    Text(String),
    /// An index into [`Checked::tables`].
    Table(usize),
    Tenant,
    /// An index into [`Checked::params`].
    Param(usize),
}

/// A rule one table's tenant column must meet, and the compile error when
/// it does not.
pub(crate) struct Assertion {
    /// An index into [`Checked::tables`].
    pub(crate) table: usize,
    pub(crate) rule: Rule,
    /// The error, rendered with the SQL line and a caret, in parts to be
    /// joined by the tenant column's name, which only the table knows.
    pub(crate) message: Vec<String>,
}

/// Stands for the tenant column in a rendered message until the compiler
/// puts the table's own in. SQL that holds it itself (it would need NUL
/// characters) gets the message with `<tenant column>` instead.
const COLUMN: &str = "\u{0}tenant column\u{0}";

/// Checks the input, and reports every problem at once, each at the tokens
/// it is about (a problem inside the SQL at the literal, with the SQL line
/// and a caret in its message, since a compile error cannot point inside a
/// string).
pub(crate) fn check(input: &Input) -> syn::Result<Checked> {
    let mut errors = Errors::default();
    let checked = checked(input, &mut errors);
    match (errors.finish(), checked) {
        (Ok(()), Some(checked)) => Ok(checked),
        (Err(error), _) => Err(error),
        // Every `None` above comes with an error; this one is never seen.
        (Ok(()), None) => Err(syn::Error::new(
            input.sql.span(),
            "`tenant_sql!` could not check this SQL",
        )),
    }
}

fn checked(input: &Input, errors: &mut Errors) -> Option<Checked> {
    let sql = input.sql.value();
    let at_sql = |errors: &mut Errors, diagnostic: &Diagnostic| {
        errors.push(syn::Error::new(input.sql.span(), diagnostic.render(&sql)));
    };
    let analysis = match tenancy_sql::check(&sql) {
        Ok(analysis) => analysis,
        Err(diagnostics) => {
            for diagnostic in &diagnostics {
                at_sql(errors, diagnostic);
            }
            check_args(input, None, errors);
            return None;
        }
    };
    let params = check_args(input, Some(&analysis), errors);
    let tables = table_paths(&analysis, &mut |diagnostic| at_sql(errors, &diagnostic))?;
    let params = params?;
    let pieces = pieces(&analysis, &tables);
    let assertions = assertions(&analysis, &tables);
    Some(Checked {
        postgres_only: postgres_only(&analysis),
        read_only: analysis.is_read_only(),
        source: sql,
        tables: tables.into_iter().map(|(_, path)| path).collect(),
        pieces,
        params,
        assertions,
    })
}

/// Matches the arguments with the SQL's named parameters: every `$name`
/// needs an argument, every argument a `$name`, none twice, and none may
/// be called `tenant`. Returns, for each named parameter, its argument.
fn check_args(
    input: &Input,
    analysis: Option<&Analysis>,
    errors: &mut Errors,
) -> Option<Vec<(String, usize)>> {
    let mut ok = true;
    let names: Vec<String> = input.args.iter().map(|arg| arg.sql_name()).collect();
    for (index, arg) in input.args.iter().enumerate() {
        let name = &names[index];
        if name == Param::Tenant.name() {
            errors.at(
                &arg.name,
                "`$tenant` is always bound to the witness's key, never to a value: give this \
                 parameter another name, here and in the SQL",
            );
            ok = false;
        } else if names[..index].contains(name) {
            errors.at(&arg.name, format!("`{name}` is given twice"));
            ok = false;
        }
    }
    let analysis = analysis?;
    let template = analysis.template();
    let named: Vec<&str> = template
        .params()
        .iter()
        .filter_map(|param| match param {
            Param::Named(name) => Some(name.as_str()),
            Param::Tenant => None,
        })
        .collect();
    let mut params = Vec::new();
    for (index, param) in template.params().iter().enumerate() {
        let Param::Named(name) = param else { continue };
        match names.iter().position(|given| given == name) {
            Some(arg) => params.push((name.clone(), arg)),
            None => {
                let unused: Vec<&str> = names
                    .iter()
                    .map(String::as_str)
                    .filter(|given| !named.contains(given))
                    .collect();
                let help = match closest(name, &unused) {
                    Some(near) => format!(
                        "pass `{name} = ..` to `tenant_sql!` after the SQL, or write `${near}` \
                         for the parameter `{near}` that is given"
                    ),
                    None => format!("pass `{name} = ..` to `tenant_sql!` after the SQL"),
                };
                let span = analysis.param_span(index).unwrap_or_default();
                let diagnostic =
                    Diagnostic::new(Problem::Parameter, span, format!("`${name}` has no value"))
                        .with_help(help);
                errors.push(syn::Error::new(
                    input.sql.span(),
                    diagnostic.render(analysis.sql()),
                ));
                ok = false;
            }
        }
    }
    for (index, arg) in input.args.iter().enumerate() {
        let name = &names[index];
        if named.contains(&name.as_str()) || name == Param::Tenant.name() {
            continue;
        }
        let message = match closest(name, &named) {
            Some(near) => format!(
                "`{name}` is not used: the SQL has no `${name}` (did you mean `{near}`, for `${near}`?)"
            ),
            None => format!("`{name}` is not used: the SQL has no `${name}`"),
        };
        errors.at(&arg.name, message);
        ok = false;
    }
    ok.then_some(params)
}

/// The likeliest intent for a misspelt name.
fn closest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|candidate| (edit_distance(name, candidate), *candidate))
        .filter(|(distance, _)| *distance <= 2)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Each distinct `{Type}`'s text and Rust path, in order of appearance; a
/// slot that is no Rust path is reported.
fn table_paths(
    analysis: &Analysis,
    report: &mut impl FnMut(Diagnostic),
) -> Option<Vec<(String, Path)>> {
    let mut tables: Vec<(String, Path)> = Vec::new();
    let mut ok = true;
    for table in analysis.tables() {
        let name = table.type_name();
        if tables.iter().any(|(known, _)| known == name) {
            continue;
        }
        match syn::parse_str::<Path>(name) {
            Ok(path) => tables.push((name.to_owned(), path)),
            _ => {
                report(
                    Diagnostic::new(
                        Problem::Slot,
                        table.span(),
                        format!("`{{{name}}}` is not a Rust type path"),
                    )
                    .with_help(
                        "name the table's struct, for example `{Order}` or `{billing::Invoice}`",
                    ),
                );
                ok = false;
            }
        }
    }
    ok.then_some(tables)
}

/// The template as the expansion writes it. Adjacent pieces are kept
/// apart by a space where a table's quoted name or a placeholder would
/// otherwise run into the text beside it, as `tenancy-sql` renders them.
fn pieces(analysis: &Analysis, tables: &[(String, Path)]) -> Vec<Piece> {
    let template = analysis.template();
    let table_of = |slot: usize| {
        let name = template.slots().get(slot).map_or("", String::as_str);
        tables
            .iter()
            .position(|(known, _)| known == name)
            .unwrap_or(0)
    };
    let mut named = 0;
    let param_of: Vec<Piece> = template
        .params()
        .iter()
        .map(|param| match param {
            Param::Tenant => Piece::Tenant,
            Param::Named(_) => {
                named += 1;
                Piece::Param(named - 1)
            }
        })
        .collect();
    let mut pieces: Vec<Piece> = Vec::new();
    for segment in template.segments() {
        let piece = match segment {
            Segment::Text(text) => Piece::Text(text.clone()),
            Segment::Table(slot) => Piece::Table(table_of(*slot)),
            Segment::Param(index) => match param_of.get(*index) {
                Some(Piece::Tenant) => Piece::Tenant,
                Some(Piece::Param(named)) => Piece::Param(*named),
                _ => continue,
            },
        };
        push(&mut pieces, piece);
    }
    pieces
}

/// Appends `piece`, separating it from the piece before by a space where
/// the two would join into one token.
fn push(pieces: &mut Vec<Piece>, piece: Piece) {
    // What the runtime writes for a table or a placeholder begins and ends
    // with one of these characters (`"`, `$`, a digit, `?`).
    let joins = |c: char| c.is_alphanumeric() || matches!(c, '_' | '$' | '"' | '\'' | '?' | '.');
    let Some(last) = pieces.last_mut() else {
        pieces.push(piece);
        return;
    };
    match (last, piece) {
        (Piece::Text(before), Piece::Text(text)) => before.push_str(&text),
        (Piece::Text(before), piece) => {
            if before.ends_with(joins) {
                before.push(' ');
            }
            pieces.push(piece);
        }
        (_, Piece::Text(text)) if text.starts_with(joins) => {
            pieces.push(Piece::Text(format!(" {text}")));
        }
        (_, Piece::Text(text)) => pieces.push(Piece::Text(text)),
        (_, piece) => {
            pieces.push(Piece::Text(" ".to_owned()));
            pieces.push(piece);
        }
    }
}

/// One assertion per requirement of each table reference.
fn assertions(analysis: &Analysis, tables: &[(String, Path)]) -> Vec<Assertion> {
    let sql = analysis.sql();
    let mut assertions = Vec::new();
    for table in analysis.tables() {
        let index = tables
            .iter()
            .position(|(known, _)| known == table.type_name())
            .unwrap_or(0);
        for requirement in table.requirements() {
            let message = if sql.contains(COLUMN) {
                vec![requirement.diagnostic(None).render(sql)]
            } else {
                let rendered = requirement.diagnostic(Some(COLUMN)).render(sql);
                rendered.split(COLUMN).map(str::to_owned).collect()
            };
            assertions.push(Assertion {
                table: index,
                rule: requirement.rule().clone(),
                message,
            });
        }
    }
    assertions
}

/// Why the SQL cannot run on SQLite, as the error the runtime reports.
fn postgres_only(analysis: &Analysis) -> Option<String> {
    let refused = analysis
        .template()
        .render(Backend::Sqlite, |_| QualifiedName::unqualified("t"))
        .err()?;
    let tenancy_sql::RenderError::NotSqlite { text, span } = refused;
    let diagnostic = Diagnostic::new(
        Problem::Unsupported,
        span,
        format!("`{text}` is PostgreSQL-only syntax that SQLite reads differently"),
    )
    .with_help(
        "run this statement on PostgreSQL only, or write it in syntax both read alike \
         (`CAST(x AS text)` for `x::text`)",
    );
    Some(diagnostic.render(analysis.sql()))
}
