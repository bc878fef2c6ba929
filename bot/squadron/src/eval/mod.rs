//! `squadron eval DIR...`: runs scenarios against a replay node with the offline engine,
//! prints one line per scenario and `N passed, N failed`, or a JSON report.

pub mod check;
pub mod replay;
pub mod scenario;

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;
use squadron_engine::{Catalog, Conversation, Engine, Request};

use replay::ReplayNode;
use scenario::Scenario;

/// The result of one turn.
#[derive(Debug, Serialize)]
pub struct TurnReport {
    pub message: String,
    pub passed: bool,
    pub intent: String,
    pub answer: String,
    pub commands: Vec<String>,
    pub failures: Vec<String>,
}

/// The result of one scenario.
#[derive(Debug, Serialize)]
pub struct ScenarioReport {
    pub name: String,
    pub path: String,
    pub squad: String,
    pub passed: bool,
    pub turns: Vec<TurnReport>,
    /// Set when the scenario could not be loaded or run at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The whole run.
#[derive(Debug, Serialize)]
pub struct Report {
    pub scenarios: Vec<ScenarioReport>,
    pub passed: usize,
    pub failed: usize,
}

impl ScenarioReport {
    fn failed_to_load(path: &std::path::Path, error: String) -> Self {
        Self {
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            path: path.display().to_string(),
            squad: String::new(),
            passed: false,
            turns: Vec::new(),
            error: Some(error),
        }
    }

    /// The one-line summary `squadron eval` prints.
    pub fn line(&self) -> String {
        let label = if self.squad.is_empty() {
            self.name.clone()
        } else {
            format!("{}/{}", self.squad, self.name)
        };
        if let Some(e) = &self.error {
            return format!("FAIL {label}: {e}");
        }
        if self.passed {
            return format!(
                "PASS {label} ({} turn{})",
                self.turns.len(),
                if self.turns.len() == 1 { "" } else { "s" }
            );
        }
        let why: Vec<String> = self
            .turns
            .iter()
            .enumerate()
            .filter(|(_, t)| !t.passed)
            .map(|(i, t)| format!("turn {}: {}", i + 1, t.failures.join("; ")))
            .collect();
        format!("FAIL {label}: {}", why.join(" | "))
    }
}

/// Runs one loaded scenario.
pub async fn run_scenario(engine: &Engine, scenario: &Scenario) -> ScenarioReport {
    let node = ReplayNode { scenario };
    let mut conv = Conversation::new(format!("eval-{}", scenario.name));
    let now = scenario
        .now
        .unwrap_or_else(|| chrono::Utc::now().timestamp());
    let mut turns = Vec::new();
    let mut error = None;
    for turn in &scenario.turns {
        let request = Request {
            message: &turn.message,
            squad: Some(&scenario.squad),
            node: None,
            now,
            progress: None,
        };
        match engine.handle(&node, &mut conv, request).await {
            Ok(reply) => {
                let commands: Vec<String> =
                    reply.commands.iter().map(|c| c.command.clone()).collect();
                let failures = check::check(&turn.expect, &reply.answer, &commands);
                turns.push(TurnReport {
                    message: turn.message.clone(),
                    passed: failures.is_empty(),
                    intent: reply.intent,
                    answer: reply.answer,
                    commands,
                    failures,
                });
            }
            Err(e) => {
                error = Some(e.to_string());
                break;
            }
        }
    }
    ScenarioReport {
        name: scenario.name.clone(),
        path: scenario.path.display().to_string(),
        squad: scenario.squad.clone(),
        passed: error.is_none() && turns.iter().all(|t| t.passed),
        turns,
        error,
    }
}

/// Runs every scenario found under `paths`.
pub async fn run(catalog: Arc<Catalog>, paths: &[PathBuf]) -> anyhow::Result<Report> {
    let engine = Engine::new(catalog);
    let dirs = scenario::discover(paths)?;
    if dirs.is_empty() {
        anyhow::bail!(
            "no scenario.toml found under {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let mut scenarios = Vec::new();
    for dir in dirs {
        let report = match Scenario::load(&dir) {
            Ok(s) => run_scenario(&engine, &s).await,
            Err(e) => ScenarioReport::failed_to_load(&dir, e.to_string()),
        };
        scenarios.push(report);
    }
    let passed = scenarios.iter().filter(|s| s.passed).count();
    let failed = scenarios.len() - passed;
    Ok(Report {
        scenarios,
        passed,
        failed,
    })
}
