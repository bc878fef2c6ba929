//! PostgreSQL lock queues: the root blocker from `pg_blocking_pids` (or, failing that, from
//! the log's `log_lock_waits` messages), its state and age from `pg_stat_activity`, and the
//! fix for that session only. A deadlock is named only when the log says one was detected.

use squadron_core::{Finding, Severity};

use super::context::{Context, setting_phrase, with_settings};
use super::graph::{LockGraph, Root};
use super::pg_waits;
use super::sessions::Session;
use super::sqltext::{and_list, pg_ident, plural, rows_evidence, short};
use super::time::human;

pub fn findings(cx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let blocking = cx.ok("pg_blocking");
    let graph = &cx.pg_graph;
    let roots = graph.roots();
    for root in roots.iter().take(3) {
        out.push(root_finding(cx, graph, root, cx.pg_graph_from_log));
    }
    let roots_pids: Vec<u64> = roots.iter().map(|r| r.pid).collect();
    if roots.is_empty() {
        out.extend(pg_waits::without_graph(cx, blocking.is_some()));
    }
    out.extend(pg_waits::long_idle_transactions(cx, &roots_pids));
    out.extend(super::mysql_locks::deadlock_finding(cx, "pg_log"));
    out
}

/// The finding for one root blocker.
fn root_finding(cx: &Context<'_>, graph: &LockGraph, root: &Root, from_log: bool) -> Finding {
    let pid = root.pid;
    let session = cx.pg_session(pid);
    let who = session.map(short_holder).unwrap_or_default();
    let state = session
        .map(state_phrase)
        .or_else(|| blocking_state(cx, pid))
        .unwrap_or_else(|| {
            "is not in the activity snapshot (it may have just ended, or be a prepared transaction)"
                .to_owned()
        });
    let n = root.all.len();
    let title = format!(
        "Root blocker: pid {pid}{who} {state} and blocks {}",
        plural(n, "session")
    );
    let mut f = Finding::new(Severity::Critical, title).detail(chain_sentence(graph, root));
    if from_log {
        f = f.detail(
            "No live lock query answered, so this chain comes from the server log's lock-wait messages; check it is still current before acting.",
        );
    }
    if let Some(s) = session {
        f = f.detail(holder_sentence(s));
    }
    if let Some(rel) = waited_relations(cx, &root.all) {
        f = f.detail(rel);
    }
    let relevant: &[&str] = if session.is_some_and(|s| s.state == "active") {
        &["statement_timeout", "lock_timeout"]
    } else {
        &["idle_in_transaction_session_timeout", "lock_timeout"]
    };
    let settings: Vec<String> = relevant
        .iter()
        .filter_map(|n| setting_phrase(cx, n))
        .collect();
    if !settings.is_empty() {
        f = f.detail(format!("{}.", and_list(&settings)));
    }
    let keys: Vec<String> = root.all.iter().map(u64::to_string).collect();
    if let Some(run) = cx.ok("pg_blocking") {
        f = f.evidence(run.command(), rows_evidence(&run.output.stdout, &keys));
    }
    if let (Some(run), Some(s)) = (cx.pg_activity, session) {
        let header = run.output.stdout.lines().next().unwrap_or_default();
        f = f.evidence(run.command(), [header.to_owned(), s.line.clone()]);
    }
    f = with_settings(f, cx, relevant);
    if let Some((run, facts)) = &cx.log {
        let lines: Vec<String> = facts.lock_waits.iter().take(8).cloned().collect();
        f = f.evidence(run.command(), lines);
    }
    fixes(cx, f, pid, session, &graph.intermediates())
}

/// The root's state as the lock query itself reported it (`blocking_state` of the pair
/// shape), for when the activity snapshot lacks the session.
fn blocking_state(cx: &Context<'_>, pid: u64) -> Option<String> {
    let run = cx.ok("pg_blocking")?;
    crate::parse::csv_rows(&run.output.stdout)
        .iter()
        .filter(|r| r.number(&["blocking_pid"]) == Some(pid as f64))
        .find_map(|r| r.value(&["blocking_state"]).map(|s| format!("is {s}")))
}

fn short_holder(s: &Session) -> String {
    let name = if s.application.is_empty() {
        &s.user
    } else {
        &s.application
    };
    if name.is_empty() {
        String::new()
    } else {
        format!(" ({name})")
    }
}

fn state_phrase(s: &Session) -> String {
    let age = s.state_age.map(human);
    match (s.state.as_str(), age) {
        (st, Some(age)) if st.starts_with("idle in transaction") => {
            format!("has been {st} for {age}")
        }
        ("active", Some(age)) => format!("has been running one statement for {age}"),
        ("idle", _) => "is idle yet still holds a lock (session-level or advisory)".to_owned(),
        (st, _) if !st.is_empty() => format!("is {st}"),
        _ => "holds the lock".to_owned(),
    }
}

/// `48377 waits on 48211; 48390 and 48402 wait on 48377. 48377 is itself blocked...`
fn chain_sentence(graph: &LockGraph, root: &Root) -> String {
    let in_chain: Vec<u64> = root
        .all
        .iter()
        .copied()
        .filter(|p| graph.is_waiting(*p))
        .collect();
    let middle: Vec<String> = in_chain
        .iter()
        .filter(|p| !graph.direct_waiters(**p).is_empty())
        .map(u64::to_string)
        .collect();
    let mut text = format!("Lock chain: {}.", graph.chain(root.pid).join("; "));
    if !middle.is_empty() {
        text.push_str(&format!(
            " {} {} blocked too, so ending {} would free nothing.",
            and_list(&middle),
            if middle.len() == 1 {
                "is itself"
            } else {
                "are themselves"
            },
            if middle.len() == 1 { "it" } else { "them" }
        ));
    }
    text.push_str(&format!(
        " Pid {} waits on nobody: it is the root blocker, and every other session only queues behind it.",
        root.pid
    ));
    text
}

