//! PostgreSQL lock trouble seen in the activity snapshot alone: sessions waiting on locks
//! when no wait graph answered (with the most likely holder: the oldest idle-in-transaction
//! session that began before the waits), and sessions idle in a transaction for long.

use squadron_core::{Finding, Severity};

use super::context::{Context, with_settings};
use super::sessions::Session;
use super::sqltext::{and_list, literal, plural, rows_evidence};
use super::time::human;

/// Idle-in-transaction sessions older than this are worth a warning on their own.
const LONG_IDLE_TRANSACTION_SECS: f64 = 300.0;

/// No lock graph: sessions waiting on locks in the activity snapshot, with the most likely
/// holder (the oldest idle-in-transaction session), or a plain "no waits" note.
pub fn without_graph(cx: &Context<'_>, graph_ran: bool) -> Vec<Finding> {
    let Some(activity) = cx.pg_activity else {
        return Vec::new();
    };
    let waiting: Vec<&Session> = cx
        .pg_sessions
        .iter()
        .filter(|s| s.is_waiting_on_lock())
        .collect();
    if waiting.is_empty() {
        if cx.intent == "locks" {
            let f = Finding::new(Severity::Info, "No session is waiting on a lock right now")
                .detail("pg_stat_activity shows no session with wait_event_type Lock, so nothing is blocked at the moment; if statements still hang, they are slow rather than blocked (see the slow-query check).");
            return vec![f];
        }
        return Vec::new();
    }
    let longest_wait = waiting
        .iter()
        .filter_map(|s| s.state_age)
        .fold(0.0, f64::max);
    let mut suspects: Vec<&Session> = cx
        .pg_sessions
        .iter()
        .filter(|s| s.is_idle_in_transaction() && s.xact_age.unwrap_or(0.0) >= longest_wait)
        .collect();
    suspects.sort_by(|a, b| {
        b.xact_age
            .unwrap_or(0.0)
            .total_cmp(&a.xact_age.unwrap_or(0.0))
    });
    let pids: Vec<String> = waiting.iter().map(|s| s.pid.to_string()).collect();
    let mut f = Finding::new(
        Severity::Warning,
        format!("{} waiting on locks", plural(waiting.len(), "session")),
    )
    .detail(format!(
        "Pids {} wait with wait_event_type Lock; the longest has waited {}.",
        and_list(&pids),
        human(longest_wait)
    ));
    if !graph_ran {
        f = f.detail("The blocking query did not answer, so who holds the lock is inferred below.");
    }
    let mut keys = pids.clone();
    if let Some(s) = suspects.first() {
        keys.push(s.pid.to_string());
        f = f.detail(format!(
            "The likely holder is pid {}, {} idle in transaction for {} (its transaction began before the waits).",
            s.pid,
            s.holder(),
            human(s.state_age.unwrap_or(0.0))
        ));
        f = f.fix_with_code(
            format!("Confirm the holder, then end it (only it) if the confirmation names pid {}:", s.pid),
            "sql",
            format!("SELECT pid, pg_blocking_pids(pid) AS blocked_by FROM pg_stat_activity WHERE cardinality(pg_blocking_pids(pid)) > 0;\nSELECT pg_terminate_backend({});", s.pid),
        );
    }
    f = f.evidence(
        activity.command(),
        rows_evidence(&activity.output.stdout, &keys),
    );
    vec![f]
}

/// Sessions idle in a transaction for long, that are not already reported as root blockers.
pub fn long_idle_transactions(cx: &Context<'_>, reported: &[u64]) -> Vec<Finding> {
    let Some(activity) = cx.pg_activity else {
        return Vec::new();
    };
    let long: Vec<&Session> = cx
        .pg_sessions
        .iter()
        .filter(|s| s.is_idle_in_transaction() && !reported.contains(&s.pid))
        .filter(|s| s.xact_age.or(s.state_age).unwrap_or(0.0) >= LONG_IDLE_TRANSACTION_SECS)
        .collect();
    let Some(oldest) = long.iter().max_by(|a, b| {
        a.xact_age
            .unwrap_or(0.0)
            .total_cmp(&b.xact_age.unwrap_or(0.0))
    }) else {
        return Vec::new();
    };
    let keys: Vec<String> = long.iter().map(|s| s.pid.to_string()).collect();
    let mut f = Finding::new(
        Severity::Warning,
        format!(
            "{} idle in transaction for over {}",
            plural(long.len(), "session"),
            human(LONG_IDLE_TRANSACTION_SECS)
        ),
    )
    .detail(format!(
        "The oldest, pid {} ({}), has had its transaction open for {}. Such sessions keep their locks and stop VACUUM from removing dead rows newer than their snapshot.",
        oldest.pid,
        oldest.holder(),
        human(oldest.xact_age.unwrap_or(0.0))
    ))
    .evidence(activity.command(), rows_evidence(&activity.output.stdout, &keys));
    f = with_settings(f, cx, &["idle_in_transaction_session_timeout"]);
    let app = literal(&oldest.application);
    vec![f.fix_with_code(
        "End them if their clients are gone, and set a timeout so they cannot pile up again:",
        "sql",
        format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity\n WHERE state LIKE 'idle in transaction%' AND application_name = {app}\n   AND xact_start < now() - interval '5 minutes';\nALTER SYSTEM SET idle_in_transaction_session_timeout = '5min';\nSELECT pg_reload_conf();"),
    )]
}
