//! sql tools: the tool's fixed query with its binds, in a read-only transaction that is
//! always rolled back, under a statement timeout; rows printed as `psql --csv` prints
//! them (header line, NULL as empty, RFC 4180 quoting).
//!
//! Queries go over the simple (text) protocol so every value prints exactly as the
//! database's own client would print it; binds go through a server-side `PREPARE` /
//! `EXECUTE` with the values quoted so they can never end the literal (a dollar-quote tag
//! the value does not contain for Postgres, a hex literal for MySQL).

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use futures_util::TryStreamExt;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlPool, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Column, Connection, Executor, Row, SqlSafeStr, Statement, ValueRef};
use squadron_core::ToolOutput;
use squadron_core::output::RunStatus;
use squadron_core::squad::DbEngine;

use crate::config::{DatabaseConfig, redact_url};

/// Connections kept per database.
const POOL_SIZE: u32 = 2;
/// Time given past the statement timeout before the client gives up on the server.
const CLIENT_GRACE: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
enum Pool {
    Pg(PgPool),
    My(MySqlPool),
}

/// The configured databases, each with a small pool opened on first use.
#[derive(Debug, Default)]
pub struct Databases {
    urls: BTreeMap<String, (DbEngine, String)>,
    pools: Mutex<HashMap<String, Pool>>,
}

/// A query's result as text.
#[derive(Debug, Default)]
struct Table {
    csv: String,
    truncated: bool,
}

/// How a run failed.
enum Failure {
    Timeout,
    Error(String),
}

impl Databases {
    pub fn new(configs: &[DatabaseConfig]) -> Databases {
        Databases {
            urls: configs
                .iter()
                .filter_map(|d| Some((d.name.clone(), (d.engine()?, d.url.clone()))))
                .collect(),
            pools: Mutex::new(HashMap::new()),
        }
    }

    fn pool(&self, name: &str, timeout: Duration) -> Result<Pool, String> {
        let mut pools = self
            .pools
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(pool) = pools.get(name) {
            return Ok(pool.clone());
        }
        let (engine, url) = self
            .urls
            .get(name)
            .ok_or_else(|| format!("database `{name}` is not configured on this agent"))?;
        let bad_url = |e: sqlx::Error| {
            format!(
                "database `{name}`: bad url {}: {}",
                redact_url(url),
                crate::policy::one_line(&e.to_string())
            )
        };
        let acquire = timeout.max(Duration::from_secs(1));
        let pool = match engine {
            DbEngine::Postgres => {
                let options = PgConnectOptions::from_str(url)
                    .map_err(bad_url)?
                    .application_name("squadron-agent");
                Pool::Pg(
                    PgPoolOptions::new()
                        .max_connections(POOL_SIZE)
                        .min_connections(0)
                        .acquire_timeout(acquire)
                        .idle_timeout(Duration::from_secs(300))
                        .connect_lazy_with(options),
                )
            }
            DbEngine::Mysql => {
                let url = match url.split_once("://") {
                    Some((scheme, rest)) if scheme.eq_ignore_ascii_case("mariadb") => {
                        format!("mysql://{rest}")
                    }
                    _ => url.clone(),
                };
                let options = MySqlConnectOptions::from_str(&url).map_err(bad_url)?;
                Pool::My(
                    MySqlPoolOptions::new()
                        .max_connections(POOL_SIZE)
                        .min_connections(0)
                        .acquire_timeout(acquire)
                        .idle_timeout(Duration::from_secs(300))
                        .connect_lazy_with(options),
                )
            }
        };
        pools.insert(name.to_owned(), pool.clone());
        Ok(pool)
    }

