//! Facts later playbook steps need, learned from one run at a time: the root blocker (so
//! the terminate proposal names it and nobody else), whether the slots are exhausted and by
//! which application, where the server log really is, and whether the sys schema exists.

use std::collections::BTreeMap;

use squadron_core::{Entities, ToolRun};

use crate::parse::csv_rows;

use super::graph::LockGraph;
use super::settings::Settings;

pub const ROOT_BLOCKER: &str = "root_blocker_pid";
pub const SATURATED: &str = "connections_saturated";
pub const TOP_APPLICATION: &str = "top_application";
pub const PG_LOG_PATH: &str = "pg_log_path";
pub const MYSQL_LOG_PATH: &str = "mysql_log_path";
pub const MYSQL_SYS_MISSING: &str = "mysql_sys_missing";
pub const MYSQL_PS_LOCKS_MISSING: &str = "mysql_ps_locks_missing";

pub fn learn(run: &ToolRun, entities: &mut Entities) {
    let ok = run.output.ok();
    let out = run.output.stdout.as_str();
    match run.tool() {
        "pg_blocking"
        | "mysql_lock_waits"
        | "mysql_data_lock_waits"
        | "mysql_innodb_lock_waits" => {
            let flag = match run.tool() {
                "mysql_lock_waits" => Some(MYSQL_SYS_MISSING),
                "mysql_data_lock_waits" => Some(MYSQL_PS_LOCKS_MISSING),
                _ => None,
            };
            if let Some(flag) = flag {
                if ok {
                    entities.remove(flag);
                } else {
                    entities.set(flag, "true");
                }
            }
            let mut graph = LockGraph::default();
            if ok {
                graph.read_csv(out);
            }
            // A failed fallback must not clear what an earlier source learned this turn.
            match graph.roots().first() {
                Some(root) => entities.set(ROOT_BLOCKER, root.pid.to_string()),
                None if ok || run.tool() == "mysql_lock_waits" || run.tool() == "pg_blocking" => {
                    entities.remove(ROOT_BLOCKER);
                }
                None => {}
            }
        }
        "pg_connection_usage" if ok => {
            let saturated = csv_rows(out).first().and_then(|r| {
                let max = r.number(&["max_connections"])?;
                let used = r.number(&["used"])?;
                let su = r.number(&["superuser_reserved_connections"]).unwrap_or(3.0);
                let reserved = r.number(&["reserved_connections"]).unwrap_or(0.0);
                Some(used >= max - su - reserved)
            });
            match saturated {
                Some(true) => entities.set(SATURATED, "true"),
                _ => {
                    entities.remove(SATURATED);
                }
            }
        }
        "pg_connection_groups" if ok => match top_application(out) {
            Some(app) => entities.set(TOP_APPLICATION, app),
            None => {
                entities.remove(TOP_APPLICATION);
            }
        },
        "pg_settings" if ok => {
            let mut s = Settings::default();
            s.read(out);
            if let Some(path) = pg_log_path(&s) {
                entities.set(PG_LOG_PATH, path);
            }
        }
        "mysql_variables" if ok => {
            let mut s = Settings::default();
            s.read(out);
            if let Some(path) = s.text("log_error").filter(|p| safe_log_path(p)) {
                entities.set(MYSQL_LOG_PATH, path);
            }
        }
        _ => {}
    }
}

/// The application holding at least half the client connections, with some of them idle.
fn top_application(out: &str) -> Option<String> {
    let mut by_app: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    let mut total = 0.0;
    for row in csv_rows(out) {
        let state = row.get(&["state"]).unwrap_or_default();
        let Some(n) = row.number(&["count"]) else {
            continue;
        };
        if state.is_empty() {
            continue;
        }
        total += n;
        let app = row
            .get(&["application_name"])
            .unwrap_or_default()
            .trim()
            .to_owned();
        let entry = by_app.entry(app).or_default();
        entry.0 += n;
        if state.starts_with("idle") {
            entry.1 += n;
        }
    }
    let (app, (count, idle)) = by_app
        .into_iter()
        .filter(|(app, _)| !app.is_empty())
        .max_by(|a, b| a.1.0.total_cmp(&b.1.0))?;
    let allowed = app.len() <= 63
        && app
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._:@/+=,() -".contains(c))
        && !app.starts_with('-');
    (allowed && count >= 0.5 * total && idle > 0.0).then_some(app)
}

/// Where the PostgreSQL log is: the collector's file when it names one under /var/log,
/// else Debian's `/var/log/postgresql/postgresql-<version>-<cluster>.log`.
fn pg_log_path(s: &Settings) -> Option<String> {
    if s.text("logging_collector") == Some("on") {
        let dir = s.text("log_directory").unwrap_or_default();
        let file = s.text("log_filename").unwrap_or_default();
        let path = format!("{}/{file}", dir.trim_end_matches('/'));
        if !file.contains('%') && safe_log_path(&path) {
            return Some(path);
        }
    }
    if let Some((version, name)) = s.text("cluster_name").and_then(|c| c.split_once('/')) {
        let path = format!("/var/log/postgresql/postgresql-{version}-{name}.log");
        if version.chars().all(|c| c.is_ascii_digit()) && safe_log_path(&path) {
            return Some(path);
        }
    }
    let major = s
        .number("server_version_num")
        .map(|n| (n / 10_000.0).floor())?;
    Some(format!(
        "/var/log/postgresql/postgresql-{major:.0}-main.log"
    ))
}

/// An absolute path under /var/log with no `..` and only ordinary characters.
fn safe_log_path(path: &str) -> bool {
    path.starts_with("/var/log/")
        && !path.split('/').any(|p| p == ".." || p == ".")
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(text: &str) -> Settings {
        let mut s = Settings::default();
        s.read(text);
        s
    }

    #[test]
    fn debian_cluster_name_gives_the_log_file() {
        let s = settings("name,setting\ncluster_name,16/main\nlogging_collector,off\n");
        assert_eq!(
            pg_log_path(&s).as_deref(),
            Some("/var/log/postgresql/postgresql-16-main.log")
        );
        let s = settings("name,setting\nserver_version_num,150004\n");
        assert_eq!(
            pg_log_path(&s).as_deref(),
            Some("/var/log/postgresql/postgresql-15-main.log")
        );
        let s = settings(
            "name,setting\nlogging_collector,on\nlog_directory,/var/log/pg\nlog_filename,server.log\n",
        );
        assert_eq!(pg_log_path(&s).as_deref(), Some("/var/log/pg/server.log"));
        assert_eq!(
            pg_log_path(&settings("name,setting\nmax_connections,100\n")),
            None
        );
    }

    #[test]
    fn top_application_needs_half_the_connections_and_idle_ones() {
        let groups = "usename,application_name,client_addr,state,count\nb,exporter,1.2.3.4,idle,94\nb,exporter,1.2.3.4,active,3\np,agent,,active,1\n,\"\",,,4\n";
        assert_eq!(top_application(groups).as_deref(), Some("exporter"));
        let spread = "usename,application_name,client_addr,state,count\na,one,,idle,10\nb,two,,idle,11\nc,three,,active,12\n";
        assert_eq!(top_application(spread), None);
    }
}
