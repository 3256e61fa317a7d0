//! One connection per contender, for benchmarks of single queries: the
//! policy and index benchmarks run the same statement on connections that
//! differ only in their role or `search_path`, or in what the library's
//! pool pins when it opens the transaction.

use std::borrow::BorrowMut;
use std::time::Instant;

use sea_query_sqlx::SqlxValues;
use sqlx::postgres::PgPoolOptions;
use sqlx::{AssertSqlSafe, Connection, PgConnection, PgPool};
use tenancy_sqlx::{
    BuildStatement, Dialect, Identifier, Statement, TenantId, TenantPool, TenantPoolOptions,
    TenantTransaction,
};

use crate::cpu::{self, Backends};
use crate::database::{connect_options, execute, explain_analyze};
use crate::error::{BenchError, Step};
use crate::harness::{Contender, Timing};
use crate::schema::Order;

/// The queries a tenant's screen runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Query {
    /// The tenant's 50 most recent `open` orders.
    List,
    /// How many `open` orders the tenant has.
    Count,
}

impl Query {
    /// The statement, built by the library for `tenant`, on `orders` in
    /// the `public` schema.
    pub fn statement(self, tenant: i64) -> Result<Statement, BenchError> {
        self.statement_in(tenant, "public")
    }

    /// The statement, built by the library for `tenant`, on `orders` in
    /// `schema` (every table the builder writes is schema-qualified).
    pub fn statement_in(self, tenant: i64, schema: &str) -> Result<Statement, BenchError> {
        let tenant = TenantId::from_verified(tenant);
        let schema = Identifier::new("schema", schema).step("name the schema")?;
        let open = Order::select(&tenant).filter(Order::STATUS.eq("open"));
        let built = match self {
            Query::List => open
                .order_by_desc(Order::PLACED_AT)
                .limit(50)
                .build_in(Dialect::Postgres, &schema),
            Query::Count => open.count().build_in(Dialect::Postgres, &schema),
        };
        built.step("build the benchmark query")
    }

    /// How the report names it.
    pub fn describe(self) -> &'static str {
        match self {
            Query::List => "list: 50 newest `open` orders",
            Query::Count => "count of `open` orders",
        }
    }
}

/// SQL text and its parameters, as a contender sends it: a statement the
/// library built, or raw SQL such as an application sends on a tenant
/// transaction's connection.
#[derive(Debug, Clone)]
pub struct Sql {
    text: String,
    values: sea_query::Values,
}

impl Sql {
    /// Raw SQL without parameters (sqlx still prepares it).
    pub fn raw(text: impl Into<String>) -> Self {
        Sql {
            text: text.into(),
            values: sea_query::Values(Vec::new()),
        }
    }

    /// The SQL text.
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl From<&Statement> for Sql {
    fn from(statement: &Statement) -> Self {
        Sql {
            text: statement.sql().to_owned(),
            values: statement.values().clone(),
        }
    }
}

/// What a query returned: compared across contenders, which must agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Rows of a list.
    Rows {
        /// How many.
        count: usize,
        /// The first row's id.
        first_id: Option<i64>,
    },
    /// The value of a count.
    Count(i64),
}

/// A contender's connection and its server backend.
pub struct Session {
    name: String,
    connection: Link,
    backend: Option<Backends>,
}

/// Where a session's statements run.
enum Link {
    /// A connection of its own; its transactions open with the library's
    /// `BEGIN` text, sent by hand.
    Own(PgConnection),
    /// A tenant pool of one connection: the pool opens the transaction,
    /// with every setting it pins, and the statements run on the
    /// transaction's connection exactly as on an own one.
    Pool {
        pool: TenantPool,
        transaction: Option<Box<TenantTransaction>>,
    },
}

impl Link {
    fn connection(&mut self) -> Result<&mut PgConnection, BenchError> {
        match self {
            Link::Own(connection) => Ok(connection),
            Link::Pool {
                transaction: Some(transaction),
                ..
            } => Ok(transaction.raw_connection()),
            Link::Pool {
                transaction: None, ..
            } => Err(BenchError::message(
                "a pool session runs statements inside its transaction only",
            )),
        }
    }
}

