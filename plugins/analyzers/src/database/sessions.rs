//! Sessions as both engines list them: PostgreSQL's `pg_stat_activity` rows and MySQL's
//! processlist threads, read into one shape with their ages in seconds.

use crate::parse::{Row, csv_rows};

use super::sqltext::lines_keyed;
use super::time::{parse_interval, parse_timestamp};

/// The output line of the `i`-th row whose key is `key`: the line starting with the key,
/// else the `i`-th data line.
fn row_line(output: &str, i: usize, key: u64) -> String {
    let key = key.to_string();
    lines_keyed(output, &key)
        .first()
        .copied()
        .or_else(|| output.lines().nth(i + 1))
        .unwrap_or_default()
        .to_owned()
}

/// One server session.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Session {
    pub pid: u64,
    pub user: String,
    pub application: String,
    pub client: String,
    pub database: String,
    /// PostgreSQL `state` (`idle in transaction`); MySQL `COMMAND` (`Sleep`, `Query`).
    pub state: String,
    pub wait_event_type: String,
    pub wait_event: String,
    /// Whether it is a client connection (not a background worker).
    pub client_backend: bool,
    /// Seconds since the transaction began.
    pub xact_age: Option<f64>,
    /// Seconds in the current state (for an active session: how long its query runs).
    pub state_age: Option<f64>,
    pub query: String,
    /// The output line it was read from.
    pub line: String,
}

impl Session {
    pub fn is_idle_in_transaction(&self) -> bool {
        self.state.starts_with("idle in transaction")
    }

    pub fn is_waiting_on_lock(&self) -> bool {
        self.wait_event_type.eq_ignore_ascii_case("lock")
    }

    /// Who holds it, for prose: `checkout-worker (user shop_app from 10.20.4.17)`.
    pub fn holder(&self) -> String {
        let mut parts = Vec::new();
        if !self.user.is_empty() {
            parts.push(format!("user {}", self.user));
        }
        if !self.client.is_empty() {
            parts.push(format!("from {}", self.client));
        }
        match (self.application.is_empty(), parts.is_empty()) {
            (false, false) => format!("{} ({})", self.application, parts.join(" ")),
            (false, true) => self.application.clone(),
            (true, _) => parts.join(" "),
        }
    }
}

fn text(row: &Row, names: &[&str]) -> String {
    row.get(names).unwrap_or_default().trim().to_owned()
}

/// Reads `pg_stat_activity` output. Ages come from the age columns when the query computed
/// them, else from the timestamps against the snapshot's own clock (the newest timestamp in
/// it, or `now` when that is close), so a replayed snapshot reads the same at any time.
pub fn pg_sessions(output: &str, now: i64) -> Vec<Session> {
    let rows = csv_rows(output);
    let clock = snapshot_clock(&rows, now);
    rows.iter()
        .enumerate()
        .filter_map(|(i, row)| {
            let pid = row.number(&["pid"])? as u64;
            let state = text(row, &["state"]);
            let backend_type = text(row, &["backend_type"]);
            let client_backend = if backend_type.is_empty() {
                !state.is_empty()
            } else {
                backend_type == "client backend"
            };
            let age = |interval: &str, stamp: &str| {
                row.value(&[interval]).and_then(parse_interval).or_else(|| {
                    let at = parse_timestamp(row.value(&[stamp])?)?;
                    Some((clock? - at) as f64)
                })
            };
            Some(Session {
                pid,
                user: text(row, &["usename", "user", "username"]),
                application: text(row, &["application_name", "application"]),
                client: text(row, &["client_addr", "client", "client_hostname"]),
                database: text(row, &["datname", "database"]),
                state,
                wait_event_type: text(row, &["wait_event_type"]),
                wait_event: text(row, &["wait_event"]),
                client_backend,
                xact_age: age("xact_age", "xact_start"),
                state_age: age("state_age", "state_change"),
                query: text(row, &["query", "current_query"]),
                line: row_line(output, i, pid),
            })
        })
        .collect()
}

