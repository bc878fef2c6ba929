//! What a tool run returned, and the treatment every output gets where the tool runs:
//! the named filter (`k8s_data_keys`), the tail of a read file, and the output cap.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::invocation::Invocation;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Ran and exited 0.
    Ok,
    /// Ran and failed (non-zero exit, SQL error, HTTP transport error).
    Error,
    Timeout,
    /// Refused by policy; never ran.
    Denied,
    /// Fate unknown after a disconnect; never re-run.
    Lost,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Ok => "ok",
            RunStatus::Error => "error",
            RunStatus::Timeout => "timeout",
            RunStatus::Denied => "denied",
            RunStatus::Lost => "lost",
        }
    }
}

/// The result of one run, as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolOutput {
    pub status: RunStatus,
    pub exit_code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// Whether the output was cut at the tool's cap.
    pub truncated: bool,
    pub duration_ms: u64,
}

impl ToolOutput {
    /// An output from a finished process (or its equivalent for sql, read_file, http).
    pub fn finished(exit_code: i32, stdout: String, stderr: String) -> Self {
        Self {
            status: if exit_code == 0 {
                RunStatus::Ok
            } else {
                RunStatus::Error
            },
            exit_code: Some(exit_code),
            stdout,
            stderr,
            truncated: false,
            duration_ms: 0,
        }
    }

    /// A run that did not happen, with the reason as stderr.
    pub fn refused(status: RunStatus, reason: impl Into<String>) -> Self {
        Self {
            status,
            exit_code: None,
            stdout: String::new(),
            stderr: reason.into(),
            truncated: false,
            duration_ms: 0,
        }
    }

    pub fn ok(&self) -> bool {
        self.status == RunStatus::Ok
    }

    /// stdout and stderr together, for analyzers that read both.
    pub fn text(&self) -> String {
        match (self.stdout.is_empty(), self.stderr.is_empty()) {
            (_, true) => self.stdout.clone(),
            (true, false) => self.stderr.clone(),
            (false, false) => format!("{}\n{}", self.stdout, self.stderr),
        }
    }
}

/// A call and what it returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolRun {
    pub node: String,
    pub invocation: Invocation,
    pub output: ToolOutput,
}

impl ToolRun {
    pub fn tool(&self) -> &str {
        &self.invocation.tool
    }

    pub fn command(&self) -> &str {
        &self.invocation.canonical
    }

    pub fn arg(&self, name: &str) -> Option<&str> {
        self.invocation.args.get(name).map(String::as_str)
    }
}

/// The last `n` lines of `text`, bytes kept as they are (CRLF stays CRLF; a trailing
/// newline does not start a line of its own).
pub fn tail_lines(text: &str, n: u64) -> String {
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    let body = text.strip_suffix('\n').unwrap_or(text);
    let mut seen = 0;
    for (i, b) in body.bytes().enumerate().rev() {
        if b == b'\n' {
            seen += 1;
            if seen == n {
                return text[i + 1..].to_owned();
            }
        }
    }
    text.to_owned()
}

/// Cuts `text` to at most `max` bytes on a character boundary; true when it cut.
pub fn cap(text: &mut String, max: u64) -> bool {
    let max = usize::try_from(max).unwrap_or(usize::MAX);
    if text.len() <= max {
        return false;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    true
}

/// Applies the tool's filter and cap to a raw output; what every executor calls before it
/// reports a result.
pub fn finish(invocation: &Invocation, mut output: ToolOutput) -> ToolOutput {
    if let Some(filter) = &invocation.filter {
        output.stdout = apply_filter(filter, &output.stdout);
    }
    let cut_out = cap(&mut output.stdout, invocation.max_output);
    let cut_err = cap(&mut output.stderr, invocation.max_output);
    output.truncated |= cut_out || cut_err;
    output
}

/// Applies a named filter. Unknown names were refused when the squad was built.
pub fn apply_filter(filter: &str, stdout: &str) -> String {
    match filter {
        "k8s_data_keys" => k8s_data_keys(stdout),
        _ => stdout.to_owned(),
    }
}

/// Replaces every value under `data`, `binaryData` and `stringData` of ConfigMaps and
/// Secrets with its size, and drops the last-applied annotation that may repeat them:
/// names and keys stay visible, values never leave the node. Output that is not JSON
/// is withheld entirely, since its values cannot be told apart.
fn k8s_data_keys(stdout: &str) -> String {
    let Ok(mut value) = serde_json::from_str::<Value>(stdout) else {
        return if stdout.trim().is_empty() {
            String::new()
        } else {
            "(output withheld: the k8s_data_keys filter only passes JSON)\n".to_owned()
        };
    };
    scrub(&mut value);
    let mut out = serde_json::to_string_pretty(&value).unwrap_or_default();
    out.push('\n');
    out
}

fn scrub(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for key in ["data", "binaryData", "stringData"] {
                if let Some(Value::Object(data)) = map.get_mut(key) {
                    for v in data.values_mut() {
                        let len = v.as_str().map_or(0, str::len);
                        *v = Value::String(format!("<{len} bytes>"));
                    }
                }
            }
            if let Some(Value::Object(annotations)) = map.get_mut("annotations") {
                annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
            }
            for (key, v) in map.iter_mut() {
                if !matches!(key.as_str(), "data" | "binaryData" | "stringData") {
                    scrub(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(scrub),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail_lines("a\nb\nc\n", 2), "b\nc\n");
        assert_eq!(tail_lines("a\nb\nc", 5), "a\nb\nc");
        assert_eq!(tail_lines("a\r\nb\r\n", 1), "b\r\n");
        assert_eq!(tail_lines("", 3), "");
    }

    #[test]
    fn cap_cuts_on_a_char_boundary() {
        let mut s = "héllo".to_owned();
        assert!(cap(&mut s, 2));
        assert_eq!(s, "h");
        let mut t = "ok".to_owned();
        assert!(!cap(&mut t, 2));
    }

    #[test]
    fn secret_values_never_pass_the_k8s_filter() {
        let secret = r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"data\":{\"password\":\"aHVudGVyMg==\"}}"}},"data":{"password":"aHVudGVyMg=="}}"#;
        let out = apply_filter("k8s_data_keys", secret);
        assert!(!out.contains("aHVudGVyMg=="), "{out}");
        assert!(out.contains("password"));
        assert!(out.contains("<12 bytes>"));
        let list = r#"{"kind":"List","items":[{"kind":"ConfigMap","data":{"database.yaml":"host: db\npassword: x\n"}}]}"#;
        let out = apply_filter("k8s_data_keys", list);
        assert!(
            out.contains("database.yaml") && !out.contains("host: db"),
            "{out}"
        );
        assert!(apply_filter("k8s_data_keys", "password: hunter2").contains("withheld"));
    }
}
