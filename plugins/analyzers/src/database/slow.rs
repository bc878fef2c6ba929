//! Slow statements: the ones that cost the most time in `pg_stat_statements` or MySQL's
//! statement digests, tied to tables read by sequential scans, and statements running for
//! long right now (not waiting on a lock: the lock checks cover those).

use std::sync::LazyLock;

use regex::Regex;
use squadron_core::{Finding, Severity};

use crate::parse::{Row, csv_rows};

use super::context::Context;
use super::sessions::Session;
use super::sqltext::{and_list, pg_ident, rows_evidence, short};
use super::tables::seq_scanned_tables;
use super::time::human;

/// A statement running at least this long right now is worth a warning.
const LONG_RUNNING_SECS: f64 = 60.0;

static WHERE_COLUMN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:where|and)\s+(?:\w+\.)?(\w+)\s*(?:=|<|>|\bin\b|\blike\b|\bbetween\b)")
        .expect("static regex")
});

/// One normalised statement and its cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub calls: f64,
    pub total_ms: f64,
    pub mean_ms: f64,
    pub query: String,
    /// MySQL: rows examined per row sent; PostgreSQL: none.
    pub examined_per_sent: Option<f64>,
    pub no_index_used: f64,
    pub line: String,
}

fn statement(row: &Row, line: &str) -> Option<Statement> {
    let calls = row.number(&["calls", "count_star", "exec_count"])?;
    let total_ms = row
        .number(&[
            "total_exec_time_ms",
            "total_exec_time",
            "total_time",
            "total_ms",
            "total_latency_ms",
        ])
        .or_else(|| row.number(&["sum_timer_wait"]).map(|ps| ps / 1e9))?;
    let mean_ms = row
        .number(&[
            "mean_exec_time_ms",
            "mean_exec_time",
            "mean_time",
            "mean_ms",
            "avg_ms",
        ])
        .or_else(|| row.number(&["avg_timer_wait"]).map(|ps| ps / 1e9))
        .unwrap_or(if calls > 0.0 { total_ms / calls } else { 0.0 });
    let examined = row.number(&["rows_examined", "sum_rows_examined"]);
    let sent = row.number(&["rows_sent", "sum_rows_sent"]);
    Some(Statement {
        calls,
        total_ms,
        mean_ms,
        query: row
            .get(&["query", "digest_text"])
            .unwrap_or_default()
            .to_owned(),
        examined_per_sent: examined.zip(sent).map(|(e, s)| e / s.max(1.0)),
        no_index_used: row
            .number(&["no_index_used", "sum_no_index_used"])
            .unwrap_or(0.0),
        line: line.to_owned(),
    })
}

/// Reads pg_stat_statements or digest output, costliest first.
pub fn statements(output: &str) -> Vec<Statement> {
    let lines: Vec<&str> = output.lines().skip(1).collect();
    let mut all: Vec<Statement> = csv_rows(output)
        .iter()
        .enumerate()
        .filter_map(|(i, r)| statement(r, lines.get(i).copied().unwrap_or_default()))
        .collect();
    all.sort_by(|a, b| b.total_ms.total_cmp(&a.total_ms));
    all
}

pub fn findings(cx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for tool in ["pg_slow_queries", "mysql_slow_queries"] {
        if let Some(run) = cx.ok(tool) {
            out.extend(costly(cx, run.command(), &statements(&run.output.stdout)));
        } else if let Some(run) = cx.failed(tool)
            && matches!(cx.intent, "slow_queries" | "health")
            && names_missing_stats(&run.output.stderr)
        {
            out.push(missing_stats(tool, run.output.stderr.trim()));
        }
    }
    out.extend(long_running(cx));
    out
}

fn costly(cx: &Context<'_>, command: &str, all: &[Statement]) -> Vec<Finding> {
    let grand: f64 = all.iter().map(|s| s.total_ms).sum();
    if grand <= 0.0 {
        return Vec::new();
    }
    let flagged: Vec<&Statement> = all
        .iter()
        .take(5)
        .filter(|s| s.total_ms >= 1_000.0 && (s.mean_ms >= 100.0 || s.total_ms >= 0.25 * grand))
        .take(3)
        .collect();
    let Some(top) = flagged.first() else {
        if cx.intent == "slow_queries" {
            return vec![
                Finding::new(Severity::Info, "No statement stands out as slow")
                    .detail(format!(
                        "The costliest statements average under 100 ms; {} recorded in total.",
                        human(grand / 1_000.0)
                    ))
                    .evidence(command, all.iter().take(3).map(|s| s.line.clone())),
            ];
        }
        return Vec::new();
    };
    let share = 100.0 * top.total_ms / grand;
    let mut f = Finding::new(
        Severity::Warning,
        format!(
            "Costliest statement: {:.0} ms on average over {:.0} calls ({share:.0}% of all statement time)",
            top.mean_ms, top.calls
        ),
    );
    for (i, s) in flagged.iter().enumerate() {
        let mut text = format!(
            "#{}: `{}`: {:.0} calls, {:.1} ms mean, {} in total ({:.0}%)",
            i + 1,
            short(&s.query, 160),
            s.calls,
            s.mean_ms,
            human(s.total_ms / 1_000.0),
            100.0 * s.total_ms / grand
        );
        if let Some(ratio) = s.examined_per_sent.filter(|r| *r >= 100.0) {
            text.push_str(&format!("; it examines {ratio:.0} rows per row it returns"));
        }
        if s.no_index_used > 0.0 {
            text.push_str(&format!("; {:.0} runs used no index", s.no_index_used));
        }
        text.push('.');
        f = f.detail(text);
    }
    f = f.evidence(command, flagged.iter().map(|s| s.line.clone()));
    let scanned = seq_scanned_tables(cx);
    let mut indexed = false;
    for s in &flagged {
        let lower = s.query.to_ascii_lowercase();
        let Some(t) = scanned.iter().find(|t| mentions(&lower, &t.name)) else {
            continue;
        };
        let cols: Vec<String> = WHERE_COLUMN
            .captures_iter(&s.query)
            .map(|c| c[1].to_ascii_lowercase())
            .filter(|c| !matches!(c.as_str(), "and" | "or" | "not"))
            .fold(Vec::new(), |mut acc, c| {
                if !acc.contains(&c) {
                    acc.push(c);
                }
                acc
            });
        f = f.detail(format!(
            "{} is read mostly by sequential scans ({:.0} seq scans vs {:.0} index scans over ~{:.0} rows), so this statement likely lacks an index.",
            t.name, t.seq_scan, t.idx_scan, t.rows
        ));
        if !cols.is_empty() && !indexed {
            indexed = true;
            let cols: Vec<String> = cols.iter().take(2).map(|c| pg_ident(c)).collect();
            f = f.fix_with_code(
                format!("Check the plan, and if it shows a sequential scan on {} add an index on the filtered column(s) without blocking writes:", t.name),
                "sql",
                format!("EXPLAIN (ANALYZE, BUFFERS) <the statement with real values>;\nCREATE INDEX CONCURRENTLY ON {} ({});", pg_ident(&t.name), cols.join(", ")),
            );
        }
    }
    if !indexed {
        f = f.fix("Run EXPLAIN (ANALYZE, BUFFERS) (MySQL: EXPLAIN ANALYZE) on the statement with real parameter values; add an index for the filter or join column a sequential/full scan reads, or rewrite the query to fetch fewer rows.");
    }
    f = f.fix("Bound runaway statements per role, e.g. PostgreSQL `ALTER ROLE app SET statement_timeout = '30s';`, MySQL `SET GLOBAL max_execution_time = 30000;` (SELECTs only).");
    vec![f]
}

