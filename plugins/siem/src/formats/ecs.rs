//! Elastic Common Schema JSON (ECS 8.x field names).
//!
//! `@timestamp` is the start time in UTC; `event.kind` is `event` (`state` for checkpoints);
//! `event.category`/`event.type` come from the kind and status:
//!
//! | kind | category | type |
//! |---|---|---|
//! | `tool_run` | `process` | `start` (started), `denied` (denied/rejected), else `end` |
//! | `denied` | `process` | `denied` |
//! | `approval` | `process` | `allowed` (approved), `denied` (rejected), else `info` |
//! | `admin` | `configuration` | `creation`/`deletion`/`access`/`change` from the verb |
//! | `chat` | `session` | `info` |
//! | other | `process` | `info` |
//!
//! `event.action` is the action (`tool_run`, `node.create`...), `event.outcome`
//! success/failure/unknown, `event.duration` in nanoseconds, `event.sequence` the chain
//! seq. `user.id`/`user.name` are the chat user id and display name, `host.name` the node
//! (the control plane for events without one, which is also `observer.hostname`),
//! `process.command_line` the canonical command. `labels` carry squad, conversation,
//! channel, platform and agent; `squadron.*` the chain (seq, hash, prev_hash) and the
//! native fields ECS has no place for.

use chrono::{SecondsFormat, Utc};
use serde::Serialize;
use squadron_store::{AuditCheckpoint, AuditEvent};

use super::{
    Origin, Outcome, Severity, Verb, action, admin_verb, non_empty, opt, parse_time, to_json,
};

/// The ECS version the records follow.
pub(crate) const ECS_VERSION: &str = "8.11.0";

#[derive(Serialize)]
struct Record<'a> {
    #[serde(rename = "@timestamp")]
    timestamp: String,
    ecs: Version,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    event: Event<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<User<'a>>,
    host: Host<'a>,
    observer: Observer<'a>,
    service: Service<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    process: Option<Process<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    labels: Option<Labels<'a>>,
    squadron: Chain<'a>,
}

#[derive(Serialize)]
struct Version {
    version: &'static str,
}

#[derive(Serialize)]
struct Event<'a> {
    kind: &'static str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    category: &'static [&'static str],
    #[serde(rename = "type", skip_serializing_if = "<[_]>::is_empty")]
    kind_type: &'static [&'static str],
    action: &'a str,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    sequence: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration: Option<i64>,
    severity: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    dataset: &'static str,
    provider: &'static str,
}

#[derive(Serialize)]
struct User<'a> {
    id: &'a str,
    name: &'a str,
}

#[derive(Serialize)]
struct Host<'a> {
    name: &'a str,
}

#[derive(Serialize)]
struct Observer<'a> {
    hostname: &'a str,
    product: &'static str,
    vendor: &'static str,
    version: &'a str,
}

#[derive(Serialize)]
struct Service<'a> {
    name: &'static str,
    version: &'a str,
}

#[derive(Serialize)]
struct Process<'a> {
    command_line: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    exit_code: Option<i32>,
}

#[derive(Serialize)]
struct Labels<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    squad: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    conversation: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    channel: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    platform: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    agent: Option<&'a str>,
}

/// `squadron.*`: the chain and the native fields ECS has no place for.
#[derive(Serialize, Default)]
struct Chain<'a> {
    seq: i64,
    hash: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    prev_hash: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    node: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    args: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_bytes: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_sha256: Option<&'a str>,
}

/// An RFC 3339 time in UTC (`Z`), as Elasticsearch's default date format reads it; the
/// input unchanged if it does not parse.
fn utc(ts: &str) -> String {
    match parse_time(ts) {
        Some(t) => t
            .with_timezone(&Utc)
            .to_rfc3339_opts(SecondsFormat::AutoSi, true),
        None => ts.to_owned(),
    }
}

