//! TLS certificates: when the certificate a domain serves (or the file on disk, or certbot's
//! record) expires, counted against the host's own clock, and whether automatic renewal
//! will replace it in time.

pub mod certs;
mod learn;
pub mod renewal;
mod report;

use squadron_core::{Finding, Investigation, Severity};

use super::clock::{self, DAY};
use super::tool;
use certs::CertView;
use report::Main;

pub use learn::learn;

/// The clock to count from: the host's `date -u` when it ran, else the engine's.
pub fn host_clock(inv: &Investigation<'_>) -> (i64, Option<(String, String)>) {
    inv.last(tool::CLOCK)
        .filter(|r| r.output.ok())
        .and_then(|r| {
            let line = r
                .output
                .stdout
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())?;
            clock::parse_loose(line).map(|ts| (ts, Some((r.command().to_owned(), line.to_owned()))))
        })
        .unwrap_or((inv.now, None))
}

/// `5 days`, `19 hours`, `2 days ago`.
pub(super) fn left_text(left: i64) -> String {
    let abs = left.abs();
    if abs < 2 * DAY {
        format!("{} hours", abs / 3600)
    } else {
        format!("{} days", abs / DAY)
    }
}

/// Every certificate finding of the turn.
pub fn findings(inv: &Investigation<'_>) -> Vec<Finding> {
    let (now, clock_line) = host_clock(inv);
    let domain = inv.entities.get("domain");
    let probe = inv.last(tool::TLS_PROBE);
    let served = probe.and_then(certs::served);
    let file = inv.runs_of(tool::CERT_FILE).filter_map(certs::file).last();
    let managed_all = inv
        .last(tool::CERTBOT)
        .map(certs::certbot)
        .unwrap_or_default();
    let managed = managed_all.iter().find(|c| {
        domain.is_some_and(|d| c.covers(d))
            || file
                .as_ref()
                .and_then(|f| f.path.as_deref())
                .is_some_and(|p| c.path.as_deref() == Some(p))
    });
    let renewal = renewal::read(inv);
    let mut out = Vec::new();
    let dated = |v: &Option<CertView>| v.clone().filter(|c| c.not_after.is_some());
    let primary = dated(&served)
        .or_else(|| dated(&file))
        .or_else(|| dated(&managed.cloned()));
    match primary {
        Some(p) if p.not_after.is_some() => {
            let ctx = Main {
                inv,
                now,
                clock_line: &clock_line,
                domain,
                served: served.as_ref(),
                file: file.as_ref(),
                managed,
                renewal: &renewal,
            };
            out.push(ctx.finding(&p));
        }
        _ => {
            if let (Some(d), Some(err)) = (domain, probe.and_then(certs::probe_error)) {
                out.push(
                    Finding::new(
                        Severity::Warning,
                        format!("Could not read the TLS certificate {d} serves"),
                    )
                    .detail(format!("The TLS handshake failed: {err}"))
                    .evidence(probe.map_or("", |p| p.command()), [err]),
                );
            }
        }
    }
    for other in managed_all.iter().filter(|c| Some(*c) != managed) {
        let Some((ts, text)) = &other.not_after else {
            continue;
        };
        let left = ts - now;
        if left < 30 * DAY {
            let name = other.name.as_deref().unwrap_or("?");
            let sev = if left < 14 * DAY {
                Severity::Critical
            } else {
                Severity::Warning
            };
            let what = if left <= 0 {
                format!("expired {} ago", left_text(left))
            } else {
                format!("expires in {}", left_text(left))
            };
            out.push(
                Finding::new(sev, format!("certbot certificate {name} {what} ({text})"))
                    .detail(format!("Covers {}.", other.domains.join(", ")))
                    .evidence(&other.source, other.lines.clone())
                    .fix_with_code(
                        "Renew it and check why it was not renewed automatically:",
                        "sh",
                        format!(
                            "sudo certbot renew --cert-name {name}\nsudo certbot renew --dry-run"
                        ),
                    ),
            );
        }
    }
    if domain.is_none() && inv.intent == "tls" && !managed_all.is_empty() {
        out.extend(overview(&managed_all, now));
    }
    out
}

/// Every certbot certificate with its time left, when the user named no domain.
fn overview(all: &[CertView], now: i64) -> Option<Finding> {
    let mut dated: Vec<(i64, &CertView)> = all
        .iter()
        .filter_map(|c| c.not_after.as_ref().map(|n| (n.0 - now, c)))
        .collect();
    dated.sort_by_key(|(left, _)| *left);
    let (soonest, first) = dated.first()?;
    let lines: Vec<String> = dated
        .iter()
        .map(|(left, c)| {
            format!(
                "{}: {} ({})",
                c.name.as_deref().unwrap_or("?"),
                if *left <= 0 {
                    format!("expired {} ago", left_text(*left))
                } else {
                    format!("{} left", left_text(*left))
                },
                c.domains.join(", ")
            )
        })
        .collect();
    let mut f = Finding::new(
        Severity::Info,
        format!(
            "{} certbot certificates; the soonest to expire is {} in {}",
            dated.len(),
            first.name.as_deref().unwrap_or("?"),
            left_text(*soonest)
        ),
    );
    for l in lines {
        f = f.detail(l);
    }
    Some(f.evidence(
        &first.source,
        dated.iter().flat_map(|(_, c)| c.lines.clone()),
    ))
}

#[cfg(test)]
mod tests;
