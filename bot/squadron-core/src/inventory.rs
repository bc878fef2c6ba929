//! What a node says it has: the databases its agent may query, the site it serves, where
//! WordPress lives. The engine turns it into default entities for a conversation.

use serde::{Deserialize, Serialize};

use crate::squad::DbEngine;

/// A database a node's agent may query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseRef {
    pub name: String,
    pub engine: DbEngine,
}

/// A node's inventory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    #[serde(default)]
    pub databases: Vec<DatabaseRef>,
    pub site_url: Option<String>,
    pub wordpress_path: Option<String>,
}

impl Inventory {
    /// The database a message refers to: one it names, else the only one of `engine`, else
    /// the only one at all.
    pub fn pick_database(&self, message: &str) -> Option<&DatabaseRef> {
        let lower = message.to_lowercase();
        let named = self.databases.iter().find(|d| {
            lower
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
                .any(|w| w == d.name.to_lowercase())
        });
        named.or(match self.databases.as_slice() {
            [only] => Some(only),
            _ => None,
        })
    }
}
