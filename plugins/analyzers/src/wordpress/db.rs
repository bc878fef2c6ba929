//! Database connectivity: gathers what the turn learned about WordPress's database (the
//! error WordPress and the sql tool got, DB_HOST, the unit's state and journal, OOM kills,
//! listeners, memory, the server's error log) and hands it to the finding for the kind of
//! failure the errors show.

use std::collections::BTreeMap;

use squadron_core::{Finding, Investigation};

use super::common;
use super::dberror::{self, Failure, Hit};
use super::http::Page;
use super::system::{self, Listener, Memory, OomKill, UnitStatus};
use super::{dbcause, dbdown, dblogin};

/// Where WordPress connects, from DB_HOST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbHost {
    pub host: String,
    pub port: u16,
    pub socket: Option<String>,
}

impl DbHost {
    pub fn parse(value: &str) -> DbHost {
        let (host, rest) = value.split_once(':').unwrap_or((value, ""));
        let host = if host.is_empty() { "localhost" } else { host };
        let (port, socket) = if rest.starts_with('/') {
            (3306, Some(rest.to_owned()))
        } else {
            (rest.parse().unwrap_or(3306), None)
        };
        DbHost {
            host: host.to_owned(),
            port,
            socket,
        }
    }

    pub fn is_local(&self) -> bool {
        matches!(
            self.host.as_str(),
            "localhost" | "127.0.0.1" | "::1" | "[::1]"
        )
    }

    pub fn text(&self) -> String {
        match &self.socket {
            Some(s) => format!("{}:{s}", self.host),
            None => format!("{}:{}", self.host, self.port),
        }
    }
}

/// Everything the turn saw about the database, with the command each fact came from.
#[derive(Debug, Default)]
pub struct Facts {
    /// Failure lines per command, WordPress's own logs first.
    pub hits: Vec<(String, Vec<Hit>)>,
    /// The site answered with "Error establishing a database connection".
    pub error_page: Option<(String, Vec<String>)>,
    pub db_host: Option<(DbHost, String)>,
    pub unit: Option<(UnitStatus, String)>,
    pub journal: Option<(Vec<String>, Option<u32>, String)>,
    pub kills: Option<(Vec<OomKill>, String)>,
    pub listeners: Option<(Vec<Listener>, String)>,
    pub memory: Option<(Memory, String)>,
    pub error_log: Option<(Vec<String>, String)>,
    pub disks: Option<(Vec<system::Filesystem>, String)>,
}

impl Facts {
    pub fn gather(inv: &Investigation<'_>) -> Facts {
        let mut f = Facts::default();
        for run in inv.runs {
            let text = match run.tool() {
                "debug_log" | "php_log" if run.output.ok() => run.output.stdout.as_str(),
                "db_ping" | "site_options" | "autoload_size" | "autoload_top"
                    if !run.output.ok() =>
                {
                    run.output.stderr.as_str()
                }
                _ if common::is_wp_cli(run) && !run.output.ok() => run.output.stderr.as_str(),
                _ => continue,
            };
            let hits = dberror::scan(text);
            if !hits.is_empty() {
                f.hits.push((run.command().to_owned(), hits));
            }
        }
        for (run, r) in common::responses(inv) {
            if r.page() == Page::DatabaseError && f.error_page.is_none() {
                let mut lines = vec![r.status_line.clone()];
                lines.extend(r.message_line());
                f.error_page = Some((run.command().to_owned(), lines));
            }
        }
        if let Some((cfg, src)) = common::wp_config(inv) {
            f.db_host = cfg.get("DB_HOST").map(|h| (DbHost::parse(h), src));
        }
        f.unit = inv
            .runs_of("systemctl_status")
            .filter(|r| r.arg("service").is_some_and(is_db_unit))
            .map(|r| (UnitStatus::parse(&r.output.stdout), r.command().to_owned()))
            .find(|(s, _)| !s.not_found && s.active.is_some());
        f.journal = inv
            .runs_of("journal_unit")
            .find(|r| r.arg("service").is_some_and(is_db_unit) && r.output.ok())
            .map(|r| {
                let (lines, restarts) = system::journal_summary(&r.output.stdout);
                (lines, restarts, r.command().to_owned())
            });
        f.kills = inv
            .last("journal_kernel")
            .filter(|r| r.output.ok())
            .map(|r| {
                let kills = system::oom_kills(&r.output.stdout)
                    .into_iter()
                    .filter(|k| system::is_db_process(&k.process))
                    .collect();
                (kills, r.command().to_owned())
            });
        f.listeners = inv
            .last("ss_listen")
            .filter(|r| r.output.ok())
            .map(|r| (system::listeners(&r.output.stdout), r.command().to_owned()));
        f.memory = inv
            .last("free_mem")
            .filter(|r| r.output.ok())
            .and_then(|r| system::memory(&r.output.stdout).map(|m| (m, r.command().to_owned())));
        f.error_log = inv
            .last("mysql_error_log")
            .filter(|r| r.output.ok())
            .map(|r| {
                let lines = r
                    .output
                    .stdout
                    .lines()
                    .filter(|l| {
                        l.contains("[ERROR]")
                            || l.contains("[FATAL]")
                            || l.contains("No space left")
                            || l.contains("got signal")
                    })
                    .map(|l| l.trim().to_owned())
                    .collect();
                (lines, r.command().to_owned())
            });
        f.disks = inv
            .last("disk_usage")
            .filter(|r| r.output.ok())
            .map(|r| (dbcause::disks(&r.output.stdout), r.command().to_owned()));
        f
    }