impl Session {
    /// Connects to `url` with `application_name`, and finds the backend
    /// through `admin` to measure its CPU time.
    pub async fn connect(
        name: &str,
        url: &str,
        application_name: &str,
        admin: &PgPool,
    ) -> Result<Self, BenchError> {
        let options = connect_options(url)?.application_name(application_name);
        let connection = PgConnection::connect_with(&options)
            .await
            .step(format!("connect `{name}`"))?;
        let backend = Backends::of_application(admin, application_name, 1).await?;
        Ok(Session {
            name: name.to_owned(),
            connection: Link::Own(connection),
            backend,
        })
    }

    /// A session whose transactions a tenant pool of one connection to
    /// `url`, made with `options`, opens: what the pool pins in `BEGIN`
    /// (its `TransactionSettings`) applies to every statement.
    pub async fn in_pool(
        name: &str,
        url: &str,
        application_name: &str,
        options: TenantPoolOptions,
        admin: &PgPool,
    ) -> Result<Self, BenchError> {
        let connect = connect_options(url)?.application_name(application_name);
        let pool = TenantPool::connect_with(
            PgPoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .test_before_acquire(false),
            connect,
            options,
        )
        .await
        .step(format!("connect the tenant pool of `{name}`"))?;
        let backend = Backends::of_application(admin, application_name, 1).await?;
        Ok(Session {
            name: name.to_owned(),
            connection: Link::Pool {
                pool,
                transaction: None,
            },
            backend,
        })
    }

    /// The contender's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs SQL text on this connection.
    pub async fn execute(&mut self, sql: &str) -> Result<(), BenchError> {
        execute(self.connection.connection()?, sql)
            .await
            .map_err(|error| error.context(self.name.clone()))
    }

    /// Opens a transaction for `tenant` the way the library does (by the
    /// library's pool, for a session in one).
    pub async fn begin_for(&mut self, tenant: i64) -> Result<(), BenchError> {
        match &mut self.connection {
            Link::Own(_) => {
                self.execute(&format!(
                    "BEGIN; SET LOCAL \"app\".\"tenant_id\" = '{tenant}'"
                ))
                .await
            }
            Link::Pool { pool, transaction } => {
                let begun = pool
                    .begin(&TenantId::from_verified(tenant))
                    .await
                    .step(format!("{}: begin", self.name))?;
                *transaction = Some(Box::new(begun));
                Ok(())
            }
        }
    }

    /// Runs `statement` as `query` once.
    pub async fn run(
        &mut self,
        query: Query,
        statement: &Statement,
    ) -> Result<Outcome, BenchError> {
        self.run_sql(query, &Sql::from(statement)).await
    }

    /// Runs `sql` as `query` once.
    pub async fn run_sql(&mut self, query: Query, sql: &Sql) -> Result<Outcome, BenchError> {
        run(self.connection.connection()?, query, sql)
            .await
            .map_err(|error| error.context(self.name.clone()))
    }

    /// Runs any statement once and returns how many rows it returned.
    pub async fn fetch_rows(&mut self, statement: &Statement) -> Result<usize, BenchError> {
        sqlx::query_with(
            AssertSqlSafe(statement.sql().to_owned()),
            SqlxValues(statement.values().clone()),
        )
        .fetch_all(self.connection.connection()?)
        .await
        .map(|rows| rows.len())
        .step(format!("{}: run `{}`", self.name, statement.sql()))
    }

    /// How often PostgreSQL used a generic plan and how often it planned
    /// again for the bound values, for `statement` as prepared on this
    /// connection: planning on every execution is part of what it costs.
    pub async fn plan_counts(&mut self, statement: &Statement) -> Result<String, BenchError> {
        let counts: Option<(i64, i64)> = sqlx::query_as(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1",
        )
        .bind(statement.sql())
        .fetch_optional(self.connection.connection()?)
        .await
        .step(format!("{}: read pg_prepared_statements", self.name))?;
        Ok(match counts {
            Some((generic, custom)) => format!(
                "{}: {generic} executions with the generic plan, {custom} planned for their values",
                self.name
            ),
            None => format!("{}: the statement is not prepared", self.name),
        })
    }

    /// `EXPLAIN (ANALYZE, BUFFERS)` of `statement` on this connection.
    pub async fn explain(&mut self, statement: &Statement) -> Result<String, BenchError> {
        self.explain_sql(&Sql::from(statement)).await
    }

    /// `EXPLAIN (ANALYZE, BUFFERS)` of `sql` on this connection.
    pub async fn explain_sql(&mut self, sql: &Sql) -> Result<String, BenchError> {
        explain_analyze(self.connection.connection()?, &sql.text, &sql.values)
            .await
            .map_err(|error| error.context(self.name.clone()))
    }

