//! MySQL/MariaDB connection exhaustion: `Threads_connected` against `max_connections`, the
//! refusals counted in `Connection_errors_max_connections` or logged as "Too many
//! connections", who holds the threads (user, client host; Sleep or busy), and the
//! per-account limits that would have capped them.

use squadron_core::{Finding, Severity};

use crate::parse::csv_rows;

use super::context::{Context, with_settings};
use super::holders::{Holder, dominant_view, from_groups, from_sessions, others_sentence};
use super::sqltext::{lines_containing, literal, mysql_account, plural};
use super::time::human;

pub fn findings(cx: &Context<'_>) -> Vec<Finding> {
    let mysql_ran = cx.ok("mysql_status").is_some() || cx.ok("mysql_connection_groups").is_some();
    if !mysql_ran {
        return Vec::new();
    }
    let Some(max) = cx.number("max_connections") else {
        return Vec::new();
    };
    let mut holders = cx
        .ok("mysql_connection_groups")
        .map(|r| from_groups(&r.output.stdout))
        .unwrap_or_default();
    if holders.is_empty() {
        holders = from_sessions(&cx.mysql_sessions);
    }
    let counted: f64 = holders.iter().map(|h| h.total as f64).sum();
    let connected = cx.number("Threads_connected").unwrap_or(counted);
    let max_used = cx.number("Max_used_connections");
    let refused = cx
        .number("Connection_errors_max_connections")
        .unwrap_or(0.0);
    let logged: Vec<String> = cx
        .log
        .as_ref()
        .filter(|(r, _)| r.tool() == "mysql_log")
        .map(|(_, f)| f.too_many.clone())
        .unwrap_or_default();
    let holders = dominant_view(holders, connected);
    let saturated = connected >= max;
    let hit_before = max_used.is_some_and(|m| m >= max) && (refused > 0.0 || !logged.is_empty());
    let severity = if saturated {
        Severity::Critical
    } else if hit_before || connected >= 0.8 * max {
        Severity::Warning
    } else if cx.intent == "connections" {
        Severity::Info
    } else {
        return Vec::new();
    };
    let top = holders
        .first()
        .filter(|h| h.total as f64 >= 0.5 * connected);
    let title = match (top, saturated) {
        (Some(h), true) => format!(
            "{} holds {} of the {connected:.0} connected threads: max_connections ({max:.0}) is reached",
            h.label(),
            h.total
        ),
        (Some(h), false) => format!(
            "{} holds {} of the {connected:.0} connected threads (max_connections {max:.0})",
            h.label(),
            h.total
        ),
        (None, true) => format!(
            "Connections exhausted: {connected:.0} threads connected, max_connections is {max:.0}"
        ),
        (None, false) => format!("{connected:.0} threads connected of max_connections {max:.0}"),
    };
    let mut counters = format!(
        "max_connections is {max:.0} (one more is kept for an account with CONNECTION_ADMIN or SUPER); Threads_connected is {connected:.0}"
    );
    if let Some(m) = max_used {
        counters.push_str(&format!(
            ", and the peak since start-up was {m:.0} (Max_used_connections)"
        ));
    }
    if refused > 0.0 {
        counters.push_str(&format!("; {refused:.0} connections were refused with \"Too many connections\" (Connection_errors_max_connections)"));
    }
    counters.push('.');
    let mut f = Finding::new(severity, title).detail(counters);
    if let Some(h) = holders.first() {
        f = f.detail(holder_sentence(cx, h));
    }
    if let Some(s) = others_sentence(&holders) {
        f = f.detail(s);
    }
    if !logged.is_empty() {
        f = f.detail(format!(
            "The error log shows {} \"Too many connections\" lines.",
            logged.len()
        ));
    }
    let account = top.and_then(|h| account_limit(cx, &h.user));
    if let Some((_, _, limit)) = &account {
        f = f.detail(if *limit > 0.0 {
            format!("This account may open {limit:.0} connections (max_user_connections).")
        } else {
            "This account has no connection cap of its own (max_user_connections 0).".to_owned()
        });
    }
    f = evidence(cx, f, top, &logged);
    let f = match top {
        Some(h) if severity != Severity::Info => {
            fixes(cx, f, h, account.map(|(u, host, _)| (u, host)), max)
        }
        _ => f,
    };
    vec![f]
}