    /// The failure the errors show most, WordPress's own logs weighing first.
    pub fn failure(&self) -> Option<Failure> {
        let mut counts: BTreeMap<Failure, (bool, usize)> = BTreeMap::new();
        for (src, hits) in &self.hits {
            let from_wordpress = src.starts_with("read_file");
            for h in hits {
                let e = counts.entry(h.failure).or_default();
                e.0 |= from_wordpress;
                e.1 += 1;
            }
        }
        counts
            .into_iter()
            .max_by_key(|(_, (wp, n))| (*wp, *n))
            .map(|(f, _)| f)
    }

    /// The first hit of a kind, with its command.
    pub fn first_hit(&self, failure: Failure) -> Option<(&str, &Hit)> {
        self.hits.iter().find_map(|(src, hits)| {
            hits.iter()
                .find(|h| h.failure == failure)
                .map(|h| (src.as_str(), h))
        })
    }

    /// The address or socket a kind of failure names, from the first line that names one.
    pub fn target(&self, failure: Failure) -> Option<String> {
        self.hits
            .iter()
            .flat_map(|(_, h)| h)
            .filter(|h| h.failure == failure)
            .find_map(|h| h.target.clone())
    }

    /// How many lines show a kind, over all commands.
    pub fn count(&self, failure: Failure) -> usize {
        self.hits
            .iter()
            .flat_map(|(_, h)| h)
            .filter(|h| h.failure == failure)
            .count()
    }

    /// The server's product name, from the unit.
    pub fn engine_name(&self) -> &'static str {
        match self.unit.as_ref().and_then(|(u, _)| u.unit.as_deref()) {
            Some(u) if u.contains("mariadb") => "MariaDB",
            _ => "MySQL",
        }
    }

    /// The unit to start and inspect.
    pub fn unit_name(&self) -> String {
        self.unit
            .as_ref()
            .and_then(|(u, _)| u.unit.clone())
            .unwrap_or_else(|| "mysql".to_owned())
    }
}

fn is_db_unit(name: &str) -> bool {
    matches!(name, "mysql" | "mariadb" | "mysqld")
}

/// Findings about the database connection.
pub fn findings(inv: &Investigation<'_>) -> Vec<Finding> {
    let facts = Facts::gather(inv);
    let unit_down = facts.unit.as_ref().is_some_and(|(u, _)| u.is_down());
    let failure = match facts.failure() {
        Some(f) => Some(f),
        None if unit_down && facts.error_page.is_some() => Some(Failure::Refused),
        None => None,
    };
    let finding = match failure {
        Some(Failure::Refused | Failure::NoSocket) => dbdown::finding(inv, &facts),
        Some(other) => dblogin::finding(inv, &facts, other),
        None if facts.error_page.is_some() => dblogin::unexplained(inv, &facts),
        None => return Vec::new(),
    };
    vec![finding]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn db_host_reads_ports_and_sockets() {
        assert_eq!(DbHost::parse("127.0.0.1").text(), "127.0.0.1:3306");
        assert_eq!(DbHost::parse("db.internal:3307").port, 3307);
        assert!(!DbHost::parse("db.internal:3307").is_local());
        let s = DbHost::parse("localhost:/run/mysqld/mysqld.sock");
        assert_eq!(s.socket.as_deref(), Some("/run/mysqld/mysqld.sock"));
        assert!(s.is_local());
    }
}
