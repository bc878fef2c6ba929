//! Deterministic analyzers for the built-in squads. Each reads what the tools printed
//! (statuses, reasons, exit codes, events, log errors, lock graphs, counts against limits)
//! and says what is wrong and how to fix it; none knows any particular incident.
//!
//! # Layout
//!
//! - [`parse`]: readers for the shapes tools print: aligned tables, CSV, key-value lines.
//! - [`k8s`], [`database`], [`security`], [`wordpress`]: one analyzer per squad.
//!
//! [`all`] is the one list of every analyzer; the control plane's registry reads it.

use std::sync::Arc;

use squadron_core::Analyzer;

pub mod database;
pub mod k8s;
pub mod parse;
pub mod security;
pub mod wordpress;

/// Every analyzer this crate provides.
pub fn all() -> Vec<Arc<dyn Analyzer>> {
    vec![
        Arc::new(k8s::K8sAnalyzer),
        Arc::new(database::DatabaseAnalyzer),
        Arc::new(security::SecurityAnalyzer),
        Arc::new(wordpress::WordpressAnalyzer),
    ]
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    #[test]
    fn analyzer_ids_are_unique() {
        let ids: Vec<&str> = super::all().iter().map(|a| a.id()).collect();
        let unique: BTreeSet<&str> = ids.iter().copied().collect();
        assert_eq!(ids.len(), unique.len(), "{ids:?}");
    }
}
