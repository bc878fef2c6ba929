//! The host's side of a database outage: `systemctl status` (is the unit running, how did
//! it end), the unit's journal (restarts, OOM kills), the kernel log (which process the OOM
//! killer took, how large it was), `ss -tlnp` (who listens where) and `free -m`.

use std::sync::LazyLock;

use regex::Regex;

static ACTIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*Active:\s+(\S+)(?:\s+\(([^)]*)\))?(?:\s+since\s+([^;]+))?")
        .expect("static regex")
});
static UNIT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\S*\s*([A-Za-z0-9@_.-]+)\.service\s+-\s+(.*)$").expect("static regex")
});
static RESULT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:Result: |with result ')([a-z-]+)").expect("static regex"));
static OOM_KILL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:Out of memory|Memory cgroup out of memory): Killed process ([0-9]+) \(([^)]+)\)(?:.*?anon-rss:([0-9]+)kB)?")
        .expect("static regex")
});
static OOM_INVOKER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\s(\S+) invoked oom-killer").expect("static regex"));
static RESTARTS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"restart counter is at ([0-9]+)").expect("static regex"));
static PROCESS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"\(\("([^"]+)""#).expect("static regex"));

/// A unit as `systemctl status` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitStatus {
    pub unit: Option<String>,
    pub description: Option<String>,
    /// `active`, `inactive`, `failed`, `activating`...
    pub active: Option<String>,
    /// `running`, `dead`, `Result: oom-kill`, `auto-restart`...
    pub sub: Option<String>,
    pub since: Option<String>,
    /// `oom-kill`, `exit-code`, `signal`, `start-limit-hit`...
    pub result: Option<String>,
    pub active_line: Option<String>,
    pub not_found: bool,
    /// Journal lines shown under the status that tell how it ended.
    pub telling_lines: Vec<String>,
}

impl UnitStatus {
    pub fn parse(text: &str) -> UnitStatus {
        let mut s = UnitStatus {
            not_found: text.contains("could not be found") || text.contains("not-found"),
            ..UnitStatus::default()
        };
        for line in text.lines() {
            if s.unit.is_none()
                && let Some(c) = UNIT.captures(line)
            {
                s.unit = Some(c[1].to_owned());
                s.description = Some(c[2].trim().to_owned());
            }
            if let Some(c) = ACTIVE.captures(line) {
                s.active = Some(c[1].to_owned());
                s.sub = c.get(2).map(|m| m.as_str().to_owned());
                s.since = c.get(3).map(|m| m.as_str().trim().to_owned());
                s.active_line = Some(line.trim().to_owned());
            }
            if s.result.is_none()
                && let Some(c) = RESULT.captures(line)
            {
                s.result = Some(c[1].to_owned());
            }
            if is_telling(line) {
                s.telling_lines.push(line.trim().to_owned());
            }
        }
        s
    }

    /// Whether the unit is known and not running.
    pub fn is_down(&self) -> bool {
        matches!(
            self.active.as_deref(),
            Some("failed" | "inactive" | "deactivating")
        ) || self.sub.as_deref() == Some("auto-restart")
    }

    pub fn is_running(&self) -> bool {
        self.active.as_deref() == Some("active")
    }

    pub fn oom_killed(&self) -> bool {
        self.result.as_deref() == Some("oom-kill")
            || self.telling_lines.iter().any(|l| l.contains("OOM killer"))
    }
}

fn is_telling(line: &str) -> bool {
    [
        "OOM killer",
        "Failed with result",
        "Main process exited",
        "Start request repeated too quickly",
        "Failed to start",
        "restart counter is at",
    ]
    .iter()
    .any(|k| line.contains(k))
}

/// The lines of a unit's journal that tell how it died, and the highest restart counter.
pub fn journal_summary(text: &str) -> (Vec<String>, Option<u32>) {
    let lines = text
        .lines()
        .filter(|l| is_telling(l))
        .map(|l| l.trim().to_owned())
        .collect();
    let restarts = RESTARTS
        .captures_iter(text)
        .filter_map(|c| c[1].parse().ok())
        .max();
    (lines, restarts)
}

/// One process the kernel's OOM killer took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OomKill {
    pub pid: u32,
    pub process: String,
    pub rss_kib: Option<u64>,
    pub line: String,
    /// The process whose allocation triggered the killer, when logged just before.
    pub invoked_by: Option<String>,
}

/// Every OOM kill in a kernel log.
pub fn oom_kills(text: &str) -> Vec<OomKill> {
    let mut invoker = None;
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(c) = OOM_INVOKER.captures(line) {
            invoker = Some(c[1].to_owned());
        }
        if let Some(c) = OOM_KILL.captures(line) {
            out.push(OomKill {
                pid: c[1].parse().unwrap_or(0),
                process: c[2].to_owned(),
                rss_kib: c.get(3).and_then(|m| m.as_str().parse().ok()),
                line: line.trim().to_owned(),
                invoked_by: invoker.take(),
            });
        }
    }
    out
}

/// Whether a process name is a MySQL/MariaDB server.
pub fn is_db_process(name: &str) -> bool {
    matches!(name, "mysqld" | "mariadbd" | "mysqld_safe" | "mariadb")
}

/// A listening socket from `ss -tlnp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    pub address: String,
    pub port: u16,
    pub process: Option<String>,
}

/// The listening sockets of an `ss -tlnp` output.
pub fn listeners(text: &str) -> Vec<Listener> {
    text.lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let (state, local) = (words.first()?, words.get(3)?);
            if *state != "LISTEN" {
                return None;
            }
            let (address, port) = local.rsplit_once(':')?;
            Some(Listener {
                address: address.to_owned(),
                port: port.parse().ok()?,
                process: PROCESS.captures(line).map(|c| c[1].to_owned()),
            })
        })
        .collect()
}

/// A filesystem from `df -h`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filesystem {
    pub mount: String,
    pub use_percent: u32,
    pub line: String,
}

/// The filesystems of a `df -h` (or `df -P`) output.
pub fn filesystems(text: &str) -> Vec<Filesystem> {
    text.lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let pos = words.iter().position(|w| w.ends_with('%'))?;
            let use_percent = words.get(pos)?.trim_end_matches('%').parse().ok()?;
            Some(Filesystem {
                mount: words.get(pos + 1..)?.join(" "),
                use_percent,
                line: line.trim().to_owned(),
            })
        })
        .collect()
}

/// Memory and swap from `free -m`, in MiB.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Memory {
    pub total: u64,
    pub available: Option<u64>,
    pub swap_total: u64,
    pub swap_used: u64,
}

pub fn memory(text: &str) -> Option<Memory> {
    let mut m = Memory::default();
    let mut seen = false;
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let num = |i: usize| words.get(i).and_then(|w| w.parse::<u64>().ok());
        match words.first() {
            Some(&"Mem:") => {
                m.total = num(1)?;
                m.available = num(6);
                seen = true;
            }
            Some(&"Swap:") => {
                m.swap_total = num(1).unwrap_or(0);
                m.swap_used = num(2).unwrap_or(0);
            }
            _ => {}
        }
    }
    seen.then_some(m)
}

#[cfg(test)]
mod tests;
