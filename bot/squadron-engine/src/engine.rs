//! [`Engine::handle`]: one turn of a conversation, from message to reply.

use std::sync::Arc;

use serde::Serialize;
use squadron_core::{Finding, Inventory, Investigation, Invocation};
use tokio::sync::mpsc::UnboundedSender;

use crate::answer::{AnswerParts, compose};
use crate::catalog::Catalog;
use crate::conversation::{Conversation, TurnRecord};
use crate::fleet::{Fleet, FleetError, Progress};
use crate::planner::Plan;
use crate::router::{self, RouteError};

/// One message to a squad.
#[derive(Debug)]
pub struct Request<'a> {
    pub message: &'a str,
    /// The squad asked for (slash command, channel binding); else the conversation's, else
    /// routed by intent.
    pub squad: Option<&'a str>,
    /// The node asked for; else the conversation's, else the squad's only linked node.
    pub node: Option<&'a str>,
    /// The engine's clock, Unix seconds.
    pub now: i64,
    pub progress: Option<&'a UnboundedSender<Progress>>,
}

/// A command run during the turn, as `squadron chat --json` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommandRecord {
    pub node: String,
    pub command: String,
    pub status: String,
    pub exit_code: Option<i32>,
    pub duration_ms: u64,
}

/// The outcome of a turn.
#[derive(Debug, Clone)]
pub struct Reply {
    pub squad: String,
    pub intent: String,
    pub node: String,
    pub answer: String,
    pub commands: Vec<CommandRecord>,
    pub findings: Vec<Finding>,
    pub pending: Vec<Invocation>,
}

/// Why a turn could not be answered at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Route(#[from] RouteError),
    #[error(transparent)]
    Fleet(#[from] FleetError),
    #[error("squad `{0}` has no intent for this request and no default intent")]
    NoIntent(String),
}

/// The offline engine over a catalog of squads.
#[derive(Debug, Clone)]
pub struct Engine {
    catalog: Arc<Catalog>,
}

impl Engine {
    pub fn new(catalog: Arc<Catalog>) -> Self {
        Self { catalog }
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Answers one message in a conversation, running tools through `fleet`.
    pub async fn handle(
        &self,
        fleet: &dyn Fleet,
        conv: &mut Conversation,
        req: Request<'_>,
    ) -> Result<Reply, EngineError> {
        let squad =
            router::pick_squad(&self.catalog, req.squad, conv.squad.as_deref(), req.message)?;
        if conv.squad.as_deref() != Some(squad.id.as_str()) {
            conv.squad = Some(squad.id.clone());
        }
        let node = fleet
            .resolve_node(&squad.id, req.node.or(conv.node.as_deref()))
            .await?;
        conv.node = Some(node.clone());
        let inventory = fleet.inventory(&node).await?;

        router::extract_entities(&squad, req.message, &mut conv.entities);
        seed_from_inventory(&inventory, req.message, &mut conv.entities);
        conv.entities.set("node", node.clone());

        let intent = router::pick_intent(&squad, req.message)
            .ok_or_else(|| EngineError::NoIntent(squad.id.clone()))?;
        let missing: Vec<&str> = intent
            .requires
            .iter()
            .map(String::as_str)
            .filter(|e| !conv.entities.has(e))
            .collect();
        let analyzers = self.catalog.analyzers_for(&squad);

        let outcome = if missing.is_empty() {
            match squad.playbooks.get(&intent.playbook) {
                Some(playbook) => {
                    let plan = Plan {
                        fleet,
                        squad: &squad,
                        analyzers: &analyzers,
                        node: &node,
                        message: req.message,
                        progress: req.progress,
                    };
                    plan.run(playbook, &mut conv.entities).await
                }
                None => Default::default(),
            }
        } else {
            Default::default()
        };

        let mut findings = Vec::new();
        if missing.is_empty() {
            let mut inv = Investigation {
                squad: &squad.id,
                intent: &intent.id,
                message: req.message,
                runs: &outcome.runs,
                entities: &mut conv.entities,
                now: req.now,
            };
            for a in &analyzers {
                findings.extend(a.diagnose(&mut inv));
            }
            findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
        }

        let mut answer = compose(&AnswerParts {
            squad_name: &squad.name,
            node: &node,
            runs: &outcome.runs,
            refused: &outcome.refused,
            pending: &outcome.pending,
            findings: &findings,
        });
        if !missing.is_empty() {
            answer = format!(
                "To {} I need to know the {} first. Which one is it?",
                if intent.description.is_empty() {
                    intent.id.replace('_', " ")
                } else {
                    intent.description.to_lowercase()
                },
                missing.join(" and ")
            );
        }

        let commands: Vec<CommandRecord> = outcome
            .runs
            .iter()
            .map(|r| CommandRecord {
                node: r.node.clone(),
                command: r.command().to_owned(),
                status: r.output.status.as_str().to_owned(),
                exit_code: r.output.exit_code,
                duration_ms: r.output.duration_ms,
            })
            .collect();
        conv.turns.push(TurnRecord {
            message: req.message.to_owned(),
            intent: intent.id.clone(),
            commands: commands.iter().map(|c| c.command.clone()).collect(),
        });
        Ok(Reply {
            squad: squad.id.clone(),
            intent: intent.id.clone(),
            node,
            answer,
            commands,
            findings,
            pending: outcome.pending,
        })
    }
}

/// Entities the node's inventory implies: its database, site and WordPress path.
fn seed_from_inventory(
    inventory: &Inventory,
    message: &str,
    entities: &mut squadron_core::Entities,
) {
    if let Some(db) = inventory.pick_database(message) {
        entities.set("database", db.name.clone());
        entities.set("db_engine", db.engine.as_str());
    }
    if let Some(url) = &inventory.site_url {
        entities.set_default("site_url", url.trim_end_matches('/'));
    }
    if let Some(path) = &inventory.wordpress_path {
        entities.set_default("wordpress_path", path.trim_end_matches('/'));
    }
}
