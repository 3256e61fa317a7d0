//! What `#[tenant_scoped]` costs at compile time: a generated crate of 100
//! `#[tenant_scoped]` structs vs the same structs with only
//! `#[derive(sqlx::FromRow)]`, each built with `cargo build` after its
//! dependencies are built; the median of several builds each, the source
//! touched before every build.
//!
//! ```text
//! compile-cost [--builds N] [--baseline <git revision>]
//! ```
//!
//! `--baseline` adds a third crate, the same 100 `#[tenant_scoped]` structs
//! built against the tenancy crates of an earlier revision of this
//! repository (exported with `git archive`), so that a change to the macros
//! is measured before and after in one run, the three crates alternating.
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
use tenancy_benches::results::{BenchResult, Load, Section, Unit};
use tenancy_benches::{BenchError, Step, cpu};

/// Structs per crate.
const STRUCTS: usize = 100;

/// Builds per crate unless `--builds` says otherwise, alternating.
const DEFAULT_BUILDS: usize = 5;

/// The macro's cost over `derive(FromRow)` alone that is acceptable.
const GOAL: f64 = 1.3;

const SCOPED: &str = "100 `#[tenant_scoped]` + `#[derive(sqlx::FromRow)]` structs";
const PLAIN: &str = "the same 100 structs with only `#[derive(sqlx::FromRow)]`";

/// One of the generated crates.
struct Variant {
    package: &'static str,
    contender: String,
    scoped: bool,
    /// The generated workspace the crate belongs to.
    workspace: PathBuf,
}

/// What the command line asks for.
struct Args {
    builds: usize,
    baseline: Option<String>,
}

const USAGE: &str = "usage: compile-cost [--builds N] [--baseline <git revision>]";

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("compile-cost benchmark failed: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, BenchError> {
    let mut parsed = Args {
        builds: DEFAULT_BUILDS,
        baseline: None,
    };
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| BenchError::message(format!("`{arg}` needs a value; {USAGE}")))
        };
        match arg.as_str() {
            "--builds" => {
                let text = value()?;
                parsed.builds =
                    text.parse()
                        .ok()
                        .filter(|&builds| builds > 0)
                        .ok_or_else(|| {
                            BenchError::message(format!(
                                "`--builds` takes a positive number, not `{text}`"
                            ))
                        })?;
            }
            "--baseline" => parsed.baseline = Some(value()?),
            _ => {
                return Err(BenchError::message(format!(
                    "unknown argument `{arg}`; {USAGE}"
                )));
            }
        }
    }
    Ok(parsed)
}

fn run() -> Result<(), BenchError> {
    let args = parse_args(std::env::args().skip(1))?;
    let started = Instant::now();
    let load = Load::at_start();
    let workspace = workspace_root()?;
    let source = TempDir::create()?;
    let target = workspace.join("target/tenancy-bench/compile-cost");

    let current = source.path().join("current");
    let scoped = Variant {
        package: "compile-cost-scoped",
        contender: SCOPED.to_owned(),
        scoped: true,
        workspace: current.clone(),
    };
    let plain = Variant {
        package: "compile-cost-plain",
        contender: PLAIN.to_owned(),
        scoped: false,
        workspace: current.clone(),
    };
    write_workspace(
        &current,
        &workspace.join("tenancy-sqlx"),
        &workspace.join("Cargo.lock"),
        &[&scoped, &plain],
    )?;
    let baseline = match &args.baseline {
        Some(revision) => Some(baseline_variant(&workspace, source.path(), revision)?),
        None => None,
    };

    // Dependencies first, untimed; then the crates in alternation. The
    // baseline's crates from the registry are shared through the target
    // directory; only its own tenancy crates are built twice.
    println!(
        "compile-cost: building the dependencies of the generated crates (once per target dir)"
    );
    cargo_build(&current, &target, &[scoped.package, plain.package])?;
    if let Some(baseline) = &baseline {
        cargo_build(&baseline.workspace, &target, &[baseline.package])?;
    }
    let mut contenders = vec![timed_build(&scoped, &target), timed_build(&plain, &target)];
    if let Some(baseline) = &baseline {
        contenders.push(timed_build(baseline, &target));
    }
    let samples = measure(
        Settings {
            warmup_rounds: 0,
            rounds: args.builds,
            sample_time: Duration::ZERO,
            time_budget: None,
        },
        contenders,
    )?;
    let mut section = Section::new(
        format!(
            "`cargo build` of the crate alone, dependencies built (median of {})",
            args.builds
        ),
        Unit::Seconds,
        &samples,
    );
    section.ratio(&samples, &scoped.contender, &plain.contender, Some(GOAL))?;
    if let Some(baseline) = &baseline {
        section
            .ratio(&samples, &baseline.contender, &plain.contender, None)?
            .ratio(&samples, &scoped.contender, &baseline.contender, None)?;
    }
    section.notes.push(format!(
        "Each struct has 7 fields; the generated sources are {} and {} lines. CPU time is \
         that of `cargo` and the compiler processes it ran.",
        source_of(&scoped, 0).lines().count(),
        source_of(&plain, 0).lines().count()
    ));
    BenchResult {
        id: "compile_cost".to_owned(),
        title: "Macro compile cost".to_owned(),
        description: DESCRIPTION.to_owned(),
        postgres: None,
        elapsed_seconds: started.elapsed().as_secs_f64(),
        load,
        sections: vec![section],
    }
    .save()
}

