//! The database squad's analyzer (being written: see the squad engine issue).

use squadron_core::{Analyzer, Finding, Investigation};

/// Reads the database squad's tool output.
#[derive(Debug, Clone, Copy, Default)]
pub struct DatabaseAnalyzer;

impl Analyzer for DatabaseAnalyzer {
    fn id(&self) -> &'static str {
        "database"
    }

    fn diagnose(&self, _investigation: &mut Investigation<'_>) -> Vec<Finding> {
        Vec::new()
    }
}
