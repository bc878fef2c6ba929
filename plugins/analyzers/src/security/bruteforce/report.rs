//! The brute-force answer: a compromise when an attacking address also logged in, the
//! attack with its numbers otherwise, a distributed attack when many addresses each try a
//! little, or a note that the failures are background noise.

use squadron_core::{Finding, Investigation, Severity};

use super::super::authlog::{self, Kind};
use super::super::clock;
use super::super::fail2ban::{self, Fail2ban};
use super::super::firewall::Firewall;
use super::super::sshd::{self, Sshd};
use super::super::tool;
use super::block::{block_command, blocked_by};
use super::compromise::{compromise, dedup, logins_after_attack};
use super::noise::{distributed, from_lastb, quiet};
use super::{Source, WINDOW, by_source, events};

/// What else the turn learned that the answer needs.
pub(super) struct Context {
    pub sshd: Option<Sshd>,
    pub fail2ban: Option<(String, Fail2ban)>,
    pub lastb: Option<(String, Vec<authlog::BadLogin>)>,
}

fn context(inv: &Investigation<'_>) -> Context {
    Context {
        sshd: sshd::read(inv),
        fail2ban: inv
            .last(tool::FAIL2BAN)
            .and_then(|r| fail2ban::read(r).map(|f| (r.command().to_owned(), f))),
        lastb: inv.last(tool::LASTB).map(|r| {
            (
                r.command().to_owned(),
                authlog::parse_lastb(&r.output.stdout),
            )
        }),
    }
}

/// Every finding about logins in this turn.
pub fn findings(inv: &Investigation<'_>, fw: &Firewall) -> Vec<Finding> {
    let (events, sources, truncated) = events(inv);
    let cx = context(inv);
    let mut all = by_source(&events);
    if all.is_empty() {
        all = from_lastb(&cx);
    }
    let source = sources
        .first()
        .cloned()
        .or_else(|| cx.lastb.as_ref().map(|l| l.0.clone()))
        .unwrap_or_default();
    let mut out = Vec::new();
    for s in all.iter().filter(|s| s.attempts >= 5) {
        out.extend(compromise(s, &source, &sources, fw));
    }
    let attackers: Vec<&Source> = all.iter().filter(|s| s.is_attack()).collect();
    if !attackers.is_empty() {
        out.push(attack(&attackers, &all, &source, &cx, fw, truncated));
    } else if let Some(f) = distributed(&all, &source, &cx) {
        out.push(f);
    } else if !all.is_empty() || !sources.is_empty() {
        out.push(quiet(&all, &source));
    }
    out
}

pub(super) fn describe(s: &Source) -> String {
    let mut text = format!("{}: {} failed attempts", s.ip, s.attempts);
    if let (Some(first), Some(last), Some(d)) = (&s.first, &s.last, s.duration()) {
        text.push_str(&format!(
            " from {} to {} ({}",
            first.1,
            last.1,
            clock::span(d)
        ));
        if d > WINDOW {
            text.push_str(&format!(", peak {} in 10 minutes", s.peak));
        }
        text.push(')');
    }
    text.push_str(&format!(
        "; {} user names tried: {}",
        s.users.len(),
        s.top_users(8)
    ));
    if !s.invalid_users.is_empty() {
        text.push_str(&format!(
            " ({} of them do not exist here)",
            s.invalid_users.len()
        ));
    }
    if s.max_tries > 0 {
        text.push_str(&format!("; MaxAuthTries cut {} connections", s.max_tries));
    }
    text + "."
}

