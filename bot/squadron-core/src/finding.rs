//! What an analyzer concludes from tool output: a finding, the evidence it rests on (quoted
//! from the output, with the command that produced it), and the fix.

use serde::{Deserialize, Serialize};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

/// Lines quoted from one command's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The canonical command line the lines come from.
    pub source: String,
    pub lines: Vec<String>,
}

/// A step the user can take, with an optional block to apply (manifest, SQL, config).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fix {
    pub text: String,
    pub code: Option<CodeBlock>,
}

/// A block of code in an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeBlock {
    /// `yaml`, `sql`, `sh`, `ini`...
    pub lang: String,
    pub body: String,
}

/// One conclusion about the system under investigation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub severity: Severity,
    /// One line: what is wrong.
    pub title: String,
    /// Further sentences explaining why.
    pub details: Vec<String>,
    pub evidence: Vec<Evidence>,
    pub fixes: Vec<Fix>,
}

impl Finding {
    pub fn new(severity: Severity, title: impl Into<String>) -> Self {
        Self {
            severity,
            title: title.into(),
            details: Vec::new(),
            evidence: Vec::new(),
            fixes: Vec::new(),
        }
    }

    pub fn detail(mut self, text: impl Into<String>) -> Self {
        self.details.push(text.into());
        self
    }

    /// Quotes lines from the output of `source` (a canonical command line).
    pub fn evidence<I, S>(mut self, source: &str, lines: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let lines: Vec<String> = lines.into_iter().map(Into::into).collect();
        if !lines.is_empty() {
            self.evidence.push(Evidence {
                source: source.to_owned(),
                lines,
            });
        }
        self
    }

    pub fn fix(mut self, text: impl Into<String>) -> Self {
        self.fixes.push(Fix {
            text: text.into(),
            code: None,
        });
        self
    }

    pub fn fix_with_code(
        mut self,
        text: impl Into<String>,
        lang: &str,
        body: impl Into<String>,
    ) -> Self {
        self.fixes.push(Fix {
            text: text.into(),
            code: Some(CodeBlock {
                lang: lang.to_owned(),
                body: body.into(),
            }),
        });
        self
    }
}
