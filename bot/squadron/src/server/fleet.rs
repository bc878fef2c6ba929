//! The control plane's [`Fleet`]: picks the node a squad is linked to, checks the policy
//! (squad deployed and linked, agent serves it, no writes without approval), writes the
//! audit "started" event (fail closed), sends the run through the gateway, and writes the
//! final event.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use squadron_core::output::RunStatus;
use squadron_core::squad::Access;
use squadron_core::{Inventory, Invocation, ToolOutput};
use squadron_engine::{Fleet, FleetError};
use squadron_store::AuditEvent;

use super::state::AppState;

/// Largest output kept in an audit event.
const AUDIT_OUTPUT_CAP: usize = 64 * 1024;

/// Who asked, for the audit trail.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub platform: String,
    pub user: String,
    pub display_name: Option<String>,
    pub channel: Option<String>,
    pub conversation: Option<String>,
    pub message: Option<String>,
}

/// The fleet as one chat request sees it.
#[derive(Debug)]
pub struct ServerFleet {
    pub state: Arc<AppState>,
    pub actor: Actor,
}

fn last_seen_text(ts: Option<i64>) -> String {
    match ts.and_then(|t| chrono::DateTime::from_timestamp(t, 0)) {
        Some(t) => t.to_rfc3339(),
        None => "never".into(),
    }
}

impl ServerFleet {
    /// An event of this request's actor about `tool` of `squad` on `node`.
    fn actor_event(
        &self,
        kind: &str,
        squad: &str,
        node: &str,
        tool: &str,
        status: &str,
    ) -> AuditEvent {
        AuditEvent {
            kind: kind.into(),
            actor: self.actor.user.clone(),
            actor_name: self.actor.display_name.clone(),
            platform: self.actor.platform.clone(),
            channel: self.actor.channel.clone(),
            conversation: self.actor.conversation.clone(),
            context: self.actor.message.clone(),
            squad: Some(squad.to_owned()),
            agent: Some(squad.to_owned()),
            node: Some(node.to_owned()),
            tool: Some(tool.to_owned()),
            status: status.to_owned(),
            ..AuditEvent::default()
        }
    }

    fn event(&self, squad: &str, node: &str, inv: &Invocation, status: &str) -> AuditEvent {
        AuditEvent {
            command: Some(inv.canonical.clone()),
            args: serde_json::to_string(&inv.args).ok(),
            ..self.actor_event("tool_run", squad, node, &inv.tool, status)
        }
    }

    async fn denied(
        &self,
        squad: &str,
        node: &str,
        inv: &Invocation,
        reason: String,
    ) -> ToolOutput {
        let mut e = self.event(squad, node, inv, "denied");
        e.reason = Some(reason.clone());
        if let Err(err) = self.state.auditor.record(e).await {
            tracing::error!(error = %err, "could not audit a denied request");
        }
        self.state.metrics.command("denied", 0.0);
        ToolOutput::refused(RunStatus::Denied, reason)
    }
}

#[async_trait]
impl Fleet for ServerFleet {
    async fn resolve_node(
        &self,
        squad: &str,
        requested: Option<&str>,
    ) -> Result<String, FleetError> {
        let store = &self.state.store;
        let other = |e: squadron_store::StoreError| FleetError::Other(e.to_string());
        let deployments = self.state.deployments().await.map_err(other)?;
        let Some(dep) = deployments.into_iter().find(|d| d.squad == squad) else {
            return Err(FleetError::Other(format!(
                "squad `{squad}` is not deployed; run `squadron squad deploy {squad}`"
            )));
        };
        match requested {
            Some(name) if self.state.gateway.by_name(name).await.is_some() => {
                if dep.nodes.iter().any(|n| n == name) {
                    Ok(name.to_owned())
                } else {
                    Err(FleetError::NotLinked {
                        squad: squad.to_owned(),
                        node: name.to_owned(),
                    })
                }
            }
            Some(name) => {
                let node = store.node_by_name(name).await.map_err(other)?;
                match node {
                    None => Err(FleetError::UnknownNode(name.to_owned())),
                    Some(n) if n.revoked => {
                        Err(FleetError::Other(format!("node `{name}` is revoked")))
                    }
                    Some(_) if !dep.nodes.iter().any(|n| n == name) => Err(FleetError::NotLinked {
                        squad: squad.to_owned(),
                        node: name.to_owned(),
                    }),
                    Some(_) => Ok(name.to_owned()),
                }
            }
            None => match dep.nodes.as_slice() {
                [] => Err(FleetError::NoNode {
                    squad: squad.to_owned(),
                }),
                [only] => Ok(only.clone()),
                many => Err(FleetError::Ambiguous {
                    squad: squad.to_owned(),
                    nodes: many.join(", "),
                }),
            },
        }
    }

