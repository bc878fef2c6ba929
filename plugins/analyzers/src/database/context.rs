//! The turn's runs, read once for every check: the last successful run of each tool, the
//! settings and counters the server reported, its sessions and its log.

use squadron_core::ToolRun;

use super::graph::LockGraph;
use super::logs::LogFacts;
use super::sessions::{Session, mysql_sessions, pg_sessions};
use super::settings::{Setting, Settings};

/// Tools whose output is a list of settings or counters.
const SETTINGS_TOOLS: &[&str] = &["pg_settings", "mysql_variables", "mysql_status"];

/// What the checks read.
#[derive(Debug)]
pub struct Context<'a> {
    pub runs: &'a [ToolRun],
    pub intent: &'a str,
    pub now: i64,
    settings: Vec<(&'a ToolRun, Settings)>,
    /// The server log's run and what it says.
    pub log: Option<(&'a ToolRun, LogFacts)>,
    pub pg_activity: Option<&'a ToolRun>,
    pub pg_sessions: Vec<Session>,
    pub processlist: Option<&'a ToolRun>,
    pub mysql_sessions: Vec<Session>,
    /// PostgreSQL's wait graph: from `pg_blocking`, else from the log's lock-wait messages.
    pub pg_graph: LockGraph,
    pub pg_graph_from_log: bool,
    /// MySQL's wait graph and the run it came from.
    pub mysql_graph: LockGraph,
    pub mysql_graph_run: Option<&'a ToolRun>,
}

/// Tools that answer "who waits on whom" for MySQL.
pub const MYSQL_LOCK_TOOLS: &[&str] = &[
    "mysql_lock_waits",
    "mysql_data_lock_waits",
    "mysql_innodb_lock_waits",
];

impl<'a> Context<'a> {
    pub fn new(runs: &'a [ToolRun], intent: &'a str, now: i64) -> Self {
        let last_ok = |tool: &str| {
            runs.iter()
                .rev()
                .find(|r| r.tool() == tool && r.output.ok())
        };
        let settings = SETTINGS_TOOLS
            .iter()
            .filter_map(|t| last_ok(t))
            .map(|run| {
                let mut s = Settings::default();
                s.read(&run.output.stdout);
                (run, s)
            })
            .collect();
        let log = runs
            .iter()
            .rev()
            .find(|r| matches!(r.tool(), "pg_log" | "mysql_log") && r.output.ok())
            .map(|run| (run, LogFacts::read(&run.output.stdout)));
        let pg_activity = last_ok("pg_activity");
        let processlist = last_ok("mysql_processlist");
        let mut pg_graph = LockGraph::default();
        if let Some(run) = last_ok("pg_blocking") {
            pg_graph.read_csv(&run.output.stdout);
        }
        let pg_graph_from_log = pg_graph.is_empty()
            && log
                .as_ref()
                .is_some_and(|(r, f)| r.tool() == "pg_log" && !f.lock_edges.is_empty());
        if pg_graph_from_log && let Some((_, facts)) = &log {
            for (w, h) in &facts.lock_edges {
                pg_graph.add(*w, *h);
            }
        }
        let mut mysql_graph = LockGraph::default();
        let mut mysql_graph_run = None;
        for tool in MYSQL_LOCK_TOOLS {
            if let Some(run) = last_ok(tool)
                && mysql_graph.read_csv(&run.output.stdout) > 0
                && mysql_graph_run.is_none()
            {
                mysql_graph_run = Some(run);
            }
        }
        Self {
            runs,
            intent,
            now,
            settings,
            log,
            pg_activity,
            pg_sessions: pg_activity
                .map(|r| pg_sessions(&r.output.stdout, now))
                .unwrap_or_default(),
            processlist,
            mysql_sessions: processlist
                .map(|r| mysql_sessions(&r.output.stdout))
                .unwrap_or_default(),
            pg_graph,
            pg_graph_from_log,
            mysql_graph,
            mysql_graph_run,
        }
    }

    /// Sessions waiting on a lock in either engine's wait graph.
    pub fn lock_waiters(&self) -> Vec<u64> {
        let mut all = self.pg_graph.waiters();
        all.extend(self.mysql_graph.waiters());
        all
    }

    /// Root blockers of either engine's wait graph.
    pub fn lock_roots(&self) -> Vec<u64> {
        self.pg_graph
            .roots()
            .iter()
            .chain(self.mysql_graph.roots().iter())
            .map(|r| r.pid)
            .collect()
    }

    /// The last run of a tool that succeeded.
    pub fn ok(&self, tool: &str) -> Option<&'a ToolRun> {
        self.runs
            .iter()
            .rev()
            .find(|r| r.tool() == tool && r.output.ok())
    }

    /// The last run of a tool, when it failed.
    pub fn failed(&self, tool: &str) -> Option<&'a ToolRun> {
        self.runs
            .iter()
            .rev()
            .find(|r| r.tool() == tool)
            .filter(|r| !r.output.ok())
    }

    /// A setting or counter and the run that reported it.
    pub fn setting(&self, name: &str) -> Option<(&'a ToolRun, &Setting)> {
        self.settings
            .iter()
            .find_map(|(run, s)| s.get(name).map(|v| (*run, v)))
    }

    pub fn number(&self, name: &str) -> Option<f64> {
        self.setting(name)?.1.value.parse().ok()
    }

    /// Whether a timeout setting is known to be 0 (disabled).
    pub fn disabled(&self, name: &str) -> bool {
        self.number(name) == Some(0.0)
    }

    /// Evidence for settings: (command, lines) per reporting run.
    pub fn settings_evidence(&self, names: &[&str]) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for name in names {
            if let Some((run, s)) = self.setting(name) {
                let command = run.command().to_owned();
                match out.iter_mut().find(|(c, _)| *c == command) {
                    Some((_, lines)) => lines.push(s.line.clone()),
                    None => out.push((command, vec![s.line.clone()])),
                }
            }
        }
        out
    }

    pub fn pg_session(&self, pid: u64) -> Option<&Session> {
        self.pg_sessions.iter().find(|s| s.pid == pid)
    }

    pub fn mysql_session(&self, pid: u64) -> Option<&Session> {
        self.mysql_sessions.iter().find(|s| s.pid == pid)
    }
}

/// Adds the output lines of the named settings to a finding's evidence.
pub fn with_settings(
    mut finding: squadron_core::Finding,
    cx: &Context<'_>,
    names: &[&str],
) -> squadron_core::Finding {
    for (command, lines) in cx.settings_evidence(names) {
        finding = finding.evidence(&command, lines);
    }
    finding
}

/// How a timeout setting reads in prose: `is 0 (disabled)`, `is 5000 ms`.
pub fn setting_phrase(cx: &Context<'_>, name: &str) -> Option<String> {
    let (_, s) = cx.setting(name)?;
    let seconds_per_unit = match s.unit.as_str() {
        "ms" => Some(0.001),
        "s" => Some(1.0),
        "min" => Some(60.0),
        _ => None,
    };
    let value: Option<f64> = s.value.parse().ok();
    Some(match (value, seconds_per_unit) {
        _ if value == Some(0.0) => format!("{name} is 0 (disabled)"),
        (Some(v), Some(k)) => format!(
            "{name} is {} {} ({})",
            s.value,
            s.unit,
            super::time::human(v * k)
        ),
        _ if s.unit.is_empty() => format!("{name} is {}", s.value),
        _ => format!("{name} is {} {}", s.value, s.unit),
    })
}
