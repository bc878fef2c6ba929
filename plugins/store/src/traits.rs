//! The [`Store`] trait every backend implements, and the [`ChainHasher`] it chains with.

use async_trait::async_trait;

use crate::model::{
    AuditCheckpoint, AuditEvent, AuditFilter, NodeRecord, SquadDeployment, StoreError,
};

/// How an audit event's hash is computed from its canonical form and the previous hash.
/// [`Sha256Chain`](crate::Sha256Chain) is unkeyed; [`HmacChain`](crate::HmacChain) is the
/// keyed one the server uses.
pub trait ChainHasher: Send + Sync + std::fmt::Debug {
    fn hash(&self, prev_hash: &str, canonical: &[u8]) -> String;
}

/// Everything the control plane persists.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Registers a node with the SHA-256 hex of its token. Names are unique, revoked
    /// nodes included.
    async fn create_node(&self, name: &str, token_hash: &str) -> Result<NodeRecord, StoreError>;
    async fn node_by_name(&self, name: &str) -> Result<Option<NodeRecord>, StoreError>;
    async fn node_by_id(&self, id: &str) -> Result<Option<NodeRecord>, StoreError>;
    /// The stored token hash of a node that is not revoked.
    async fn node_token_hash(&self, id: &str) -> Result<Option<String>, StoreError>;
    /// All nodes, revoked ones included, sorted by name.
    async fn list_nodes(&self) -> Result<Vec<NodeRecord>, StoreError>;
    /// Revokes a node (idempotent); its token hash no longer authenticates.
    async fn revoke_node(&self, name: &str) -> Result<NodeRecord, StoreError>;
    /// Records a connection or heartbeat; `None` keeps the stored version or host.
    async fn touch_node(
        &self,
        id: &str,
        at: i64,
        version: Option<&str>,
        host: Option<&str>,
    ) -> Result<(), StoreError>;

    /// Deploys a squad; deploying one already deployed returns it unchanged.
    async fn deploy_squad(&self, squad: &str, at: i64) -> Result<SquadDeployment, StoreError>;
    /// All deployments, sorted by squad.
    async fn list_deployments(&self) -> Result<Vec<SquadDeployment>, StoreError>;
    /// Links a deployed squad to a node that is not revoked (idempotent).
    async fn link(&self, squad: &str, node_name: &str) -> Result<SquadDeployment, StoreError>;
    /// Removes a link; `NotFound` if the squad, the node or the link does not exist.
    async fn unlink(&self, squad: &str, node_name: &str) -> Result<SquadDeployment, StoreError>;

    /// Stores the hash of the admin token (one row; replaced on rotation).
    async fn set_admin_token_hash(&self, hash: &str) -> Result<(), StoreError>;
    async fn admin_token_hash(&self) -> Result<Option<String>, StoreError>;

    /// Appends an event at the head of the chain, assigning seq, prev_hash and hash (and
    /// an id if empty), and returns it as stored. Appends are serialised: seq has no gaps.
    /// NUL characters in text fields are replaced by U+FFFD (Postgres cannot store them).
    async fn append_audit(
        &self,
        event: AuditEvent,
        hasher: &dyn ChainHasher,
    ) -> Result<AuditEvent, StoreError>;
    async fn list_audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError>;
    async fn audit_by_id(&self, id: &str) -> Result<Option<AuditEvent>, StoreError>;

    /// The head of the chain (last event, else the last checkpoint), `None` when empty.
    async fn audit_head(&self) -> Result<Option<AuditCheckpoint>, StoreError>;
    /// Records a checkpoint (idempotent); `Invalid` if one exists at that seq with
    /// another hash.
    async fn record_checkpoint(&self, checkpoint: &AuditCheckpoint) -> Result<(), StoreError>;
    /// All checkpoints, ascending by seq.
    async fn list_checkpoints(&self) -> Result<Vec<AuditCheckpoint>, StoreError>;

    /// The last audit seq the live sink `sink` delivered and had acknowledged; 0 when it
    /// never delivered anything (a new sink starts from the beginning of the trail).
    async fn sink_cursor(&self, sink: &str) -> Result<i64, StoreError>;
    /// Stores a sink's cursor (created or replaced). `Invalid` for a blank or overlong
    /// sink name or a negative seq. Moving it back is allowed: that replays events.
    async fn set_sink_cursor(&self, sink: &str, seq: i64) -> Result<(), StoreError>;

    /// Closes the connections, waiting for the ones in use (call on shutdown).
    async fn close(&self);
}
