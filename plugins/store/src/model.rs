//! The records the store keeps, the audit filter, and the store's error type.

use serde::{Deserialize, Serialize};

/// A registered node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct NodeRecord {
    pub id: String,
    pub name: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last heartbeat or connection, if any.
    pub last_seen: Option<i64>,
    pub version: Option<String>,
    pub host: Option<String>,
    pub revoked: bool,
}

/// A squad deployed on the control plane, and the nodes it is linked to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SquadDeployment {
    pub squad: String,
    pub deployed_at: i64,
    /// Node names, sorted.
    pub nodes: Vec<String>,
}

/// One audit event (SPEC section 7). `seq`, `prev_hash` and `hash` are assigned by
/// [`Store::append_audit`](crate::Store::append_audit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, sqlx::FromRow)]
pub struct AuditEvent {
    pub id: String,
    pub seq: i64,
    /// RFC 3339 start time.
    pub ts: String,
    /// RFC 3339 end time, for runs that finished.
    pub end_ts: Option<String>,
    pub duration_ms: Option<i64>,
    /// `tool_run`, `denied`, `approval`, `admin`...
    pub kind: String,
    pub actor: String,
    pub actor_name: Option<String>,
    pub platform: String,
    pub channel: Option<String>,
    pub conversation: Option<String>,
    /// The message that led to the event.
    pub context: Option<String>,
    pub squad: Option<String>,
    pub agent: Option<String>,
    pub node: Option<String>,
    pub tool: Option<String>,
    /// The canonical command line.
    pub command: Option<String>,
    /// JSON object of the validated arguments.
    pub args: Option<String>,
    /// ok, error, timeout, denied, lost, approved, rejected, started
    pub status: String,
    pub exit_code: Option<i32>,
    /// Redacted and capped.
    pub output: Option<String>,
    pub output_bytes: Option<i64>,
    pub output_sha256: Option<String>,
    pub reason: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// Filters for listing audit events; `None` means any. Events come in ascending `seq`;
/// `since_seq` is exclusive (a cursor: pass the last `seq` you have), `limit` keeps the
/// first `limit` matches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub since_seq: Option<i64>,
    pub limit: Option<i64>,
    pub node: Option<String>,
    pub squad: Option<String>,
    pub status: Option<String>,
    pub actor: Option<String>,
}

/// A point of the chain: the sequence number and hash of the event at the head when it
/// was taken. Sent to sinks so a truncated tail is detectable; kept at a retention cut so
/// the remaining chain still verifies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct AuditCheckpoint {
    pub seq: i64,
    pub head_hash: String,
    /// RFC 3339 time of the head event (from [`Store::audit_head`](crate::Store::audit_head))
    /// or of the checkpoint.
    pub ts: String,
}

/// Storage errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{what} `{name}` already exists")]
    Exists { what: &'static str, name: String },
    #[error("{what} `{name}` not found")]
    NotFound { what: &'static str, name: String },
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Invalid(String),
    #[error(
        "cannot create the database directory {path}: {source}; create it or point database_url elsewhere"
    )]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}
