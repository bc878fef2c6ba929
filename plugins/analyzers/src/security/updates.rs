//! Pending updates: `apt list --upgradable` (a package from a `-security` suite is a security
//! update) or `dnf updateinfo list --security` (advisories with severities), the packages
//! that matter most, and whether automatic security updates are on.

use squadron_core::{Finding, Investigation, Severity};

use super::tool;

/// One pending upgrade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upgrade {
    pub package: String,
    pub security: bool,
    pub line: String,
}

/// Reads `apt list --upgradable` (`openssl/jammy-updates,jammy-security 3.0.2-0ubuntu1.18 amd64 [upgradable from: ...]`).
pub fn parse_apt(text: &str) -> Vec<Upgrade> {
    text.lines()
        .filter(|l| l.contains('/') && l.contains("upgradable"))
        .filter_map(|line| {
            let (package, rest) = line.split_once('/')?;
            let suites = rest.split_whitespace().next()?;
            Some(Upgrade {
                package: package.to_owned(),
                security: suites.contains("-security"),
                line: line.trim().to_owned(),
            })
        })
        .collect()
}

/// Reads `dnf updateinfo list --security` (`RHSA-2024:1234 Important/Sec. openssl-1:3.0.7-27.el9.x86_64`).
pub fn parse_dnf(text: &str) -> Vec<Upgrade> {
    text.lines()
        .filter(|l| l.contains("/Sec."))
        .filter_map(|line| {
            let nevra = line.split_whitespace().nth(2)?;
            let package = nevra
                .split('-')
                .take_while(|p| !p.starts_with(|c: char| c.is_ascii_digit()))
                .collect::<Vec<_>>()
                .join("-");
            Some(Upgrade {
                package,
                security: true,
                line: line.trim().to_owned(),
            })
        })
        .collect()
}

/// Packages whose security updates matter most on a server.
fn important(package: &str) -> bool {
    const NAMES: &[&str] = &[
        "linux-image",
        "linux-generic",
        "kernel",
        "openssh",
        "openssl",
        "libssl",
        "sudo",
        "libc6",
        "glibc",
        "nginx",
        "apache2",
        "httpd",
        "bash",
        "systemd",
        "polkit",
        "policykit",
        "curl",
        "libcurl",
        "xz-utils",
        "mysql-server",
        "mariadb-server",
        "postgresql",
        "redis",
        "php",
        "docker",
        "containerd",
        "runc",
    ];
    NAMES.iter().any(|n| package.starts_with(n))
}

fn needs_reboot(package: &str) -> bool {
    [
        "linux-image",
        "linux-generic",
        "kernel",
        "libc6",
        "glibc",
        "systemd",
    ]
    .iter()
    .any(|n| package.starts_with(n))
}

