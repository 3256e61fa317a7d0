//! Finds the path of the runtime crate that generated code names: the user
//! may depend on `tenancy-core` directly, or only on `tenancy-sqlx`, which
//! re-exports all of it at its root.

use proc_macro_crate::{Error, FoundCrate};
use proc_macro2::Span;
use syn::{Ident, Path, parse_quote};

use crate::ast::Kind;

/// The macro whose expansion needs the runtime crate.
#[derive(Clone, Copy)]
pub(crate) enum Caller {
    /// `#[tenant_scoped]` or `#[global_table]`.
    Attribute(Kind),
    /// `tenant_sql!`.
    TenantSql,
}

impl Caller {
    /// The macro as used, and how it is told the runtime crate's path.
    fn usage(self) -> (String, String) {
        let path = "crate = \"path::to::tenancy_core\"";
        match self {
            Caller::Attribute(kind) => (kind.attribute(), format!("#[{}({path})]", kind.name())),
            Caller::TenantSql => ("tenant_sql!".to_owned(), format!("tenant_sql!({path}, ..)")),
        }
    }
}

/// The runtime crate's path: `crate = ".."` if given, else the crate found
/// in the user's `Cargo.toml`.
pub(crate) fn locate(caller: Caller, explicit: Option<&Path>) -> syn::Result<Path> {
    match explicit {
        Some(path) => Ok(path.clone()),
        None => from_manifest().ok_or_else(|| {
            let (usage, option) = caller.usage();
            syn::Error::new(
                Span::call_site(),
                format!(
                    "`{usage}` needs the `tenancy-sqlx` or `tenancy-core` crate in this package's [dependencies]; if it is re-exported under another name, say where with `{option}`"
                ),
            )
        }),
    }
}

/// The macro crate's own tests depend on neither runtime crate; they expand
/// as a user of `tenancy-core` would see it.
#[cfg(test)]
fn from_manifest() -> Option<Path> {
    Some(parse_quote!(::tenancy_core))
}

#[cfg(not(test))]
fn from_manifest() -> Option<Path> {
    use proc_macro_crate::crate_name;
    choose(crate_name("tenancy-core"), crate_name("tenancy-sqlx"))
}

/// Prefers `tenancy-core` when the user depends on it directly.
///
/// Inside a runtime crate itself (`FoundCrate::Itself`) the path is still
/// `::tenancy_core`: that crate declares `extern crate self as tenancy_core;`
/// so the same path works in its own modules, its doc tests and its
/// integration tests, where `crate::` would name the wrong crate.
fn choose(core: Result<FoundCrate, Error>, sqlx: Result<FoundCrate, Error>) -> Option<Path> {
    let path = |found: FoundCrate, own_name: &str| -> Path {
        let name = match found {
            FoundCrate::Itself => own_name.to_owned(),
            FoundCrate::Name(name) => name,
        };
        let ident = Ident::new(&name, Span::call_site());
        parse_quote!(::#ident)
    };
    match (core, sqlx) {
        (Ok(found), _) => Some(path(found, "tenancy_core")),
        (Err(_), Ok(found)) => Some(path(found, "tenancy_sqlx")),
        (Err(_), Err(_)) => None,
    }
}

#[cfg(test)]
mod tests {
    use quote::ToTokens;

    use super::*;

    fn not_found() -> Result<FoundCrate, Error> {
        Err(Error::CrateNotFound {
            crate_name: "tenancy-core".into(),
            path: "Cargo.toml".into(),
        })
    }

    fn chosen(core: Result<FoundCrate, Error>, sqlx: Result<FoundCrate, Error>) -> Option<String> {
        choose(core, sqlx).map(|path| path.to_token_stream().to_string().replace(' ', ""))
    }

    #[test]
    fn prefers_core_then_sqlx() {
        let core = || Ok(FoundCrate::Name("tenancy_core".into()));
        let sqlx = || Ok(FoundCrate::Name("tenancy_sqlx".into()));
        assert_eq!(chosen(core(), sqlx()).as_deref(), Some("::tenancy_core"));
        assert_eq!(
            chosen(not_found(), sqlx()).as_deref(),
            Some("::tenancy_sqlx")
        );
        assert_eq!(chosen(not_found(), not_found()), None);
    }

    #[test]
    fn follows_renamed_dependencies() {
        let renamed = Ok(FoundCrate::Name("tenancy".into()));
        assert_eq!(chosen(not_found(), renamed).as_deref(), Some("::tenancy"));
    }

    #[test]
    fn itself_resolves_through_the_extern_crate_alias() {
        assert_eq!(
            chosen(Ok(FoundCrate::Itself), not_found()).as_deref(),
            Some("::tenancy_core")
        );
    }

    #[test]
    fn explicit_path_wins() {
        let explicit: Path = parse_quote!(my_app::db::tenancy);
        let located = locate(Caller::Attribute(Kind::TenantScoped), Some(&explicit))
            .map(|p| p.to_token_stream().to_string());
        assert_eq!(located.ok().as_deref(), Some("my_app :: db :: tenancy"));
    }
}
