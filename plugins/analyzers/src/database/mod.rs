//! The database squad's analyzer: PostgreSQL and MySQL/MariaDB. It reads the squad's sql
//! tools' CSV (by column name, tolerant of other shapes) and the server log, and concludes
//! on locks (the root blocker of a lock queue), connection exhaustion (who holds the slots),
//! slow statements, replication, bloat and index use.
//!
//! # Layout
//!
//! - [`context`]: the turn's runs read once: settings, sessions, the log.
//! - [`pg_locks`], [`pg_waits`], [`mysql_locks`]: lock queues and their root blockers.
//! - [`pg_connections`], [`pg_connection_advice`], [`mysql_connections`]: slots in use
//!   against the limits, and what to do about them.
//! - [`slow`], [`replication`], [`tables`], [`mysql_tables`]: statements, standbys, bloat
//!   and indexes.
//! - [`graph`], [`holders`], [`sessions`], [`settings`], [`logs`], [`time`], [`sqltext`]: readers.
//!
//! [`DatabaseAnalyzer::learn`] also sets entities later playbook steps use:
//! `root_blocker_pid` (for the proposed terminate), `top_application` and
//! `connections_saturated` (for the proposed clean-up of idle sessions), `pg_log_path` and
//! `mysql_log_path` (where the server log really is), `mysql_sys_missing`.

use squadron_core::{Analyzer, Entities, Finding, Investigation, ToolRun};

pub mod context;
pub mod graph;
pub mod holders;
pub mod learn;
pub mod logs;
pub mod mysql_connections;
pub mod mysql_locks;
pub mod mysql_tables;
pub mod pg_connection_advice;
pub mod pg_connections;
pub mod pg_locks;
pub mod pg_waits;
pub mod replication;
pub mod sessions;
pub mod settings;
pub mod slow;
pub mod sqltext;
pub mod tables;
pub mod time;

#[cfg(test)]
mod tests;

use context::Context;

/// Reads the database squad's tool output.
#[derive(Debug, Clone, Copy, Default)]
pub struct DatabaseAnalyzer;

impl Analyzer for DatabaseAnalyzer {
    fn id(&self) -> &'static str {
        "database"
    }

    fn learn(&self, run: &ToolRun, entities: &mut Entities, _message: &str) {
        learn::learn(run, entities);
    }

    fn diagnose(&self, investigation: &mut Investigation<'_>) -> Vec<Finding> {
        let cx = Context::new(investigation.runs, investigation.intent, investigation.now);
        let mut findings = Vec::new();
        findings.extend(pg_locks::findings(&cx));
        findings.extend(mysql_locks::findings(&cx));
        findings.extend(pg_connections::findings(&cx));
        findings.extend(mysql_connections::findings(&cx));
        findings.extend(slow::findings(&cx));
        findings.extend(replication::findings(&cx));
        findings.extend(tables::findings(&cx));
        findings
    }
}
