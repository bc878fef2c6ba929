//! The squads and analyzers an engine knows, by id.

use std::collections::BTreeMap;
use std::sync::Arc;

use squadron_core::{Analyzer, Squad};

/// Squads and analyzer plugins, validated together.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    squads: BTreeMap<String, Arc<Squad>>,
    analyzers: BTreeMap<String, Arc<dyn Analyzer>>,
}

impl Catalog {
    pub fn new(squads: Vec<Squad>, analyzers: Vec<Arc<dyn Analyzer>>) -> Self {
        Self {
            squads: squads
                .into_iter()
                .map(|s| (s.id.clone(), Arc::new(s)))
                .collect(),
            analyzers: analyzers
                .into_iter()
                .map(|a| (a.id().to_owned(), a))
                .collect(),
        }
    }

    pub fn squad(&self, id: &str) -> Option<&Arc<Squad>> {
        self.squads.get(id)
    }

    pub fn squads(&self) -> impl Iterator<Item = &Arc<Squad>> {
        self.squads.values()
    }

    /// The analyzers a squad names, in its order.
    pub fn analyzers_for(&self, squad: &Squad) -> Vec<Arc<dyn Analyzer>> {
        squad
            .analyzers
            .iter()
            .filter_map(|id| self.analyzers.get(id).cloned())
            .collect()
    }
}
