//! The binary, started the way the README says (`cargo run -p
//! orders-service`, here the built binary on a free port with a fresh data
//! directory): it seeds the demo, prints `curl` commands, and every printed
//! command does what its comment says. Started again on the same data, it
//! seeds nothing twice.

#[path = "support/owner_role.rs"]
mod owner_role;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use orders_service::banner::{PLACED_IN, READY_LINE, STOP_LINE};
use orders_service::seed::{ACME, GLOBEX};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tenancy_sqlx::testing::{PgBouncer, TestDatabase};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use tenancy_test::TestResult;

/// The binary, running, and what it printed before it was ready.
struct Running {
    child: Child,
    banner: Vec<String>,
}

impl Running {
    /// Starts the binary on a free port (`PORT=0`) with `data_dir` and waits
    /// until it prints its banner.
    async fn start(data_dir: &Path) -> tenancy_test::TestResult<Self> {
        Self::start_with(data_dir, &[]).await
    }

    /// [`start`](Self::start) with the environment variables `env` set.
    async fn start_with(data_dir: &Path, env: &[(&str, &str)]) -> tenancy_test::TestResult<Self> {
        let mut child = command(data_dir)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let mut banner = Vec::new();
        let read_banner = async {
            while let Some(line) = lines.next_line().await? {
                let last = line == STOP_LINE;
                banner.push(line);
                if last {
                    return Ok::<_, std::io::Error>(());
                }
            }
            Err(std::io::Error::other(
                "the binary exited before printing its banner",
            ))
        };
        tokio::time::timeout(Duration::from_secs(60), read_banner).await??;
        Ok(Running { child, banner })
    }

    /// The `curl` commands of the banner, in order.
    fn commands(&self) -> Vec<Curl> {
        self.banner
            .iter()
            .map(|line| line.trim())
            .filter(|line| line.starts_with("curl "))
            .map(Curl::parse)
            .collect()
    }

    async fn stop(mut self) -> Result<(), std::io::Error> {
        self.child.kill().await
    }
}

/// The binary with a clean environment: none of its settings inherited.
fn command(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_orders-service"));
    command
        .env("PORT", "0")
        .env("ORDERS_DATA_DIR", data_dir)
        .env_remove("DATABASE_URL")
        .env_remove("OWNER_DATABASE_URL")
        .env_remove("ORDERS_ISOLATION")
        .env_remove("ORDERS_TRANSACTION_POOLER")
        .env("RUST_LOG", "error");
    command
}

/// What a printed `curl` command asks for.
#[derive(Debug)]
struct Curl {
    method: Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
}

impl Curl {
    /// Parses the shell words of a command as printed: single quotes, and
    /// the flags `-s`, `-i`, `-H`, `-d`, `-X`.
    fn parse(line: &str) -> Curl {
        let words = shell_words(line);
        let mut curl = Curl {
            method: Method::GET,
            url: String::new(),
            headers: Vec::new(),
            body: None,
        };
        let mut words = words.into_iter().skip(1);
        while let Some(word) = words.next() {
            match word.as_str() {
                "-s" | "-i" => {}
                "-H" => {
                    let header = words.next().unwrap_or_default();
                    let (name, value) = header.split_once(':').unwrap_or((&header, ""));
                    curl.headers
                        .push((name.trim().to_owned(), value.trim().to_owned()));
                }
                "-d" => {
                    curl.body = words.next();
                    curl.method = Method::POST;
                }
                "-X" => {
                    curl.method = words
                        .next()
                        .unwrap_or_default()
                        .parse()
                        .unwrap_or(Method::GET)
                }
                url => curl.url = url.to_owned(),
            }
        }
        curl
    }

    async fn send(&self, client: &reqwest::Client) -> Result<(StatusCode, String), reqwest::Error> {
        let mut request = client.request(self.method.clone(), &self.url);
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        if let Some(body) = &self.body {
            request = request.body(body.clone());
        }
        let response = request.send().await?;
        Ok((response.status(), response.text().await?))
    }
}

/// Splits a command line into words; single quotes group.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut in_word = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                in_word = true;
            }
            c if c.is_whitespace() && !quoted => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// Runs every printed command and checks its status; returns the bodies.
async fn run_printed_commands(running: &Running) -> TestResult<Vec<String>> {
    let commands = running.commands();
    let statuses = [200, 200, 404, 201, 200, 200, 403, 401];
    assert_eq!(commands.len(), statuses.len(), "{:#?}", running.banner);
    let client = reqwest::Client::new();
    let mut bodies = Vec::new();
    for (command, status) in commands.iter().zip(statuses) {
        let (got, body) = command.send(&client).await?;
        assert_eq!(got.as_u16(), status, "{command:?}: {body}");
        bodies.push(body);
    }
    let orders: Value = serde_json::from_str(&bodies[0])?;
    assert_eq!(orders["total"], 3, "{orders}");
    assert!(!bodies[0].contains("GLOBEX") && !bodies[1].contains("GLOBEX"));
    Ok(bodies)
}

/// The banner's line for `tenant`: where it lives.
fn place_of<'b>(running: &'b Running, tenant: &str) -> &'b str {
    running
        .banner
        .iter()
        .find(|line| line.trim_start().starts_with(tenant) && line.contains(PLACED_IN))
        .map_or("", |line| line.trim())
}