fn attack(
    attackers: &[&Source],
    all: &[Source],
    source: &str,
    cx: &Context,
    fw: &Firewall,
    truncated: bool,
) -> Finding {
    let total: usize = attackers.iter().map(|s| s.attempts).sum();
    let succeeded = attackers.iter().any(|s| !logins_after_attack(s).is_empty());
    let outcome = if succeeded { "" } else { ", none succeeded" };
    let title = match attackers {
        [one] => {
            let span = one
                .duration()
                .map(|d| format!(" in {}", clock::span(d)))
                .unwrap_or_default();
            format!(
                "SSH brute-force attack from {}: {} failed logins for {} user names{span}{outcome}",
                one.ip,
                one.attempts,
                one.users.len()
            )
        }
        many => {
            let list: Vec<String> = many
                .iter()
                .take(5)
                .map(|s| format!("{} ({})", s.ip, s.attempts))
                .collect();
            format!(
                "SSH brute-force attacks from {} addresses ({total} failed logins): {}{outcome}",
                many.len(),
                list.join(", ")
            )
        }
    };
    let passwords = cx.sshd.as_ref().map(Sshd::passwords_allowed);
    let severity = if passwords == Some(false) && !succeeded {
        Severity::Warning
    } else {
        Severity::Critical
    };
    let mut f = Finding::new(severity, title);
    for s in attackers.iter().take(5) {
        f = f.detail(describe(s));
    }
    let logins: Vec<String> = all
        .iter()
        .filter(|s| !s.accepted.is_empty() && !s.is_attack())
        .map(|s| {
            let who: Vec<String> = s
                .accepted
                .iter()
                .map(|e| {
                    format!(
                        "{} by {}",
                        e.user.as_deref().unwrap_or("?"),
                        match &e.kind {
                            Kind::Accepted(m) => m.as_str(),
                            _ => "?",
                        }
                    )
                })
                .collect();
            format!("{} ({})", s.ip, dedup(who).join(", "))
        })
        .collect();
    if !succeeded {
        f = f.detail(if logins.is_empty() {
            "No attacking address logged in, and the log shows no successful login at all."
                .to_owned()
        } else {
            format!(
                "No attacking address logged in; the successful logins came from {}.",
                logins.join("; ")
            )
        });
    }
    f = match (&cx.sshd, passwords) {
        (Some(s), Some(true)) => f
            .detail("sshd still accepts passwords, so one guessed password is enough to get in.")
            .evidence(&s.source, s.lines(&["passwordauthentication", "kbdinteractiveauthentication", "permitrootlogin", "maxauthtries"])),
        (Some(_), Some(false)) => f.detail("sshd accepts keys only, so these guesses cannot succeed; they are still load and log noise."),
        _ => f,
    };
    if truncated {
        f = f.detail(
            "The log output was cut at the tool's size cap, so the counts are lower bounds.",
        );
    }
    f = f.evidence(source, attackers.iter().take(2).flat_map(|s| s.sample()));
    let blocked: Vec<&str> = attackers
        .iter()
        .filter(|s| blocked_by(fw, &s.ip))
        .map(|s| s.ip.as_str())
        .collect();
    if !blocked.is_empty() {
        f = f.detail(format!(
            "Already blocked by the firewall: {}.",
            blocked.join(", ")
        ));
    }
    if let Some((cmd, state)) = &cx.fail2ban {
        f = match state {
            Fail2ban::Missing => {
                f.detail("fail2ban is not installed, so nothing bans the attacker automatically.")
            }
            Fail2ban::Stopped => f.detail("fail2ban is installed but not running."),
            Fail2ban::NoJail => f.detail("fail2ban runs but has no sshd jail."),
            Fail2ban::Running { banned, lines, .. } => {
                let banned_now: Vec<&str> = attackers
                    .iter()
                    .filter(|s| banned.contains(&s.ip))
                    .map(|s| s.ip.as_str())
                    .collect();
                f.detail(if banned_now.is_empty() {
                    "fail2ban runs but has not banned the attacker.".to_owned()
                } else {
                    format!("fail2ban has banned {}.", banned_now.join(", "))
                })
                .evidence(cmd, lines.clone())
            }
        };
    }
    if let (Some((cmd, bad)), Some(top)) = (&cx.lastb, attackers.first()) {
        let n = bad.iter().filter(|b| b.ip == top.ip).count();
        if n > 0 && cmd != source {
            f = f.detail(format!(
                "lastb agrees: {n} failed logins from {} in btmp.",
                top.ip
            ));
        }
    }
    let unblocked: Vec<&&Source> = attackers
        .iter()
        .filter(|s| {
            !blocked_by(fw, &s.ip) && cx.fail2ban.as_ref().is_none_or(|(_, f2b)| !f2b.bans(&s.ip))
        })
        .take(5)
        .collect();
    if !unblocked.is_empty() {
        let cmds: Vec<String> = unblocked.iter().map(|s| block_command(fw, &s.ip)).collect();
        f = f.fix_with_code("Block the attacking address now:", "sh", cmds.join("\n"));
    }
    let advice = cx
        .fail2ban
        .as_ref()
        .map_or(Fail2ban::Missing.advice(), |(_, s)| s.advice());
    if let Some((text, code)) = advice {
        f = f.fix_with_code(text, "sh", code);
    }
    if passwords != Some(false) {
        f = sshd::hardening_fix(f);
    }
    f
}
