//! A slow site: PHP-FPM out of workers (`server reached pm.max_children`), requests that
//! run too long (slow log warnings, nginx `upstream timed out`), and the autoloaded options
//! every request drags out of the database.

use std::sync::LazyLock;

use regex::Regex;
use squadron_core::{Finding, Investigation, Severity};

use super::system;

static MAX_CHILDREN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\[pool ([^\]]+)\] server reached (?:pm\.)?max_children setting \(([0-9]+)\)")
        .expect("static regex")
});
static TOO_SLOW: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"script '([^']+)' \(request: "([^"]+)"\) executing too slow \(([0-9.]+) sec\)"#)
        .expect("static regex")
});
static UPSTREAM_TIMEOUT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"upstream timed out \(110").expect("static regex"));

/// Autoloaded options beyond this many bytes slow every request (WordPress's own Site
/// Health warns at 800 KB).
const AUTOLOAD_LIMIT: f64 = 800_000.0;

/// Findings about speed.
pub fn findings(inv: &Investigation<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    out.extend(workers(inv));
    out.extend(timeouts(inv));
    out.extend(autoload(inv));
    out
}

fn workers(inv: &Investigation<'_>) -> Option<Finding> {
    let run = inv.last("php_log").filter(|r| r.output.ok())?;
    let hits: Vec<&str> = run
        .output
        .stdout
        .lines()
        .filter(|l| MAX_CHILDREN.is_match(l))
        .collect();
    let c = hits.last().and_then(|l| MAX_CHILDREN.captures(l))?;
    let (pool, limit) = (c[1].to_owned(), c[2].to_owned());
    let mut f = Finding::new(
        Severity::Critical,
        format!("PHP-FPM pool {pool} runs out of workers: pm.max_children = {limit} is reached"),
    )
    .detail(format!(
        "{} times in this log, every one of the {limit} PHP workers was busy; further requests \
         queue until one frees up, which is the slowness visitors see.",
        hits.len()
    ))
    .evidence(
        run.command(),
        hits.iter().rev().take(3).rev().map(|l| (*l).to_owned()),
    );
    let memory = inv
        .last("free_mem")
        .and_then(|r| system::memory(&r.output.stdout).map(|m| (m, r.command().to_owned())));
    let suggestion = match &memory {
        Some((m, src)) => {
            let avail = m.available.unwrap_or(m.total / 2);
            let fit = (avail / 80).max(2);
            f = f
                .detail(format!(
                    "{avail} MiB of memory is available: at about 80 MiB per WordPress worker, \
                     room for about {fit} more workers."
                ))
                .evidence(
                    src,
                    [format!("Mem: {} MiB total, {avail} MiB available", m.total)],
                );
            limit.parse::<u64>().unwrap_or(5) + fit
        }
        None => limit.parse::<u64>().unwrap_or(5) * 2,
    };
    Some(f.fix_with_code(
        format!("Raise the limit in the pool's config (e.g. /etc/php/<version>/fpm/pool.d/{pool}.conf) as far as memory allows, then reload PHP-FPM; and find the slow requests that hold workers (slowlog):"),
        "ini",
        format!("pm = dynamic\npm.max_children = {suggestion}\nrequest_slowlog_timeout = 5s\nslowlog = /var/log/php-fpm-{pool}-slow.log"),
    ))
}

fn timeouts(inv: &Investigation<'_>) -> Option<Finding> {
    let mut slow: Vec<(String, String)> = Vec::new();
    if let Some(run) = inv.last("php_log").filter(|r| r.output.ok()) {
        slow.extend(
            run.output
                .stdout
                .lines()
                .filter(|l| TOO_SLOW.is_match(l))
                .map(|l| (run.command().to_owned(), l.trim().to_owned())),
        );
    }
    if let Some(run) = inv.last("web_error_log").filter(|r| r.output.ok()) {
        slow.extend(
            run.output
                .stdout
                .lines()
                .filter(|l| UPSTREAM_TIMEOUT.is_match(l))
                .map(|l| (run.command().to_owned(), l.trim().to_owned())),
        );
    }
    let (src, _) = slow.first()?;
    let mut f = Finding::new(
        Severity::Warning,
        format!("{} requests ran too long or timed out", slow.len()),
    )
    .detail("PHP spent seconds on these requests; a plugin calling a slow remote API or running heavy queries is the usual cause.");
    let lines: Vec<String> = slow
        .iter()
        .filter(|(s, _)| s == src)
        .take(4)
        .map(|(_, l)| l.clone())
        .collect();
    f = f.evidence(src, lines);
    if let Some((other, _)) = slow.iter().find(|(s, _)| s != src) {
        let lines: Vec<String> = slow
            .iter()
            .filter(|(s, _)| s == other)
            .take(3)
            .map(|(_, l)| l.clone())
            .collect();
        f = f.evidence(other, lines);
    }
    Some(f.fix("Turn on PHP-FPM's slowlog (request_slowlog_timeout = 5s) to see which plugin function each slow request is stuck in, then fix or replace that plugin."))
}

fn autoload(inv: &Investigation<'_>) -> Option<Finding> {
    let run = inv.last("autoload_size").filter(|r| r.output.ok())?;
    let row = crate::parse::csv_rows(&run.output.stdout)
        .into_iter()
        .next()?;
    let bytes = row.number(&["autoload_bytes", "bytes", "size"])?;
    if bytes < AUTOLOAD_LIMIT {
        return None;
    }
    let count = row.number(&["autoloaded_options", "count"]).unwrap_or(0.0);
    let mut f = Finding::new(
        Severity::Warning,
        format!("WordPress loads {:.1} MB of autoloaded options on every request", bytes / 1e6),
    )
    .detail(format!("{count:.0} options are autoloaded; above about 0.8 MB every page pays for it, and object caches may refuse the blob."))
    .evidence(run.command(), [format!("autoloaded_options = {count:.0}, autoload_bytes = {bytes:.0}")]);
    let mut biggest = Vec::new();
    if let Some(top) = inv.last("autoload_top").filter(|r| r.output.ok()) {
        for r in crate::parse::csv_rows(&top.output.stdout).iter().take(5) {
            if let (Some(name), Some(size)) =
                (r.value(&["option_name"]), r.number(&["bytes", "size"]))
            {
                biggest.push((name.to_owned(), size));
            }
        }
        f = f.evidence(
            top.command(),
            biggest
                .iter()
                .map(|(n, s)| format!("{n}: {:.0} KB", s / 1000.0)),
        );
    }
    let names = biggest
        .iter()
        .map(|(n, _)| format!("'{n}'"))
        .take(3)
        .collect::<Vec<_>>()
        .join(", ");
    Some(f.fix_with_code(
        "Stop autoloading the largest options that are not needed on every page (check which plugin owns each first), and delete expired transients:",
        "sql",
        format!(
            "UPDATE wp_options SET autoload = 'no' WHERE option_name IN ({});\nDELETE FROM wp_options WHERE option_name LIKE '_transient_timeout_%' AND option_value < UNIX_TIMESTAMP();",
            if names.is_empty() { "'<option>'".to_owned() } else { names }
        ),
    ))
}
