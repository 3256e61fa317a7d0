//! Finding PostgreSQL's server binaries (`initdb`, `pg_ctl`).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::TestSupportError;

/// The server programs a throwaway cluster needs.
#[derive(Debug, Clone)]
pub(crate) struct PgBinaries {
    pub(crate) initdb: PathBuf,
    pub(crate) pg_ctl: PathBuf,
}

impl PgBinaries {
    /// Finds a directory that holds `initdb`, `pg_ctl` and `postgres`.
    ///
    /// `pg_config --bindir` comes first, but it may belong to a client-only
    /// install (libpq-dev) of another version, so the usual server locations
    /// and `PATH` are searched too, newest version first.
    pub(crate) fn locate() -> Result<Self, TestSupportError> {
        let candidates = candidate_dirs();
        candidates
            .iter()
            .find(|dir| is_server_bindir(dir))
            .map(|dir| Self {
                initdb: dir.join("initdb"),
                pg_ctl: dir.join("pg_ctl"),
            })
            .ok_or_else(|| TestSupportError::NoServer {
                searched: candidates
                    .iter()
                    .map(|dir| dir.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

fn is_server_bindir(dir: &Path) -> bool {
    ["initdb", "pg_ctl", "postgres"]
        .iter()
        .all(|program| dir.join(program).is_file())
}

fn candidate_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    dirs.extend(pg_config_bindir());
    dirs.extend(versioned_dirs("/usr/lib/postgresql", "", "bin"));
    dirs.extend(versioned_dirs("/usr", "pgsql-", "bin"));
    dirs.push(PathBuf::from("/usr/local/pgsql/bin"));
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    let mut unique = Vec::with_capacity(dirs.len());
    for dir in dirs {
        if !unique.contains(&dir) {
            unique.push(dir);
        }
    }
    unique
}

fn pg_config_bindir() -> Option<PathBuf> {
    let output = Command::new("pg_config").arg("--bindir").output().ok()?;
    if !output.status.success() {
        return None;
    }
    let dir = String::from_utf8(output.stdout).ok()?;
    Some(PathBuf::from(dir.trim()))
}

/// `<parent>/<prefix><version>/<suffix>` for every installed version, newest
/// first (Debian: `/usr/lib/postgresql/15/bin`; RHEL: `/usr/pgsql-15/bin`).
fn versioned_dirs(parent: &str, prefix: &str, suffix: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut versions: Vec<(Vec<u32>, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let version = parse_version(name.strip_prefix(prefix)?)?;
            Some((version, entry.path().join(suffix)))
        })
        .collect();
    versions.sort_by(|a, b| b.0.cmp(&a.0));
    versions.into_iter().map(|(_, dir)| dir).collect()
}

/// `"15"` → `[15]`, `"9.6"` → `[9, 6]`; anything else is not a version.
fn parse_version(text: &str) -> Option<Vec<u32>> {
    text.split('.').map(|part| part.parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(parse_version("15"), Some(vec![15]));
        assert_eq!(parse_version("9.6"), Some(vec![9, 6]));
        assert_eq!(parse_version("main"), None);
        assert!(parse_version("16") > parse_version("9.6"));
    }

    #[test]
    fn a_directory_without_server_programs_is_not_a_bindir() {
        assert!(!is_server_bindir(Path::new("/nonexistent/tenancy/bin")));
    }
}
