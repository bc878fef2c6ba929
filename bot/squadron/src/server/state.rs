//! What every handler shares: configuration, store, catalogue, engine, gateway, auditor,
//! conversations and metrics.

use std::collections::HashMap;
use std::sync::Arc;

use squadron_engine::{Catalog, Conversation, Engine};
use squadron_store::{SquadDeployment, Store};
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
    /// Squad deployments and links, read through on first use and dropped on every change
    /// (all changes go through this process's API).
    pub deployments: tokio::sync::RwLock<Option<Vec<SquadDeployment>>>,
    /// The live SIEM sinks, and the switch that stops them.
    pub sinks: Mutex<Option<squadron_siem::sinks::SinkHandles>>,
    pub sinks_stop: tokio::sync::watch::Sender<bool>,
}

impl AppState {
    /// The deployments, from the cache or the store.
    pub async fn deployments(&self) -> Result<Vec<SquadDeployment>, squadron_store::StoreError> {
        if let Some(d) = self.deployments.read().await.as_ref() {
            return Ok(d.clone());
        }
        let fresh = self.store.list_deployments().await?;
        *self.deployments.write().await = Some(fresh.clone());
        Ok(fresh)
    }

    /// Forgets the cached deployments after a change.
    pub async fn deployments_changed(&self) {
        *self.deployments.write().await = None;
    }
}
