//! sudo: the rules in sudoers and its drop-ins (who may run what, with or without a password,
//! through which escape paths) and what the auth log says people did with it (refusals,
//! wrong passwords, root shells).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use squadron_core::{Finding, Investigation, Severity};

use super::tool;

/// Programs that hand out a root shell whatever their arguments (shells, editors, pagers,
/// interpreters).
const SHELLS: &[&str] = &[
    "bash",
    "sh",
    "zsh",
    "dash",
    "ksh",
    "su",
    "vi",
    "vim",
    "nano",
    "less",
    "more",
    "man",
    "find",
    "awk",
    "gawk",
    "python",
    "perl",
    "ruby",
    "php",
    "lua",
    "env",
    "tar",
    "journalctl",
    "systemctl",
    "ed",
    "nmap",
];
/// Programs that write any file or run anything when their arguments are free.
const FREE_ARGS: &[&str] = &[
    "cp", "mv", "tee", "chmod", "chown", "dd", "docker", "git", "rsync", "zip", "apt", "apt-get",
    "dnf", "yum", "pip",
];

/// Whether a sudoers command gives a root shell or arbitrary writes.
fn escapes(command: &str) -> bool {
    let mut words = command.split_whitespace();
    let program = words.next().unwrap_or("");
    let base = program.rsplit('/').next().unwrap_or(program);
    let named = |list: &[&str]| {
        list.iter().any(|n| {
            base == *n
                || (base.starts_with(n)
                    && base[n.len()..]
                        .chars()
                        .all(|c| c.is_ascii_digit() || c == '.'))
        })
    };
    let free = words.next().is_none() || command.contains('*');
    command.contains('*') || named(SHELLS) || (free && named(FREE_ARGS))
}

/// One sudoers rule that grants too much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub who: String,
    pub severity: Severity,
    pub why: String,
    pub line: String,
}

/// Reads rules (`who host=(runas) TAGS: commands`) and dangerous `Defaults`.
pub fn grants(text: &str) -> Vec<Grant> {
    let mut out = Vec::new();
    let joined = text.replace("\\\n", " ");
    for raw in joined.lines() {
        let line = match raw.split_once(':') {
            Some((file, rest)) if file.starts_with('/') && !file.contains(' ') => rest.trim(),
            _ => raw.trim(),
        };
        if line.is_empty() || line.starts_with('#') || line.starts_with('@') {
            continue;
        }
        let grant = |severity, why: String| Grant {
            who: line.split_whitespace().next().unwrap_or("").to_owned(),
            severity,
            why,
            line: line.to_owned(),
        };
        if line.starts_with("Defaults") {
            if line.contains("!authenticate") {
                out.push(grant(
                    Severity::Critical,
                    "sudo never asks for a password (`!authenticate`)".into(),
                ));
            }
            if line.contains("LD_PRELOAD") || line.contains("LD_LIBRARY_PATH") {
                out.push(grant(Severity::Critical, "sudo keeps LD_PRELOAD/LD_LIBRARY_PATH, so any allowed command can load attacker code as root".into()));
            }
            continue;
        }
        let Some((head, cmds)) = line.split_once('=') else {
            continue;
        };
        let who = head.split_whitespace().next().unwrap_or("");
        if who.contains("_Alias") || who.is_empty() {
            continue;
        }
        let nopasswd = cmds.contains("NOPASSWD");
        let commands: Vec<&str> = cmds
            .rsplit(':')
            .next()
            .unwrap_or(cmds)
            .split(',')
            .map(str::trim)
            .collect();
        let all = commands
            .iter()
            .any(|c| *c == "ALL" || c.ends_with(") ALL") || c.ends_with(" ALL"));
        if who == "ALL" && all {
            out.push(grant(
                Severity::Critical,
                "every user on the host may run anything as root".into(),
            ));
        } else if nopasswd && all {
            let sev = if matches!(who, "%users" | "%everyone" | "%staff") {
                Severity::Critical
            } else {
                Severity::Warning
            };
            out.push(grant(sev, format!("`{who}` may run anything as root without a password: a stolen session or key is root at once")));
        } else if nopasswd {
            let risky: Vec<&str> = commands.iter().copied().filter(|c| escapes(c)).collect();
            if !risky.is_empty() {
                out.push(grant(Severity::Warning, format!("`{who}` may run {} as root without a password, which opens a root shell or writes any file", risky.join(", "))));
            }
        }
    }
    out
}

/// One sudo line of the auth log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SudoEvent {
    pub user: String,
    /// `None` for a command that ran; else the reason (`user NOT in sudoers`, ...).
    pub refusal: Option<String>,
    pub command: Option<String>,
    pub line: String,
}

static SUDO_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bsudo(?:\[\d+\])?:\s+(\S+)\s+:\s+(.*)$").expect("static regex"));

