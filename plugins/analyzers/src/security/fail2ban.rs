//! `fail2ban-client status <jail>`: whether fail2ban is there, running, watching the jail,
//! and whom it has banned.

use squadron_core::ToolRun;

/// fail2ban's state for one jail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fail2ban {
    /// The client is not installed.
    Missing,
    /// Installed, but the server does not answer.
    Stopped,
    /// Running, but the jail is not enabled.
    NoJail,
    Running {
        total_failed: Option<u64>,
        currently_banned: Option<u64>,
        banned: Vec<String>,
        lines: Vec<String>,
    },
}

/// Reads a `fail2ban_status` run; `None` when its output says nothing recognisable.
pub fn read(run: &ToolRun) -> Option<Fail2ban> {
    let text = run.output.text();
    let lower = text.to_ascii_lowercase();
    if lower.contains("banned ip list") || lower.contains("currently banned") {
        let mut state = (None, None, Vec::new(), Vec::new());
        for line in text.lines() {
            let l = line.trim_start_matches(['|', '`', '-', ' ']).trim();
            let value = l.split_once(':').map(|(_, v)| v.trim());
            if l.starts_with("Total failed") {
                state.0 = value.and_then(|v| v.parse().ok());
            } else if l.starts_with("Currently banned") {
                state.1 = value.and_then(|v| v.parse().ok());
                state.3.push(l.to_owned());
            } else if l.starts_with("Banned IP list") {
                state.2 = value
                    .unwrap_or("")
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect();
                state.3.push(l.to_owned());
            }
        }
        return Some(Fail2ban::Running {
            total_failed: state.0,
            currently_banned: state.1,
            banned: state.2,
            lines: state.3,
        });
    }
    if lower.contains("does not exist") {
        return Some(Fail2ban::NoJail);
    }
    if lower.contains("unable to contact server") || lower.contains("failed to access socket") {
        return Some(Fail2ban::Stopped);
    }
    if run.output.exit_code == Some(127)
        || lower.contains("not found")
        || lower.contains("no such file")
    {
        return Some(Fail2ban::Missing);
    }
    None
}

impl Fail2ban {
    /// Whether `ip` is banned right now.
    pub fn bans(&self, ip: &str) -> bool {
        matches!(self, Fail2ban::Running { banned, .. } if banned.iter().any(|b| b == ip))
    }

    /// What to do so fail2ban protects sshd.
    pub fn advice(&self) -> Option<(&'static str, &'static str)> {
        const JAIL: &str = "sudo apt install fail2ban   # dnf install fail2ban on RHEL\nsudo tee /etc/fail2ban/jail.d/sshd.local >/dev/null <<'EOF'\n[sshd]\nenabled  = true\nmaxretry = 5\nfindtime = 10m\nbantime  = 1h\nEOF\nsudo systemctl enable --now fail2ban\nsudo fail2ban-client status sshd";
        match self {
            Fail2ban::Missing => Some((
                "Install fail2ban so repeated failures ban the address automatically:",
                JAIL,
            )),
            Fail2ban::Stopped => Some((
                "fail2ban is installed but not running; start it:",
                "sudo systemctl enable --now fail2ban\nsudo fail2ban-client status sshd",
            )),
            Fail2ban::NoJail => Some((
                "fail2ban runs but does not watch sshd; enable the jail:",
                JAIL,
            )),
            Fail2ban::Running { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::run as tool_run;
    use super::*;

    fn run(exit: i32, stdout: &str, stderr: &str) -> ToolRun {
        tool_run(
            "fail2ban_status",
            "fail2ban-client status sshd",
            exit,
            stdout,
            stderr,
        )
    }

    #[test]
    fn running_jail_lists_banned_addresses() {
        let out = "Status for the jail: sshd\n|- Filter\n|  |- Currently failed:\t2\n|  |- Total failed:\t154\n|  `- File list:\t/var/log/auth.log\n`- Actions\n   |- Currently banned:\t1\n   |- Total banned:\t12\n   `- Banned IP list:\t203.0.113.77\n";
        let f = read(&run(0, out, "")).expect("state");
        assert!(f.bans("203.0.113.77"));
        assert!(!f.bans("192.0.2.1"));
        assert!(f.advice().is_none());
    }

    #[test]
    fn missing_stopped_and_jailless_fail2ban_are_told_apart() {
        assert_eq!(
            read(&run(127, "", "fail2ban-client: command not found\n")),
            Some(Fail2ban::Missing)
        );
        assert_eq!(
            read(&run(
                255,
                "",
                "ERROR   Failed to access socket path: /var/run/fail2ban/fail2ban.sock. Is fail2ban running?\n"
            )),
            Some(Fail2ban::Stopped)
        );
        assert_eq!(
            read(&run(
                255,
                "",
                "ERROR   NOK: ('sshd',)\nSorry but the jail 'sshd' does not exist\n"
            )),
            Some(Fail2ban::NoJail)
        );
    }
}