/// `event.category` and `event.type` for an event.
fn categorize(e: &AuditEvent, act: &str) -> (&'static [&'static str], &'static [&'static str]) {
    let status = e.status.as_str();
    match e.kind.as_str() {
        "tool_run" => match status {
            "started" => (&["process"], &["start"]),
            "denied" | "rejected" => (&["process"], &["denied"]),
            _ => (&["process"], &["end"]),
        },
        "denied" => (&["process"], &["denied"]),
        "approval" => match status {
            "approved" => (&["process"], &["allowed"]),
            "rejected" | "denied" => (&["process"], &["denied"]),
            _ => (&["process"], &["info"]),
        },
        "admin" => match admin_verb(e, act) {
            Some(Verb::Create) => (&["configuration"], &["creation"]),
            Some(Verb::Delete) => (&["configuration"], &["deletion"]),
            Some(Verb::Read) => (&["configuration"], &["access"]),
            Some(Verb::Update) | None => (&["configuration"], &["change"]),
        },
        "chat" => (&["session"], &["info"]),
        _ => (&["process"], &["info"]),
    }
}

/// ECS `event.severity`: the CEF-like 0-10 number (3 low, 5 medium, 8 high).
fn severity(s: Severity) -> u8 {
    match s {
        Severity::Low => 3,
        Severity::Medium => 5,
        Severity::High => 8,
    }
}

pub(super) fn event(e: &AuditEvent, origin: &Origin) -> String {
    let act = action(e);
    let (category, kind_type) = categorize(e, &act);
    let labels = Labels {
        squad: opt(&e.squad),
        conversation: opt(&e.conversation),
        channel: opt(&e.channel),
        platform: non_empty(Some(&e.platform)),
        agent: opt(&e.agent),
    };
    let has_labels = labels.squad.is_some()
        || labels.conversation.is_some()
        || labels.channel.is_some()
        || labels.platform.is_some()
        || labels.agent.is_some();
    let record = Record {
        timestamp: utc(&e.ts),
        ecs: Version {
            version: ECS_VERSION,
        },
        message: opt(&e.command).or(opt(&e.reason)),
        event: Event {
            kind: "event",
            category,
            kind_type,
            action: &act,
            outcome: Outcome::of(&e.status).word(),
            id: non_empty(Some(&e.id)),
            sequence: e.seq,
            start: Some(utc(&e.ts)),
            end: e.end_ts.as_deref().map(utc),
            duration: e.duration_ms.and_then(|ms| ms.checked_mul(1_000_000)),
            severity: severity(Severity::of(&e.status)),
            reason: opt(&e.reason),
            dataset: "squadron.audit",
            provider: "squadron",
        },
        user: non_empty(Some(&e.actor)).map(|id| User {
            id,
            name: opt(&e.actor_name).unwrap_or(id),
        }),
        host: Host {
            name: opt(&e.node).unwrap_or(&origin.host),
        },
        observer: observer(origin),
        service: Service {
            name: "squadron",
            version: &origin.version,
        },
        process: opt(&e.command).map(|command_line| Process {
            command_line,
            exit_code: e.exit_code,
        }),
        labels: has_labels.then_some(labels),
        squadron: Chain {
            seq: e.seq,
            hash: &e.hash,
            prev_hash: Some(&e.prev_hash),
            kind: Some(&e.kind),
            status: Some(&e.status),
            tool: opt(&e.tool),
            node: opt(&e.node),
            args: opt(&e.args),
            context: opt(&e.context),
            output: opt(&e.output),
            output_bytes: e.output_bytes,
            output_sha256: opt(&e.output_sha256),
        },
    };
    to_json(&record)
}

fn observer(origin: &Origin) -> Observer<'_> {
    Observer {
        hostname: &origin.host,
        product: "Squadron",
        vendor: "Squadron",
        version: &origin.version,
    }
}

pub(super) fn checkpoint(cp: &AuditCheckpoint, origin: &Origin) -> String {
    let message = format!("audit chain head at seq {}", cp.seq);
    let record = Record {
        timestamp: utc(&cp.ts),
        ecs: Version {
            version: ECS_VERSION,
        },
        message: Some(&message),
        event: Event {
            kind: "state",
            category: &[],
            kind_type: &[],
            action: "checkpoint",
            outcome: "success",
            id: None,
            sequence: cp.seq,
            start: None,
            end: None,
            duration: None,
            severity: severity(Severity::Low),
            reason: None,
            dataset: "squadron.audit",
            provider: "squadron",
        },
        user: None,
        host: Host { name: &origin.host },
        observer: observer(origin),
        service: Service {
            name: "squadron",
            version: &origin.version,
        },
        process: None,
        labels: None,
        squadron: Chain {
            seq: cp.seq,
            hash: &cp.head_hash,
            kind: Some("checkpoint"),
            ..Chain::default()
        },
    };
    to_json(&record)
}