    /// Runs one query on `database` and reports its rows as CSV.
    pub async fn run(
        &self,
        database: &str,
        query: &str,
        binds: &[String],
        timeout: Duration,
        cap: u64,
    ) -> ToolOutput {
        let pool = match self.pool(database, timeout) {
            Ok(pool) => pool,
            Err(e) => return ToolOutput::finished(1, String::new(), e),
        };
        let query = query.trim().trim_end_matches(';').trim_end();
        let work = async {
            match &pool {
                Pool::Pg(pool) => pg(pool, query, binds, timeout, cap).await,
                Pool::My(pool) => my(pool, query, binds, timeout, cap).await,
            }
        };
        let result = match tokio::time::timeout(timeout + CLIENT_GRACE, work).await {
            Ok(result) => result,
            Err(_) => Err(Failure::Timeout),
        };
        match result {
            Ok(table) => {
                let mut out = ToolOutput::finished(0, table.csv, String::new());
                out.truncated = table.truncated;
                out
            }
            Err(Failure::Timeout) => ToolOutput {
                status: RunStatus::Timeout,
                exit_code: None,
                stdout: String::new(),
                stderr: crate::exec::timed_out(String::new(), timeout),
                truncated: false,
                duration_ms: 0,
            },
            Err(Failure::Error(e)) => {
                ToolOutput::finished(1, String::new(), format!("{database}: {e}"))
            }
        }
    }
}

fn sql(text: String) -> sqlx::SqlStr {
    AssertSqlSafe(text).into_sql_str()
}

/// An error as the database's client prints it; statement timeouts become timeouts.
fn failure(e: sqlx::Error) -> Failure {
    if let sqlx::Error::Database(db) = &e {
        let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
        // 57014: Postgres query_canceled; 70100: MariaDB max_statement_time; 3024: MySQL.
        if code == "57014"
            || code == "70100"
            || db.message().contains("maximum statement execution time")
        {
            return Failure::Timeout;
        }
        return Failure::Error(format!("ERROR:  {}", crate::policy::one_line(db.message())));
    }
    if matches!(e, sqlx::Error::PoolTimedOut) {
        return Failure::Error(
            "could not get a connection in time (database down or unreachable?)".into(),
        );
    }
    Failure::Error(crate::policy::one_line(&e.to_string()))
}

/// A Postgres literal for `value`: dollar-quoted with a tag the value does not contain.
fn pg_literal(value: &str) -> String {
    let mut n = 0u32;
    loop {
        let tag = format!("$sq{n}$");
        if !value.contains(&tag) && !value.ends_with(&tag[..tag.len() - 1]) {
            return format!("{tag}{value}{tag}");
        }
        n += 1;
    }
}

async fn pg(
    pool: &PgPool,
    query: &str,
    binds: &[String],
    timeout: Duration,
    cap: u64,
) -> Result<Table, Failure> {
    let mut conn = pool.acquire().await.map_err(failure)?;
    let result = pg_read_only(&mut conn, query, binds, timeout, cap).await;
    if result.is_err() {
        // A failed transaction may leave session state (a prepared statement) behind.
        conn.close_on_drop();
    }
    result
}

async fn pg_read_only(
    conn: &mut PgConnection,
    query: &str,
    binds: &[String],
    timeout: Duration,
    cap: u64,
) -> Result<Table, Failure> {
    let mut tx = conn.begin_with("BEGIN READ ONLY").await.map_err(failure)?;
    let ms = timeout.as_millis().max(1);
    sqlx::raw_sql(sql(format!("SET LOCAL statement_timeout = {ms}")))
        .execute(&mut *tx)
        .await
        .map_err(failure)?;
    let batch = if binds.is_empty() {
        query.to_owned()
    } else {
        let args: Vec<String> = binds.iter().map(|b| pg_literal(b)).collect();
        format!(
            "PREPARE squadron_q AS {query}; EXECUTE squadron_q({}); DEALLOCATE squadron_q",
            args.join(", ")
        )
    };
    let mut table = CsvWriter::new(cap);
    {
        let mut rows = sqlx::raw_sql(sql(batch)).fetch(&mut *tx);
        while let Some(row) = rows.try_next().await.map_err(failure)? {
            if !table.header_written() {
                table.header(row.columns().iter().map(|c| c.name().to_owned()));
            }
            let mut cells = Vec::with_capacity(row.len());
            for i in 0..row.len() {
                let value = row.try_get_raw(i).map_err(failure)?;
                cells.push(if value.is_null() {
                    None
                } else {
                    Some(match value.as_str() {
                        Ok(s) => s.to_owned(),
                        Err(_) => String::from_utf8_lossy(value.as_bytes().unwrap_or_default())
                            .into_owned(),
                    })
                });
            }
            if !table.row(&cells) {
                break;
            }
        }
    }
    if !table.header_written()
        && let Ok(stmt) = (&mut *tx).prepare(sql(query.to_owned())).await
    {
        table.header(stmt.columns().iter().map(|c| c.name().to_owned()));
    }
    tx.rollback().await.map_err(failure)?;
    Ok(table.finish())
}

