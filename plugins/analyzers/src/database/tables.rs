//! Tables and indexes: dead-tuple bloat and stale vacuum (PostgreSQL), large tables read by
//! sequential scans, indexes never used, and reclaimable space in InnoDB tables.

use squadron_core::{Finding, Severity};

use crate::parse::{Row, csv_rows};

use super::context::Context;
use super::sqltext::{pg_ident, plural};
use super::time::{bytes, human};

const DEAD_MIN: f64 = 10_000.0;
const DEAD_RATIO: f64 = 0.2;
const SCAN_ROWS_MIN: f64 = 100_000.0;

/// A table read mostly by sequential scans.
#[derive(Debug, Clone, PartialEq)]
pub struct ScannedTable {
    pub name: String,
    pub seq_scan: f64,
    pub idx_scan: f64,
    pub rows: f64,
}

fn table_rows<'a>(cx: &Context<'a>) -> Vec<(&'a squadron_core::ToolRun, Row)> {
    ["pg_table_stats", "pg_table_detail"]
        .iter()
        .filter_map(|t| cx.ok(t))
        .flat_map(|run| {
            csv_rows(&run.output.stdout)
                .into_iter()
                .map(move |r| (run, r))
        })
        .collect()
}

/// Large tables where sequential scans outnumber index scans and each reads many rows.
pub fn seq_scanned_tables(cx: &Context<'_>) -> Vec<ScannedTable> {
    let mut out: Vec<ScannedTable> = Vec::new();
    for (_, r) in table_rows(cx) {
        let (Some(name), Some(seq)) =
            (r.value(&["relname", "table_name"]), r.number(&["seq_scan"]))
        else {
            continue;
        };
        let idx = r.number(&["idx_scan"]).unwrap_or(0.0);
        let rows = r.number(&["n_live_tup", "table_rows"]).unwrap_or(0.0);
        let per_scan = r
            .number(&["seq_tup_read"])
            .map(|t| t / seq.max(1.0))
            .unwrap_or(rows);
        if seq > idx
            && rows >= SCAN_ROWS_MIN
            && per_scan >= 10_000.0
            && !out.iter().any(|t| t.name == name)
        {
            out.push(ScannedTable {
                name: name.to_owned(),
                seq_scan: seq,
                idx_scan: idx,
                rows,
            });
        }
    }
    out
}

pub fn findings(cx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    out.extend(bloat(cx));
    if matches!(cx.intent, "bloat" | "slow_queries") && cx.ok("pg_slow_queries").is_none() {
        out.extend(seq_scans(cx));
    }
    out.extend(pg_unused_indexes(cx));
    out.extend(super::mysql_tables::findings(cx));
    out
}

fn bloat(cx: &Context<'_>) -> Option<Finding> {
    let mut bloated: Vec<(&squadron_core::ToolRun, String, f64, f64, String)> = Vec::new();
    for (run, r) in table_rows(cx) {
        let (Some(name), Some(dead)) = (r.value(&["relname"]), r.number(&["n_dead_tup"])) else {
            continue;
        };
        let live = r.number(&["n_live_tup"]).unwrap_or(0.0);
        let ratio = dead / (dead + live).max(1.0);
        if dead >= DEAD_MIN && ratio >= DEAD_RATIO && !bloated.iter().any(|b| b.1 == name) {
            let last = r
                .value(&["last_autovacuum"])
                .or(r.value(&["last_vacuum"]))
                .map(|v| format!("last vacuumed {v}"))
                .unwrap_or_else(|| "never vacuumed since the statistics were reset".to_owned());
            bloated.push((run, name.to_owned(), dead, live, last));
        }
    }
    let (run, first, ..) = bloated.first()?;
    let mut f = Finding::new(
        Severity::Warning,
        format!(
            "{} bloated with dead rows; worst: {first}",
            plural(bloated.len(), "table")
        ),
    );
    for (_, name, dead, live, last) in bloated.iter().take(4) {
        f = f.detail(format!(
            "{name}: {dead:.0} dead vs {live:.0} live rows ({:.0}% dead), {last}.",
            100.0 * dead / (dead + live).max(1.0)
        ));
    }
    let old_tx = cx
        .pg_sessions
        .iter()
        .filter(|s| s.client_backend && s.xact_age.unwrap_or(0.0) >= 3_600.0)
        .max_by(|a, b| {
            a.xact_age
                .unwrap_or(0.0)
                .total_cmp(&b.xact_age.unwrap_or(0.0))
        });
    if let Some(s) = old_tx {
        f = f.detail(format!(
            "Pid {} ({}) has had a transaction open for {}: VACUUM cannot remove rows that died after it began, whatever autovacuum does. End it first.",
            s.pid,
            s.holder(),
            human(s.xact_age.unwrap_or(0.0))
        ));
    }
    let mut lines: Vec<String> = run
        .output
        .stdout
        .lines()
        .take(1)
        .map(str::to_owned)
        .collect();
    for (_, name, ..) in bloated.iter().take(4) {
        let line = run
            .output
            .stdout
            .lines()
            .skip(1)
            .find(|l| l.split(',').any(|c| c.trim_matches('"') == name));
        lines.extend(line.map(str::to_owned));
    }
    f = f.evidence(run.command(), lines);
    let t = pg_ident(first);
    Some(
        f.fix_with_code("Vacuum the worst table now (does not block reads or writes):", "sql", format!("VACUUM (VERBOSE, ANALYZE) {t};"))
            .fix_with_code(
                "Make autovacuum visit it sooner than the default 20% of rows:",
                "sql",
                format!("ALTER TABLE {t} SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_cost_limit = 1000);"),
            )
            .fix("To give the space back to the OS, rebuild online with pg_repack (VACUUM FULL locks the table for its whole run)."),
    )
}

