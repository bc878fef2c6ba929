//! The SQLite backend (the default): WAL journal, `synchronous=NORMAL`, a busy timeout
//! and foreign keys on every connection. All writes go through one dedicated connection
//! behind an async mutex and start with `BEGIN IMMEDIATE`, so appends are serialised in
//! process without `database is locked` retries (and across processes by SQLite's write
//! lock); reads use their own read-only pool. A dedicated connection rather than a
//! one-connection pool: a pool round trip costs ~100 µs, several times a whole append.
//! WAL checkpoints run beside the writer in a background task, not in its commits.

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
/// How often the checkpointer copies the WAL back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
/// WAL pages (4 KiB) after which the writer checkpoints itself, should the checkpointer
/// fall behind; SQLite's default is 1000.
const WRITER_AUTOCHECKPOINT: &str = "16384";
/// Bytes the WAL file is truncated to when it is reset after a burst.
const WAL_SIZE_LIMIT: &str = "67108864";

/// Storage in one SQLite file.
#[derive(Debug)]
pub struct SqliteStore {
    pub(crate) read: SqlitePool,
    /// `None` once closed.
    writer: Mutex<Option<SqliteConnection>>,
    /// `None` in memory or once closed.
    checkpointer: Mutex<Option<Checkpointer>>,
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
            .pragma("journal_size_limit", WAL_SIZE_LIMIT);
        if !memory {
            create_parent(options.get_filename())?;
        }
        // The writer leaves checkpoints to the checkpointer (the safety net aside): copying
        // WAL pages back and fsyncing in the commit path halves the append rate.
        let writer_options = options
            .clone()
            .pragma("wal_autocheckpoint", WRITER_AUTOCHECKPOINT);
        let mut writer = SqliteConnection::connect_with(&writer_options).await?;
        MIGRATOR.run(&mut writer).await?;
        let checkpointer = if memory {
            None
        } else {
            Some(Checkpointer::start(
                SqliteConnection::connect_with(&options).await?,
            ))
        };
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
            checkpointer: Mutex::new(checkpointer),
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
        if let Some(c) = self.checkpointer.lock().await.take() {
            c.stop().await;
        }
        self.read.close().await;
        if let Some(conn) = self.writer.lock().await.take() {
            // Closing the last connection checkpoints the WAL into the database file; on
            // shutdown there is nothing more to do if that fails.
            let _closed = conn.close().await;
        }
    }
}

/// A task with its own connection running `PRAGMA wal_checkpoint(PASSIVE)` every
/// [`CHECKPOINT_EVERY`], beside the writer rather than in its commits. It stops when told
/// or when the store is dropped.
#[derive(Debug)]
struct Checkpointer {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Checkpointer {
    fn start(mut conn: SqliteConnection) -> Self {
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = tick.tick() => {
                        // A failed passive checkpoint is retried at the next tick, and the
                        // writer's own autocheckpoint bounds the WAL meanwhile.
                        let _busy = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&mut conn).await;
                    }
                }
            }
            let _closed = conn.close().await;
        });
        Self { stop, task }
    }

    async fn stop(self) {
        let _gone = self.stop.send(());
        let _joined = self.task.await;
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