async fn my(
    pool: &MySqlPool,
    query: &str,
    binds: &[String],
    timeout: Duration,
    cap: u64,
) -> Result<Table, Failure> {
    let mut conn = pool.acquire().await.map_err(failure)?;
    let result = my_read_only(&mut conn, query, binds, timeout, cap).await;
    if result.is_err() {
        conn.close_on_drop();
    }
    result
}

/// A MySQL string literal for `value` that no quoting rule can end: hex, utf8mb4.
fn my_literal(value: &str) -> String {
    let hex: String = value.bytes().map(|b| format!("{b:02x}")).collect();
    format!("_utf8mb4 X'{hex}'")
}

async fn my_read_only(
    conn: &mut MySqlConnection,
    query: &str,
    binds: &[String],
    timeout: Duration,
    cap: u64,
) -> Result<Table, Failure> {
    // DDL commits implicitly in MySQL, so a read-only transaction alone does not stop
    // CREATE: the session itself is made read-only (MySQL 8 name, then MariaDB/5.7's).
    let session_ro = sqlx::raw_sql("SET SESSION transaction_read_only = 1")
        .execute(&mut *conn)
        .await;
    if session_ro.is_err() {
        sqlx::raw_sql("SET SESSION tx_read_only = 1")
            .execute(&mut *conn)
            .await
            .map_err(failure)?;
    }
    // Statement timeout: MariaDB's max_statement_time (seconds), else MySQL's
    // max_execution_time (ms, SELECT only); the client-side timeout backs both.
    let secs = timeout.as_secs_f64().max(0.001);
    if sqlx::raw_sql(sql(format!("SET SESSION max_statement_time = {secs:.3}")))
        .execute(&mut *conn)
        .await
        .is_err()
    {
        let ms = timeout.as_millis().max(1);
        let _ = sqlx::raw_sql(sql(format!("SET SESSION max_execution_time = {ms}")))
            .execute(&mut *conn)
            .await;
    }
    let mut tx = conn
        .begin_with("START TRANSACTION READ ONLY")
        .await
        .map_err(failure)?;
    let run = if binds.is_empty() {
        query.to_owned()
    } else {
        let mut prelude = format!("SET @squadron_q = {}", my_literal(query));
        for (i, b) in binds.iter().enumerate() {
            prelude.push_str(&format!("; SET @squadron_b{} = {}", i + 1, my_literal(b)));
        }
        prelude.push_str("; PREPARE squadron_q FROM @squadron_q");
        sqlx::raw_sql(sql(prelude))
            .execute(&mut *tx)
            .await
            .map_err(failure)?;
        let vars: Vec<String> = (1..=binds.len())
            .map(|i| format!("@squadron_b{i}"))
            .collect();
        format!("EXECUTE squadron_q USING {}", vars.join(", "))
    };
    let mut table = CsvWriter::new(cap);
    {
        let mut rows = sqlx::raw_sql(sql(run)).fetch(&mut *tx);
        while let Some(row) = rows.try_next().await.map_err(failure)? {
            if !table.header_written() {
                table.header(row.columns().iter().map(|c| c.name().to_owned()));
            }
            let mut cells = Vec::with_capacity(row.len());
            for i in 0..row.len() {
                let value: Option<&[u8]> = row.try_get_unchecked(i).map_err(failure)?;
                cells.push(value.map(|v| String::from_utf8_lossy(v).into_owned()));
            }
            if !table.row(&cells) {
                break;
            }
        }
    }
    if !binds.is_empty() {
        sqlx::raw_sql("DEALLOCATE PREPARE squadron_q")
            .execute(&mut *tx)
            .await
            .map_err(failure)?;
    }
    if !table.header_written()
        && let Ok(stmt) = (&mut *tx).prepare(sql(query.to_owned())).await
    {
        table.header(stmt.columns().iter().map(|c| c.name().to_owned()));
    }
    tx.rollback().await.map_err(failure)?;
    Ok(table.finish())
}

