//! The narrow trait analyzers implement, and the investigation they read: the request, the
//! tool runs of this turn, and the conversation's entities.

use std::fmt;

use crate::entities::Entities;
use crate::finding::Finding;
use crate::output::ToolRun;

/// What an analyzer sees when it diagnoses one turn.
pub struct Investigation<'a> {
    pub squad: &'a str,
    pub intent: &'a str,
    /// The user's message (untrusted text).
    pub message: &'a str,
    /// This turn's runs, in the order they ran; outputs are already redacted.
    pub runs: &'a [ToolRun],
    /// The conversation's entities; analyzers add facts for follow-up questions.
    pub entities: &'a mut Entities,
    /// The engine's clock, as Unix seconds.
    pub now: i64,
}

impl fmt::Debug for Investigation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Investigation")
            .field("squad", &self.squad)
            .field("intent", &self.intent)
            .field("runs", &self.runs.len())
            .finish_non_exhaustive()
    }
}

impl Investigation<'_> {
    /// The runs of one tool, in order.
    pub fn runs_of<'s>(&'s self, tool: &'s str) -> impl Iterator<Item = &'s ToolRun> + 's {
        self.runs.iter().filter(move |r| r.tool() == tool)
    }

    /// The last run of one tool.
    pub fn last(&self, tool: &str) -> Option<&ToolRun> {
        self.runs.iter().rev().find(|r| r.tool() == tool)
    }
}

/// Turns tool output into findings, deterministically.
pub trait Analyzer: Send + Sync + fmt::Debug {
    /// The id squads name in `analyzers = [...]`.
    fn id(&self) -> &'static str;

    /// Called after each step of a playbook so later steps can use what this one found
    /// (the namespace a pod lives in, the ConfigMap that holds a missing file).
    fn learn(&self, _run: &ToolRun, _entities: &mut Entities, _message: &str) {}

    /// Concludes from the turn's runs.
    fn diagnose(&self, investigation: &mut Investigation<'_>) -> Vec<Finding>;
}