/// Reads the sudo lines of an auth log.
pub fn events(text: &str) -> Vec<SudoEvent> {
    text.lines()
        .filter_map(|line| {
            let c = SUDO_LINE.captures(line)?;
            let fields: Vec<&str> = c.get(2)?.as_str().split(" ; ").map(str::trim).collect();
            let command = fields
                .iter()
                .find_map(|f| f.strip_prefix("COMMAND="))
                .map(str::to_owned);
            let first = fields.first().copied().unwrap_or("");
            Some(SudoEvent {
                user: c[1].to_owned(),
                refusal: (!first.starts_with("TTY=") && !first.starts_with("PWD="))
                    .then(|| first.to_owned()),
                command,
                line: line.trim_end().to_owned(),
            })
        })
        .collect()
}

fn rules_text(inv: &Investigation<'_>) -> Vec<(String, String)> {
    [tool::SUDOERS, tool::SUDOERS_D]
        .iter()
        .filter_map(|t| inv.last(t))
        .filter(|r| !r.output.stdout.trim().is_empty())
        .map(|r| (r.command().to_owned(), r.output.stdout.clone()))
        .collect()
}

/// Findings about sudoers rules and sudo use.
pub fn findings(inv: &Investigation<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for (cmd, text) in rules_text(inv) {
        for g in grants(&text) {
            out.push(
                Finding::new(g.severity, format!("sudoers: {}", g.why))
                    .evidence(&cmd, [g.line.clone()])
                    .fix(format!("Edit the rule with `sudo visudo` (or `sudo visudo -f <file>` for a drop-in): require a password and list only the commands `{}` needs.", g.who)),
            );
        }
    }
    let Some(run) = inv.last(tool::SUDO_LOG) else {
        return out;
    };
    let focus = inv.entities.get("user");
    let all: Vec<SudoEvent> = events(&run.output.stdout)
        .into_iter()
        .filter(|e| focus.is_none_or(|u| e.user == u))
        .collect();
    let mut refused: BTreeMap<&str, Vec<&SudoEvent>> = BTreeMap::new();
    let mut shells: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &all {
        if let Some(r) = &e.refusal {
            if r.contains("NOT in sudoers")
                || r.contains("not allowed")
                || r.contains("incorrect password")
            {
                refused.entry(&e.user).or_default().push(e);
            }
        } else if e.command.as_deref().is_some_and(|c| {
            ["/bash", "/sh", "/zsh", "/su"]
                .iter()
                .any(|s| c.split_whitespace().next().unwrap_or("").ends_with(s))
        }) {
            *shells.entry(&e.user).or_default() += 1;
        }
    }
    for (user, evs) in &refused {
        let not_allowed = evs
            .iter()
            .filter(|e| {
                e.refusal
                    .as_deref()
                    .is_some_and(|r| !r.contains("incorrect password"))
            })
            .count();
        let sev = if not_allowed > 0 {
            Severity::Warning
        } else {
            Severity::Info
        };
        let cmds: Vec<&str> = evs.iter().filter_map(|e| e.command.as_deref()).collect();
        let mut f = Finding::new(
            sev,
            format!(
                "{user} was refused by sudo {} times ({not_allowed} without permission)",
                evs.len()
            ),
        );
        if !cmds.is_empty() {
            f = f.detail(format!(
                "Commands tried: {}.",
                cmds.iter().take(5).copied().collect::<Vec<_>>().join("; ")
            ));
        }
        out.push(
            f.evidence(run.command(), evs.iter().take(6).map(|e| e.line.clone()))
                .fix(format!("Ask {user} what they were doing; if the account may be compromised, lock it (`sudo passwd -l {user}`) and check its logins (`last -i {user}`).")),
        );
    }
    if !all.is_empty() && (focus.is_some() || inv.intent == "hardening") {
        let mut per_user: BTreeMap<&str, usize> = BTreeMap::new();
        for e in all.iter().filter(|e| e.refusal.is_none()) {
            *per_user.entry(&e.user).or_default() += 1;
        }
        let list: Vec<String> = per_user.iter().map(|(u, n)| format!("{u} ({n})")).collect();
        let mut f = Finding::new(
            Severity::Info,
            format!(
                "sudo use in the log: {}",
                if list.is_empty() {
                    "no command ran".to_owned()
                } else {
                    list.join(", ")
                }
            ),
        );
        if !shells.is_empty() {
            let s: Vec<String> = shells.iter().map(|(u, n)| format!("{u} ×{n}")).collect();
            f = f.detail(format!("Root shells opened through sudo: {}; commands run inside them are not logged by sudo.", s.join(", ")));
        }
        let ran: Vec<&SudoEvent> = all.iter().filter(|e| e.refusal.is_none()).collect();
        let recent = ran.iter().skip(ran.len().saturating_sub(5));
        out.push(f.evidence(run.command(), recent.map(|e| e.line.clone())));
    }
    out
}

#[cfg(test)]
mod tests;
