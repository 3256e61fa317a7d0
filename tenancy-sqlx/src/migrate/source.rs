//! The migrations to run, read the way sqlx reads them: a `migrations/`
//! directory of `<version>_<name>.up.sql` / `.down.sql` (or plain `.sql`)
//! files, or what `sqlx::migrate!()` embedded. sqlx's checksums and its
//! `-- no-transaction` directive are kept as sqlx computes them, so the
//! same files work with `sqlx migrate` and with this runner.

use std::collections::BTreeMap;
use std::path::Path;

use sqlx::migrate::{Migration, Migrator};

use super::MigrateError;

/// A checked, ordered set of migrations: each version has one up script
/// and at most one down script.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use tenancy_sqlx::migrate::Migrations;
///
/// // Read at run time:
/// let read = Migrations::from_dir("./migrations").await?;
/// // From any sqlx `Migrator`; `sqlx::migrate!("./migrations")` embeds one
/// // at compile time.
/// let migrator = sqlx::migrate::Migrator::new(std::path::Path::new("./migrations")).await?;
/// let embedded = Migrations::from_migrator(&migrator)?;
/// assert_eq!(embedded.latest(), read.latest());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Migrations {
    /// By version, ascending.
    entries: BTreeMap<i64, Entry>,
}

/// One version: its up script and, if reversible, its down script.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) up: Migration,
    pub(crate) down: Option<Migration>,
}

impl Migrations {
    /// The migrations of a sqlx [`Migrator`] (from `sqlx::migrate!()` or
    /// [`Migrator::new`]), with sqlx's checksums.
    pub fn from_migrator(migrator: &Migrator) -> Result<Self, MigrateError> {
        Self::from_list(migrator.iter().cloned())
    }

    /// Reads the migrations in `dir` with sqlx's own reader.
    pub async fn from_dir(dir: impl AsRef<Path>) -> Result<Self, MigrateError> {
        let dir = dir.as_ref();
        let migrator =
            Migrator::new(dir.to_path_buf())
                .await
                .map_err(|error| MigrateError::Source {
                    reason: format!("{}: {error}", dir.display()),
                })?;
        Self::from_migrator(&migrator)
    }

    /// Migrations from a list (for tests and generated migrations).
    pub fn from_list(
        migrations: impl IntoIterator<Item = Migration>,
    ) -> Result<Self, MigrateError> {
        let mut ups: BTreeMap<i64, Migration> = BTreeMap::new();
        let mut downs: BTreeMap<i64, Migration> = BTreeMap::new();
        for migration in migrations {
            let map = if migration.migration_type.is_down_migration() {
                &mut downs
            } else {
                &mut ups
            };
            if let Some(first) = map.get(&migration.version) {
                return Err(MigrateError::DuplicateVersion {
                    version: migration.version,
                    first: first.description.to_string(),
                    second: migration.description.to_string(),
                });
            }
            map.insert(migration.version, migration);
        }
        if let Some((version, down)) = downs.iter().find(|(version, _)| !ups.contains_key(version))
        {
            return Err(MigrateError::DownWithoutUp {
                version: *version,
                description: down.description.to_string(),
            });
        }
        let entries = ups
            .into_iter()
            .map(|(version, up)| {
                let down = downs.remove(&version);
                (version, Entry { up, down })
            })
            .collect();
        Ok(Migrations { entries })
    }

    /// The highest version, if there is any migration.
    #[must_use]
    pub fn latest(&self) -> Option<i64> {
        self.entries.keys().next_back().copied()
    }

    /// Every version, ascending.
    pub fn versions(&self) -> impl Iterator<Item = i64> + '_ {
        self.entries.keys().copied()
    }

    /// How many versions there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The up migration of `version`.
    #[must_use]
    pub fn up(&self, version: i64) -> Option<&Migration> {
        self.entries.get(&version).map(|entry| &entry.up)
    }

    /// The down migration of `version`, if it is reversible.
    #[must_use]
    pub fn down(&self, version: i64) -> Option<&Migration> {
        self.entries
            .get(&version)
            .and_then(|entry| entry.down.as_ref())
    }

    /// Every up migration up to `to` (all with `None`), ascending.
    pub(crate) fn ups_to(&self, to: Option<i64>) -> impl Iterator<Item = &Migration> + '_ {
        self.entries
            .values()
            .map(|entry| &entry.up)
            .filter(move |up| to.is_none_or(|to| up.version <= to))
    }
}

#[cfg(test)]
mod tests {
    use sqlx::SqlSafeStr;
    use sqlx::migrate::MigrationType;

    use super::*;

    fn migration(version: i64, kind: MigrationType, sql: &'static str) -> Migration {
        Migration::new(version, "step".into(), kind, sql.into_sql_str(), false)
    }

    #[test]
    fn ups_and_downs_pair_by_version() {
        let migrations = Migrations::from_list([
            migration(2, MigrationType::ReversibleUp, "ALTER TABLE t ADD c int"),
            migration(1, MigrationType::Simple, "CREATE TABLE t ()"),
            migration(2, MigrationType::ReversibleDown, "ALTER TABLE t DROP c"),
        ])
        .unwrap();
        assert_eq!(migrations.versions().collect::<Vec<_>>(), [1, 2]);
        assert_eq!(migrations.latest(), Some(2));
        assert!(migrations.down(1).is_none());
        assert_eq!(
            migrations.down(2).map(|down| down.sql.as_str()),
            Some("ALTER TABLE t DROP c")
        );
        // sqlx's checksum: SHA-384 of the script.
        assert_eq!(migrations.up(1).map(|up| up.checksum.len()), Some(48));
    }

    #[test]
    fn duplicates_and_orphan_downs_are_refused() {
        let duplicate = Migrations::from_list([
            migration(1, MigrationType::Simple, "SELECT 1"),
            migration(1, MigrationType::ReversibleUp, "SELECT 2"),
        ]);
        assert!(matches!(
            duplicate,
            Err(MigrateError::DuplicateVersion { version: 1, .. })
        ));
        let orphan =
            Migrations::from_list([migration(3, MigrationType::ReversibleDown, "SELECT 1")]);
        assert!(matches!(
            orphan,
            Err(MigrateError::DownWithoutUp { version: 3, .. })
        ));
    }
}
