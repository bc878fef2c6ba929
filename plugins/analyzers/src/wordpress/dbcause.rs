//! Why a database server stopped, from the host's evidence: the OOM killer (unit result,
//! kernel log), a full disk (error log, `df -h`), a crash or corruption, or another process
//! on its port. Each cause comes with the line that shows it and what to do first.

use super::db::Facts;
use super::system;

/// What stopped the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    Oom,
    DiskFull { mount: Option<String>, line: String },
    Crash { line: String },
    PortTaken { line: String },
}

impl Cause {
    /// The clause for a title: `the kernel's OOM killer killed it`.
    pub fn clause(&self) -> &'static str {
        match self {
            Cause::Oom => "the kernel's OOM killer killed it",
            Cause::DiskFull { .. } => "its disk is full",
            Cause::Crash { .. } => "it crashed",
            Cause::PortTaken { .. } => "another process holds its port",
        }
    }
}

fn error_line<'a>(facts: &'a Facts, needles: &[&str]) -> Option<&'a String> {
    let (lines, _) = facts.error_log.as_ref()?;
    lines.iter().find(|l| {
        let l = l.to_ascii_lowercase();
        needles.iter().any(|n| l.contains(n))
    })
}

/// The cause the evidence shows, the most certain first.
pub fn cause(facts: &Facts) -> Option<Cause> {
    let oom = facts.kills.as_ref().is_some_and(|(k, _)| !k.is_empty())
        || facts.unit.as_ref().is_some_and(|(u, _)| u.oom_killed());
    if oom {
        return Some(Cause::Oom);
    }
    let full = facts
        .disks
        .as_ref()
        .and_then(|(d, _)| d.iter().find(|f| f.use_percent >= 98).cloned());
    if let Some(line) = error_line(
        facts,
        &[
            "no space left",
            "errno: 28",
            "error number 28",
            "disk is full",
            "disk full",
        ],
    ) {
        return Some(Cause::DiskFull {
            mount: full.map(|f| f.mount),
            line: line.clone(),
        });
    }
    if let Some(f) = full {
        return Some(Cause::DiskFull {
            mount: Some(f.mount),
            line: f.line,
        });
    }
    if let Some(line) = error_line(
        facts,
        &[
            "already in use",
            "another mysqld server running",
            "bind on tcp/ip port",
        ],
    ) {
        return Some(Cause::PortTaken { line: line.clone() });
    }
    error_line(
        facts,
        &[
            "corrupt",
            "assertion failure",
            "got signal",
            "crash recovery",
        ],
    )
    .map(|line| Cause::Crash { line: line.clone() })
}

/// The first step for a cause other than OOM (which has its own fixes), as (text, code).
pub fn first_step(cause: &Cause, engine: &str) -> Option<(String, String)> {
    match cause {
        Cause::Oom => None,
        Cause::DiskFull { mount, .. } => Some((
            format!(
                "Free disk space on {} before starting {engine} (old binary logs, journals, backups are the usual bulk):",
                mount.as_deref().unwrap_or("the filesystem that holds /var/lib/mysql")
            ),
            "df -h /var/lib/mysql\ndu -xh --max-depth=1 /var/lib/mysql /var/log | sort -h | tail\njournalctl --vacuum-size=200M".to_owned(),
        )),
        Cause::Crash { .. } => Some((
            format!("{engine} crashed; read the whole error around the crash before restarting, and back up the data directory if it reports corruption:"),
            "tail -100 /var/log/mysql/error.log".to_owned(),
        )),
        Cause::PortTaken { .. } => Some((
            "Another process holds the port: find it and stop it (or a second mysqld instance):".to_owned(),
            "ss -tlnp | grep ':3306'".to_owned(),
        )),
    }
}

/// The df rows of a `df -h` output that concern the database, when they are nearly full.
pub fn disks(text: &str) -> Vec<system::Filesystem> {
    system::filesystems(text)
}
