//! The k8s squad's analyzer (being written: see the squad engine issue).

use squadron_core::{Analyzer, Finding, Investigation};

/// Reads the k8s squad's tool output.
#[derive(Debug, Clone, Copy, Default)]
pub struct K8sAnalyzer;

impl Analyzer for K8sAnalyzer {
    fn id(&self) -> &'static str {
        "k8s"
    }

    fn diagnose(&self, _investigation: &mut Investigation<'_>) -> Vec<Finding> {
        Vec::new()
    }
}
