//! MySQL/MariaDB lock queues: the root blocker from `sys.innodb_lock_waits` (or
//! `performance_schema.data_lock_waits`), its thread from the processlist and its open
//! transaction from `INNODB_TRX`; plus deadlocks, for both engines, only when the server
//! log says one was detected.

use squadron_core::{Finding, Severity};

use crate::parse::{Row, csv_rows};

use super::context::{Context, MYSQL_LOCK_TOOLS, with_settings};
use super::graph::{LockGraph, Root};
use super::sqltext::{and_list, plural, rows_evidence, short};
use super::time::human;

/// An open InnoDB transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Transaction {
    pub thread: u64,
    pub age: Option<f64>,
    pub rows_locked: Option<f64>,
    pub query: String,
    pub command: String,
    pub line: String,
}

/// Reads `INNODB_TRX` output.
pub fn transactions(output: &str) -> Vec<Transaction> {
    csv_rows(output)
        .iter()
        .filter_map(|row: &Row| {
            let thread =
                row.number(&["thread_id", "trx_mysql_thread_id", "processlist_id"])? as u64;
            Some(Transaction {
                thread,
                age: row.number(&["trx_age_seconds", "trx_age", "age_seconds"]),
                rows_locked: row.number(&["trx_rows_locked"]),
                query: row
                    .get(&["trx_query", "query"])
                    .unwrap_or_default()
                    .to_owned(),
                command: row.get(&["command"]).unwrap_or_default().to_owned(),
                line: output
                    .lines()
                    .skip(1)
                    .find(|l| l.contains(&thread.to_string()))
                    .unwrap_or_default()
                    .to_owned(),
            })
        })
        .collect()
}

pub fn findings(cx: &Context<'_>) -> Vec<Finding> {
    let graph = &cx.mysql_graph;
    let source = cx.mysql_graph_run;
    let trx: Vec<Transaction> = cx
        .ok("mysql_transactions")
        .map(|r| transactions(&r.output.stdout))
        .unwrap_or_default();
    let mut out = Vec::new();
    let roots = graph.roots();
    for root in roots.iter().take(3) {
        out.push(root_finding(
            cx,
            graph,
            root,
            source.map(|r| (r.command(), r.output.stdout.as_str())),
            &trx,
        ));
    }
    if roots.is_empty() {
        out.extend(idle_open_transactions(cx, &trx));
        let lock_ran = MYSQL_LOCK_TOOLS.iter().any(|t| cx.ok(t).is_some());
        if lock_ran && cx.intent == "locks" && out.is_empty() {
            out.push(Finding::new(Severity::Info, "No thread is waiting on a row lock right now").detail(
                "The InnoDB lock-wait view is empty, so nothing is blocked at the moment; if statements still hang, they are slow rather than blocked.",
            ));
        }
    }
    out.extend(deadlock_finding(cx, "mysql_log"));
    out
}