/// Whether a lower-cased statement names a table as a whole word.
fn mentions(query: &str, table: &str) -> bool {
    let table = table.to_ascii_lowercase();
    query
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|w| w == table)
}

/// Whether an error says the statistics view itself is missing (not, say, a timeout).
fn names_missing_stats(error: &str) -> bool {
    let e = error.to_ascii_lowercase();
    e.contains("pg_stat_statements")
        || e.contains("performance_schema")
        || e.contains("does not exist")
        || e.contains("doesn't exist")
}

fn missing_stats(tool: &str, error: &str) -> Finding {
    let pg = tool.starts_with("pg_");
    let f = Finding::new(
        Severity::Info,
        if pg {
            "pg_stat_statements is not available, so statement costs cannot be ranked"
        } else {
            "performance_schema statement digests are not available"
        },
    )
    .detail(format!("The query failed: {}", short(error, 200)));
    if pg {
        f.fix_with_code(
            "Enable the extension (needs a restart for shared_preload_libraries):",
            "sql",
            "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements';\n-- restart PostgreSQL, then in the database:\nCREATE EXTENSION IF NOT EXISTS pg_stat_statements;",
        )
    } else {
        f.fix_with_code(
            "Enable performance_schema (my.cnf, then restart):",
            "ini",
            "[mysqld]\nperformance_schema = ON",
        )
    }
}

/// Statements running for long right now and not waiting on a lock.
fn long_running(cx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut in_locks = cx.lock_roots();
    in_locks.extend(cx.lock_waiters());
    let pg: Vec<&Session> = cx
        .pg_sessions
        .iter()
        .filter(|s| {
            s.client_backend
                && s.state == "active"
                && !s.is_waiting_on_lock()
                && !in_locks.contains(&s.pid)
        })
        .filter(|s| s.state_age.unwrap_or(0.0) >= LONG_RUNNING_SECS)
        .collect();
    let my: Vec<&Session> = cx
        .mysql_sessions
        .iter()
        .filter(|s| {
            s.client_backend
                && s.state == "Query"
                && !s.wait_event_type.to_ascii_lowercase().contains("lock")
                && !in_locks.contains(&s.pid)
        })
        .filter(|s| s.state_age.unwrap_or(0.0) >= LONG_RUNNING_SECS)
        .collect();
    for (sessions, run, cancel) in [
        (pg, cx.pg_activity, "SELECT pg_cancel_backend"),
        (my, cx.processlist, "KILL QUERY"),
    ] {
        let (Some(run), Some(oldest)) = (
            run,
            sessions.iter().max_by(|a, b| {
                a.state_age
                    .unwrap_or(0.0)
                    .total_cmp(&b.state_age.unwrap_or(0.0))
            }),
        ) else {
            continue;
        };
        let pids: Vec<String> = sessions.iter().map(|s| s.pid.to_string()).collect();
        let call = if cancel.starts_with("SELECT") {
            format!("{cancel}({});", oldest.pid)
        } else {
            format!("{cancel} {};", oldest.pid)
        };
        out.push(
            Finding::new(
                Severity::Warning,
                format!("{} running for over a minute; the longest, {}, for {}", if sessions.len() == 1 { "1 statement".to_owned() } else { format!("{} statements", sessions.len()) }, oldest.pid, human(oldest.state_age.unwrap_or(0.0))),
            )
            .detail(format!("{} is {}: `{}`.", oldest.pid, oldest.holder(), short(&oldest.query, 200)))
            .detail(format!("Running now: {}.", and_list(&pids)))
            .evidence(run.command(), rows_evidence(&run.output.stdout, &pids))
            .fix_with_code("Cancel the statement if it is not expected to run this long (the session stays):", "sql", call)
            .fix("EXPLAIN the statement to see why it takes so long, and bound such statements with a timeout."),
        );
    }
    out
}
