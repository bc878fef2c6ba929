//! PostgreSQL connection exhaustion: client connections in use against what ordinary roles
//! may open (`max_connections` minus `superuser_reserved_connections` and, on 16+,
//! `reserved_connections`), who holds them (application, user, client; idle or active), the
//! refusals the log recorded, and the limits that would have stopped one client taking all.

use std::collections::BTreeSet;

use squadron_core::{Finding, Severity};

use crate::parse::csv_rows;

use super::context::{Context, setting_phrase};
use super::holders::{Holder, dominant_view, from_groups, from_sessions, others_sentence};
use super::logs::{fatal_user, line_time};
use super::pg_connection_advice;
use super::sqltext::{and_list, plural};
use super::time::human;

/// The numbers that decide whether slots are exhausted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage {
    pub max: Option<f64>,
    pub superuser_reserved: f64,
    pub reserved: f64,
    pub used: Option<f64>,
}

impl Usage {
    /// Slots ordinary (non-superuser) roles may use.
    pub fn ordinary_slots(&self) -> Option<f64> {
        Some(self.max? - self.superuser_reserved - self.reserved)
    }
}

/// Reads the usage query (`max_connections,used,superuser_reserved_connections`), falling
/// back on settings for what it lacks.
pub fn usage(cx: &Context<'_>) -> Usage {
    let row = cx
        .ok("pg_connection_usage")
        .and_then(|r| csv_rows(&r.output.stdout).into_iter().next());
    let from_row = |names: &[&str]| row.as_ref().and_then(|r| r.number(names));
    Usage {
        max: from_row(&["max_connections", "max_conn", "max"]).or(cx.number("max_connections")),
        superuser_reserved: from_row(&["superuser_reserved_connections", "reserved_superuser"])
            .or(cx.number("superuser_reserved_connections"))
            .unwrap_or(3.0),
        reserved: from_row(&["reserved_connections"])
            .or(cx.number("reserved_connections"))
            .unwrap_or(0.0),
        used: from_row(&["used", "used_connections", "numbackends"]),
    }
}

pub fn findings(cx: &Context<'_>) -> Vec<Finding> {
    let groups_run = cx.ok("pg_connection_groups");
    let mut holders = groups_run
        .map(|r| from_groups(&r.output.stdout))
        .unwrap_or_default();
    if holders.is_empty() {
        holders = from_sessions(&cx.pg_sessions);
    }
    let u = usage(cx);
    let refusals: Vec<String> = cx
        .log
        .as_ref()
        .map(|(_, f)| f.refusals())
        .unwrap_or_default();
    let counted: f64 = holders.iter().map(|h| h.total as f64).sum();
    let Some(used) = u.used.or((counted > 0.0).then_some(counted)) else {
        return Vec::new();
    };
    let Some(slots) = u.ordinary_slots() else {
        return Vec::new();
    };
    let holders = dominant_view(holders, used);
    let superusers = superusers(cx);
    let su_used: f64 = holders
        .iter()
        .filter(|h| superusers.contains(&h.user))
        .map(|h| h.total as f64)
        .sum();
    let ordinary_used = if superusers.is_empty() {
        used
    } else {
        used - su_used
    };
    let saturated = ordinary_used >= slots || used >= slots + u.reserved;
    let high = ordinary_used >= 0.8 * slots;
    let severity = match (saturated, high || !refusals.is_empty()) {
        (true, _) => Severity::Critical,
        (false, true) => Severity::Warning,
        (false, false) if cx.intent == "connections" => Severity::Info,
        _ => return Vec::new(),
    };
    let top = holders.first().filter(|h| h.total as f64 >= 0.5 * used);
    let title = match (top, severity) {
        (Some(h), Severity::Critical) => format!(
            "{} holds {:.0} of the {used:.0} open connections: all {slots:.0} slots ordinary roles may use are taken",
            h.label(),
            h.total
        ),
        (Some(h), _) => format!(
            "{} holds {:.0} of the {used:.0} open connections ({slots:.0} slots for ordinary roles)",
            h.label(),
            h.total
        ),
        (None, Severity::Critical) => format!(
            "Connection slots exhausted: {used:.0} open, {slots:.0} allowed for ordinary roles"
        ),
        (None, _) => format!("{used:.0} connections open of {slots:.0} allowed for ordinary roles"),
    };
    let mut f = Finding::new(severity, title).detail(limits_sentence(
        &u,
        used,
        su_used,
        &superusers,
        &holders,
    ));
    if let Some(h) = holders.first() {
        f = f.detail(holder_sentence(cx, h));
    }
    if let Some(s) = others_sentence(&holders) {
        f = f.detail(s);
    }
    if let Some(s) = refusals_sentence(&refusals) {
        f = f.detail(s);
    }
    let top_user = top.map(|h| h.user.clone()).unwrap_or_default();
    if let Some(limit) = role_limit(cx, &top_user) {
        f = f.detail(limit);
    }
    if let Some(p) = setting_phrase(cx, "idle_session_timeout") {
        f = f.detail(format!("{p}."));
    }
    f = pg_connection_advice::evidence(cx, f, top, &refusals);
    let f = match top {
        Some(h) if severity != Severity::Info => pg_connection_advice::fixes(cx, f, h, slots),
        None if severity != Severity::Info => f.fix_with_code(
            "No single client dominates: pool the connections (PgBouncer in transaction mode) instead of raising max_connections, and cap each role:",
            "ini",
            pg_connection_advice::pgbouncer_ini(),
        ),
        _ => f,
    };
    vec![f]
}