/// A contender that touches `variant`'s source and builds it, timing the
/// build's wall time and the CPU time of cargo and the compilers.
fn timed_build<'a>(variant: &'a Variant, target: &Path) -> Contender<'a> {
    let target = target.to_owned();
    let mut builds = 0_usize;
    Contender::new(variant.contender.clone(), move |iterations| {
        let mut timing = Timing {
            wall: Duration::ZERO,
            cpu: Some(Duration::ZERO),
        };
        for _ in 0..iterations {
            builds += 1;
            touch(variant, builds)?;
            let children_before = cpu::finished_children()?;
            let start = Instant::now();
            cargo_build(&variant.workspace, &target, &[variant.package])?;
            timing.wall += start.elapsed();
            let cpu = cpu::finished_children()?.saturating_sub(children_before);
            timing.cpu = timing.cpu.map(|total| total + cpu);
        }
        Ok(timing)
    })
}

const DESCRIPTION: &str = "\
A crate of 100 structs, written by the benchmark into a temporary directory, in two \
variants: every struct under `#[tenant_scoped]` and `#[derive(sqlx::FromRow)]`, or \
under `#[derive(sqlx::FromRow)]` only. Both depend on `tenancy-sqlx` and `sqlx`, \
built once beforehand; each timed `cargo build` (debug profile) compiles only the \
crate itself, after its source was touched. The variants alternate, build by build \
(`compile-cost --baseline <revision>` adds the scoped crate built against an earlier \
revision of the tenancy crates, to compare a change before and after in one run).";

/// The scoped crate against the tenancy crates of `revision`, exported with
/// `git archive` next to its own generated workspace.
fn baseline_variant(
    workspace: &Path,
    source: &Path,
    revision: &str,
) -> Result<Variant, BenchError> {
    let commit = git(workspace, &["rev-parse", "--short", revision])?;
    let tree = source.join("baseline-tree");
    std::fs::create_dir_all(&tree).step(format!("create {}", tree.display()))?;
    let archive = source.join("baseline.tar");
    git(
        workspace,
        &[
            "archive",
            "--format=tar",
            "-o",
            &archive.display().to_string(),
            &commit,
        ],
    )?;
    let output = Command::new("tar")
        .arg("-xf")
        .arg(&archive)
        .arg("-C")
        .arg(&tree)
        .output()
        .step("run tar")?;
    if !output.status.success() {
        return Err(BenchError::message(format!(
            "tar could not unpack {}: {}",
            archive.display(),
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    let variant = Variant {
        package: "compile-cost-baseline",
        contender: format!("{SCOPED}, tenancy at `{commit}`"),
        scoped: true,
        workspace: source.join("baseline"),
    };
    write_workspace(
        &variant.workspace,
        &tree.join("tenancy-sqlx"),
        &tree.join("Cargo.lock"),
        &[&variant],
    )?;
    Ok(variant)
}

/// `git <args>` in `dir`; its trimmed output, or an error with git's.
fn git(dir: &Path, args: &[&str]) -> Result<String, BenchError> {
    let output = Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .step("run git")?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    } else {
        Err(BenchError::message(format!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        )))
    }
}

/// The workspace this binary belongs to.
fn workspace_root() -> Result<PathBuf, BenchError> {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(Path::to_owned)
        .ok_or_else(|| BenchError::message("the benches crate has no parent directory"))
}

/// A workspace of `variants` in `dir`, depending on the `tenancy-sqlx` at
/// `tenancy_sqlx`, pinned to the versions of `lock_file`.
fn write_workspace(
    dir: &Path,
    tenancy_sqlx: &Path,
    lock_file: &Path,
    variants: &[&Variant],
) -> Result<(), BenchError> {
    let members: Vec<String> = variants
        .iter()
        .map(|variant| format!("{:?}", variant.package))
        .collect();
    let manifest = format!(
        "[workspace]\nresolver = \"3\"\nmembers = [{members}]\n\n\
         [workspace.dependencies]\n\
         tenancy-sqlx = {{ path = {path:?} }}\n\
         sqlx = {{ version = \"0.9.0\", default-features = false, features = [\"derive\", \"postgres\", \"runtime-tokio\"] }}\n",
        members = members.join(", "),
        path = tenancy_sqlx.display().to_string(),
    );
    std::fs::create_dir_all(dir).step(format!("create {}", dir.display()))?;
    write(&dir.join("Cargo.toml"), &manifest)?;
    std::fs::copy(lock_file, dir.join("Cargo.lock"))
        .step(format!("copy {}", lock_file.display()))?;
    for variant in variants {
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
fn touch(variant: &Variant, build: usize) -> Result<(), BenchError> {
    write(
        &variant.workspace.join(variant.package).join("src/lib.rs"),
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
