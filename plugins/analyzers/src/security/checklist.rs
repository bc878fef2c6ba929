//! The compliance checklist: one line per baseline control (in the spirit of the CIS
//! benchmarks), pass, fail or not checked, computed from the same evidence as the other
//! findings.

use squadron_core::{Finding, Investigation, Severity};

use super::bruteforce::{by_source, events};
use super::exposure::{exposed, listeners};
use super::fail2ban::{self, Fail2ban};
use super::firewall::Firewall;
use super::services::Risk;
use super::sshd;
use super::{perms, tool, updates};

/// One control's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Pass,
    Fail,
    Unknown,
}

fn status(v: Option<bool>) -> Status {
    match v {
        Some(true) => Status::Pass,
        Some(false) => Status::Fail,
        None => Status::Unknown,
    }
}

/// Builds the checklist; `others` are the turn's other findings.
pub fn finding(inv: &Investigation<'_>, fw: &Firewall, others: &[Finding]) -> Finding {
    let mut items: Vec<(Status, String)> = Vec::new();
    items.push((
        status(fw.filtering()),
        "A host firewall filters inbound traffic".into(),
    ));

    let exposed_critical = listeners(inv).map(|(_, all)| {
        exposed(&all)
            .iter()
            .filter(|g| g.risk() == Risk::Critical)
            .filter(|g| g.reachable(fw))
            .map(|g| g.label())
            .collect::<Vec<_>>()
    });
    items.push(match &exposed_critical {
        Some(list) if !list.is_empty() => (
            Status::Fail,
            format!(
                "No datastore or admin API is reachable from outside: {} is",
                list.join(", ")
            ),
        ),
        Some(_) => (
            Status::Pass,
            "No datastore or admin API is reachable from outside".into(),
        ),
        None => (
            Status::Unknown,
            "No datastore or admin API is reachable from outside".into(),
        ),
    });

    let sshd = sshd::read(inv);
    let get = |k: &str| sshd.as_ref().and_then(|s| s.get(k).map(str::to_owned));
    items.push((
        status(sshd.as_ref().map(|s| !s.passwords_allowed())),
        "SSH: PasswordAuthentication no".into(),
    ));
    items.push((
        status(get("permitrootlogin").map(|v| v != "yes")),
        "SSH: PermitRootLogin no or prohibit-password".into(),
    ));
    items.push((
        status(
            get("maxauthtries")
                .and_then(|v| v.parse::<u32>().ok())
                .map(|n| n <= 4),
        ),
        "SSH: MaxAuthTries 4 or less".into(),
    ));
    items.push((
        status(get("permitemptypasswords").map(|v| v == "no")),
        "SSH: PermitEmptyPasswords no".into(),
    ));

    let f2b = inv.last(tool::FAIL2BAN).and_then(fail2ban::read);
    items.push((
        status(f2b.as_ref().map(|f| matches!(f, Fail2ban::Running { .. }))),
        "fail2ban protects sshd".into(),
    ));

    let (evs, sources, _) = events(inv);
    let attacks = (!sources.is_empty()).then(|| {
        let all = by_source(&evs);
        all.iter()
            .filter(|s| s.is_attack())
            .map(|s| s.ip.clone())
            .collect::<Vec<_>>()
    });
    items.push(match &attacks {
        Some(ips) if !ips.is_empty() => (
            Status::Fail,
            format!(
                "No SSH brute force in the auth log: {} attacking",
                ips.join(", ")
            ),
        ),
        other => (
            status(other.as_ref().map(|_| true)),
            "No SSH brute force in the auth log".into(),
        ),
    });

    let modes_ok = inv.last(tool::FILE_MODES).map(|r| {
        perms::parse_modes(&r.output.stdout)
            .iter()
            .all(|m| perms::problems(m).is_empty())
    });
    items.push((
        status(modes_ok),
        "Sensitive files have safe owners and modes".into(),
    ));
    let uid0 = inv.last(tool::ACCOUNTS).map(|r| {
        r.output
            .stdout
            .lines()
            .filter(|l| l.split(':').nth(2) == Some("0"))
            .count()
            <= 1
    });
    items.push((status(uid0), "Only root has UID 0".into()));
    let sudoers_read = inv.last(tool::SUDOERS).is_some() || inv.last(tool::SUDOERS_D).is_some();
    let sudo_bad = others
        .iter()
        .any(|f| f.title.starts_with("sudoers:") && f.severity >= Severity::Warning);
    items.push((
        status(sudoers_read.then_some(!sudo_bad)),
        "sudoers grants no passwordless root or shell escapes".into(),
    ));

    let pending = inv
        .last(tool::APT)
        .or(inv.last(tool::DNF))
        .filter(|r| r.output.ok())
        .map(|r| {
            let u = if r.tool() == tool::APT {
                updates::parse_apt(&r.output.stdout)
            } else {
                updates::parse_dnf(&r.output.stdout)
            };
            u.iter().filter(|u| u.security).count()
        });
    items.push(match pending {
        Some(n) if n > 0 => (
            Status::Fail,
            format!("No security updates pending: {n} pending"),
        ),
        other => (
            status(other.map(|_| true)),
            "No security updates pending".into(),
        ),
    });
    let auto = inv
        .runs_of(tool::UNIT_ENABLED)
        .find(|r| r.arg("unit").is_some_and(|u| u.contains("unattended")))
        .map(|r| r.output.stdout.trim() == "enabled");
    items.push((
        status(auto),
        "Automatic security updates are enabled".into(),
    ));
    let certs_bad = others
        .iter()
        .any(|f| f.title.contains("certificate") && f.severity >= Severity::Warning);
    let certs_read = inv.last(tool::CERTBOT).is_some_and(|r| r.output.ok());
    items.push((
        status(certs_read.then_some(!certs_bad)),
        "No TLS certificate expires within 30 days".into(),
    ));

    let count = |s: Status| items.iter().filter(|(x, _)| *x == s).count();
    let (pass, fail, unknown) = (
        count(Status::Pass),
        count(Status::Fail),
        count(Status::Unknown),
    );
    let node = inv.entities.get("node").unwrap_or("this host");
    let mut f = Finding::new(
        if fail > 0 {
            Severity::Warning
        } else {
            Severity::Info
        },
        format!(
            "Security checklist for {node}: {pass} of {} checks pass, {fail} fail, {unknown} not checked",
            items.len()
        ),
    );
    for (s, text) in &items {
        let mark = match s {
            Status::Pass => "[pass]",
            Status::Fail => "[FAIL]",
            Status::Unknown => "[n/a] ",
        };
        f = f.detail(format!("{mark} {text}"));
    }
    if fail > 0 {
        f = f.detail("Each failed control is explained below with its evidence and fix.");
    }
    // fail2ban has no finding of its own outside a brute-force answer
    if let Some((text, code)) = f2b.as_ref().and_then(Fail2ban::advice) {
        f = f.fix_with_code(text, "sh", code);
    }
    f
}

