//! The SQLite backend (the default): WAL journal, `synchronous=NORMAL`, a busy timeout
//! and foreign keys on every connection. All writes go through one dedicated connection
//! behind an async mutex and start with `BEGIN IMMEDIATE`, so appends are serialised in
//! process without `database is locked` retries (and across processes by SQLite's write
//! lock); reads use their own read-only pool. A dedicated connection rather than a
//! one-connection pool: a pool round trip costs ~100 µs, several times a whole append.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, Sqlite, SqliteConnection, Transaction};
use tokio::sync::{Mutex, MutexGuard};

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
#[derive(Debug)]
pub struct SqliteStore {
    pub(crate) read: SqlitePool,
    /// `None` once closed.
    writer: Mutex<Option<SqliteConnection>>,
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
            .foreign_keys(true)
            .pragma(
                "wal_autocheckpoint",
                std::fs::read_to_string("/tmp/sqn_autockpt").unwrap_or("1000".into()),
            );
        if !memory {
            create_parent(options.get_filename())?;
        }
        let mut writer = SqliteConnection::connect_with(&options).await?;
        MIGRATOR.run(&mut writer).await?;
        // An in-memory database (shared cache) lives as long as a connection to it does:
        // the writer keeps it alive; its readers open it in the writer's mode.
        let read_options = if memory {
            options
        } else {
            options.read_only(true)
        };
        let read = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(read_options)
            .await?;
        Ok(Self {
            read,
            writer: Mutex::new(Some(writer)),
        })
    }

    /// The read-only pool, for inspection and tests.
    pub fn pool(&self) -> &SqlitePool {
        &self.read
    }

    /// The write connection, exclusively.
    async fn writer(
        &self,
    ) -> Result<tokio::sync::MappedMutexGuard<'_, SqliteConnection>, StoreError> {
        MutexGuard::try_map(self.writer.lock().await, Option::as_mut)
            .map_err(|_| StoreError::Db(sqlx::Error::PoolClosed))
    }

    async fn begin_write(
        conn: &mut SqliteConnection,
    ) -> Result<Transaction<'_, Sqlite>, sqlx::Error> {
        conn.begin_with("BEGIN IMMEDIATE").await
    }

    async fn begin_append(
        conn: &mut SqliteConnection,
    ) -> Result<Transaction<'_, Sqlite>, sqlx::Error> {
        Self::begin_write(conn).await
    }

    async fn shutdown(&self) {
        self.read.close().await;
        if let Some(conn) = self.writer.lock().await.take() {
            // Closing the last connection checkpoints the WAL into the database file; on
            // shutdown there is nothing more to do if that fails.
            let _closed = conn.close().await;
        }
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
