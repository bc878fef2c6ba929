//! The offline engine: runs an intent's playbook step by step. Each step's arguments come
//! from its templates, then from the entity of the same name, then from the parameter's
//! default; a step whose conditions fail or whose required values are unknown is skipped.
//! After every run the squad's analyzers may learn entities that later steps use.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use squadron_core::invocation::RenderError;
use squadron_core::output::RunStatus;
use squadron_core::redact::redact;
use squadron_core::squad::{Access, Playbook, Step, ToolKind};
use squadron_core::{Analyzer, Entities, Invocation, Squad, Tool, ToolOutput, ToolRun};
use tokio::sync::mpsc::UnboundedSender;

use crate::fleet::{Fleet, Progress};

/// What a playbook did.
#[derive(Debug, Default)]
pub struct Outcome {
    pub runs: Vec<ToolRun>,
    /// Steps refused before they ran: tool and reason.
    pub refused: Vec<(String, String)>,
    /// Write tools proposed for approval, never run here.
    pub pending: Vec<Invocation>,
}

/// Everything a playbook run needs.
pub struct Plan<'a> {
    pub fleet: &'a dyn Fleet,
    pub squad: &'a Squad,
    pub analyzers: &'a [Arc<dyn Analyzer>],
    pub node: &'a str,
    pub message: &'a str,
    pub progress: Option<&'a UnboundedSender<Progress>>,
}

impl std::fmt::Debug for Plan<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plan")
            .field("squad", &self.squad.id)
            .field("node", &self.node)
            .finish_non_exhaustive()
    }
}

/// Binds a step's arguments; `None` when the step cannot run with what is known.
pub fn bind(step: &Step, tool: &Tool, entities: &Entities) -> Option<BTreeMap<String, String>> {
    let mut args = BTreeMap::new();
    let mut names: Vec<&str> = tool.params.iter().map(|p| p.name.as_str()).collect();
    if matches!(tool.kind, ToolKind::Sql { .. }) {
        names.push("database");
    }
    for name in names {
        let value = match step.args.get(name) {
            Some(template) => Some(squadron_core::template::fill(template, |k| {
                entities.get(k).map(str::to_owned)
            })?),
            None => entities.get(name).map(str::to_owned),
        };
        match value {
            Some(v) => {
                args.insert(name.to_owned(), v);
            }
            None => {
                let required = tool
                    .param(name)
                    .map_or(name == "database", |p| p.required && p.default.is_none());
                if required {
                    return None;
                }
            }
        }
    }
    Some(args)
}

impl Plan<'_> {
    /// Runs the playbook, updating `entities` as analyzers learn.
    pub async fn run(&self, playbook: &Playbook, entities: &mut Entities) -> Outcome {
        let mut out = Outcome::default();
        let mut seen = BTreeSet::new();
        for step in &playbook.steps {
            if !step.when.iter().all(|c| entities.satisfies(c)) {
                continue;
            }
            let Some(tool) = self.squad.tool(&step.tool) else {
                continue;
            };
            let Some(args) = bind(step, tool, entities) else {
                continue;
            };
            let invocation = match tool.render(&args) {
                Ok(inv) => inv,
                Err(e) => {
                    self.fleet
                        .refused(self.node, &self.squad.id, &tool.id, &e.to_string())
                        .await;
                    self.refuse(&mut out, tool, e);
                    continue;
                }
            };
            if !seen.insert(invocation.canonical.clone()) {
                continue;
            }
            if invocation.access == Access::Write {
                out.pending.push(invocation);
                continue;
            }
            let run = self.execute(invocation).await;
            for a in self.analyzers {
                a.learn(&run, entities, self.message);
            }
            out.runs.push(run);
        }
        out
    }

    fn refuse(&self, out: &mut Outcome, tool: &Tool, error: RenderError) {
        tracing::info!(tool = %tool.id, %error, "step refused");
        out.refused.push((tool.id.clone(), error.to_string()));
    }

    async fn execute(&self, invocation: Invocation) -> ToolRun {
        let command = invocation.canonical.clone();
        if let Some(p) = self.progress {
            let _ = p.send(Progress::Running {
                node: self.node.to_owned(),
                command: command.clone(),
            });
        }
        let raw = self.fleet.run(self.node, &self.squad.id, &invocation).await;
        let output = ToolOutput {
            stdout: redact(&raw.stdout).into_owned(),
            stderr: redact(&raw.stderr).into_owned(),
            ..raw
        };
        if let Some(p) = self.progress {
            let _ = p.send(Progress::Finished {
                node: self.node.to_owned(),
                command,
                status: output.status.as_str().to_owned(),
            });
        }
        if output.status == RunStatus::Denied {
            tracing::info!(tool = %invocation.tool, reason = %output.stderr, "run denied");
        }
        ToolRun {
            node: self.node.to_owned(),
            invocation,
            output,
        }
    }
}
