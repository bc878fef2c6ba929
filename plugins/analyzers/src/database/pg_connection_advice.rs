//! What the PostgreSQL connection finding quotes and proposes: the usage, the holder's
//! grouped counts and idle sessions, its role's limit, the settings and the log's refusals;
//! then freeing the slots, fixing the leak behind PgBouncer, capping the role and timeouts.

use squadron_core::Finding;

use super::context::{Context, with_settings};
use super::holders::Holder;
use super::sqltext::{lines_containing, literal, pg_ident, rows_evidence};

pub fn evidence(
    cx: &Context<'_>,
    mut f: Finding,
    top: Option<&Holder>,
    refusals: &[String],
) -> Finding {
    if let Some(run) = cx.ok("pg_connection_usage") {
        f = f.evidence(
            run.command(),
            run.output.stdout.lines().take(3).map(str::to_owned),
        );
    }
    if let (Some(run), Some(h)) = (cx.ok("pg_connection_groups"), top) {
        let needle = if h.application.is_empty() {
            &h.user
        } else {
            &h.application
        };
        f = f.evidence(run.command(), lines_containing(&run.output.stdout, needle));
    } else if let Some(run) = cx.ok("pg_connection_groups") {
        f = f.evidence(
            run.command(),
            run.output.stdout.lines().take(8).map(str::to_owned),
        );
    }
    if let (Some(run), Some(h)) = (cx.pg_activity, top) {
        let idle = h.sessions(&cx.pg_sessions, "idle");
        if !idle.is_empty() {
            let header = run
                .output
                .stdout
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned();
            let lines = std::iter::once(header).chain(idle.iter().take(3).map(|s| s.line.clone()));
            f = f.evidence(run.command(), lines);
        }
    }
    if let (Some(run), Some(h)) = (cx.ok("pg_roles"), top) {
        let lines: Vec<String> = rows_evidence(&run.output.stdout, std::slice::from_ref(&h.user));
        f = f.evidence(run.command(), lines);
    }
    f = with_settings(
        f,
        cx,
        &[
            "max_connections",
            "superuser_reserved_connections",
            "reserved_connections",
            "idle_session_timeout",
        ],
    );
    if let Some((run, _)) = &cx.log {
        f = f.evidence(run.command(), refusals.iter().take(8).cloned());
    }
    f
}

pub fn fixes(cx: &Context<'_>, mut f: Finding, h: &Holder, slots: f64) -> Finding {
    let name = h.name().to_owned();
    let active = h.count("active") as f64;
    let cap = (active * 2.0).max(10.0).min((slots / 2.0).floor().max(1.0));
    let filter = if h.application.is_empty() {
        format!("usename = {}", literal(&h.user))
    } else {
        format!("application_name = {}", literal(&h.application))
    };
    let idle: u64 = h
        .by_state
        .iter()
        .filter(|(s, _)| s.starts_with("idle"))
        .map(|(_, n)| n)
        .sum();
    if idle > 0 {
        f = f.fix_with_code(
            format!("Free the slots now: end {name}'s sessions that have been idle (in or out of a transaction) for more than 10 minutes (proposed below for approval), then stop or restart {name} so it does not open them again."),
            "sql",
            format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity\n WHERE {filter} AND state LIKE 'idle%'\n   AND state_change < now() - interval '10 minutes';"),
        );
    }
    f = f.fix_with_code(
        format!("Fix the leak in {name}: close every connection it opens (or share one pool per process with a hard maximum size), and put PgBouncer in transaction mode in front of the database so many clients share a few server connections:"),
        "ini",
        pgbouncer_ini(),
    );
    if !h.user.is_empty() {
        let role = pg_ident(&h.user);
        f = f.fix_with_code(
            format!("Cap the role so one client can never take every slot again (about twice what {name} really uses at once):"),
            "sql",
            format!("ALTER ROLE {role} CONNECTION LIMIT {cap:.0};"),
        );
        if !cx.number("idle_session_timeout").is_some_and(|v| v > 0.0) {
            f = f.fix_with_code(
                "Let the server close sessions left idle too long (PostgreSQL 14+; set it on the role, since pools elsewhere may keep idle connections on purpose):",
                "sql",
                format!("ALTER ROLE {role} SET idle_session_timeout = '15min';\nALTER ROLE {role} SET idle_in_transaction_session_timeout = '5min';"),
            );
        }
    }
    f.fix("Do not just raise max_connections: every backend costs memory and the leak would fill the new slots too. Raise it only if, once the leak is fixed, the real need is higher.")
}

pub fn pgbouncer_ini() -> String {
    "; /etc/pgbouncer/pgbouncer.ini\n[databases]\n* = host=127.0.0.1 port=5432\n\n[pgbouncer]\npool_mode = transaction\nmax_client_conn = 2000\ndefault_pool_size = 20\nserver_idle_timeout = 600".to_owned()
}