/// On PostgreSQL in each model, as the README runs it: the banner says
/// where each demo tenant lives, and the printed commands work.
#[tokio::test]
async fn the_binary_serves_each_model_on_postgres() -> TestResult {
    let data = tempfile::tempdir()?;
    for (model, acme_place) in [
        ("shared", "shared tables".to_owned()),
        ("schema", format!("schema tenant_{}", ACME.id)),
        ("database", format!("_tenant_{}", ACME.id)),
    ] {
        let database = TestDatabase::create().await?;
        if model == "database" {
            // The owner creates one database per tenant.
            owner_role::owner_may_create_databases(&database.admin_pool().await?).await?;
        }
        let (app, owner) = (database.app_url(), database.owner_url());
        let env = [
            ("DATABASE_URL", app.as_str()),
            ("OWNER_DATABASE_URL", owner.as_str()),
            ("ORDERS_ISOLATION", model),
        ];
        let running = Running::start_with(data.path(), &env).await?;
        let acme = place_of(&running, ACME.name);
        assert!(
            acme.contains(&acme_place),
            "{model}: {acme:?} in {:#?}",
            running.banner
        );
        assert!(
            place_of(&running, GLOBEX.name).contains(&format!("tenant_{}", GLOBEX.id))
                || model == "shared"
        );
        run_printed_commands(&running).await?;
        running.stop().await?;
    }
    Ok(())
}

/// With its application URL pointing at PgBouncer in transaction mode and
/// `ORDERS_TRANSACTION_POOLER` set, the service starts and serves, its
/// tenants in the shared tables or each in a database of its own (which
/// PgBouncer routes by its `*` entry, as the README sets it up).
#[tokio::test]
async fn the_binary_serves_through_pgbouncer() -> TestResult {
    let data = tempfile::tempdir()?;
    for model in ["shared", "database"] {
        let database = TestDatabase::create().await?;
        if model == "database" {
            owner_role::owner_may_create_databases(&database.admin_pool().await?).await?;
        }
        let bouncer = PgBouncer::start(&database, 2).await?;
        let (app, owner) = (bouncer.app_url(), database.owner_url());
        let env = [
            ("DATABASE_URL", app.as_str()),
            ("OWNER_DATABASE_URL", owner.as_str()),
            ("ORDERS_ISOLATION", model),
            ("ORDERS_TRANSACTION_POOLER", "true"),
        ];
        let running = Running::start_with(data.path(), &env).await?;
        assert!(
            running.banner[1].contains("through a transaction-mode pooler"),
            "{model}: {:#?}",
            running.banner
        );
        if model == "database" {
            for demo in [ACME, GLOBEX] {
                let place = place_of(&running, demo.name);
                assert!(
                    place.contains(&format!("database {}_tenant_{}", database.name(), demo.id)),
                    "{place:?} in {:#?}",
                    running.banner
                );
            }
        }
        run_printed_commands(&running).await?;
        running.stop().await?;
    }
    Ok(())
}

/// SQLite has the shared model only: asking it for another is a start-up
/// error that says so, not a silent fallback.
#[tokio::test]
async fn sqlite_refuses_a_schema_or_database_per_tenant() -> TestResult {
    let data = tempfile::tempdir()?;
    for model in ["schema", "database"] {
        let output = command(data.path())
            .env("ORDERS_ISOLATION", model)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .await?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{model}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "--isolation {model} (ORDERS_ISOLATION) needs PostgreSQL"
            )),
            "{stderr}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn the_binary_starts_seeds_and_its_printed_commands_work() -> TestResult {
    let data = tempfile::tempdir()?;
    let running = Running::start(data.path()).await?;
    assert!(
        running.banner[0].starts_with(READY_LINE),
        "{:?}",
        running.banner
    );
    let commands = running.commands();
    let statuses = [200, 200, 404, 201, 200, 200, 403, 401];
    assert_eq!(commands.len(), statuses.len(), "{:#?}", running.banner);

    let client = reqwest::Client::new();
    let mut bodies = Vec::new();
    for (command, status) in commands.iter().zip(statuses) {
        let (got, body) = command.send(&client).await?;
        assert_eq!(got.as_u16(), status, "{command:?}: {body}");
        bodies.push(body);
    }
    // Acme sees its three demo orders; Globex gets the answer for a missing order.
    let orders: Value = serde_json::from_str(&bodies[0])?;
    assert_eq!(orders["total"], 3, "{orders}");
    let order_id = commands[2]
        .url
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        bodies[2],
        format!(r#"{{"error":"order {order_id} not found"}}"#)
    );
    assert!(bodies[1].contains("ACME-ANVIL"), "{}", bodies[1]);
    assert!(!bodies[0].contains("GLOBEX") && !bodies[1].contains("GLOBEX"));
    // The admin export: both tenants, one tenant column; a tenant key is refused.
    assert!(bodies[5].starts_with("tenant_id,id,customer_id,status,total_cents,created_at"));
    assert!(bodies[6].contains("admin credential"), "{}", bodies[6]);
    running.stop().await?;

    // Again on the same data: nothing is seeded twice.
    let again = Running::start(data.path()).await?;
    let commands = again.commands();
    let (status, body) = commands[0].send(&client).await?;
    assert_eq!(status, StatusCode::OK);
    let orders: Value = serde_json::from_str(&body)?;
    assert_eq!(orders["total"], 4, "three seeded and one placed: {orders}");
    assert!(
        commands[2].url.ends_with(&format!("/orders/{order_id}")),
        "the demo order moved"
    );
    again.stop().await?;
    Ok(())
}

#[test]
fn printed_commands_parse_as_a_shell_would() {
    let curl = Curl::parse(
        r#"curl -s -H 'Authorization: Bearer k' -H 'Content-Type: application/json' -d '{"a": 1}' http://127.0.0.1:1/orders"#,
    );
    assert_eq!(curl.method, Method::POST);
    assert_eq!(curl.url, "http://127.0.0.1:1/orders");
    assert_eq!(
        curl.headers[0],
        ("Authorization".to_owned(), "Bearer k".to_owned())
    );
    assert_eq!(curl.body.as_deref(), Some(r#"{"a": 1}"#));
}