    /// The session as a contender running `statement` in every iteration,
    /// measuring wall time and the CPU time of this thread and the backend.
    pub fn contender<'a>(
        &'a mut self,
        runtime: &'a tokio::runtime::Runtime,
        query: Query,
        statement: &Statement,
    ) -> Contender<'a> {
        self.sql_contender(runtime, query, Sql::from(statement))
    }

    /// [`Session::contender`] for any SQL.
    pub fn sql_contender<'a>(
        &'a mut self,
        runtime: &'a tokio::runtime::Runtime,
        query: Query,
        sql: Sql,
    ) -> Contender<'a> {
        let name = self.name.clone();
        Contender::new(name, move |iterations| {
            runtime.block_on(async {
                let server_before = self.backend.as_ref().map(Backends::cpu).transpose()?;
                let client_before = cpu::client_thread();
                let start = Instant::now();
                let connection = self.connection.connection()?;
                for _ in 0..iterations {
                    run(connection, query, &sql).await?;
                }
                let wall = start.elapsed();
                let client = cpu::client_thread().saturating_sub(client_before);
                let server_after = self.backend.as_ref().map(Backends::cpu).transpose()?;
                let cpu = server_before
                    .zip(server_after)
                    .map(|(before, after)| client + after.saturating_sub(before));
                Ok(Timing { wall, cpu })
            })
        })
    }

    /// Ends the open transaction.
    pub async fn commit(&mut self) -> Result<(), BenchError> {
        match &mut self.connection {
            Link::Own(_) => self.execute("COMMIT").await,
            Link::Pool { transaction, .. } => match transaction.take() {
                Some(transaction) => (*transaction)
                    .commit()
                    .await
                    .step(format!("{}: commit", self.name)),
                None => Err(BenchError::message(format!(
                    "{}: no transaction to commit",
                    self.name
                ))),
            },
        }
    }
}

async fn run(
    connection: &mut PgConnection,
    query: Query,
    sql: &Sql,
) -> Result<Outcome, BenchError> {
    let values = SqlxValues(sql.values.clone());
    let sql = AssertSqlSafe(sql.text.clone());
    match query {
        Query::List => {
            let rows: Vec<Order> = sqlx::query_as_with(sql, values)
                .fetch_all(connection)
                .await
                .step("run the list query")?;
            Ok(Outcome::Rows {
                count: rows.len(),
                first_id: rows.first().map(|row| row.id),
            })
        }
        Query::Count => {
            let count: i64 = sqlx::query_scalar_with(sql, values)
                .fetch_one(connection)
                .await
                .step("run the count query")?;
            Ok(Outcome::Count(count))
        }
    }
}

/// Runs `statement` on every session and checks that they all return the
/// same: a contender that returned less would be measuring less work.
pub async fn same_outcome(
    sessions: &mut [Session],
    query: Query,
    statements: &[Statement],
) -> Result<Outcome, BenchError> {
    let sql: Vec<Sql> = statements.iter().map(Sql::from).collect();
    same_sql_outcome(sessions, query, &sql).await
}

/// [`same_outcome`] for any SQL, one per session.
pub async fn same_sql_outcome<S: BorrowMut<Session>>(
    sessions: &mut [S],
    query: Query,
    statements: &[Sql],
) -> Result<Outcome, BenchError> {
    if statements.len() != sessions.len() {
        return Err(BenchError::message(format!(
            "{} statements for {} sessions",
            statements.len(),
            sessions.len()
        )));
    }
    let mut outcomes = Vec::with_capacity(sessions.len());
    for (session, statement) in sessions.iter_mut().zip(statements) {
        let session = session.borrow_mut();
        outcomes.push((
            session.name.clone(),
            session.run_sql(query, statement).await?,
        ));
    }
    let Some((_, first)) = outcomes.first().cloned() else {
        return Err(BenchError::message("no sessions to compare"));
    };
    if outcomes.iter().all(|(_, outcome)| *outcome == first) {
        Ok(first)
    } else {
        Err(BenchError::message(format!(
            "the contenders disagree on `{}`: {outcomes:?}",
            statements[0].text
        )))
    }
}

impl Outcome {
    /// A short description for the report's notes.
    pub fn describe(self) -> String {
        match self {
            Outcome::Rows { count, .. } => format!("{count} rows"),
            Outcome::Count(count) => format!("count = {count}"),
        }
    }
}
