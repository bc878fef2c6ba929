//! The Postgres backend: one pool for reads and writes; appends take a transaction-scoped advisory lock
//! (`pg_advisory_xact_lock`) before reading the head, so seq is gap-free across every
//! connection and every server process sharing the database.

use std::str::FromStr;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Connection, PgConnection, Postgres, Transaction};

use crate::model::StoreError;
use crate::store_impl::impl_store;

/// Embedded at compile time (see the note in `sqlite.rs`).
static MIGRATOR: sqlx::migrate::Migrator = sqlx::sqlx_macros::migrate!("../../migrations/postgres");

/// The advisory lock key that serialises audit appends ("SqnAudit" in ASCII).
pub const AUDIT_LOCK_KEY: i64 = 0x5371_6e41_7564_6974;
/// Connections in the pool.
const CONNECTIONS: u32 = 10;

/// Storage in a Postgres database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    /// The one pool, for reads and writes (named for the shared `Store` impl).
    pub(crate) read: PgPool,
}

impl PostgresStore {
    /// Connects to `postgres://...` (or `postgresql://...`) and migrates the database.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?.application_name("squadron");
        // One direct attempt first: the pool would retry a refused connection until its
        // acquire timeout, and an unreachable server should fail at once.
        PgConnection::connect_with(&options).await?.close().await?;
        let pool = PgPoolOptions::new()
            .max_connections(CONNECTIONS)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { read: pool })
    }

    /// The connection pool, for maintenance and tests.
    pub fn pool(&self) -> &PgPool {
        &self.read
    }

    /// A connection for a write transaction.
    async fn writer(&self) -> Result<PoolConnection<Postgres>, StoreError> {
        Ok(self.read.acquire().await?)
    }

    async fn begin_write(
        conn: &mut PgConnection,
    ) -> Result<Transaction<'_, Postgres>, sqlx::Error> {
        conn.begin().await
    }

    async fn begin_append(
        conn: &mut PgConnection,
    ) -> Result<Transaction<'_, Postgres>, sqlx::Error> {
        let mut tx = conn.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(AUDIT_LOCK_KEY)
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }

    async fn shutdown(&self) {
        self.read.close().await;
    }
}

impl_store!(PostgresStore, Postgres);