    async fn inventory(&self, node: &str) -> Result<Inventory, FleetError> {
        if let Some(conn) = self.state.gateway.by_name(node).await {
            return Ok(conn.inventory.clone());
        }
        let record = self
            .state
            .store
            .node_by_name(node)
            .await
            .map_err(|e| FleetError::Other(e.to_string()))?
            .ok_or_else(|| FleetError::UnknownNode(node.to_owned()))?;
        Err(FleetError::Offline {
            node: node.to_owned(),
            last_seen: last_seen_text(record.last_seen),
        })
    }

    async fn refused(&self, node: &str, squad: &str, tool: &str, reason: &str) {
        let event = AuditEvent {
            reason: Some(reason.to_owned()),
            ..self.actor_event("denied", squad, node, tool, "denied")
        };
        if let Err(err) = self.state.auditor.record(event).await {
            tracing::error!(error = %err, "could not audit a refused request");
        }
        self.state.metrics.command("denied", 0.0);
    }

    async fn run(&self, node: &str, squad: &str, inv: &Invocation) -> ToolOutput {
        let Some(conn) = self.state.gateway.by_name(node).await else {
            let last_seen = match self.state.store.node_by_name(node).await {
                Ok(Some(r)) => last_seen_text(r.last_seen),
                _ => {
                    return self
                        .denied(squad, node, inv, format!("node `{node}` is unknown"))
                        .await;
                }
            };
            return self
                .denied(
                    squad,
                    node,
                    inv,
                    format!("node `{node}` is offline (last seen {last_seen})"),
                )
                .await;
        };
        if !conn.serves(squad) {
            return self
                .denied(
                    squad,
                    node,
                    inv,
                    format!(
                        "the agent on `{node}` does not serve squad `{squad}` (its local policy)"
                    ),
                )
                .await;
        }
        if inv.access == Access::Write {
            return self
                .denied(
                    squad,
                    node,
                    inv,
                    "write tools run only after an operator approves them".into(),
                )
                .await;
        }
        let mut started = self.event(squad, node, inv, "started");
        let start_ts = chrono::Utc::now();
        started.ts = start_ts.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let started = match self.state.auditor.record(started).await {
            Ok(e) => e,
            Err(err) => {
                self.state
                    .metrics
                    .audit_failures
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::error!(error = %err, command = %inv.canonical, "audit unavailable: command refused");
                return ToolOutput::refused(
                    RunStatus::Denied,
                    format!("refused: the audit trail cannot be written ({err}); nothing was run"),
                );
            }
        };
        let clock = Instant::now();
        let output = match self.state.gateway.run(&conn.node_id, squad, inv).await {
            Ok(o) => o,
            Err(_) => ToolOutput::refused(
                RunStatus::Lost,
                "the agent disconnected before the run was delivered",
            ),
        };
        let elapsed = clock.elapsed();
        self.state
            .metrics
            .command(output.status.as_str(), elapsed.as_secs_f64());

        let mut done = self.event(squad, node, inv, output.status.as_str());
        done.ts = started.ts.clone();
        done.end_ts = Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        done.duration_ms = Some(i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX));
        done.exit_code = output.exit_code;
        let text = squadron_core::redact::redact(&output.text()).into_owned();
        done.output_bytes = Some(i64::try_from(text.len()).unwrap_or(i64::MAX));
        let mut kept = text;
        squadron_core::output::cap(&mut kept, AUDIT_OUTPUT_CAP as u64);
        done.output_sha256 = Some(hex(&Sha256::digest(kept.as_bytes())));
        done.output = Some(kept);
        done.reason =
            (!output.ok()).then(|| output.stderr.lines().next().unwrap_or_default().to_owned());
        if let Err(err) = self.state.auditor.record(done).await {
            self.state
                .metrics
                .audit_failures
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::error!(error = %err, command = %inv.canonical, "could not audit a finished run");
        }
        output
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
