//! One request from arrival to result: the journal (at most once), the validator, the
//! concurrency limit, the executor of its kind, then the tool's filter and caps.

use std::sync::Arc;
use std::time::Instant;

use squadron_core::output::{self, RunStatus};
use squadron_core::{Invocation, ToolOutput};
use tokio::sync::Semaphore;

use crate::exec::ExecEnv;
use crate::journal::{Claim, Journal, lost_output};
use crate::policy::{Plan, Validator};
use crate::sql::Databases;

/// What a request came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Answer the server with this.
    Answer(ToolOutput),
    /// The same id is running right now; its own result will answer.
    AlreadyRunning,
}

/// Runs requests; shared by every connection of the agent's life.
#[derive(Debug)]
pub struct Runner {
    validator: Validator,
    journal: Journal,
    permits: Arc<Semaphore>,
    env: ExecEnv,
    databases: Databases,
    http: Option<reqwest::Client>,
}

impl Runner {
    pub fn new(
        validator: Validator,
        journal: Journal,
        max_concurrency: usize,
        env: ExecEnv,
        databases: Databases,
    ) -> Runner {
        let http = match crate::http::client() {
            Ok(client) => Some(client),
            Err(e) => {
                tracing::warn!(error = %e, "http tools are unavailable: cannot build the client");
                None
            }
        };
        Runner {
            validator,
            journal,
            permits: Arc::new(Semaphore::new(max_concurrency.max(1))),
            env,
            databases,
            http,
        }
    }

    pub fn validator(&self) -> &Validator {
        &self.validator
    }

    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// Handles one `Run`: answers a known id from the journal, refuses what the policy
    /// refuses, waits for a slot, journals the start, runs, journals the result.
    pub async fn handle(&self, id: &str, squad: &str, invocation: &Invocation) -> Outcome {
        match self.journal.claim(id) {
            Claim::New => {}
            Claim::Done(output) => {
                tracing::info!(id, "request already handled; answering from the journal");
                return Outcome::Answer(output);
            }
            Claim::Lost => {
                tracing::warn!(
                    id,
                    "request started before with no result; reporting it lost"
                );
                let out = lost_output();
                if let Err(e) = self.journal.finish(id, &out) {
                    tracing::warn!(id, error = %e, "could not journal the lost result");
                }
                return Outcome::Answer(out);
            }
            Claim::Running => {
                tracing::warn!(id, "request is already running; ignoring the repeat");
                return Outcome::AlreadyRunning;
            }
        }
        let plan = match self.validator.check(squad, invocation) {
            Ok(plan) => plan,
            Err(refusal) => {
                tracing::warn!(id, squad, tool = %invocation.tool, reason = %refusal.reason, "request refused");
                let out = ToolOutput::refused(refusal.status, refusal.reason);
                return Outcome::Answer(self.record(id, out));
            }
        };
        let Ok(_permit) = self.permits.acquire().await else {
            self.journal.release(id);
            return Outcome::Answer(ToolOutput::refused(
                RunStatus::Denied,
                "the agent is shutting down; not run",
            ));
        };
        if let Err(e) = self.journal.start(id) {
            tracing::error!(id, error = %e, "cannot journal the request; refusing to run it");
            self.journal.release(id);
            return Outcome::Answer(ToolOutput::refused(
                RunStatus::Denied,
                format!("the agent cannot write its journal ({e}); not run"),
            ));
        }
        tracing::info!(id, squad, command = %invocation.canonical, "running");
        let started = Instant::now();
        let raw = self.execute(&plan, invocation).await;
        let mut effective = invocation.clone();
        effective.max_output = self.cap(invocation);
        let mut out = output::finish(&effective, raw);
        out.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        tracing::info!(id, status = out.status.as_str(), exit_code = ?out.exit_code, duration_ms = out.duration_ms, "finished");
        Outcome::Answer(self.record(id, out))
    }

    /// The output cap: the tool's, never above the policy's.
    pub fn cap(&self, invocation: &Invocation) -> u64 {
        invocation.max_output.min(self.validator.policy.max_output)
    }

    fn record(&self, id: &str, out: ToolOutput) -> ToolOutput {
        if let Err(e) = self.journal.finish(id, &out) {
            tracing::error!(id, error = %e, "could not journal the result");
        }
        out
    }

    async fn execute(&self, plan: &Plan, invocation: &Invocation) -> ToolOutput {
        let timeout = invocation.timeout;
        let cap = self.cap(invocation);
        match plan {
            Plan::Exec { argv } => crate::exec::run(argv, &self.env, timeout, cap).await,
            Plan::Sql {
                database,
                query,
                binds,
                ..
            } => {
                self.databases
                    .run(database, query, binds, timeout, cap)
                    .await
            }
            Plan::ReadFile { path, tail } => {
                let (path, tail) = (path.clone(), *tail);
                let read =
                    tokio::task::spawn_blocking(move || crate::tail::read_tail(&path, tail, cap));
                match tokio::time::timeout(timeout, read).await {
                    Ok(Ok(out)) => out,
                    Ok(Err(e)) => ToolOutput::finished(1, String::new(), format!("read_file: {e}")),
                    Err(_) => ToolOutput {
                        status: RunStatus::Timeout,
                        exit_code: None,
                        stdout: String::new(),
                        stderr: crate::exec::timed_out(String::new(), timeout),
                        truncated: false,
                        duration_ms: 0,
                    },
                }
            }
            Plan::Http { url } => match &self.http {
                Some(client) => crate::http::get(client, url, timeout, cap).await,
                None => ToolOutput::finished(
                    1,
                    String::new(),
                    "http tools are unavailable on this agent (no TLS provider)".into(),
                ),
            },
        }
    }

    /// Stops new runs from starting; the ones holding a slot finish.
    pub fn close(&self) {
        self.permits.close();
    }
}
