//! Test helpers: tool runs as the engine hands them over, and a whole turn diagnosed.

use std::collections::BTreeMap;
use std::time::Duration;

use squadron_core::squad::Access;
use squadron_core::{
    Analyzer, Entities, Finding, Investigation, Invocation, InvocationKind, ToolOutput, ToolRun,
};

use super::SecurityAnalyzer;

/// A finished run of `tool` whose canonical line is `command`.
pub fn run(tool: &str, command: &str, exit: i32, stdout: &str, stderr: &str) -> ToolRun {
    run_with(tool, command, &[], exit, stdout, stderr)
}

/// A run with arguments (`path`, `cert`, `log`, ...).
pub fn run_with(
    tool: &str,
    command: &str,
    args: &[(&str, &str)],
    exit: i32,
    stdout: &str,
    stderr: &str,
) -> ToolRun {
    let args: BTreeMap<String, String> = args
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    ToolRun {
        node: "test-node".into(),
        invocation: Invocation {
            tool: tool.to_owned(),
            access: Access::Read,
            args,
            kind: InvocationKind::Exec {
                argv: command.split_whitespace().map(str::to_owned).collect(),
            },
            canonical: command.to_owned(),
            timeout: Duration::from_secs(10),
            max_output: 1 << 20,
            filter: None,
        },
        output: ToolOutput::finished(exit, stdout.to_owned(), stderr.to_owned()),
    }
}

/// Runs `learn` after each run, then `diagnose`, as the engine does.
pub fn diagnose(intent: &str, runs: &[ToolRun], entities: &mut Entities, now: i64) -> Vec<Finding> {
    let analyzer = SecurityAnalyzer;
    for r in runs {
        analyzer.learn(r, entities, "");
    }
    let mut inv = Investigation {
        squad: "security",
        intent,
        message: "",
        runs,
        entities,
        now,
    };
    analyzer.diagnose(&mut inv)
}

/// The whole answer as one lower-case text, for `contains` checks.
pub fn text(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        out.push_str(&f.title);
        out.push('\n');
        for d in &f.details {
            out.push_str(d);
            out.push('\n');
        }
        for e in &f.evidence {
            out.push_str(&e.lines.join("\n"));
            out.push('\n');
        }
        for x in &f.fixes {
            out.push_str(&x.text);
            out.push('\n');
            if let Some(c) = &x.code {
                out.push_str(&c.body);
                out.push('\n');
            }
        }
    }
    out.to_lowercase()
}
