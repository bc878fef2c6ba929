//! The reply to a turn, as Markdown every platform can show: the node and the commands run,
//! then each finding with its evidence and fix. Chat adapters reshape this (Slack blocks,
//! Discord splits) without changing what it says.

use std::fmt::Write;

use squadron_core::output::RunStatus;
use squadron_core::{Finding, Invocation, Severity, ToolRun};

/// Lines of evidence quoted per command at most.
const MAX_EVIDENCE_LINES: usize = 12;
/// Output lines shown per command when no analyzer concluded anything.
const MAX_RAW_LINES: usize = 15;
/// Characters per evidence line at most.
const MAX_EVIDENCE_WIDTH: usize = 300;

/// Everything a reply is made of.
#[derive(Debug)]
pub struct AnswerParts<'a> {
    pub squad_name: &'a str,
    pub node: &'a str,
    pub runs: &'a [ToolRun],
    pub refused: &'a [(String, String)],
    pub pending: &'a [Invocation],
    pub findings: &'a [Finding],
}

fn status_note(run: &ToolRun) -> String {
    let o = &run.output;
    match o.status {
        RunStatus::Ok => String::new(),
        RunStatus::Error => {
            let first = o
                .stderr
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            match o.exit_code {
                Some(code) if first.is_empty() => format!(" (exit {code})"),
                Some(code) => format!(" (exit {code}: {})", clip(first, 160)),
                None => format!(" (failed: {})", clip(first, 160)),
            }
        }
        RunStatus::Timeout => " (timed out)".into(),
        RunStatus::Denied => format!(" (refused: {})", clip(o.stderr.trim(), 200)),
        RunStatus::Lost => " (lost: the agent disconnected before reporting; not re-run)".into(),
    }
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let head: String = text.chars().take(max).collect();
        format!("{head}…")
    }
}

fn severity_label(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "Problem",
        Severity::Warning => "Warning",
        Severity::Info => "Note",
    }
}

/// Renders the reply.
pub fn compose(parts: &AnswerParts<'_>) -> String {
    let mut out = String::new();
    if parts.runs.is_empty() {
        let _ = writeln!(
            out,
            "{} on **{}**: I ran no commands for this.",
            parts.squad_name, parts.node
        );
    } else {
        let _ = writeln!(
            out,
            "{} on **{}**. Commands run:",
            parts.squad_name, parts.node
        );
        for run in parts.runs {
            let _ = writeln!(out, "- `{}`{}", run.command(), status_note(run));
        }
    }
    for (tool, reason) in parts.refused {
        let _ = writeln!(out, "- refused `{tool}`: {reason}");
    }
    for f in parts.findings {
        let _ = writeln!(out, "\n**{}: {}**", severity_label(f.severity), f.title);
        for d in &f.details {
            let _ = writeln!(out, "{d}");
        }
        for e in &f.evidence {
            let _ = writeln!(out, "\nEvidence from `{}`:\n```", e.source);
            for line in e.lines.iter().take(MAX_EVIDENCE_LINES) {
                let _ = writeln!(out, "{}", clip(line, MAX_EVIDENCE_WIDTH));
            }
            if e.lines.len() > MAX_EVIDENCE_LINES {
                let _ = writeln!(out, "… ({} more lines)", e.lines.len() - MAX_EVIDENCE_LINES);
            }
            let _ = writeln!(out, "```");
        }
        if !f.fixes.is_empty() {
            let _ = writeln!(out, "\n**Fix:**");
            for (i, fix) in f.fixes.iter().enumerate() {
                let _ = writeln!(out, "{}. {}", i + 1, fix.text);
                if let Some(code) = &fix.code {
                    let _ = writeln!(out, "```{}\n{}\n```", code.lang, code.body.trim_end());
                }
            }
        }
    }
    if parts.findings.is_empty() && !parts.runs.is_empty() {
        let _ = writeln!(
            out,
            "\nNo analyzer names a problem in this output. What the commands printed:"
        );
        for run in parts.runs {
            let text = run.output.text();
            let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
            if lines.is_empty() {
                continue;
            }
            let shown = lines.len().min(MAX_RAW_LINES);
            let _ = writeln!(out, "\n`{}`:\n```", run.command());
            for line in &lines[lines.len() - shown..] {
                let _ = writeln!(out, "{}", clip(line, MAX_EVIDENCE_WIDTH));
            }
            let _ = writeln!(out, "```");
        }
    }
    if !parts.pending.is_empty() {
        let _ = writeln!(
            out,
            "\nProposed, waiting for an operator's approval (not run):"
        );
        for inv in parts.pending {
            let _ = writeln!(out, "- `{}`", inv.canonical);
        }
    }
    out.trim_end().to_owned()
}
