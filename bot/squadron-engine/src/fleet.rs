//! The narrow trait through which the engine reaches nodes. The control plane implements
//! it with the policy gate, the audit trail and real agents; `squadron eval` with a replay
//! node; tests with fakes.

use async_trait::async_trait;
use squadron_core::{Inventory, Invocation, ToolOutput};

/// Why a node could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FleetError {
    #[error("node `{0}` is unknown; `squadron node list` shows the registered nodes")]
    UnknownNode(String),
    #[error("node `{node}` is offline (last seen {last_seen})")]
    Offline { node: String, last_seen: String },
    #[error(
        "squad `{squad}` is not linked to node `{node}`; run `squadron squad link {squad} --node {node}`"
    )]
    NotLinked { squad: String, node: String },
    #[error("squad `{squad}` is linked to no node; run `squadron squad link {squad} --node NAME`")]
    NoNode { squad: String },
    #[error("squad `{squad}` is linked to several nodes ({nodes}); say which one")]
    Ambiguous { squad: String, nodes: String },
    #[error("{0}")]
    Other(String),
}

/// What the user sees while a squad works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    Running {
        node: String,
        command: String,
    },
    Finished {
        node: String,
        command: String,
        status: String,
    },
}

/// Runs tools on nodes.
#[async_trait]
pub trait Fleet: Send + Sync {
    /// Picks the node for a squad: the one asked for, or the only one it is linked to.
    async fn resolve_node(
        &self,
        squad: &str,
        requested: Option<&str>,
    ) -> Result<String, FleetError>;

    /// What the node says it has.
    async fn inventory(&self, node: &str) -> Result<Inventory, FleetError>;

    /// Runs one validated invocation for `squad` on `node`. Refusals, failures, timeouts
    /// and lost runs come back as outputs with that status, never as panics.
    async fn run(&self, node: &str, squad: &str, invocation: &Invocation) -> ToolOutput;

    /// Records a request the engine refused before it could run (a value that failed its
    /// parameter's rule, an escape hatch). The control plane audits it.
    async fn refused(&self, _node: &str, _squad: &str, _tool: &str, _reason: &str) {}
}
