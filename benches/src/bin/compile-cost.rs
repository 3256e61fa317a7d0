//! What `#[tenant_scoped]` costs at compile time: a generated crate of 100
//! `#[tenant_scoped]` structs vs the same structs with only
//! `#[derive(sqlx::FromRow)]`, each built with `cargo build` after its
//! dependencies are built; the median of 3 builds each, the source touched
//! before every build.
//!
//! The crates are written to a temporary directory; they build into
//! `target/tenancy-bench/compile-cost` of this workspace, kept between runs so
//! that their dependencies are compiled once. That target directory is their
//! own: a build of the workspace running at the same time would otherwise
//! make these builds wait for its lock, and the wait would be timed.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use tenancy_benches::harness::{Contender, Settings, Timing, measure};
use tenancy_benches::machine::load_average;
use tenancy_benches::results::{BenchResult, Section, Unit};
use tenancy_benches::{BenchError, Step, cpu};

/// Structs per crate.
const STRUCTS: usize = 100;

/// Builds per crate, alternating between the two.
const BUILDS: usize = 3;

const SCOPED: Variant = Variant {
    package: "compile-cost-scoped",
    contender: "100 `#[tenant_scoped]` + `#[derive(sqlx::FromRow)]` structs",
    scoped: true,
};
const PLAIN: Variant = Variant {
    package: "compile-cost-plain",
    contender: "the same 100 structs with only `#[derive(sqlx::FromRow)]`",
    scoped: false,
};

/// One of the two generated crates.
struct Variant {
    package: &'static str,
    contender: &'static str,
    scoped: bool,
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("compile-cost benchmark failed: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), BenchError> {
    let started = Instant::now();
    let load_average = load_average();
    let workspace = workspace_root()?;
    let source = TempDir::create()?;
    let target = workspace.join("target/tenancy-bench/compile-cost");
    write_crates(source.path(), &workspace)?;

    // Dependencies first, untimed; then the two crates in alternation.
    println!(
        "compile-cost: building the dependencies of the generated crates (once per target dir)"
    );
    cargo_build(source.path(), &target, &[SCOPED.package, PLAIN.package])?;
    let build = |variant: &'static Variant| {
        let source = source.path().to_owned();
        let target = target.clone();
        let mut builds = 0_usize;
        Contender::new(variant.contender, move |iterations| {
            let mut timing = Timing {
                wall: Duration::ZERO,
                cpu: Some(Duration::ZERO),
            };
            for _ in 0..iterations {
                builds += 1;
                touch(&source, variant, builds)?;
                let children_before = cpu::finished_children()?;
                let start = Instant::now();
                cargo_build(&source, &target, &[variant.package])?;
                timing.wall += start.elapsed();
                let cpu = cpu::finished_children()?.saturating_sub(children_before);
                timing.cpu = timing.cpu.map(|total| total + cpu);
            }
            Ok(timing)
        })
    };
    let samples = measure(
        Settings {
            warmup_rounds: 0,
            rounds: BUILDS,
            sample_time: Duration::ZERO,
            time_budget: None,
        },
        vec![build(&SCOPED), build(&PLAIN)],
    )?;
    let mut section = Section::new(
        format!("`cargo build` of the crate alone, dependencies built (median of {BUILDS})"),
        Unit::Seconds,
        &samples,
    );
    section.ratio(&samples, SCOPED.contender, PLAIN.contender, None)?;
    section.notes.push(format!(
        "Each struct has 7 fields; the generated sources are {} and {} lines. CPU time is \
         that of `cargo` and the compiler processes it ran.",
        source_of(&SCOPED, 0).lines().count(),
        source_of(&PLAIN, 0).lines().count()
    ));
    BenchResult {
        id: "compile_cost".to_owned(),
        title: "Macro compile cost".to_owned(),
        description: DESCRIPTION.to_owned(),
        postgres: None,
        elapsed_seconds: started.elapsed().as_secs_f64(),
        load_average,
        sections: vec![section],
    }
    .save()
}

const DESCRIPTION: &str = "\
A crate of 100 structs, written by the benchmark into a temporary directory, in two \
variants: every struct under `#[tenant_scoped]` and `#[derive(sqlx::FromRow)]`, or \
under `#[derive(sqlx::FromRow)]` only. Both depend on `tenancy-sqlx` and `sqlx`, \
built once beforehand; each timed `cargo build` (debug profile) compiles only the \
crate itself, after its source was touched. The two variants alternate.";