fn holder_sentence(cx: &Context<'_>, h: &Holder) -> String {
    let mut text = format!(
        "{} holds {}: {}.",
        h.label(),
        plural(h.total as usize, "connection"),
        h.states()
    );
    let sleeping = h.sessions(&cx.mysql_sessions, "Sleep");
    let ages: Vec<f64> = sleeping.iter().filter_map(|s| s.state_age).collect();
    if let Some(hi) = ages.iter().copied().reduce(f64::max) {
        text.push_str(&format!(
            " Its sleeping threads have been idle for up to {}.",
            human(hi)
        ));
    }
    if h.count("Sleep") * 2 >= h.total && h.count("Sleep") > 0 {
        text.push_str(" Sleeping connections hold a slot each while doing no work: a client that opens connections and never closes them (a leak) or a pool sized far beyond its need.");
    }
    if let Some(w) = cx.number("wait_timeout") {
        text.push_str(&format!(
            " wait_timeout is {w:.0}s ({}), so the server keeps idle connections that long.",
            human(w)
        ));
    }
    text
}

/// The account row for a user: (user, host, max_user_connections).
fn account_limit(cx: &Context<'_>, user: &str) -> Option<(String, String, f64)> {
    let run = cx.ok("mysql_user_limits")?;
    let row = csv_rows(&run.output.stdout)
        .into_iter()
        .find(|r| r.get(&["user"]) == Some(user))?;
    Some((
        user.to_owned(),
        row.get(&["host"]).unwrap_or("%").to_owned(),
        row.number(&["max_user_connections"]).unwrap_or(0.0),
    ))
}

fn evidence(cx: &Context<'_>, mut f: Finding, top: Option<&Holder>, logged: &[String]) -> Finding {
    f = with_settings(
        f,
        cx,
        &[
            "max_connections",
            "max_user_connections",
            "wait_timeout",
            "Threads_connected",
            "Max_used_connections",
            "Connection_errors_max_connections",
        ],
    );
    if let (Some(run), Some(h)) = (cx.ok("mysql_connection_groups"), top) {
        f = f.evidence(run.command(), lines_containing(&run.output.stdout, &h.user));
    }
    if let (Some(run), Some(h)) = (cx.processlist, top) {
        let header = run
            .output
            .stdout
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned();
        let sleeping = h.sessions(&cx.mysql_sessions, "Sleep");
        if !sleeping.is_empty() {
            f = f.evidence(
                run.command(),
                std::iter::once(header).chain(sleeping.iter().take(3).map(|s| s.line.clone())),
            );
        }
    }
    if let (Some(run), Some(h)) = (cx.ok("mysql_user_limits"), top) {
        f = f.evidence(run.command(), lines_containing(&run.output.stdout, &h.user));
    }
    if let Some((run, _)) = &cx.log {
        f = f.evidence(run.command(), logged.iter().take(6).cloned());
    }
    f
}

fn fixes(
    cx: &Context<'_>,
    mut f: Finding,
    h: &Holder,
    account: Option<(String, String)>,
    max: f64,
) -> Finding {
    let busy = (h.total - h.count("Sleep")) as f64;
    let cap = (busy * 2.0).max(10.0).min((max / 2.0).floor().max(1.0));
    if h.count("Sleep") > 0 {
        f = f.fix_with_code(
            format!("Free the slots now: kill {}'s threads that have slept for more than 10 minutes (generate the KILL statements, review, run them), then restart the client so it does not open them again:", h.user),
            "sql",
            format!(
                "SELECT CONCAT('KILL ', id, ';') FROM information_schema.PROCESSLIST\n WHERE user = {} AND command = 'Sleep' AND time > 600;",
                literal(&h.user)
            ),
        );
    }
    f = f.fix("Fix the leak in the client: close every connection it opens or use one pool per process with a hard maximum size; with many clients, put ProxySQL (connection multiplexing) in front of the server.");
    let (user, host) = account.unwrap_or_else(|| (h.user.clone(), "%".to_owned()));
    f = f.fix_with_code(
        "Cap the account so one client can never take every slot again:",
        "sql",
        format!(
            "ALTER USER {} WITH MAX_USER_CONNECTIONS {cap:.0};",
            mysql_account(&user, &host)
        ),
    );
    if cx.number("wait_timeout").is_none_or(|w| w > 900.0) {
        f = f.fix_with_code(
            "Close idle connections sooner (the default 28800s keeps a leaked connection for 8 hours):",
            "sql",
            "SET GLOBAL wait_timeout = 600;  -- and in my.cnf [mysqld]: wait_timeout = 600",
        );
    }
    f.fix("Do not just raise max_connections: each thread costs memory and the leak would fill the new slots too.")
}
