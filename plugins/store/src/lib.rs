//! Squadron's storage: nodes and their token hashes, squad deployments and links, admin
//! tokens, the hash-chained audit trail and the live SIEM sinks' cursors, behind one
//! [`Store`] trait with a SQLite and a Postgres implementation, each owning its migrations
//! (`migrations/sqlite`, `migrations/postgres`). [`open`] picks one from the database URL.
//!
//! # Layout
//!
//! - `model`: records ([`NodeRecord`], [`SquadDeployment`], [`AuditEvent`],
//!   [`AuditCheckpoint`]), [`AuditFilter`] and [`StoreError`].
//! - `traits`: the [`Store`] and [`ChainHasher`] traits.
//! - `sqlite`, `postgres`: [`SqliteStore`] and [`PostgresStore`].
//! - `store_impl`, `common`: the shared `Store` impl (a macro) and its SQL and checks.
//! - `chain`: [`canonical_bytes`], [`Sha256Chain`], [`HmacChain`], [`GENESIS_HASH`].
//! - `verify`: [`verify_chain`] and [`ChainBreak`].
//! - `token`: [`new_token`], [`hash_token`], [`token_matches`], node and event ids.

mod chain;
mod common;
mod model;
mod postgres;
mod sqlite;
mod store_impl;
mod token;
mod traits;
mod verify;

use std::sync::Arc;

pub use chain::{GENESIS_HASH, HmacChain, Sha256Chain, canonical_bytes};
pub use model::{
    AuditCheckpoint, AuditEvent, AuditFilter, NodeRecord, SquadDeployment, StoreError,
};
pub use postgres::{AUDIT_LOCK_KEY, PostgresStore};
pub use sqlite::SqliteStore;
pub use token::{
    TOKEN_PREFIX, hash_token, is_sha256_hex, new_event_id, new_node_id, new_token, token_matches,
};
pub use traits::{ChainHasher, Store};
pub use verify::{BreakKind, ChainBreak, VerifySummary, verify_chain, verify_chain_summary};

/// Opens the store named by `database_url` and runs its migrations: `sqlite://PATH`,
/// `sqlite:PATH` or a plain path for SQLite, `postgres://` or `postgresql://` for Postgres.
pub async fn open(database_url: &str) -> Result<Arc<dyn Store>, StoreError> {
    let url = database_url.trim();
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("postgres" | "postgresql") => Ok(Arc::new(PostgresStore::connect(url).await?)),
        Some("sqlite") => Ok(Arc::new(SqliteStore::open(url).await?)),
        Some(other) => Err(StoreError::Invalid(format!(
            "unsupported database_url scheme `{other}`: use sqlite://PATH or postgres://USER@HOST/DB"
        ))),
        None if url.is_empty() => Err(StoreError::Invalid(
            "database_url is empty: use sqlite://PATH or postgres://USER@HOST/DB".into(),
        )),
        None => Ok(Arc::new(SqliteStore::open(url).await?)),
    }
}
