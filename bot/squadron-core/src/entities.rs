//! What a conversation knows: named values pulled from messages (pod, namespace, domain) and
//! facts that analyzers learned from tool output (the pod's real namespace, the ConfigMap
//! that holds the missing file). Follow-up questions run on them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Named values, ordered by name so answers and logs are stable.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Entities(BTreeMap<String, String>);

impl Entities {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.insert(name.into(), value.into());
    }

    /// Sets `name` only when it has no value yet.
    pub fn set_default(&mut self, name: &str, value: impl Into<String>) {
        if !self.0.contains_key(name) {
            self.0.insert(name.to_owned(), value.into());
        }
    }

    pub fn remove(&mut self, name: &str) -> Option<String> {
        self.0.remove(name)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Whether a `when` condition holds: `name`, `!name`, `name=value` or `name!=value`.
    pub fn satisfies(&self, condition: &str) -> bool {
        if let Some((name, value)) = condition.split_once("!=") {
            return self.get(name.trim()) != Some(value.trim());
        }
        if let Some((name, value)) = condition.split_once('=') {
            return self.get(name.trim()) == Some(value.trim());
        }
        if let Some(name) = condition.strip_prefix('!') {
            return !self.has(name.trim());
        }
        self.has(condition.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_read_presence_and_values() {
        let mut e = Entities::new();
        e.set("engine", "postgres");
        assert!(e.satisfies("engine"));
        assert!(e.satisfies("engine=postgres"));
        assert!(e.satisfies("engine!=mysql"));
        assert!(e.satisfies("!pod"));
        assert!(!e.satisfies("pod"));
        assert!(!e.satisfies("engine=mysql"));
        e.set_default("engine", "mysql");
        assert_eq!(e.get("engine"), Some("postgres"));
    }
}
