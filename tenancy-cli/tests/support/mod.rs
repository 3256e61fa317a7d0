//! Running the built `tenancy` binary, and what its tests share.

#![allow(dead_code)]

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use sqlx::{AssertSqlSafe, PgPool};
use tenancy_sqlx::ddl::TableSet;
use tenancy_sqlx::manifest::Manifest;
use tenancy_sqlx::rls::RlsPolicy;
use tenancy_sqlx::testing::APP_ROLE;

pub type TestResult = Result<(), Box<dyn std::error::Error>>;
pub type BoxError = Box<dyn std::error::Error>;

/// What a run of the binary printed, and how it exited.
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exit code {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// The binary, with no `DATABASE_URL` of the environment.
pub fn command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tenancy"));
    command.env_remove("DATABASE_URL");
    command
}

/// Runs the binary to the end.
pub fn tenancy(args: &[&str]) -> Result<Output, BoxError> {
    let output = command().args(args).output()?;
    Ok(Output {
        code: output.status.code(),
        stdout: String::from_utf8(output.stdout)?,
        stderr: String::from_utf8(output.stderr)?,
    })
}

/// Its standard output, as JSON.
pub fn json_of(output: &Output) -> Result<serde_json::Value, BoxError> {
    serde_json::from_str(&output.stdout).map_err(|error| format!("{error}: {output}").into())
}

/// Writes the manifest of `tables` for the test application role.
pub fn write_manifest(dir: &Path, name: &str, tables: &TableSet) -> Result<PathBuf, BoxError> {
    let manifest = Manifest::new(tables, &RlsPolicy::for_role(APP_ROLE)?)?;
    let path = dir.join(name);
    std::fs::write(&path, manifest.to_json())?;
    Ok(path)
}

pub async fn execute(pool: &PgPool, sql: &str) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
        .execute(pool)
        .await
        .map(drop)
}

/// Writes migration files (`name` → SQL) into `dir`.
pub fn write_migrations(dir: &Path, files: &[(&str, &str)]) -> Result<(), BoxError> {
    std::fs::create_dir_all(dir)?;
    for (name, sql) in files {
        std::fs::write(dir.join(name), sql)?;
    }
    Ok(())
}

/// Creates schemas `tenant_0001` .. `tenant_<count>`.
pub async fn tenant_schemas(owner: &PgPool, count: usize) -> Result<(), BoxError> {
    let ddl: String = (1..=count)
        .map(|n| format!("CREATE SCHEMA tenant_{n:04};"))
        .collect();
    execute(owner, &ddl).await?;
    Ok(())
}
