//! Audit events (and chain checkpoints) as SIEM records: JSONL, CEF, OCSF, ECS and RFC 5424.
//!
//! [`render`] turns one [`AuditEvent`] into one record without a trailing newline: CEF and
//! syslog are single lines, JSON is compact. [`render_checkpoint`] does the same for an
//! [`AuditCheckpoint`] (sequence number and head hash) so a SIEM can tell a truncated tail
//! from a quiet period.
//!
//! Shared mapping, used by every format:
//!
//! - severity from the status: `ok`, `approved`, `started` are low; `error`, `timeout`,
//!   `lost` (and unknown statuses) medium; `denied`, `rejected` high;
//! - outcome: `ok`/`approved` succeed, `error`/`timeout`/`lost`/`denied`/`rejected` fail,
//!   anything else (`started`) is unknown;
//! - action: the event kind (`tool_run`, `denied`, `approval`, `chat`), except for `admin`
//!   events, whose action is the first two words of the reason (`node create x` gives
//!   `node.create`).

mod cef;
mod ecs;
mod jsonl;
mod ocsf;
mod syslog;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset};
use squadron_store::{AuditCheckpoint, AuditEvent};

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// The native events, one JSON object a line.
    Jsonl,
    /// ArcSight Common Event Format.
    Cef,
    /// Open Cybersecurity Schema Framework 1.x JSON.
    Ocsf,
    /// Elastic Common Schema JSON.
    Ecs,
    /// RFC 5424 syslog with structured data (`rfc5424` is accepted too).
    #[serde(alias = "rfc5424")]
    Syslog,
}

impl Format {
    /// Every format, in the order the CLI lists them.
    pub const ALL: [Format; 5] = [
        Format::Jsonl,
        Format::Cef,
        Format::Ocsf,
        Format::Ecs,
        Format::Syslog,
    ];

    /// The name the CLI and the configuration use.
    pub fn name(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::Cef => "cef",
            Format::Ocsf => "ocsf",
            Format::Ecs => "ecs",
            Format::Syslog => "syslog",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A format name that is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown export format `{0}`: use jsonl, cef, ocsf, ecs or syslog (alias rfc5424)")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "jsonl" => Ok(Format::Jsonl),
            "cef" => Ok(Format::Cef),
            "ocsf" => Ok(Format::Ocsf),
            "ecs" => Ok(Format::Ecs),
            "syslog" | "rfc5424" => Ok(Format::Syslog),
            _ => Err(UnknownFormat(s.to_owned())),
        }
    }
}

/// Context that is not in the event: the control plane's host name and product version.
#[derive(Debug, Clone)]
pub struct Origin {
    pub host: String,
    pub version: String,
}

/// One event as one record, without a trailing newline (CEF and syslog are single lines;
/// JSON is compact).
pub fn render(event: &AuditEvent, format: Format, origin: &Origin) -> String {
    match format {
        Format::Jsonl => jsonl::event(event),
        Format::Cef => cef::event(event, origin),
        Format::Ocsf => ocsf::event(event, origin),
        Format::Ecs => ecs::event(event, origin),
        Format::Syslog => syslog::event(event, origin),
    }
}

/// A chain checkpoint (seq + head hash) as one record of the same format, so SIEMs can
/// detect a truncated tail.
pub fn render_checkpoint(cp: &AuditCheckpoint, format: Format, origin: &Origin) -> String {
    match format {
        Format::Jsonl => jsonl::checkpoint(cp),
        Format::Cef => cef::checkpoint(cp, origin),
        Format::Ocsf => ocsf::checkpoint(cp, origin),
        Format::Ecs => ecs::checkpoint(cp, origin),
        Format::Syslog => syslog::checkpoint(cp, origin),
    }
}

/// How much an event matters to a SIEM, derived from its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub(crate) fn of(status: &str) -> Severity {
        match status {
            "ok" | "approved" | "started" => Severity::Low,
            "denied" | "rejected" => Severity::High,
            _ => Severity::Medium,
        }
    }
}

/// Whether the event's action succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Success,
    Failure,
    Unknown,
}

impl Outcome {
    pub(crate) fn of(status: &str) -> Outcome {
        match status {
            "ok" | "approved" => Outcome::Success,
            "error" | "timeout" | "lost" | "denied" | "rejected" => Outcome::Failure,
            _ => Outcome::Unknown,
        }
    }

    /// `success`, `failure` or `unknown` (the ECS and CEF spelling).
    pub(crate) fn word(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Unknown => "unknown",
        }
    }
}

/// What the event did: the kind, or for `admin` events the first two words of the reason
/// joined by a dot (`node create web-1` gives `node.create`).
pub(crate) fn action(e: &AuditEvent) -> Cow<'_, str> {
    if e.kind == "admin"
        && let Some(reason) = e.reason.as_deref()
    {
        let words: Vec<&str> = reason.split_whitespace().take(2).collect();
        if !words.is_empty() {
            return Cow::Owned(words.join("."));
        }
    }
    Cow::Borrowed(&e.kind)
}

/// The CRUD verb of an `admin` action (`node.create` is Create), if it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verb {
    Create,
    Read,
    Update,
    Delete,
}

pub(crate) fn admin_verb(e: &AuditEvent, act: &str) -> Option<Verb> {
    if e.kind != "admin" {
        return None;
    }
    match act.rsplit('.').next().unwrap_or(act) {
        "create" | "deploy" | "link" | "add" | "register" => Some(Verb::Create),
        "show" | "list" | "get" | "read" | "export" => Some(Verb::Read),
        "update" | "set" | "rotate" | "edit" | "rename" => Some(Verb::Update),
        "revoke" | "unlink" | "delete" | "remove" | "undeploy" => Some(Verb::Delete),
        _ => None,
    }
}

/// `s` unless it is missing or empty.
pub(crate) fn opt(s: &Option<String>) -> Option<&str> {
    non_empty(s.as_deref())
}

/// Parses an RFC 3339 time as the store writes it.
pub(crate) fn parse_time(ts: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(ts).ok()
}

/// Milliseconds since the Unix epoch of an RFC 3339 time.
pub(crate) fn epoch_ms(ts: &str) -> Option<i64> {
    parse_time(ts).map(|t| t.timestamp_millis())
}

/// `Some(s)` unless `s` is missing or empty.
pub(crate) fn non_empty(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.is_empty())
}

/// Replaces each line break (`\r\n`, `\n` or `\r`) with one space, for single-line records.
pub(crate) fn fold_lines(s: &str) -> Cow<'_, str> {
    if !s.contains(['\n', '\r']) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.replace("\r\n", " ").replace(['\n', '\r'], " "))
}

/// Compact JSON of a value whose serialization cannot fail (string keys, no maps with
/// non-string keys); falls back to an error object rather than panicking.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value)
        .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }).to_string())
}
