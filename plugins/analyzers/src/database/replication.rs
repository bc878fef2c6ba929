//! Replication: standbys behind in replay (`pg_stat_replication` on a primary,
//! `pg_last_xact_replay_timestamp` on a standby), slots retaining WAL, and MySQL replicas
//! whose threads stopped or fall behind (`SHOW REPLICA STATUS`).

use squadron_core::{Finding, Severity};

use crate::parse::csv_rows;

use super::context::Context;
use super::sqltext::{literal, short};
use super::time::{bytes, human, parse_interval};

const LAG_WARN_SECS: f64 = 30.0;
const LAG_CRIT_SECS: f64 = 300.0;
const LAG_WARN_BYTES: f64 = 64.0 * 1_048_576.0;

pub fn findings(cx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    out.extend(pg_standby(cx));
    out.extend(pg_primary(cx));
    out.extend(pg_slots(cx));
    out.extend(mysql_replica(cx));
    out
}

fn log_lines(cx: &Context<'_>) -> Option<(String, Vec<String>)> {
    let (run, facts) = cx.log.as_ref()?;
    (!facts.replication.is_empty()).then(|| {
        (
            run.command().to_owned(),
            facts.replication.iter().take(6).cloned().collect(),
        )
    })
}

/// This server is a standby: how far behind is its replay?
fn pg_standby(cx: &Context<'_>) -> Option<Finding> {
    let run = cx.ok("pg_replica_status")?;
    let row = csv_rows(&run.output.stdout).into_iter().next()?;
    if !matches!(
        row.get(&["in_recovery", "pg_is_in_recovery"]),
        Some("t" | "true")
    ) {
        return None;
    }
    let delay = row
        .value(&["replay_delay", "replication_delay", "lag"])
        .and_then(parse_interval)?;
    let received = row.get(&["receive_lsn"]).unwrap_or_default();
    let replayed = row.get(&["replay_lsn"]).unwrap_or_default();
    let evidence: Vec<String> = run
        .output
        .stdout
        .lines()
        .take(2)
        .map(str::to_owned)
        .collect();
    if !received.is_empty() && received == replayed {
        return (cx.intent == "replication").then(|| {
            Finding::new(Severity::Info, format!("This standby has replayed everything it received; the last replayed transaction is {} old", human(delay)))
                .detail("receive_lsn equals replay_lsn, so there is no backlog: the primary has simply written nothing since. Compare with the primary's pg_stat_replication if in doubt.")
                .evidence(run.command(), evidence)
        });
    }
    if delay < LAG_WARN_SECS {
        return None;
    }
    let severity = if delay >= LAG_CRIT_SECS {
        Severity::Critical
    } else {
        Severity::Warning
    };
    let mut f = Finding::new(severity, format!("Replication lag: this standby's replay is {} behind", human(delay)))
        .detail(if received.is_empty() {
            "No WAL is being received (receive_lsn is empty): the WAL receiver is not streaming, so the standby only replays archived WAL, if any.".to_owned()
        } else {
            format!("It has received WAL up to {received} but replayed only up to {replayed}: replay itself is slow or paused (long queries on the standby conflicting with replay, or slow I/O).")
        })
        .evidence(run.command(), evidence);
    if cx.number("max_standby_streaming_delay") == Some(-1.0) {
        f = f.detail("max_standby_streaming_delay is -1: replay waits without limit for any standby query that conflicts with it.");
    }
    let longest = cx
        .pg_sessions
        .iter()
        .filter(|s| s.client_backend && s.state == "active")
        .max_by(|a, b| {
            a.state_age
                .unwrap_or(0.0)
                .total_cmp(&b.state_age.unwrap_or(0.0))
        })
        .filter(|s| s.state_age.unwrap_or(0.0) >= 60.0);
    if let Some(s) = longest {
        f = f.detail(format!(
            "The longest query on this standby, pid {} of {}, has run for {}: a query reading rows that replay must change holds replay back.",
            s.pid,
            s.holder(),
            human(s.state_age.unwrap_or(0.0))
        ));
        if let Some(run) = cx.pg_activity {
            let header = run
                .output
                .stdout
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned();
            f = f.evidence(run.command(), [header, s.line.clone()]);
        }
    }
    f = super::context::with_settings(
        f,
        cx,
        &["max_standby_streaming_delay", "hot_standby_feedback"],
    );
    if let Some((cmd, lines)) = log_lines(cx) {
        f = f.evidence(&cmd, lines);
    }
    if cx.number("max_standby_streaming_delay") == Some(-1.0) {
        f = f.fix_with_code(
            "Bound how long replay may wait for conflicting queries (they get cancelled instead), and run long reports on a standby meant for them:",
            "sql",
            "ALTER SYSTEM SET max_standby_streaming_delay = '30s';\nSELECT pg_reload_conf();",
        );
    }
    Some(
        f.fix("On the standby, look for long queries that hold replay back (pg_stat_activity, pg_stat_database_conflicts) and check max_standby_streaming_delay; on the primary, check this standby's row in pg_stat_replication.")
            .fix("If the WAL receiver is down, read the standby's log for the reason (authentication, primary_conninfo, a removed WAL segment that needs a re-sync from a base backup)."),
    )
}