fn seq_scans(cx: &Context<'_>) -> Option<Finding> {
    let scanned = seq_scanned_tables(cx);
    let first = scanned.first()?;
    let mut f = Finding::new(
        Severity::Warning,
        format!(
            "{} read mostly by sequential scans; e.g. {}",
            plural(scanned.len(), "large table"),
            first.name
        ),
    );
    for t in scanned.iter().take(4) {
        f = f.detail(format!(
            "{}: {:.0} sequential vs {:.0} index scans over ~{:.0} rows.",
            t.name, t.seq_scan, t.idx_scan, t.rows
        ));
    }
    if let Some(run) = cx.ok("pg_table_stats").or(cx.ok("pg_table_detail")) {
        let mut lines: Vec<String> = run
            .output
            .stdout
            .lines()
            .take(1)
            .map(str::to_owned)
            .collect();
        for t in scanned.iter().take(4) {
            lines.extend(
                run.output
                    .stdout
                    .lines()
                    .skip(1)
                    .find(|l| l.split(',').any(|c| c == t.name))
                    .map(str::to_owned),
            );
        }
        f = f.evidence(run.command(), lines);
    }
    Some(f.fix("Find the statements that scan it (pg_stat_statements, or log_min_duration_statement) and EXPLAIN them; index the columns they filter or join on with CREATE INDEX CONCURRENTLY."))
}

fn pg_unused_indexes(cx: &Context<'_>) -> Option<Finding> {
    let run = cx.ok("pg_unused_indexes")?;
    let unused: Vec<(String, String, f64)> = csv_rows(&run.output.stdout)
        .iter()
        .filter(|r| r.number(&["idx_scan"]) == Some(0.0))
        .filter(|r| {
            !matches!(r.get(&["indisunique"]), Some("t" | "true"))
                && !matches!(r.get(&["indisprimary"]), Some("t" | "true"))
        })
        .filter_map(|r| {
            let size = r
                .number(&["index_bytes", "index_size_bytes"])
                .unwrap_or(0.0);
            let schema = r.get(&["schemaname"]).unwrap_or("public").to_owned();
            let name = r.value(&["indexrelname", "index_name"])?.to_owned();
            (size >= 1_048_576.0).then_some((schema, name, size))
        })
        .collect();
    let (_, first, _) = unused.first()?;
    let total: f64 = unused.iter().map(|u| u.2).sum();
    let lines: Vec<String> = std::iter::once(
        run.output
            .stdout
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned(),
    )
    .chain(
        run.output
            .stdout
            .lines()
            .skip(1)
            .filter(|l| unused.iter().any(|u| l.contains(&u.1)))
            .map(str::to_owned),
    )
    .collect();
    let drops: Vec<String> = unused
        .iter()
        .take(5)
        .map(|(schema, name, _)| {
            format!(
                "DROP INDEX CONCURRENTLY {}.{};",
                pg_ident(schema),
                pg_ident(name)
            )
        })
        .collect();
    Some(
        Finding::new(Severity::Info, format!("{} never used since statistics were reset ({}); largest: {first}", plural(unused.len(), "index"), bytes(total)))
            .detail("Unused indexes cost write time, WAL and cache. Check that the statistics cover a full business cycle and that no standby's queries use them before dropping.")
            .evidence(run.command(), lines)
            .fix_with_code("Drop them without blocking writes, once confirmed:", "sql", drops.join("\n")),
    )
}
