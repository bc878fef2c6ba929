//! Failures that are not one address's attack: a distributed attack, background noise, and
//! counts taken from `lastb` when no log could be read.

use squadron_core::{Finding, Severity};

use super::super::fail2ban::Fail2ban;
use super::super::sshd;
use super::report::Context;
use super::{BRUTE_FORCE_ATTEMPTS, Source};

/// `lastb` when no log could be read: attempts per address, no times.
pub fn from_lastb(cx: &Context) -> Vec<Source> {
    let Some((_, bad)) = &cx.lastb else {
        return Vec::new();
    };
    let mut out: Vec<Source> = Vec::new();
    for b in bad {
        let i = match out.iter().position(|s| s.ip == b.ip) {
            Some(i) => i,
            None => {
                out.push(Source {
                    ip: b.ip.clone(),
                    first_line: Some(b.line.clone()),
                    ..Source::default()
                });
                out.len() - 1
            }
        };
        let s = &mut out[i];
        s.attempts += 1;
        *s.users.entry(b.user.clone()).or_default() += 1;
        s.last_line = Some(b.line.clone());
    }
    out.sort_by_key(|s| std::cmp::Reverse(s.attempts));
    out
}

/// Many addresses, each below the threshold, adding up to a lot.
pub fn distributed(all: &[Source], source: &str, cx: &Context) -> Option<Finding> {
    let total: usize = all.iter().map(|s| s.attempts).sum();
    let ips = all.iter().filter(|s| s.attempts > 0).count();
    if ips < 5 || total < 3 * BRUTE_FORCE_ATTEMPTS {
        return None;
    }
    let mut f = Finding::new(Severity::Warning, format!("Distributed SSH password guessing: {total} failed logins from {ips} addresses, none above {} each", BRUTE_FORCE_ATTEMPTS - 1))
        .detail("Blocking single addresses does not help against a botnet; take passwords out of the picture instead.")
        .evidence(source, all.iter().take(4).filter_map(|s| s.first_line.clone()));
    if let Some((text, code)) = cx
        .fail2ban
        .as_ref()
        .map_or(Fail2ban::Missing.advice(), |(_, s)| s.advice())
    {
        f = f.fix_with_code(text, "sh", code);
    }
    Some(sshd::hardening_fix(f))
}

pub fn quiet(all: &[Source], source: &str) -> Finding {
    let total: usize = all.iter().map(|s| s.attempts).sum();
    let logins: usize = all.iter().map(|s| s.accepted.len()).sum();
    Finding::new(Severity::Info, format!(
        "No brute force: {total} failed SSH logins from {} addresses, {logins} successful logins",
        all.iter().filter(|s| s.attempts > 0).count()
    ))
    .detail(format!("No address reached {BRUTE_FORCE_ATTEMPTS} failed attempts."))
    .evidence(source, all.iter().filter_map(|s| s.first_line.clone()).take(5))
}
