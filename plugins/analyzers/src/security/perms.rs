//! Permissions of the files that guard logins and privileges (`stat -c '%a %A %U:%G %n'`),
//! accounts with UID 0 or no password (`getent passwd`), and who is in the admin groups.

use squadron_core::{Finding, Investigation, Severity};

use super::tool;

/// One file as `stat` printed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMode {
    pub mode: u32,
    pub owner: String,
    pub group: String,
    pub path: String,
    pub line: String,
}

/// Reads `%a %A %U:%G %n` lines (the symbolic column is optional).
pub fn parse_modes(text: &str) -> Vec<FileMode> {
    text.lines()
        .filter_map(|line| {
            let w: Vec<&str> = line.split_whitespace().collect();
            let mode = u32::from_str_radix(w.first()?, 8).ok()?;
            let owner_at = if w.get(1).is_some_and(|s| s.contains(':')) {
                1
            } else {
                2
            };
            let (owner, group) = w.get(owner_at)?.split_once(':')?;
            Some(FileMode {
                mode,
                owner: owner.to_owned(),
                group: group.to_owned(),
                path: w.get(owner_at + 1..)?.join(" "),
                line: line.trim().to_owned(),
            })
        })
        .collect()
}

/// What the file should look like: (mode, owner:group) as the distributions ship it.
fn expected(path: &str) -> Option<(&'static str, &'static str)> {
    Some(match path {
        "/etc/passwd" | "/etc/group" => ("644", "root:root"),
        "/etc/shadow" | "/etc/gshadow" => ("640", "root:shadow (0000 root:root on RHEL)"),
        "/etc/sudoers" => ("440", "root:root"),
        "/etc/ssh/sshd_config" => ("644", "root:root"),
        "/etc/crontab" => ("644", "root:root"),
        "/root" => ("700", "root:root"),
        _ => return None,
    })
}

/// What is wrong with one file, most severe first.
pub fn problems(f: &FileMode) -> Vec<(Severity, String)> {
    let mut out = Vec::new();
    let (group_w, other_r, other_w) = (
        f.mode & 0o020 != 0,
        f.mode & 0o004 != 0,
        f.mode & 0o002 != 0,
    );
    let secret = matches!(f.path.as_str(), "/etc/shadow" | "/etc/gshadow");
    if f.owner != "root" {
        out.push((
            Severity::Critical,
            format!("{} is owned by {}, not root", f.path, f.owner),
        ));
    }
    if other_w {
        out.push((
            Severity::Critical,
            format!("{} is writable by every user", f.path),
        ));
    } else if group_w && f.group != "root" && expected(&f.path).is_some() {
        out.push((
            Severity::Warning,
            format!("{} is writable by group {}", f.path, f.group),
        ));
    }
    if secret && other_r {
        out.push((
            Severity::Critical,
            format!("{} (password hashes) is readable by every user", f.path),
        ));
    } else if f.path == "/etc/sudoers" && other_r {
        out.push((
            Severity::Warning,
            "/etc/sudoers is readable by every user".to_owned(),
        ));
    } else if f.path == "/root" && f.mode & 0o007 != 0 {
        out.push((Severity::Warning, "/root is open to every user".to_owned()));
    }
    out
}

/// One finding per file with a problem, and one per dangerous account.
pub fn findings(inv: &Investigation<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(run) = inv.last(tool::FILE_MODES) {
        for f in parse_modes(&run.output.stdout) {
            let p = problems(&f);
            let Some(severity) = p.iter().map(|(s, _)| *s).max() else {
                continue;
            };
            let what: Vec<String> = p.into_iter().map(|(_, w)| w).collect();
            let mut finding = Finding::new(
                severity,
                format!(
                    "{}: mode {:o} {}:{}",
                    what.join("; "),
                    f.mode,
                    f.owner,
                    f.group
                ),
            )
            .evidence(run.command(), [f.line.clone()]);
            if let Some((mode, owner)) = expected(&f.path) {
                let chown = owner.split_whitespace().next().unwrap_or("root:root");
                finding = finding.fix_with_code(
                    format!("Restore the usual owner and mode ({mode}, {owner}) and find out who changed it (`sudo ausearch -f {}` if auditd runs):", f.path),
                    "sh",
                    format!("sudo chown {chown} {p}\nsudo chmod {mode} {p}", p = f.path),
                );
            }
            out.push(finding);
        }
    }
    if let Some(run) = inv.last(tool::ACCOUNTS) {
        for line in run.output.stdout.lines() {
            let fields: Vec<&str> = line.split(':').collect();
            let (Some(name), Some(pw), Some(uid)) = (fields.first(), fields.get(1), fields.get(2))
            else {
                continue;
            };
            if *uid == "0" && *name != "root" {
                out.push(
                    Finding::new(Severity::Critical, format!("Account {name} has UID 0: it is root under another name"))
                        .detail("A second UID 0 account is a classic backdoor: it bypasses rules written for root and hides in logs.")
                        .evidence(run.command(), [line.to_owned()])
                        .fix(format!("If nobody can explain it, lock it and investigate: `sudo usermod -L -s /usr/sbin/nologin {name}`; then check `last -i {name}` and its files.")),
                );
            }
            if pw.is_empty() {
                out.push(
                    Finding::new(Severity::Critical, format!("Account {name} has no password field: it may log in without one"))
                        .evidence(run.command(), [line.to_owned()])
                        .fix(format!("`sudo passwd -l {name}` (or set a password) and move its hash to /etc/shadow with `sudo pwconv`.")),
                );
            }
        }
    }
    if inv.intent == "hardening"
        && let Some(run) = inv
            .last(tool::ADMIN_GROUPS)
            .filter(|r| !r.output.stdout.trim().is_empty())
    {
        let groups: Vec<String> = run
            .output
            .stdout
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                Some(format!(
                    "{}: {}",
                    f.first()?,
                    f.get(3)
                        .filter(|m| !m.is_empty())
                        .unwrap_or(&"(no members)")
                ))
            })
            .collect();
        out.push(
            Finding::new(
                Severity::Info,
                format!("Administrators (may use sudo): {}", groups.join("; ")),
            )
            .evidence(run.command(), run.output.stdout.lines().map(str::to_owned)),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shadow_readable_by_everyone_is_critical() {
        let m = parse_modes(
            "644 -rw-r--r-- root:shadow /etc/shadow\n640 -rw-r----- root:shadow /etc/gshadow\n",
        );
        assert_eq!(m.len(), 2);
        let p = problems(&m[0]);
        assert_eq!(p[0].0, Severity::Critical);
        assert!(p[0].1.contains("readable by every user"));
        assert!(problems(&m[1]).is_empty());
    }

    #[test]
    fn usual_modes_pass_and_writable_files_fail() {
        let m = parse_modes(
            "644 -rw-r--r-- root:root /etc/passwd\n440 -r--r----- root:root /etc/sudoers\n700 drwx------ root:root /root\n666 -rw-rw-rw- root:root /etc/passwd\n640 -rw-r----- deploy:root /etc/sudoers\n",
        );
        assert!(problems(&m[0]).is_empty());
        assert!(problems(&m[1]).is_empty());
        assert!(problems(&m[2]).is_empty());
        assert_eq!(problems(&m[3])[0].0, Severity::Critical);
        assert!(problems(&m[4])[0].1.contains("owned by deploy"));
    }

    #[test]
    fn stat_without_the_symbolic_column_reads() {
        let m = parse_modes("600 root:root /etc/ssh/sshd_config\n");
        assert_eq!(m[0].path, "/etc/ssh/sshd_config");
        assert_eq!(m[0].mode, 0o600);
    }
}