fn root_finding(
    cx: &Context<'_>,
    graph: &LockGraph,
    root: &Root,
    source: Option<(&str, &str)>,
    trx: &[Transaction],
) -> Finding {
    let id = root.pid;
    let session = cx.mysql_session(id);
    let tx = trx.iter().find(|t| t.thread == id);
    let idle = session.is_some_and(|s| s.state == "Sleep")
        || tx.is_some_and(|t| t.query.is_empty() && t.command == "Sleep");
    let who = session
        .map(|s| format!(" ({}@{})", s.user, s.client))
        .unwrap_or_default();
    let from_waits = source.and_then(|(_, text)| {
        csv_rows(text)
            .iter()
            .filter(|r| r.number(&["blocking_pid", "blocking_thread_id"]) == Some(id as f64))
            .find_map(|r| {
                r.value(&["blocking_trx_age", "blocking_trx_age_seconds"])
                    .and_then(super::time::parse_interval)
            })
    });
    let age = tx
        .and_then(|t| t.age)
        .or(from_waits)
        .or(session.and_then(|s| s.state_age));
    let state = match (idle, age) {
        (true, Some(a)) => format!(
            "has sat idle (Sleep) with an open transaction for {}",
            human(a)
        ),
        (true, None) => "sits idle (Sleep) with an open transaction".to_owned(),
        (false, Some(a)) => format!("has run its transaction for {}", human(a)),
        (false, None) => "holds the row locks".to_owned(),
    };
    let n = root.all.len();
    let mut f = Finding::new(
        Severity::Critical,
        format!(
            "Root blocker: thread {id}{who} {state} and blocks {}",
            plural(n, "thread")
        ),
    );
    f = f.detail(format!(
        "Lock waits (InnoDB): {}. Thread {id} waits on nobody: it is the root blocker, and every other thread only queues behind it.",
        graph.chain(id).join("; ")
    ));
    if let Some((_, text)) = source {
        let tables: Vec<String> = csv_rows(text)
            .iter()
            .filter_map(|r| r.value(&["locked_table", "object_name"]).map(str::to_owned))
            .fold(Vec::new(), |mut acc, t| {
                if !acc.contains(&t) {
                    acc.push(t);
                }
                acc
            });
        if !tables.is_empty() {
            f = f.detail(format!("The waits are on rows of {}.", and_list(&tables)));
        }
    }
    if let Some(t) = tx {
        let locked = t
            .rows_locked
            .map(|r| format!(", {r:.0} rows locked"))
            .unwrap_or_default();
        let last = if t.query.is_empty() {
            "it is running no statement".to_owned()
        } else {
            format!("it is running `{}`", short(&t.query, 160))
        };
        f = f.detail(format!("Its InnoDB transaction{locked}: {last}. A transaction keeps its row locks until it commits or rolls back."));
    }
    if let Some(t) = cx.number("innodb_lock_wait_timeout") {
        f = f.detail(format!("innodb_lock_wait_timeout is {t:.0}s: each waiter fails with error 1205 after that, retries, and queues again."));
    }
    if let Some((command, text)) = source {
        let keys: Vec<String> = root.all.iter().map(u64::to_string).collect();
        let lines: Vec<String> =
            std::iter::once(text.lines().next().unwrap_or_default().to_owned())
                .chain(
                    text.lines()
                        .skip(1)
                        .filter(|l| keys.iter().any(|k| l.contains(k.as_str())))
                        .map(str::to_owned),
                )
                .collect();
        f = f.evidence(command, lines);
    }
    if let (Some(run), Some(_)) = (cx.processlist, session) {
        f = f.evidence(
            run.command(),
            rows_evidence(&run.output.stdout, &[id.to_string()]),
        );
    }
    if let (Some(run), Some(t)) = (cx.ok("mysql_transactions"), tx) {
        let header = run
            .output
            .stdout
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned();
        f = f.evidence(run.command(), [header, t.line.clone()]);
    }
    f = with_settings(
        f,
        cx,
        &[
            "innodb_lock_wait_timeout",
            "wait_timeout",
            "idle_transaction_timeout",
        ],
    );
    f = f.fix_with_code(
        "Kill the root blocker only: its transaction rolls back and the waiting threads proceed (proposed below for approval). Killing the waiters frees nothing.",
        "sql",
        format!("KILL {id};"),
    );
    if idle {
        f = f.fix("Fix the client's transaction handling: commit or roll back in a finally block, never hold a transaction open across network calls or waits, and have the pool roll back connections it gets back.");
        if cx.setting("idle_transaction_timeout").is_some() {
            f = f.fix_with_code(
                "MariaDB can end idle transactions itself:",
                "sql",
                "SET GLOBAL idle_transaction_timeout = 300;  -- and in my.cnf [mysqld]: idle_transaction_timeout = 300",
            );
        } else {
            f = f.fix_with_code(
                "Reap connections that stay idle (an idle connection with an open transaction is rolled back when it is closed):",
                "sql",
                "SET GLOBAL wait_timeout = 600;  -- and in my.cnf [mysqld]: wait_timeout = 600",
            );
        }
    }
    f
}

/// Threads that sleep while holding an open transaction, with no lock wait (yet).
fn idle_open_transactions(cx: &Context<'_>, trx: &[Transaction]) -> Vec<Finding> {
    let Some(run) = cx.ok("mysql_transactions") else {
        return Vec::new();
    };
    let idle: Vec<&Transaction> = trx
        .iter()
        .filter(|t| {
            let sleeping = t.command == "Sleep"
                || cx
                    .mysql_session(t.thread)
                    .is_some_and(|s| s.state == "Sleep");
            sleeping && t.query.is_empty() && t.age.unwrap_or(0.0) >= 300.0
        })
        .collect();
    let Some(oldest) = idle
        .iter()
        .max_by(|a, b| a.age.unwrap_or(0.0).total_cmp(&b.age.unwrap_or(0.0)))
    else {
        return Vec::new();
    };
    let header = run
        .output
        .stdout
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    let lines = std::iter::once(header).chain(idle.iter().map(|t| t.line.clone()));
    let f = Finding::new(
        Severity::Warning,
        format!("{} idle with an open transaction for over 5m", plural(idle.len(), "thread")),
    )
    .detail(format!(
        "The oldest, thread {}, has had its transaction open for {}; it keeps its row locks and holds back purge of old row versions.",
        oldest.thread,
        human(oldest.age.unwrap_or(0.0))
    ))
    .evidence(run.command(), lines)
    .fix_with_code("Kill it if its client is gone:", "sql", format!("KILL {};", oldest.thread));
    vec![f]
}

/// A deadlock the server detected and logged (PostgreSQL `deadlock detected`, InnoDB
/// `Transactions deadlock detected`), from the given log tool.
pub fn deadlock_finding(cx: &Context<'_>, tool: &str) -> Option<Finding> {
    let (run, facts) = cx.log.as_ref().filter(|(r, _)| r.tool() == tool)?;
    let first = facts.deadlocks.first()?;
    let count = facts
        .deadlocks
        .iter()
        .filter(|l| l.to_ascii_lowercase().contains("deadlock detected"))
        .count();
    let f = Finding::new(
        Severity::Warning,
        format!("The server log reports {}: \"deadlock detected\"", plural(count, "deadlock")),
    )
    .detail("The server found transactions waiting on each other in a cycle and rolled one back; the application got an error for it. The lines after it name the sessions and statements involved.")
    .detail(format!("First: {}", short(first, 200)))
    .evidence(run.command(), facts.deadlocks.iter().take(10).cloned())
    .fix("Make transactions that touch the same rows lock them in the same order (e.g. sort keys before updating), keep transactions short, and retry the rolled-back transaction in the application.");
    Some(f)
}
