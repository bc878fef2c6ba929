//! Runs one test body against SQLite (a temp file) and against Postgres (a fresh database
//! `squadron_test_<random>` on 127.0.0.1:5432, dropped afterwards). Postgres being
//! unreachable fails the test; it is never skipped.

use std::future::Future;
use std::sync::Arc;

use sqlx::{AssertSqlSafe, Connection, PgConnection, PgPool, SqlitePool};
use squadron_store::Store;

/// Where the Postgres tests connect to create their databases.
pub fn postgres_admin_url() -> String {
    std::env::var("SQUADRON_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Direct database access for tests that tamper with the tables.
#[derive(Debug, Clone)]
pub enum Raw {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// What a test body gets.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub store: Arc<dyn Store>,
    pub raw: Raw,
}

impl Ctx {
    /// Runs SQL straight on the database, as someone with write access would.
    pub async fn sql(&self, sql: &str) -> Result<u64, sqlx::Error> {
        let sql = AssertSqlSafe(sql.to_owned());
        match &self.raw {
            Raw::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|r| r.rows_affected()),
            Raw::Postgres(p) => sqlx::query(sql).execute(p).await.map(|r| r.rows_affected()),
        }
    }

    /// Removes the append-only guard, as an attacker with DDL rights would.
    pub async fn allow_updates(&self) {
        let sql = match self.raw {
            Raw::Sqlite(_) => "DROP TRIGGER audit_events_append_only",
            Raw::Postgres(_) => "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only",
        };
        self.sql(sql).await.unwrap();
    }

    pub fn backend(&self) -> &'static str {
        match self.raw {
            Raw::Sqlite(_) => "sqlite",
            Raw::Postgres(_) => "postgres",
        }
    }
}

fn random_suffix() -> String {
    squadron_store::new_node_id()
        .trim_start_matches("node_")
        .to_owned()
}

/// Runs `body` inside its own task so a panic still lets us clean up, then re-raises it.
async fn run_body<F, Fut>(ctx: Ctx, body: F) -> Result<(), Box<dyn std::any::Any + Send>>
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let store = ctx.store.clone();
    let result = tokio::spawn(body(ctx)).await.map_err(|e| e.into_panic());
    store.close().await;
    result
}

pub async fn on_sqlite<F, Fut>(body: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().unwrap();
    // A directory that does not exist yet: open must create it.
    let path = dir.path().join("data").join("squadron.db");
    let url = format!("sqlite://{}", path.display());
    let store = squadron_store::open(&url).await.unwrap();
    let raw = SqlitePool::connect(&url).await.unwrap();
    let result = run_body(
        Ctx {
            store,
            raw: Raw::Sqlite(raw.clone()),
        },
        body,
    )
    .await;
    raw.close().await;
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

pub async fn on_postgres<F, Fut>(body: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let admin_url = postgres_admin_url();
    let mut admin = PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
        panic!(
            "the Postgres tests need a server at {admin_url} (user postgres, trust auth): {e}; \
             start Postgres or set SQUADRON_TEST_POSTGRES_URL"
        )
    });
    let db = format!("squadron_test_{}", random_suffix());
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {db}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url.as_str(), |(b, _)| b);
    let url = format!("{base}/{db}");
    let result = match squadron_store::open(&url).await {
        Ok(store) => {
            let raw = PgPool::connect(&url).await.unwrap();
            let result = run_body(
                Ctx {
                    store,
                    raw: Raw::Postgres(raw.clone()),
                },
                body,
            )
            .await;
            raw.close().await;
            result
        }
        Err(e) => Err(Box::new(format!("cannot open {url}: {e}")) as Box<dyn std::any::Any + Send>),
    };
    sqlx::query(AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {db} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// Declares `<name>::sqlite` and `<name>::postgres` tests running the same body.
macro_rules! both {
    ($($name:ident => $body:path),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                crate::harness::on_sqlite($body).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                crate::harness::on_postgres($body).await
            }
        }
    )*};
}
pub(crate) use both;
