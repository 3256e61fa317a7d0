//! Finds the path of the runtime crate that generated code names: the user
//! may depend on `tenancy-core` directly, or only on `tenancy-sqlx`, which
//! re-exports all of it at its root, either under its own name or renamed.

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
    manifest::runtime_crate().map(|name| path(&name))
}

/// `::name`.
fn path(name: &str) -> Path {
    let ident = Ident::new(name, Span::call_site());
    parse_quote!(::#ident)
}

/// Reads the names from the manifests themselves, without running cargo:
/// a subprocess per compiler process costs more than every expansion of a
/// small crate together.
mod manifest {
    use std::collections::HashMap;
    use std::path::{Path, PathBuf};
    use std::sync::{Mutex, PoisonError};
    use std::time::SystemTime;
    use std::{env, fs};

    use toml_edit::{DocumentMut, Item, TableLike};

    /// The runtime crates, the preferred first: `tenancy-core` when the
    /// user depends on it directly.
    const RUNTIME_CRATES: [&str; 2] = ["tenancy-core", "tenancy-sqlx"];

    /// The crate name under which the package being compiled (its
    /// `CARGO_MANIFEST_DIR`) reaches a runtime crate, if it does.
    #[cfg_attr(test, allow(dead_code))]
    pub(super) fn runtime_crate() -> Option<String> {
        let dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR")?);
        let manifest = dir.join("Cargo.toml");
        let stamp = modified(&manifest);
        // One compiler process expands every table of a crate; a language
        // server keeps the macro loaded while the manifest is edited.
        static CACHE: Mutex<Option<HashMap<PathBuf, Cached>>> = Mutex::new(None);
        let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
        let cache = cache.get_or_insert_with(HashMap::new);
        if let Some(cached) = cache.get(&dir)
            && cached.manifest == stamp
            && cached.workspace.as_ref().map(|(path, _)| modified(path))
                == cached.workspace.as_ref().map(|(_, stamp)| *stamp)
        {
            return cached.name.clone();
        }
        let read = read(&manifest);
        let name = read.as_ref().and_then(|(package, workspace)| {
            runtime_crate_in(package, workspace.as_ref().map(|(_, doc)| doc))
        });
        let workspace = read.and_then(|(_, workspace)| workspace).map(|(path, _)| {
            let stamp = modified(&path);
            (path, stamp)
        });
        cache.insert(
            dir,
            Cached {
                manifest: stamp,
                workspace,
                name: name.clone(),
            },
        );
        name
    }

    struct Cached {
        manifest: Option<SystemTime>,
        workspace: Option<(PathBuf, Option<SystemTime>)>,
        name: Option<String>,
    }

    fn modified(path: &Path) -> Option<SystemTime> {
        fs::metadata(path).and_then(|meta| meta.modified()).ok()
    }

    fn parse(path: &Path) -> Option<DocumentMut> {
        fs::read_to_string(path).ok()?.parse().ok()
    }

    /// The package's manifest and, if it has one, its workspace's.
    fn read(manifest: &Path) -> Option<(DocumentMut, Option<(PathBuf, DocumentMut)>)> {
        let package = parse(manifest)?;
        let workspace = if package.get("workspace").is_some() {
            None
        } else {
            workspace_root(manifest, &package)
        };
        Some((package, workspace))
    }

    /// The workspace the package belongs to, as cargo finds it: the path in
    /// `package.workspace`, else the nearest ancestor directory whose
    /// manifest has a `[workspace]` table.
    fn workspace_root(manifest: &Path, package: &DocumentMut) -> Option<(PathBuf, DocumentMut)> {
        let dir = manifest.parent()?;
        let explicit = package
            .get("package")
            .and_then(|package| package.get("workspace"))
            .and_then(Item::as_str);
        if let Some(explicit) = explicit {
            let path = dir.join(explicit).join("Cargo.toml");
            let doc = parse(&path)?;
            return Some((path, doc));
        }
        dir.ancestors().skip(1).find_map(|ancestor| {
            let path = ancestor.join("Cargo.toml");
            let doc = parse(&path)?;
            doc.get("workspace").is_some().then_some((path, doc))
        })
    }

    /// The crate name of the preferred runtime crate the package reaches:
    /// its own (`-` read as `_`) if it is one of them, else the name of the
    /// dependency that is one, renamed or not, inherited from the workspace
    /// or not. Looks in `[dependencies]` and `[dev-dependencies]`, also
    /// under `[target.'..']`.
    pub(super) fn runtime_crate_in(
        package: &DocumentMut,
        workspace: Option<&DocumentMut>,
    ) -> Option<String> {
        let own = package
            .get("package")
            .and_then(|package| package.get("name"))
            .and_then(Item::as_str);
        // A workspace's root package inherits from its own manifest.
        let inherited = workspace
            .unwrap_or(package)
            .get("workspace")
            .and_then(|workspace| workspace.get("dependencies")?.as_table_like());
        let mut found: [Option<String>; 2] = [None, None];
        for (name, dependency) in dependencies(package) {
            let package_of = |entry: &Item| {
                entry
                    .get("package")
                    .and_then(Item::as_str)
                    .map_or_else(|| name.to_owned(), str::to_owned)
            };
            let from_workspace = dependency
                .get("workspace")
                .and_then(Item::as_bool)
                .unwrap_or(false);
            let target = match inherited.and_then(|deps| deps.get(name)) {
                Some(entry) if from_workspace => package_of(entry),
                _ => package_of(dependency),
            };
            if let Some(at) = RUNTIME_CRATES.iter().position(|runtime| *runtime == target) {
                found[at].get_or_insert_with(|| name.replace('-', "_"));
            }
        }
        if let Some(at) = own.and_then(|own| RUNTIME_CRATES.iter().position(|r| *r == own)) {
            found[at] = own.map(|own| own.replace('-', "_"));
        }
        found.into_iter().flatten().next()
    }

    /// Every `(name, entry)` of the package's dependency tables.
    fn dependencies(package: &DocumentMut) -> impl Iterator<Item = (&str, &Item)> {
        let targets = package
            .get("target")
            .and_then(Item::as_table_like)
            .into_iter()
            .flat_map(|targets| {
                targets
                    .iter()
                    .filter_map(|(_, target)| target.as_table_like())
            });
        std::iter::once(package.as_table() as &dyn TableLike)
            .chain(targets)
            .flat_map(|table| {
                ["dependencies", "dev-dependencies"]
                    .into_iter()
                    .filter_map(|kind| table.get(kind)?.as_table_like())
            })
            .flat_map(TableLike::iter)
    }
}

#[cfg(test)]
mod tests {
    use quote::ToTokens;
    use toml_edit::DocumentMut;

    use super::*;

    fn found(package: &str, workspace: Option<&str>) -> Option<String> {
        let package: DocumentMut = package.parse().ok()?;
        let workspace: Option<DocumentMut> = workspace.and_then(|text| text.parse().ok());
        manifest::runtime_crate_in(&package, workspace.as_ref())
    }

    #[test]
    fn prefers_core_then_sqlx() {
        let both = "[package]\nname = \"app\"\n[dependencies]\ntenancy-sqlx = \"0.1\"\ntenancy-core = \"0.1\"\n";
        assert_eq!(found(both, None).as_deref(), Some("tenancy_core"));
        let sqlx =
            "[package]\nname = \"app\"\n[dependencies]\ntenancy-sqlx = { version = \"0.1\" }\n";
        assert_eq!(found(sqlx, None).as_deref(), Some("tenancy_sqlx"));
        let neither = "[package]\nname = \"app\"\n[dependencies]\nsqlx = \"0.9\"\n";
        assert_eq!(found(neither, None), None);
    }

    #[test]
    fn follows_renamed_dependencies() {
        let inline = "[dependencies]\ndb = { package = \"tenancy-sqlx\", version = \"0.1\" }\n";
        assert_eq!(found(inline, None).as_deref(), Some("db"));
        let table = "[dependencies.tenancy]\npackage = \"tenancy-sqlx\"\npath = \"../x\"\n";
        assert_eq!(found(table, None).as_deref(), Some("tenancy"));
        let dashed = "[dependencies]\nmy-db = { package = \"tenancy-core\", path = \"x\" }\n";
        assert_eq!(found(dashed, None).as_deref(), Some("my_db"));
        // A crate whose own name is a runtime crate's, under another name.
        let other = "[dependencies]\ntenancy-core = { package = \"not-tenancy\", path = \"x\" }\n";
        assert_eq!(found(other, None), None);
    }

    #[test]
    fn follows_dependencies_inherited_from_the_workspace() {
        let member = "[package]\nname = \"app\"\n[dependencies]\ndb.workspace = true\n";
        let workspace = "[workspace]\nmembers = [\"app\"]\n[workspace.dependencies]\ndb = { package = \"tenancy-sqlx\", path = \"x\" }\n";
        assert_eq!(found(member, Some(workspace)).as_deref(), Some("db"));
        let plain = "[dependencies]\ntenancy-core = { workspace = true }\n";
        let workspace = "[workspace.dependencies]\ntenancy-core = \"0.1\"\n";
        assert_eq!(
            found(plain, Some(workspace)).as_deref(),
            Some("tenancy_core")
        );
    }

    #[test]
    fn looks_in_dev_and_target_dependencies() {
        let dev = "[dev-dependencies]\ntenancy-sqlx = \"0.1\"\n";
        assert_eq!(found(dev, None).as_deref(), Some("tenancy_sqlx"));
        let target = "[target.'cfg(unix)'.dependencies]\ntenancy-core = \"0.1\"\n";
        assert_eq!(found(target, None).as_deref(), Some("tenancy_core"));
    }

    #[test]
    fn the_runtime_crates_themselves_use_their_own_names() {
        // `tenancy-core` declares `extern crate self as tenancy_core;`, so
        // the same path works in its own modules, doc tests and
        // integration tests.
        let core = "[package]\nname = \"tenancy-core\"\n[dev-dependencies]\ntenancy-sqlx = { path = \"x\" }\n";
        assert_eq!(found(core, None).as_deref(), Some("tenancy_core"));
        let sqlx =
            "[package]\nname = \"tenancy-sqlx\"\n[dependencies]\ntenancy-core = { path = \"x\" }\n";
        assert_eq!(found(sqlx, None).as_deref(), Some("tenancy_core"));
    }

    #[test]
    fn explicit_path_wins() {
        let explicit: Path = parse_quote!(my_app::db::tenancy);
        let located = locate(Caller::Attribute(Kind::TenantScoped), Some(&explicit))
            .map(|p| p.to_token_stream().to_string());
        assert_eq!(located.ok().as_deref(), Some("my_app :: db :: tenancy"));
        assert_eq!(path("db").to_token_stream().to_string(), ":: db");
    }
}
