//! Failed logins counted per source address and per user name: how many attempts, over what
//! time, at what peak rate, and whether the same address ever logged in.

mod block;
mod compromise;
mod noise;
mod report;

use std::collections::{BTreeMap, BTreeSet, HashSet};

use squadron_core::Investigation;

use super::authlog::{self, Event, Kind};
use super::tool;

pub use report::findings;

/// Attempts from one address at or above which it is a brute-force attack.
pub const BRUTE_FORCE_ATTEMPTS: usize = 10;
/// The window, in seconds, for the peak rate.
pub const WINDOW: i64 = 600;

/// Everything one address did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Source {
    pub ip: String,
    /// Authentication attempts (each failed password, or one per connection that failed
    /// without a password prompt).
    pub attempts: usize,
    /// Attempts per user name.
    pub users: BTreeMap<String, usize>,
    /// User names that do not exist on the host.
    pub invalid_users: BTreeSet<String>,
    /// Connections cut by MaxAuthTries.
    pub max_tries: usize,
    pub first: Option<(i64, String)>,
    pub last: Option<(i64, String)>,
    /// Most attempts within any [`WINDOW`].
    pub peak: usize,
    /// Lines worth quoting: the first failure, the first for a user that does not exist,
    /// the first MaxAuthTries cut, the last failure.
    pub first_line: Option<String>,
    pub invalid_line: Option<String>,
    pub max_tries_line: Option<String>,
    pub last_line: Option<String>,
    /// Successful logins from this address.
    pub accepted: Vec<Event>,
}

impl Source {
    /// The lines worth quoting, in log order, without repeats.
    pub fn sample(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for l in [
            &self.first_line,
            &self.invalid_line,
            &self.max_tries_line,
            &self.last_line,
        ]
        .into_iter()
        .flatten()
        {
            if !out.contains(l) {
                out.push(l.clone());
            }
        }
        out
    }

    pub fn is_attack(&self) -> bool {
        self.attempts >= BRUTE_FORCE_ATTEMPTS
    }

    /// Seconds between the first and the last attempt.
    pub fn duration(&self) -> Option<i64> {
        Some(self.last.as_ref()?.0 - self.first.as_ref()?.0)
    }

    /// `root ×60, admin ×3, oracle` (most tried first, at most `n`).
    pub fn top_users(&self, n: usize) -> String {
        let mut users: Vec<(&String, &usize)> = self.users.iter().collect();
        users.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let shown: Vec<String> = users
            .iter()
            .take(n)
            .map(|(u, c)| {
                if **c > 1 {
                    format!("{u} ×{c}")
                } else {
                    (*u).clone()
                }
            })
            .collect();
        let more = users.len().saturating_sub(n);
        if more > 0 {
            format!("{} and {more} more", shown.join(", "))
        } else {
            shown.join(", ")
        }
    }
}

/// The auth events of this turn, deduplicated across the log greps and the journal, with
/// the commands they come from and whether any output was cut at its cap.
pub fn events(inv: &Investigation<'_>) -> (Vec<Event>, Vec<String>, bool) {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut sources = Vec::new();
    let mut truncated = false;
    for run in inv.runs.iter().filter(|r| {
        matches!(
            r.tool(),
            tool::AUTH_FAILURES | tool::AUTH_ACCEPTED | tool::SSH_JOURNAL
        )
    }) {
        let parsed = authlog::parse(&run.output.stdout);
        if parsed.is_empty() {
            continue;
        }
        truncated |= run.output.truncated;
        sources.push(run.command().to_owned());
        for e in parsed {
            if seen.insert(e.line.clone()) {
                out.push(e);
            }
        }
    }
    (out, sources, truncated)
}

/// Per connection: failed password lines, other failure lines, the first stamp.
type Connection = (usize, usize, Option<i64>);

/// Aggregates events per source address, most attempts first.
pub fn by_source(events: &[Event]) -> Vec<Source> {
    let mut map: BTreeMap<&str, Source> = BTreeMap::new();
    let mut connections: BTreeMap<(String, String), Connection> = BTreeMap::new();
    let mut times: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (i, e) in events.iter().enumerate() {
        let s = map.entry(&e.ip).or_insert_with(|| Source {
            ip: e.ip.clone(),
            ..Source::default()
        });
        let key = (
            e.ip.clone(),
            e.pid.clone().unwrap_or_else(|| format!("line{i}")),
        );
        match &e.kind {
            Kind::Accepted(_) => {
                s.accepted.push(e.clone());
                continue;
            }
            Kind::Probe => continue,
            Kind::MaxTries => {
                s.max_tries += 1;
                s.max_tries_line.get_or_insert_with(|| e.line.clone());
                continue;
            }
            _ => {}
        }
        let failed = matches!(e.kind, Kind::Failed(_));
        let conn = connections.entry(key).or_default();
        if failed {
            conn.0 += e.count;
            if let Some(ts) = e.ts {
                times
                    .entry(e.ip.clone())
                    .or_default()
                    .extend(std::iter::repeat_n(ts, e.count));
            }
        } else {
            conn.1 += 1;
        }
        if conn.2.is_none() {
            conn.2 = e.ts;
        }
        if let Some(u) = &e.user {
            *s.users.entry(u.clone()).or_default() += if failed { e.count } else { 0 };
            if e.invalid {
                s.invalid_users.insert(u.clone());
            }
        }
        if let Some(ts) = e.ts {
            if s.first.as_ref().is_none_or(|(t, _)| ts < *t) {
                s.first = Some((ts, e.stamp.clone()));
            }
            if s.last.as_ref().is_none_or(|(t, _)| ts >= *t) {
                s.last = Some((ts, e.stamp.clone()));
            }
        }
        s.first_line.get_or_insert_with(|| e.line.clone());
        s.last_line = Some(e.line.clone());
        if e.invalid {
            s.invalid_line.get_or_insert_with(|| e.line.clone());
        }
    }
    for ((ip, _), (failed, other, first)) in connections {
        if let Some(s) = map.get_mut(ip.as_str()) {
            s.attempts += if failed > 0 {
                failed
            } else {
                usize::from(other > 0)
            };
            if let (0, Some(ts)) = (failed, first) {
                times.entry(ip.clone()).or_default().push(ts);
            }
        }
    }
    for s in map.values_mut() {
        // a user seen only on connections that never reached a password prompt counts once
        for c in s.users.values_mut() {
            *c = (*c).max(1);
        }
        if let Some(t) = times.get_mut(&s.ip) {
            t.sort_unstable();
            s.peak = peak(t);
        }
    }
    let mut out: Vec<Source> = map
        .into_values()
        .filter(|s| s.attempts > 0 || !s.accepted.is_empty())
        .collect();
    out.sort_by(|a, b| b.attempts.cmp(&a.attempts).then(a.ip.cmp(&b.ip)));
    out
}

/// Most stamps within any window of [`WINDOW`] seconds (stamps sorted).
fn peak(times: &[i64]) -> usize {
    let mut best = 0;
    let mut start = 0;
    for (end, t) in times.iter().enumerate() {
        while times[start] < t - WINDOW {
            start += 1;
        }
        best = best.max(end + 1 - start);
    }
    best
}

#[cfg(test)]
mod tests;