fn holder_sentence(s: &Session) -> String {
    let mut text = format!("Pid {} is {}", s.pid, s.holder());
    if let Some(x) = s.xact_age {
        text.push_str(&format!("; its transaction has been open for {}", human(x)));
    }
    if !s.query.is_empty() {
        text.push_str(&format!("; its last statement: `{}`", short(&s.query, 160)));
    }
    text.push('.');
    if s.is_idle_in_transaction() {
        text.push_str(" An idle-in-transaction session keeps every lock it took until it commits or rolls back, and it is running nothing that would do so: the client crashed, hangs, or forgot to commit.");
    }
    text
}

/// `The waiters queue for locks on inventory (tuple).` from the ungranted pg_locks rows.
fn waited_relations(cx: &Context<'_>, waiters: &[u64]) -> Option<String> {
    let run = cx.ok("pg_waiting_locks")?;
    let mut relations: Vec<String> = Vec::new();
    let mut kinds: Vec<String> = Vec::new();
    for row in crate::parse::csv_rows(&run.output.stdout) {
        let granted = row.get(&["granted"]).unwrap_or("f");
        let pid = row.number(&["pid"]).map(|p| p as u64);
        if !matches!(granted, "f" | "false") || !pid.is_some_and(|p| waiters.contains(&p)) {
            continue;
        }
        if let Some(rel) = row.value(&["relation"])
            && !rel.chars().all(|c| c.is_ascii_digit())
            && !relations.contains(&rel.to_owned())
        {
            relations.push(rel.to_owned());
        }
        if let Some(kind) = row.value(&["locktype"])
            && !kinds.contains(&kind.to_owned())
        {
            kinds.push(kind.to_owned());
        }
    }
    (!relations.is_empty()).then(|| {
        format!(
            "The waiters queue for {} locks on {}.",
            and_list(&kinds),
            and_list(&relations)
        )
    })
}

fn fixes(
    cx: &Context<'_>,
    mut f: Finding,
    pid: u64,
    session: Option<&Session>,
    intermediates: &[u64],
) -> Finding {
    let not_these = if intermediates.is_empty() {
        String::new()
    } else {
        let names: Vec<String> = intermediates.iter().map(u64::to_string).collect();
        format!(
            " Do not end {}: {} only waiting like the rest.",
            and_list(&names),
            if names.len() == 1 {
                "it is"
            } else {
                "they are"
            }
        )
    };
    let active = session.is_some_and(|s| s.state == "active");
    if active {
        f = f.fix_with_code(
            format!("Stop the root blocker's statement, and end the session if the cancel is not enough; its transaction rolls back and the queue moves.{not_these}"),
            "sql",
            format!("SELECT pg_cancel_backend({pid});\n-- still there after a few seconds:\nSELECT pg_terminate_backend({pid});"),
        );
    } else {
        f = f.fix_with_code(
            format!("End the root blocker only: its transaction rolls back, its locks are released and the queued sessions proceed (proposed below for approval).{not_these}"),
            "sql",
            format!("SELECT pg_terminate_backend({pid});"),
        );
    }
    let idle_tx = session.is_some_and(Session::is_idle_in_transaction);
    if idle_tx
        && !cx
            .number("idle_in_transaction_session_timeout")
            .is_some_and(|v| v > 0.0)
    {
        let role = session
            .map(|s| s.user.as_str())
            .filter(|u| !u.is_empty())
            .map(|u| format!("\n-- or only for the application's role:\nALTER ROLE {} SET idle_in_transaction_session_timeout = '5min';", pg_ident(u)))
            .unwrap_or_default();
        f = f.fix_with_code(
            "Make the server end sessions that sit idle inside a transaction (PostgreSQL 9.6+), so a crashed or stuck client cannot hold locks for long:",
            "sql",
            format!("ALTER SYSTEM SET idle_in_transaction_session_timeout = '5min';\nSELECT pg_reload_conf();{role}"),
        );
    }
    if let Some(s) = session {
        let app = if s.application.is_empty() {
            "the application"
        } else {
            s.application.as_str()
        };
        if idle_tx {
            f = f.fix(format!(
                "Fix {app}'s transaction handling: commit or roll back in a finally block, never keep a transaction open across network calls, sleeps or user think time, and have the pool roll back connections it gets back."
            ));
        } else if active {
            f = f.fix(format!(
                "Find why {app}'s statement runs so long (EXPLAIN (ANALYZE, BUFFERS) it) and bound it with statement_timeout."
            ));
        }
    }
    if cx.disabled("lock_timeout") {
        let role = session
            .map(|s| s.user.as_str())
            .filter(|u| !u.is_empty())
            .map(pg_ident)
            .unwrap_or_else(|| "app_role".to_owned());
        f = f.fix_with_code(
            "Let waiters give up instead of queueing without end (they get an error they can retry):",
            "sql",
            format!("ALTER ROLE {role} SET lock_timeout = '5s';"),
        );
    }
    f
}
