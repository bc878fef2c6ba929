//! Specifications of the database analyzer: realistic tool output in, findings out.

use std::collections::BTreeMap;
use std::time::Duration;

use squadron_core::squad::{Access, DbEngine};
use squadron_core::{
    Analyzer, Entities, Finding, Investigation, Invocation, InvocationKind, ToolOutput, ToolRun,
};

use super::DatabaseAnalyzer;

mod connections;
mod health;
mod locks;

/// A successful sql run of `tool` that printed `stdout`.
pub fn sql(tool: &str, query: &str, stdout: &str) -> ToolRun {
    let engine = if tool.starts_with("mysql") {
        DbEngine::Mysql
    } else {
        DbEngine::Postgres
    };
    ToolRun {
        node: "db-01".into(),
        invocation: Invocation {
            tool: tool.into(),
            access: Access::Read,
            args: BTreeMap::new(),
            kind: InvocationKind::Sql {
                engine,
                database: "appdb".into(),
                query: query.into(),
                binds: Vec::new(),
            },
            canonical: format!("sql appdb: {query}"),
            timeout: Duration::from_secs(10),
            max_output: 1 << 20,
            filter: None,
        },
        output: ToolOutput::finished(0, stdout.into(), String::new()),
    }
}

/// A run of `tool` that failed with `stderr`.
pub fn failed(tool: &str, query: &str, stderr: &str) -> ToolRun {
    let mut run = sql(tool, query, "");
    run.output = ToolOutput::finished(1, String::new(), stderr.into());
    run
}

/// A read of the server log.
pub fn log(tool: &str, text: &str) -> ToolRun {
    let mut run = sql(tool, "", text);
    run.invocation.kind = InvocationKind::ReadFile {
        path: "/var/log/db.log".into(),
        tail: 500,
    };
    run.invocation.canonical = "read_file /var/log/db.log --tail=500".into();
    run
}

/// What the analyzer concludes for an intent.
pub fn diagnose(intent: &str, runs: &[ToolRun]) -> Vec<Finding> {
    let mut entities = Entities::new();
    let mut inv = Investigation {
        squad: "database",
        intent,
        message: "",
        runs,
        entities: &mut entities,
        now: 0,
    };
    DatabaseAnalyzer.diagnose(&mut inv)
}

/// The entities learned from runs, in order.
pub fn learned(runs: &[ToolRun]) -> Entities {
    let mut entities = Entities::new();
    for run in runs {
        DatabaseAnalyzer.learn(run, &mut entities, "");
    }
    entities
}

/// Everything a finding says, for substring checks.
pub fn text(f: &Finding) -> String {
    let mut out = vec![f.title.clone()];
    out.extend(f.details.iter().cloned());
    for e in &f.evidence {
        out.extend(e.lines.iter().cloned());
    }
    for fix in &f.fixes {
        out.push(fix.text.clone());
        if let Some(code) = &fix.code {
            out.push(code.body.clone());
        }
    }
    out.join("\n")
}

/// All findings' text.
pub fn all_text(findings: &[Finding]) -> String {
    findings.iter().map(text).collect::<Vec<_>>().join("\n")
}