/// This server is a primary: is any standby behind or not streaming?
fn pg_primary(cx: &Context<'_>) -> Vec<Finding> {
    let Some(run) = cx.ok("pg_replication") else {
        return Vec::new();
    };
    let rows = csv_rows(&run.output.stdout);
    let standby = cx
        .ok("pg_replica_status")
        .and_then(|r| csv_rows(&r.output.stdout).into_iter().next())
        .is_some_and(|r| matches!(r.get(&["in_recovery"]), Some("t" | "true")));
    if rows.is_empty() && cx.intent == "replication" && !standby {
        return vec![Finding::new(Severity::Info, "No standby is connected to this server").detail("pg_stat_replication has no rows: nothing streams from it right now. If a standby should, check it is running and its primary_conninfo.")];
    }
    let lines: Vec<&str> = run.output.stdout.lines().collect();
    let mut out = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let name = r
            .value(&["application_name", "client_addr"])
            .unwrap_or("standby")
            .to_owned();
        let state = r.get(&["state"]).unwrap_or_default();
        let lag = r
            .value(&["replay_lag"])
            .and_then(parse_interval)
            .unwrap_or(0.0);
        let lag_bytes = r.number(&["replay_lag_bytes", "lag_bytes"]).unwrap_or(0.0);
        let streaming = state.is_empty() || state == "streaming";
        if streaming && lag < LAG_WARN_SECS && lag_bytes < LAG_WARN_BYTES {
            continue;
        }
        let severity = if !streaming || lag >= LAG_CRIT_SECS || lag_bytes >= 1_073_741_824.0 {
            Severity::Critical
        } else {
            Severity::Warning
        };
        let title = if streaming {
            format!(
                "Replication lag: standby {name} is {} behind in replay ({})",
                human(lag),
                bytes(lag_bytes)
            )
        } else {
            format!("Standby {name} is in state {state}, not streaming")
        };
        let mut f = Finding::new(severity, title)
            .detail(format!("write_lag {}, flush_lag {}, replay_lag {}.", r.get(&["write_lag"]).unwrap_or("-"), r.get(&["flush_lag"]).unwrap_or("-"), r.get(&["replay_lag"]).unwrap_or("-")))
            .detail("If write/flush lag is small but replay lag large, the standby receives WAL but replays it slowly (conflicting queries, I/O); if all three are large, the network or the standby's disk cannot keep up.")
            .evidence(run.command(), [lines.first().copied().unwrap_or_default().to_owned(), lines.get(i + 1).copied().unwrap_or_default().to_owned()]);
        if let Some((cmd, l)) = log_lines(cx) {
            f = f.evidence(&cmd, l);
        }
        out.push(f.fix("Check the standby's pg_stat_activity for long queries and its disk and network; a synchronous standby this far behind also slows every commit on the primary."));
    }
    out
}

