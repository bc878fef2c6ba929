//! The SQLite backend (the default): WAL journal, `synchronous=NORMAL`, a busy timeout
//! and foreign keys on every connection; all writes go through a one-connection pool and
//! start with `BEGIN IMMEDIATE`, so appends are serialised without `database is locked`
//! retries, while reads use their own pool.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

use crate::model::StoreError;
use crate::store_impl::impl_store;

/// Embedded at compile time. `sqlx::migrate!` itself needs the `macros` feature (and its
/// offline machinery); the proc macro it forwards to needs only `migrate` + `derive`.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::sqlx_macros::migrate!("../../migrations/sqlite");

/// How long a connection waits for another process's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections in the read pool.
const READERS: u32 = 4;

/// Storage in one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pub(crate) read: SqlitePool,
    pub(crate) write: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating the file and its directory if missing) and migrates a database:
    /// `sqlite://PATH`, `sqlite:PATH`, `sqlite::memory:` or a plain path.
    pub async fn open(url_or_path: &str) -> Result<Self, StoreError> {
        let memory = url_or_path.contains(":memory:") || url_or_path.contains("mode=memory");
        let options = if url_or_path.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(url_or_path)?
        } else {
            SqliteConnectOptions::new().filename(url_or_path)
        };
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        if !memory {
            create_parent(options.get_filename())?;
        }
        // An in-memory database lives as long as its connections: keep one, forever.
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(u32::from(memory))
            .idle_timeout(if memory {
                None
            } else {
                Some(Duration::from_secs(600))
            })
            .max_lifetime(if memory {
                None
            } else {
                Some(Duration::from_secs(1800))
            })
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&write).await?;
        let read = if memory {
            write.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(READERS)
                .connect_with(options.read_only(true))
                .await?
        };
        Ok(Self { read, write })
    }

    /// The write pool (one connection), for maintenance and tests.
    pub fn pool(&self) -> &SqlitePool {
        &self.write
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.write.begin_with("BEGIN IMMEDIATE").await
    }

    async fn begin_append(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.begin_write().await
    }
}

fn create_parent(file: &Path) -> Result<(), StoreError> {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.exists() => std::fs::create_dir_all(dir)
            .map_err(|source| StoreError::Io {
                path: dir.display().to_string(),
                source,
            }),
        _ => Ok(()),
    }
}

impl_store!(SqliteStore, Sqlite);
