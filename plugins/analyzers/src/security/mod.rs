//! The security squad's analyzer (being written: see the squad engine issue).

use squadron_core::{Analyzer, Finding, Investigation};

/// Reads the security squad's tool output.
#[derive(Debug, Clone, Copy, Default)]
pub struct SecurityAnalyzer;

impl Analyzer for SecurityAnalyzer {
    fn id(&self) -> &'static str {
        "security"
    }

    fn diagnose(&self, _investigation: &mut Investigation<'_>) -> Vec<Finding> {
        Vec::new()
    }
}