fn superusers(cx: &Context<'_>) -> BTreeSet<String> {
    cx.ok("pg_roles")
        .map(|r| {
            csv_rows(&r.output.stdout)
                .iter()
                .filter(|row| matches!(row.get(&["rolsuper"]), Some("t" | "true")))
                .filter_map(|row| row.value(&["rolname"]).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn limits_sentence(
    u: &Usage,
    used: f64,
    su_used: f64,
    superusers: &BTreeSet<String>,
    holders: &[Holder],
) -> String {
    let max = u.max.unwrap_or(0.0);
    let reserved = if u.reserved > 0.0 {
        format!(" and reserved_connections {:.0}", u.reserved)
    } else {
        String::new()
    };
    let mut text = format!(
        "max_connections is {max:.0} with superuser_reserved_connections {:.0}{reserved}, so ordinary roles may open {:.0} connections; {used:.0} client connections are open",
        u.superuser_reserved,
        u.ordinary_slots().unwrap_or(max)
    );
    if su_used > 0.0 {
        let names: Vec<&str> = holders
            .iter()
            .filter(|h| superusers.contains(&h.user))
            .map(|h| h.user.as_str())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        text.push_str(&format!(
            ", {su_used:.0} of them by superusers ({})",
            and_list(&names)
        ));
    }
    text.push('.');
    text
}

fn holder_sentence(cx: &Context<'_>, h: &Holder) -> String {
    let mut text = format!(
        "{} holds {}: {}.",
        h.label(),
        plural(h.total as usize, "connection"),
        h.states()
    );
    let idle = h.sessions(&cx.pg_sessions, "idle");
    let ages: Vec<f64> = idle.iter().filter_map(|s| s.state_age).collect();
    let idle_n = h.count("idle");
    if !ages.is_empty() {
        let lo = ages.iter().copied().fold(f64::MAX, f64::min);
        let hi = ages.iter().copied().fold(0.0, f64::max);
        text.push_str(&format!(
            " Its idle sessions have been idle for {} to {}.",
            human(lo),
            human(hi)
        ));
    }
    if idle_n * 2 >= h.total && idle_n > 0 {
        text.push_str(" Idle connections hold a slot each while doing no work: the mark of a client that opens connections and never closes them (a leak) or of a pool sized far beyond its need.");
    }
    let idle_tx = h.count("idle in transaction");
    if idle_tx * 2 >= h.total && idle_tx > 0 {
        text.push_str(
            " Most of them sit idle inside a transaction: they also hold locks and block vacuum.",
        );
    }
    text
}

fn refusals_sentence(refusals: &[String]) -> Option<String> {
    let first = refusals.first()?;
    let last = refusals.last()?;
    let too_many = refusals
        .iter()
        .filter(|l| l.contains("too many clients"))
        .count();
    let reserved = refusals.len() - too_many;
    let mut kinds = Vec::new();
    if too_many > 0 {
        kinds.push(format!("{too_many} \"sorry, too many clients already\""));
    }
    if reserved > 0 {
        kinds.push(format!(
            "{reserved} \"remaining connection slots are reserved\""
        ));
    }
    let users: BTreeSet<String> = refusals.iter().filter_map(|l| fatal_user(l)).collect();
    let users: Vec<String> = users.into_iter().collect();
    let span = match (line_time(first), line_time(last)) {
        (Some(a), Some(b)) if a != b => format!(" between {a} and {b}"),
        (Some(a), _) => format!(" at {a}"),
        _ => String::new(),
    };
    let whom = if users.is_empty() {
        String::new()
    } else {
        format!(", turning away {}", and_list(&users))
    };
    Some(format!(
        "The server log records {} refused connections{span}{whom}.",
        and_list(&kinds)
    ))
}

fn role_limit(cx: &Context<'_>, user: &str) -> Option<String> {
    let run = cx.ok("pg_roles")?;
    let row = csv_rows(&run.output.stdout)
        .into_iter()
        .find(|r| r.get(&["rolname"]) == Some(user))?;
    let limit = row.number(&["rolconnlimit"])?;
    Some(if limit < 0.0 {
        format!(
            "Role {user} has no connection limit of its own (rolconnlimit -1), so nothing stops it taking every slot."
        )
    } else {
        format!("Role {user} may open at most {limit:.0} connections (rolconnlimit).")
    })
}
