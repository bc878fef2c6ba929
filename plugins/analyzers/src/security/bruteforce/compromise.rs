//! An attacking address that also logged in: a possible compromise, with the commands that
//! cut the intruder off and the checks that tell what it did.

use squadron_core::{Finding, Severity};

use super::super::authlog::{self, Kind};
use super::super::firewall::Firewall;
use super::Source;
use super::block::block_command;
use super::report::describe;

/// Logins from the address that came after its first failure (or whose time is unknown).
pub fn logins_after_attack(s: &Source) -> Vec<&authlog::Event> {
    let start = s.first.as_ref().map(|f| f.0);
    s.accepted
        .iter()
        .filter(|e| match (e.ts, start) {
            (Some(t), Some(first)) => t >= first,
            _ => true,
        })
        .collect()
}

pub fn compromise(s: &Source, source: &str, sources: &[String], fw: &Firewall) -> Option<Finding> {
    let logins = logins_after_attack(s);
    if logins.is_empty() {
        return None;
    }
    let method = |e: &authlog::Event| match &e.kind {
        Kind::Accepted(m) => m.clone(),
        _ => "?".to_owned(),
    };
    let mut users: Vec<String> = logins.iter().filter_map(|e| e.user.clone()).collect();
    users.dedup();
    let who: Vec<String> = logins
        .iter()
        .map(|e| format!("{} ({})", e.user.as_deref().unwrap_or("?"), method(e)))
        .collect();
    let by_password = logins.iter().any(|e| method(e) != "publickey");
    let severity = if by_password {
        Severity::Critical
    } else {
        Severity::Warning
    };
    let accepted_src = sources
        .iter()
        .rev()
        .find(|c| c.contains("Accepted"))
        .map_or(source, String::as_str);
    let mut cut = vec![block_command(fw, &s.ip), "who -u".to_owned()];
    for u in &users {
        cut.push(format!("sudo pkill -KILL -u {u}"));
        cut.push(format!("sudo passwd -l {u}"));
    }
    Some(
        Finding::new(
            severity,
            format!(
                "Possible compromise: {} logged in as {} after {} failed attempts",
                s.ip,
                dedup(who).join(", "),
                s.attempts
            ),
        )
        .detail(describe(s))
        .detail("An address that guesses passwords and then gets in must be treated as an intruder until proven otherwise.")
        .evidence(accepted_src, logins.iter().map(|e| e.line.clone()))
        .evidence(source, s.sample())
        .fix_with_code(
            "Cut the intruder off: block the address, end the sessions and lock the account until it is checked:",
            "sh",
            cut.join("\n"),
        )
        .fix(format!(
            "Check what it did: `last -i {u}`, `~{u}/.ssh/authorized_keys` and its shell history, new users (`getent passwd`), cron jobs, listening ports and running processes; rotate the account's password and keys. Rebuild the host if anything was changed.",
            u = users.first().map_or("<user>", String::as_str)
        )),
    )
}

pub fn dedup(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}