/// The workspace this binary belongs to.
fn workspace_root() -> Result<PathBuf, BenchError> {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(Path::to_owned)
        .ok_or_else(|| BenchError::message("the benches crate has no parent directory"))
}

/// A workspace of the two crates, pinned to the versions of this
/// workspace's lock file.
fn write_crates(dir: &Path, workspace: &Path) -> Result<(), BenchError> {
    let tenancy_sqlx = workspace.join("tenancy-sqlx");
    let manifest = format!(
        "[workspace]\nresolver = \"3\"\nmembers = [\"{scoped}\", \"{plain}\"]\n\n\
         [workspace.dependencies]\n\
         tenancy-sqlx = {{ path = {path:?} }}\n\
         sqlx = {{ version = \"0.9.0\", default-features = false, features = [\"derive\", \"postgres\", \"runtime-tokio\"] }}\n",
        scoped = SCOPED.package,
        plain = PLAIN.package,
        path = tenancy_sqlx.display().to_string(),
    );
    write(&dir.join("Cargo.toml"), &manifest)?;
    std::fs::copy(workspace.join("Cargo.lock"), dir.join("Cargo.lock"))
        .step("copy the workspace's Cargo.lock")?;
    for variant in [&SCOPED, &PLAIN] {
        let crate_dir = dir.join(variant.package);
        std::fs::create_dir_all(crate_dir.join("src")).step("create a crate directory")?;
        write(
            &crate_dir.join("Cargo.toml"),
            &format!(
                "[package]\nname = \"{}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
                 [dependencies]\ntenancy-sqlx.workspace = true\nsqlx.workspace = true\n",
                variant.package
            ),
        )?;
        write(&crate_dir.join("src/lib.rs"), &source_of(variant, 0))?;
    }
    Ok(())
}

/// Rewrites the crate's source with a new first line, so that cargo sees a
/// change and rebuilds it, and nothing else changes.
fn touch(dir: &Path, variant: &Variant, build: usize) -> Result<(), BenchError> {
    write(
        &dir.join(variant.package).join("src/lib.rs"),
        &source_of(variant, build),
    )
}

/// The crate's source: `STRUCTS` structs of 7 fields.
fn source_of(variant: &Variant, build: usize) -> String {
    let mut source = format!(
        "//! Generated by the compile-cost benchmark (build {build}).\n\
         #![allow(dead_code)]\n\n"
    );
    if variant.scoped {
        source.push_str("use tenancy_sqlx::tenant_scoped;\n\n");
    }
    for index in 0..STRUCTS {
        let (scoped, key) = if variant.scoped {
            (
                "#[tenant_scoped]\n",
                "    #[tenancy(primary_key, generated)]\n",
            )
        } else {
            ("", "")
        };
        // Writing to a String cannot fail.
        let _ = write!(
            source,
            "{scoped}#[derive(sqlx::FromRow)]\n\
             pub struct Entity{index:03} {{\n\
             \x20   pub tenant_id: i64,\n\
             {key}\
             \x20   pub id: i64,\n\
             \x20   pub name: String,\n\
             \x20   pub status: String,\n\
             \x20   pub amount_cents: i64,\n\
             \x20   pub note: Option<String>,\n\
             \x20   pub archived: bool,\n\
             }}\n\n"
        );
    }
    source
}

/// `cargo build -p <package>...` in `dir`, into `target`; fails with the
/// compiler's output.
fn cargo_build(dir: &Path, target: &Path, packages: &[&str]) -> Result<(), BenchError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        // Only this crate's own settings: not those of an outer `cargo bench`.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .args(["build", "--quiet"]);
    for package in packages {
        command.args(["-p", package]);
    }
    let output = command
        .output()
        .step(format!("run cargo build in {}", dir.display()))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(BenchError::message(format!(
            "cargo build -p {} failed ({}):\n{}",
            packages.join(" -p "),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )))
    }
}

fn write(path: &Path, text: &str) -> Result<(), BenchError> {
    std::fs::write(path, text).step(format!("write {}", path.display()))
}

/// A directory under the system's temporary directory, removed on drop.
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    fn create() -> Result<Self, BenchError> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|since| since.subsec_nanos())
            .unwrap_or_default();
        let path = std::env::temp_dir().join(format!(
            "tenancy-compile-cost-{}-{nanos:x}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path).step(format!("create {}", path.display()))?;
        Ok(TempDir { path })
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Err(error) = std::fs::remove_dir_all(&self.path) {
            eprintln!("could not remove {}: {error}", self.path.display());
        }
    }
}
