//! What every handler shares: configuration, store, catalogue, engine, gateway, auditor,
//! conversations and metrics.

use std::collections::HashMap;
use std::sync::Arc;

use squadron_engine::{Catalog, Conversation, Engine};
use squadron_store::Store;
use tokio::sync::{Mutex, Semaphore};

use super::audit::Auditor;
use super::gateway::Gateway;
use super::metrics::Metrics;
use crate::config::Config;

/// Agents that may be mid-handshake at once (bounds the reconnect storm after a restart).
pub const MAX_HANDSHAKES: usize = 64;
/// Conversations kept in memory; the oldest are dropped past this.
pub const MAX_CONVERSATIONS: usize = 10_000;

/// Shared state of the running server.
#[derive(Debug)]
pub struct AppState {
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub catalog: Arc<Catalog>,
    pub engine: Engine,
    pub gateway: Gateway,
    pub auditor: Auditor,
    pub metrics: Metrics,
    /// SHA-256 of the admin token.
    pub admin_token_hash: String,
    pub handshakes: Arc<Semaphore>,
    pub conversations: Mutex<HashMap<String, (i64, Conversation)>>,
}