#[cfg(test)]
mod tests {
    use squadron_core::{Entities, Severity};

    use super::super::testkit::{diagnose, run, run_with};
    use super::super::tool;

    #[test]
    fn every_control_is_pass_fail_or_not_checked() {
        let runs = vec![
            run(tool::UFW, "ufw status verbose", 0, "Status: inactive\n", ""),
            run(
                tool::IPTABLES,
                "iptables -L -n -v",
                0,
                "Chain INPUT (policy ACCEPT)\ntarget     prot opt source               destination\n",
                "",
            ),
            run(
                tool::SSHD_T,
                "sshd -T",
                0,
                "passwordauthentication no\npermitrootlogin no\nmaxauthtries 3\npermitemptypasswords no\nkbdinteractiveauthentication no\n",
                "",
            ),
            run(
                tool::FAIL2BAN,
                "fail2ban-client status sshd",
                0,
                "Status for the jail: sshd\n`- Actions\n   |- Currently banned:\t0\n   `- Banned IP list:\t\n",
                "",
            ),
            run(
                tool::ACCOUNTS,
                "getent passwd",
                0,
                "root:x:0:0:root:/root:/bin/bash\nbackdoor:x:0:0::/root:/bin/sh\n",
                "",
            ),
            run_with(
                tool::UNIT_ENABLED,
                "systemctl is-enabled unattended-upgrades.service",
                &[("unit", "unattended-upgrades.service")],
                0,
                "enabled\n",
                "",
            ),
        ];
        let mut e = Entities::new();
        e.set("node", "web-3");
        let f = diagnose("compliance", &runs, &mut e, 0);
        let list = &f[0];
        assert!(
            list.title.starts_with(
                "Security checklist for web-3: 6 of 14 checks pass, 2 fail, 6 not checked"
            ),
            "{}",
            list.title
        );
        assert_eq!(list.severity, Severity::Warning);
        assert!(
            list.details
                .contains(&"[FAIL] A host firewall filters inbound traffic".to_owned()),
            "{:#?}",
            list.details
        );
        assert!(
            list.details
                .contains(&"[FAIL] Only root has UID 0".to_owned()),
            "{:#?}",
            list.details
        );
        assert!(
            list.details
                .contains(&"[pass] SSH: PasswordAuthentication no".to_owned()),
            "{:#?}",
            list.details
        );
        assert!(
            list.details
                .contains(&"[n/a]  No security updates pending".to_owned()),
            "{:#?}",
            list.details
        );
        assert!(
            f.iter().any(|x| x.title.contains("backdoor has UID 0")),
            "{f:#?}"
        );
    }
}