/// Builds CSV as `psql --csv` prints it, stopping at the cap.
#[derive(Debug)]
struct CsvWriter {
    out: String,
    cap: usize,
    header: bool,
    truncated: bool,
}

impl CsvWriter {
    fn new(cap: u64) -> CsvWriter {
        CsvWriter {
            out: String::new(),
            cap: usize::try_from(cap).unwrap_or(usize::MAX),
            header: false,
            truncated: false,
        }
    }

    fn header_written(&self) -> bool {
        self.header
    }

    fn header(&mut self, names: impl Iterator<Item = String>) {
        let names: Vec<Option<String>> = names.map(Some).collect();
        self.header = true;
        self.row(&names);
    }

    /// Adds a line; false once the cap is reached (the caller stops reading).
    fn row(&mut self, cells: &[Option<String>]) -> bool {
        if self.truncated {
            return false;
        }
        let line = csv_line(cells);
        if self.out.len() + line.len() > self.cap {
            self.truncated = true;
            return false;
        }
        self.out.push_str(&line);
        true
    }

    fn finish(self) -> Table {
        Table {
            csv: self.out,
            truncated: self.truncated,
        }
    }
}

/// One CSV line: NULL and empty print as nothing; a field is quoted when it holds a
/// comma, a quote, CR or LF, or is exactly `\.` (psql's rule).
pub fn csv_line(cells: &[Option<String>]) -> String {
    let mut line = String::new();
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        let Some(text) = cell else { continue };
        if text.contains([',', '"', '\r', '\n']) || text == "\\." {
            line.push('"');
            line.push_str(&text.replace('"', "\"\""));
            line.push('"');
        } else {
            line.push_str(text);
        }
    }
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_like_psql() {
        let cells = [
            Some("plain".to_owned()),
            None,
            Some(String::new()),
            Some("a,b".to_owned()),
            Some("say \"hi\"".to_owned()),
            Some("two\nlines".to_owned()),
            Some("\\.".to_owned()),
        ];
        assert_eq!(
            csv_line(&cells),
            "plain,,,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"\\.\"\n"
        );
    }

    #[test]
    fn literals_cannot_be_ended_by_the_value() {
        assert_eq!(pg_literal("abc"), "$sq0$abc$sq0$");
        assert_eq!(pg_literal("x$sq0$y"), "$sq1$x$sq0$y$sq1$");
        assert_eq!(pg_literal("x$sq0"), "$sq1$x$sq0$sq1$");
        assert_eq!(my_literal("a'b"), "_utf8mb4 X'612762'");
    }

    #[test]
    fn the_cap_stops_rows() {
        let mut w = CsvWriter::new(10);
        w.header(["a".to_owned(), "b".to_owned()].into_iter());
        assert!(w.row(&[Some("1".into()), Some("2".into())]));
        assert!(!w.row(&[Some("333".into()), Some("4".into())]));
        let t = w.finish();
        assert_eq!(t.csv, "a,b\n1,2\n");
        assert!(t.truncated);
    }
}
