//! MySQL/MariaDB tables and indexes: space InnoDB holds but no longer uses (DATA_FREE) and
//! indexes with no recorded use since the server started.

use squadron_core::{Finding, Severity};

use crate::parse::csv_rows;

use super::context::Context;
use super::sqltext::{mysql_ident, plural};
use super::time::bytes;

pub fn findings(cx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(run) = cx.ok("mysql_table_stats") {
        let fragmented: Vec<(String, f64, f64)> = csv_rows(&run.output.stdout)
            .iter()
            .filter_map(|r| {
                let name = r.value(&["table_name"])?.to_owned();
                let free = r.number(&["data_free"])?;
                let size = r.number(&["data_length"]).unwrap_or(0.0)
                    + r.number(&["index_length"]).unwrap_or(0.0);
                (free >= 100.0 * 1_048_576.0 && free >= 0.2 * size).then_some((name, free, size))
            })
            .collect();
        if let Some((first, free, _)) = fragmented.first() {
            let lines: Vec<String> = std::iter::once(
                run.output
                    .stdout
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            )
            .chain(
                fragmented
                    .iter()
                    .flat_map(|(n, ..)| lines_containing_field(&run.output.stdout, n)),
            )
            .collect();
            out.push(
                Finding::new(Severity::Warning, format!("{} with reclaimable space; {first} has {} free", plural(fragmented.len(), "table"), bytes(*free)))
                    .detail("DATA_FREE is space InnoDB holds for the table but no longer uses (after large deletes); it is reused by new rows but not returned to the disk.")
                    .evidence(run.command(), lines)
                    .fix_with_code("Rebuild the table online to return the space (needs free disk about the table's size):", "sql", format!("OPTIMIZE TABLE {};", mysql_ident(first))),
            );
        }
    }
    if let Some(run) = cx.ok("mysql_unused_indexes") {
        let unused: Vec<(String, String)> = csv_rows(&run.output.stdout)
            .iter()
            .filter_map(|r| {
                Some((
                    r.value(&["object_name", "table_name"])?.to_owned(),
                    r.value(&["index_name"])?.to_owned(),
                ))
            })
            .filter(|(_, i)| i != "PRIMARY")
            .collect();
        if let Some((table, index)) = unused.first() {
            out.push(
                Finding::new(Severity::Info, format!("{} with no recorded use since the server started", plural(unused.len(), "index")))
                    .detail("Check the server has run through a full business cycle before dropping any.")
                    .evidence(run.command(), run.output.stdout.lines().take(10).map(str::to_owned))
                    .fix_with_code("Drop one once confirmed (MySQL 8 can first hide it to test: ALTER TABLE ... ALTER INDEX ... INVISIBLE):", "sql", format!("ALTER TABLE {} DROP INDEX {};", mysql_ident(table), mysql_ident(index))),
            );
        }
    }
    out
}

fn lines_containing_field(text: &str, field: &str) -> Vec<String> {
    text.lines()
        .skip(1)
        .filter(|l| l.split(',').any(|c| c.trim_matches('"') == field))
        .map(str::to_owned)
        .collect()
}