/// The updates finding.
pub fn findings(inv: &Investigation<'_>) -> Vec<Finding> {
    let (run, upgrades, apt) = match (
        inv.last(tool::APT).filter(|r| r.output.ok()),
        inv.last(tool::DNF).filter(|r| r.output.ok()),
    ) {
        (Some(r), _) => (r, parse_apt(&r.output.stdout), true),
        (None, Some(r)) => (r, parse_dnf(&r.output.stdout), false),
        (None, None) => return Vec::new(),
    };
    let auto = inv
        .runs_of(tool::UNIT_ENABLED)
        .find(|r| {
            r.arg("unit")
                .is_some_and(|u| u.contains("unattended") || u.contains("dnf-automatic"))
        })
        .map(|r| {
            (
                r.command().to_owned(),
                r.output
                    .text()
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_owned(),
            )
        });
    let security: Vec<&Upgrade> = upgrades.iter().filter(|u| u.security).collect();
    let mut names: Vec<&str> = security.iter().map(|u| u.package.as_str()).collect();
    names.dedup();
    if security.is_empty() {
        return vec![
            Finding::new(
                Severity::Info,
                format!(
                    "No security updates pending ({} other upgrades available)",
                    upgrades.len()
                ),
            )
            .detail("Based on the package lists from the last `apt update`/metadata refresh."),
        ];
    }
    let key: Vec<&str> = names.iter().copied().filter(|p| important(p)).collect();
    let title = format!(
        "{} security updates pending{}",
        names.len(),
        if key.is_empty() {
            String::new()
        } else {
            format!(
                ", including {}",
                key.iter().take(6).copied().collect::<Vec<_>>().join(", ")
            )
        }
    );
    let mut f = Finding::new(Severity::Warning, title).detail(format!(
        "{} packages can be upgraded, {} of them from security sources: {}.",
        upgrades.len(),
        names.len(),
        names
            .iter()
            .take(15)
            .copied()
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let reboot = names.iter().any(|p| needs_reboot(p));
    if reboot {
        f = f.detail(
            "A kernel, libc or systemd update is among them: it takes effect only after a reboot.",
        );
    }
    let auto_on = auto.as_ref().map(|(_, s)| s == "enabled");
    if auto_on == Some(false) {
        f = f.detail(format!(
            "Automatic security updates are not enabled ({}).",
            auto.as_ref().map_or("", |a| a.1.as_str())
        ));
    }
    let mut lines: Vec<String> = security
        .iter()
        .filter(|u| important(&u.package))
        .map(|u| u.line.clone())
        .collect();
    lines.extend(
        security
            .iter()
            .filter(|u| !important(&u.package))
            .map(|u| u.line.clone()),
    );
    f = f.evidence(run.command(), lines);
    if let Some((cmd, state)) = &auto {
        f = f.evidence(cmd, [state.clone()]);
    }
    let upgrade = if apt {
        format!(
            "sudo apt update\nsudo apt install --only-upgrade {}",
            names.join(" ")
        )
    } else {
        "sudo dnf upgrade --security".to_owned()
    };
    f = f.fix_with_code("Install the security updates:", "sh", upgrade);
    if reboot {
        f = f.fix("Reboot in a maintenance window (`sudo needrestart -r l` lists the services that need a restart meanwhile).");
    }
    if auto_on != Some(true) {
        f = f.fix_with_code(
            "Turn on automatic security updates:",
            "sh",
            if apt { "sudo apt install unattended-upgrades\nsudo dpkg-reconfigure -plow unattended-upgrades" } else { "sudo dnf install dnf-automatic\nsudo systemctl enable --now dnf-automatic-install.timer" },
        );
    }
    vec![f]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apt_security_suites_are_told_from_plain_updates() {
        let out = "Listing... Done
openssl/jammy-updates,jammy-security 3.0.2-0ubuntu1.18 amd64 [upgradable from: 3.0.2-0ubuntu1.15]
vim/jammy-updates 2:8.2.3995-1ubuntu2.21 amd64 [upgradable from: 2:8.2.3995-1ubuntu2.19]
linux-image-generic/jammy-security 5.15.0.126.125 amd64 [upgradable from: 5.15.0.125.124]
";
        let u = parse_apt(out);
        assert_eq!(u.len(), 3);
        assert!(u[0].security && !u[1].security && u[2].security);
        assert!(needs_reboot(&u[2].package));
    }

    #[test]
    fn dnf_advisories_name_their_packages() {
        let u = parse_dnf(
            "RHSA-2024:1234 Important/Sec. openssl-libs-1:3.0.7-27.el9.x86_64\nRHSA-2024:2000 Moderate/Sec.  sudo-1.9.5p2-10.el9.x86_64\n",
        );
        assert_eq!(u[0].package, "openssl-libs");
        assert_eq!(u[1].package, "sudo");
    }
}

#[cfg(test)]
mod findings_tests {
    use squadron_core::{Entities, Severity};

    use super::super::testkit::{diagnose, run, run_with, text};
    use super::super::tool;

    #[test]
    fn security_updates_with_a_kernel_and_no_automation_ask_for_both() {
        let apt = "Listing... Done\nlinux-image-generic/noble-security 6.8.0.51.52 amd64 [upgradable from: 6.8.0.49.50]\nnano/noble-updates 7.2-2ubuntu0.1 amd64 [upgradable from: 7.2-2]\n";
        let runs = vec![
            run(tool::APT, "apt list --upgradable", 0, apt, ""),
            run_with(
                tool::UNIT_ENABLED,
                "systemctl is-enabled unattended-upgrades.service",
                &[("unit", "unattended-upgrades.service")],
                1,
                "disabled\n",
                "",
            ),
        ];
        let f = diagnose("updates", &runs, &mut Entities::new(), 0);
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(
            f[0].title,
            "1 security updates pending, including linux-image-generic"
        );
        let all = text(&f);
        assert!(all.contains("reboot"), "{all}");
        assert!(
            all.contains("dpkg-reconfigure -plow unattended-upgrades"),
            "{all}"
        );
        assert!(!all.contains("nano/noble-updates"), "{all}");
    }

    #[test]
    fn nothing_from_security_suites_is_a_note() {
        let f = diagnose(
            "updates",
            &[run(
                tool::APT,
                "apt list --upgradable",
                0,
                "Listing... Done\n",
                "",
            )],
            &mut Entities::new(),
            0,
        );
        assert_eq!(f[0].severity, Severity::Info);
        assert!(f[0].title.starts_with("No security updates pending"));
    }
}
