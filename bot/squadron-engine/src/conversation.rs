//! What a conversation (a chat thread) remembers between turns: its squad and node, the
//! entities it has learned, and a short history.

use serde::{Deserialize, Serialize};
use squadron_core::Entities;

/// One finished turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnRecord {
    pub message: String,
    pub intent: String,
    pub commands: Vec<String>,
}

/// A conversation's state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: String,
    pub squad: Option<String>,
    pub node: Option<String>,
    pub entities: Entities,
    pub turns: Vec<TurnRecord>,
}

impl Conversation {
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            ..Self::default()
        }
    }

    pub fn last_intent(&self) -> Option<&str> {
        self.turns.last().map(|t| t.intent.as_str())
    }
}
