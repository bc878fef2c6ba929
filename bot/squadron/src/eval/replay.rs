//! The replay node: a [`Fleet`] that answers commands from a scenario's `[[replay]]` rules
//! instead of running them. It accepts every tool of the squad, applies a read_file's tail,
//! the tool's filter and its output cap as a real agent would, and never runs anything.

use async_trait::async_trait;
use squadron_core::output::{self, RunStatus};
use squadron_core::{Inventory, Invocation, InvocationKind, ToolOutput};
use squadron_engine::{Fleet, FleetError};

use super::scenario::Scenario;

/// Answers commands from a scenario.
#[derive(Debug)]
pub struct ReplayNode<'a> {
    pub scenario: &'a Scenario,
}

#[async_trait]
impl Fleet for ReplayNode<'_> {
    async fn resolve_node(
        &self,
        _squad: &str,
        requested: Option<&str>,
    ) -> Result<String, FleetError> {
        match requested {
            Some(n) if n != self.scenario.node => Err(FleetError::UnknownNode(n.to_owned())),
            _ => Ok(self.scenario.node.clone()),
        }
    }

    async fn inventory(&self, _node: &str) -> Result<Inventory, FleetError> {
        Ok(self.scenario.inventory.clone())
    }

    async fn run(&self, _node: &str, _squad: &str, inv: &Invocation) -> ToolOutput {
        if let InvocationKind::Sql { database, .. } = &inv.kind {
            let listed = &self.scenario.inventory.databases;
            if !listed.is_empty() && !listed.iter().any(|d| &d.name == database) {
                return ToolOutput::refused(
                    RunStatus::Denied,
                    format!("database `{database}` is not configured on this node"),
                );
            }
        }
        let raw = match self
            .scenario
            .replay
            .iter()
            .find(|r| r.command.is_match(&inv.canonical))
        {
            Some(rule) => {
                let mut stdout = rule.stdout.clone();
                if let InvocationKind::ReadFile { tail, .. } = &inv.kind {
                    stdout = output::tail_lines(&stdout, *tail);
                }
                ToolOutput::finished(rule.exit, stdout, rule.stderr.clone())
            }
            None => ToolOutput::finished(1, String::new(), "not found".to_owned()),
        };
        output::finish(inv, raw)
    }
}
