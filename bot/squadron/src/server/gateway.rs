//! The agent gateway: the WebSocket each agent dials out to, the registry of live
//! connections, and the request/response matching over them.
//!
//! An agent upgrades `GET /v1/agent/connect` with `Authorization: Bearer <token>`, then
//! sends `Hello`; the token is checked (constant time, against the stored hash) for the
//! node the Hello names before anything else happens. A request whose connection drops
//! before its result arrives is answered `lost` and never re-sent.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use squadron_core::output::RunStatus;
use squadron_core::{Inventory, Invocation, ToolOutput};
use squadron_proto::{RequestId, ServerMessage};
use tokio::sync::{Mutex, mpsc, oneshot};

/// A live agent connection.
#[derive(Debug)]
pub struct Connection {
    pub node_id: String,
    pub node_name: String,
    pub version: String,
    pub host: String,
    /// The agent's own ceiling; `*` means every linked squad.
    pub squads: Vec<String>,
    pub allow_write: bool,
    pub inventory: Inventory,
    pub connected_at: i64,
    pub last_seen: AtomicI64,
    /// Frames to the agent; the socket task writes them.
    pub outbox: mpsc::Sender<ServerMessage>,
    pending: Mutex<HashMap<RequestId, oneshot::Sender<ToolOutput>>>,
    /// Distinguishes this connection from a later one of the same node.
    pub generation: u64,
}

impl Connection {
    pub fn serves(&self, squad: &str) -> bool {
        self.squads.iter().any(|s| s == "*" || s == squad)
    }

    /// Delivers a result to the request waiting for it.
    pub async fn complete(&self, id: &str, output: ToolOutput) {
        if let Some(tx) = self.pending.lock().await.remove(id) {
            let _ = tx.send(output);
        }
    }

    /// Answers every request still waiting with `lost`.
    async fn fail_pending(&self, reason: &str) {
        for (_, tx) in self.pending.lock().await.drain() {
            let _ = tx.send(ToolOutput::refused(RunStatus::Lost, reason));
        }
    }
}

/// Everything needed to register a connection.
#[derive(Debug)]
pub struct NewConnection {
    pub node_id: String,
    pub node_name: String,
    pub version: String,
    pub host: String,
    pub squads: Vec<String>,
    pub allow_write: bool,
    pub inventory: Inventory,
    pub now: i64,
    pub outbox: mpsc::Sender<ServerMessage>,
}

/// The registry of live connections.
#[derive(Debug, Default)]
pub struct Gateway {
    conns: Mutex<HashMap<String, Arc<Connection>>>,
    next_generation: AtomicU64,
    next_request: AtomicU64,
}

/// Why a run could not be delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    #[error("node is not connected")]
    NotConnected,
}

impl Gateway {
    /// Registers a connection, replacing (and closing) an older one of the same node.
    pub async fn register(&self, c: NewConnection) -> Arc<Connection> {
        let conn = Arc::new(Connection {
            node_id: c.node_id.clone(),
            node_name: c.node_name,
            version: c.version,
            host: c.host,
            squads: c.squads,
            allow_write: c.allow_write,
            inventory: c.inventory,
            connected_at: c.now,
            last_seen: AtomicI64::new(c.now),
            outbox: c.outbox,
            pending: Mutex::new(HashMap::new()),
            generation: self.next_generation.fetch_add(1, Ordering::Relaxed),
        });
        let old = self.conns.lock().await.insert(c.node_id, conn.clone());
        if let Some(old) = old {
            let _ = old.outbox.try_send(ServerMessage::Close {
                reason: "replaced by a newer connection".into(),
            });
            old.fail_pending("the agent reconnected before reporting; the run is not repeated")
                .await;
        }
        conn
    }

    /// Forgets a connection when its socket ends, failing its pending requests as `lost`.
    pub async fn unregister(&self, conn: &Arc<Connection>) {
        let mut conns = self.conns.lock().await;
        if conns
            .get(&conn.node_id)
            .is_some_and(|c| c.generation == conn.generation)
        {
            conns.remove(&conn.node_id);
        }
        drop(conns);
        conn.fail_pending("the agent disconnected before reporting; the run is not repeated")
            .await;
    }

    /// Requests sent to agents that have not answered yet.
    pub async fn pending_total(&self) -> usize {
        let conns: Vec<Arc<Connection>> = self.conns.lock().await.values().cloned().collect();
        let mut n = 0;
        for c in conns {
            n += c.pending.lock().await.len();
        }
        n
    }

    /// Closes every agent connection (server shutdown); agents reconnect to the next server.
    pub async fn close_all(&self, reason: &str) {
        let ids: Vec<String> = self.conns.lock().await.keys().cloned().collect();
        for id in ids {
            self.disconnect(&id, reason).await;
        }
    }

    /// The live connection of a node, by node name.
    pub async fn by_name(&self, name: &str) -> Option<Arc<Connection>> {
        self.conns
            .lock()
            .await
            .values()
            .find(|c| c.node_name == name)
            .cloned()
    }

    pub async fn get(&self, node_id: &str) -> Option<Arc<Connection>> {
        self.conns.lock().await.get(node_id).cloned()
    }

    pub async fn count(&self) -> usize {
        self.conns.lock().await.len()
    }

    /// Closes a node's live connection (revocation).
    pub async fn disconnect(&self, node_id: &str, reason: &str) {
        let conn = self.conns.lock().await.remove(node_id);
        if let Some(conn) = conn {
            tracing::info!(node = %conn.node_name, %reason, "closing the agent's connection");
            let _ = conn
                .outbox
                .send(ServerMessage::Close {
                    reason: reason.to_owned(),
                })
                .await;
            conn.fail_pending(reason).await;
        }
    }

    /// Sends a run to a node's agent and waits for its result; `lost` if the connection
    /// drops first, `timeout` if nothing comes back in time.
    pub async fn run(
        &self,
        node_id: &str,
        squad: &str,
        invocation: &Invocation,
    ) -> Result<ToolOutput, DeliveryError> {
        let conn = self.get(node_id).await.ok_or(DeliveryError::NotConnected)?;
        let id = format!(
            "req_{:x}_{:x}",
            conn.generation,
            self.next_request.fetch_add(1, Ordering::Relaxed)
        );
        let (tx, rx) = oneshot::channel();
        conn.pending.lock().await.insert(id.clone(), tx);
        let msg = ServerMessage::Run {
            id: id.clone(),
            squad: squad.to_owned(),
            invocation: invocation.clone(),
        };
        if conn.outbox.send(msg).await.is_err() {
            conn.pending.lock().await.remove(&id);
            return Err(DeliveryError::NotConnected);
        }
        let wait = invocation.timeout + Duration::from_secs(15);
        match tokio::time::timeout(wait, rx).await {
            Ok(Ok(output)) => Ok(output),
            Ok(Err(_)) => Ok(ToolOutput::refused(
                RunStatus::Lost,
                "the agent connection ended before the result arrived",
            )),
            Err(_) => {
                conn.pending.lock().await.remove(&id);
                Ok(ToolOutput::refused(
                    RunStatus::Timeout,
                    "no result from the agent in time",
                ))
            }
        }
    }
}
