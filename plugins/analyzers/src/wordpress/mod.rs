//! The wordpress squad's analyzer (being written: see the squad engine issue).

use squadron_core::{Analyzer, Finding, Investigation};

/// Reads the wordpress squad's tool output.
#[derive(Debug, Clone, Copy, Default)]
pub struct WordpressAnalyzer;

impl Analyzer for WordpressAnalyzer {
    fn id(&self) -> &'static str {
        "wordpress"
    }

    fn diagnose(&self, _investigation: &mut Investigation<'_>) -> Vec<Finding> {
        Vec::new()
    }
}