/// The snapshot's clock: its newest timestamp, or `now` when within an hour after it.
fn snapshot_clock(rows: &[Row], now: i64) -> Option<i64> {
    let newest = rows
        .iter()
        .flat_map(|r| {
            ["query_start", "state_change", "xact_start", "backend_start"]
                .into_iter()
                .filter_map(|c| parse_timestamp(r.value(&[c])?))
        })
        .max()?;
    Some(if (newest..=newest + 3_600).contains(&now) {
        now
    } else {
        newest
    })
}

/// Reads MySQL processlist output (`ID,USER,HOST,DB,COMMAND,TIME,STATE,INFO`).
pub fn mysql_sessions(output: &str) -> Vec<Session> {
    let rows = csv_rows(output);
    rows.iter()
        .enumerate()
        .filter_map(|(i, row)| {
            let pid = row.number(&["id", "processlist_id", "thread_id", "conn_id"])? as u64;
            let user = text(row, &["user", "processlist_user"]);
            let command = text(row, &["command", "processlist_command"]);
            let host = text(row, &["host", "processlist_host"]);
            let client = host.split(':').next().unwrap_or_default().to_owned();
            let system = matches!(user.as_str(), "system user" | "event_scheduler")
                || matches!(
                    command.as_str(),
                    "Daemon" | "Binlog Dump" | "Binlog Dump GTID"
                );
            Some(Session {
                pid,
                user,
                application: String::new(),
                client,
                database: text(row, &["db", "processlist_db"]),
                state: command,
                wait_event_type: text(row, &["state", "processlist_state"]),
                wait_event: String::new(),
                client_backend: !system,
                xact_age: None,
                state_age: row.number(&["time", "processlist_time"]),
                query: text(row, &["info", "processlist_info", "query"]),
                line: row_line(output, i, pid),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACTIVITY: &str = "pid,usename,application_name,client_addr,xact_start,state_change,wait_event_type,state,backend_type,xact_age,state_age,query\n\
48211,shop_app,checkout-worker,10.20.4.17,2024-11-21 09:22:07+00,2024-11-21 09:22:07+00,Client,idle in transaction,client backend,00:40:22.8,00:40:22.5,\"UPDATE inventory SET reserved = 1\"\n\
1101,,,,,,Activity,,autovacuum launcher,,,\"\"\n";

    #[test]
    fn activity_rows_read_with_their_ages() {
        let sessions = pg_sessions(ACTIVITY, 0);
        assert_eq!(sessions.len(), 2);
        let s = &sessions[0];
        assert_eq!(s.pid, 48211);
        assert!(s.is_idle_in_transaction() && s.client_backend);
        assert_eq!(s.xact_age, Some(2_422.8));
        assert_eq!(
            s.holder(),
            "checkout-worker (user shop_app from 10.20.4.17)"
        );
        assert!(!sessions[1].client_backend);
    }

    #[test]
    fn ages_fall_back_to_the_snapshot_clock() {
        let text = "pid,state,query_start,state_change\n1,active,2024-11-21 10:00:00+00,2024-11-21 10:00:00+00\n2,idle,2024-11-21 10:02:30+00,2024-11-21 09:02:30+00\n";
        let sessions = pg_sessions(text, 0);
        assert_eq!(sessions[0].state_age, Some(150.0));
        assert_eq!(sessions[1].state_age, Some(3_600.0));
    }

    #[test]
    fn processlist_threads_read_as_sessions() {
        let text = "id,user,host,db,command,time,state,info\n812,app,10.0.0.7:51234,shop,Sleep,2400,,\n5,event_scheduler,localhost,,Daemon,99,Waiting on empty queue,\n";
        let sessions = mysql_sessions(text);
        assert_eq!(sessions[0].client, "10.0.0.7");
        assert_eq!(sessions[0].state_age, Some(2_400.0));
        assert!(!sessions[1].client_backend);
    }
}