/// Replication slots nobody consumes that keep WAL on the primary's disk.
fn pg_slots(cx: &Context<'_>) -> Option<Finding> {
    let run = cx.ok("pg_replication_slots")?;
    let stale: Vec<(String, f64)> = csv_rows(&run.output.stdout)
        .iter()
        .filter(|r| matches!(r.get(&["active"]), Some("f" | "false")))
        .filter_map(|r| {
            Some((
                r.value(&["slot_name"])?.to_owned(),
                r.number(&["retained_bytes", "retained_wal"]).unwrap_or(0.0),
            ))
        })
        .filter(|(_, b)| *b >= 1_073_741_824.0)
        .collect();
    let (name, held) = stale.first()?;
    Some(
        Finding::new(Severity::Warning, format!("Inactive replication slot {name} retains {} of WAL", bytes(*held)))
            .detail("An inactive slot keeps every WAL segment since its consumer left; the disk fills until the server stops.")
            .evidence(run.command(), run.output.stdout.lines().filter(|l| l.starts_with("slot_name") || l.contains(name.as_str())).map(str::to_owned))
            .fix_with_code("If its consumer is gone for good, drop the slot:", "sql", format!("SELECT pg_drop_replication_slot({});", literal(name))),
    )
}

fn mysql_replica(cx: &Context<'_>) -> Option<Finding> {
    let run = cx.ok("mysql_replica_status")?;
    let Some(row) = csv_rows(&run.output.stdout).into_iter().next() else {
        return (cx.intent == "replication").then(|| {
            Finding::new(Severity::Info, "This server is not a replica").detail("SHOW REPLICA STATUS returned no rows: no replication source is configured here. Ask the same on the replica.")
        });
    };
    let io = row
        .get(&["replica_io_running", "slave_io_running"])
        .unwrap_or_default()
        .to_owned();
    let sql = row
        .get(&["replica_sql_running", "slave_sql_running"])
        .unwrap_or_default()
        .to_owned();
    let behind = row.number(&["seconds_behind_source", "seconds_behind_master"]);
    let source = row
        .value(&["source_host", "master_host"])
        .unwrap_or("its source")
        .to_owned();
    let io_error = row.value(&["last_io_error"]).unwrap_or_default().to_owned();
    let sql_error = row
        .value(&["last_sql_error"])
        .unwrap_or_default()
        .to_owned();
    let evidence: Vec<String> = [
        ("Replica_IO_Running", &io),
        ("Replica_SQL_Running", &sql),
        ("Last_IO_Error", &io_error),
        ("Last_SQL_Error", &sql_error),
    ]
    .iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| format!("{k}: {}", short(v, 240)))
    .chain(behind.map(|b| format!("Seconds_Behind_Source: {b:.0}")))
    .collect();
    if io != "Yes" || sql != "Yes" {
        let (thread, error) = if sql != "Yes" {
            ("SQL", &sql_error)
        } else {
            ("I/O", &io_error)
        };
        let mut f = Finding::new(
            Severity::Critical,
            format!("Replication from {source} is stopped: the {thread} thread is not running"),
        )
        .evidence(run.command(), evidence);
        if !error.is_empty() {
            f = f.detail(format!("Last {thread} error: {}", short(error, 300)));
        }
        return Some(
            f.fix("Fix what the error names first (a missing or duplicate row means the replica diverged: re-sync it rather than skipping events; a connection error means credentials, network or a purged binlog on the source).")
                .fix_with_code("Then restart the threads and watch them:", "sql", "START REPLICA;\nSHOW REPLICA STATUS;"),
        );
    }
    let behind = behind.filter(|b| *b >= 60.0)?;
    let severity = if behind >= LAG_CRIT_SECS {
        Severity::Critical
    } else {
        Severity::Warning
    };
    Some(
        Finding::new(severity, format!("Replication lag: this replica is {} behind {source}", human(behind)))
            .detail("Both threads run, so the replica receives events but applies them slower than the source writes them (single-threaded apply, large transactions, slow disk).")
            .evidence(run.command(), evidence)
            .fix_with_code("Apply in parallel and check for large transactions on the source:", "sql", "STOP REPLICA SQL_THREAD;\nSET GLOBAL replica_parallel_workers = 8;\nSTART REPLICA SQL_THREAD;"),
    )
}
