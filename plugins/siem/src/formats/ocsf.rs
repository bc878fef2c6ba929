//! OCSF 1.x JSON: tool runs as Process Activity, everything else as API Activity.
//!
//! - `tool_run` events are **Process Activity** (`class_uid` 1007, category 1 System
//!   Activity, activity 1 Launch): `actor.user` is the chat user, `device` the node,
//!   `process.cmd_line` the canonical command, `process.uid` the event id (the schema asks
//!   for a pid or uid; the run has no pid of ours), `exit_code` when it finished.
//! - `denied`, `admin`, `approval`, `chat` and unknown kinds are **API Activity**
//!   (`class_uid` 6003, category 6 Application Activity): `api.operation` is the action
//!   (`node.create`, or `squad.tool` when the event names both), `src_endpoint.name` the chat
//!   platform, `dst_endpoint.hostname` the node. Admin verbs map to Create/Read/Update/
//!   Delete; other kinds are activity 99 Other named after the kind.
//! - Checkpoints are **Event Log Activity** (1008, activity 99 Other, "Checkpoint").
//!
//! Every record has the base attributes (`activity_id`, `category_uid`, `class_uid`,
//! `type_uid` = class*100+activity, `severity_id` 2/3/4 for low/medium/high, `time` in ms,
//! `metadata.product`, `metadata.version`) and `status_id` 1 Success / 2 Failure / 0
//! Unknown, with the raw status in `status_code` and the reason in `status_detail`. The
//! whole native event (with the chain fields seq, hash, prev_hash) is `unmapped.squadron`.

use serde::Serialize;
use squadron_store::{AuditCheckpoint, AuditEvent};

use super::{Origin, Outcome, Severity, Verb, action, admin_verb, epoch_ms, non_empty, to_json};

/// The OCSF schema version the records follow.
pub(crate) const OCSF_VERSION: &str = "1.3.0";

#[derive(Serialize)]
struct Record<'a, U: Serialize> {
    activity_id: u8,
    activity_name: &'a str,
    category_uid: u8,
    category_name: &'static str,
    class_uid: u32,
    class_name: &'static str,
    type_uid: u32,
    type_name: String,
    severity_id: u8,
    severity: &'static str,
    time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration: Option<i64>,
    status_id: u8,
    status: &'static str,
    status_code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_detail: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    metadata: Metadata<'a>,
    actor: Actor<'a>,
    device: Device<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    process: Option<Process<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exit_code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    api: Option<Api>,
    #[serde(skip_serializing_if = "Option::is_none")]
    src_endpoint: Option<Endpoint<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dst_endpoint: Option<Endpoint<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_name: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_provider: Option<&'static str>,
    unmapped: Unmapped<U>,
}

#[derive(Serialize)]
struct Metadata<'a> {
    version: &'static str,
    product: Product<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uid: Option<&'a str>,
    sequence: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    correlation_uid: Option<&'a str>,
    log_name: &'static str,
}

impl<'a> Metadata<'a> {
    fn new(origin: &'a Origin, sequence: i64) -> Self {
        Metadata {
            version: OCSF_VERSION,
            product: Product {
                name: "Squadron",
                vendor_name: "Squadron",
                version: &origin.version,
            },
            uid: None,
            sequence,
            correlation_uid: None,
            log_name: "audit",
        }
    }
}

#[derive(Serialize)]
struct Product<'a> {
    name: &'static str,
    vendor_name: &'static str,
    version: &'a str,
}

#[derive(Serialize)]
struct Actor<'a> {
    user: User<'a>,
}

#[derive(Serialize)]
struct User<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    uid: Option<&'a str>,
    name: &'a str,
    type_id: u8,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct Device<'a> {
    hostname: &'a str,
    type_id: u8,
    #[serde(rename = "type")]
    kind: &'static str,
}

impl<'a> Device<'a> {
    /// A host of unknown type (`type_id` is required; nodes may be servers, VMs or pods).
    fn unknown(hostname: &'a str) -> Self {
        Device {
            hostname,
            type_id: 0,
            kind: "Unknown",
        }
    }
}

#[derive(Serialize)]
struct Process<'a> {
    uid: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cmd_line: Option<&'a str>,
}

#[derive(Serialize)]
struct Api {
    operation: String,
    service: Service,
}

#[derive(Serialize)]
struct Service {
    name: &'static str,
}

#[derive(Serialize)]
struct Endpoint<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hostname: Option<&'a str>,
}

/// Where the native fields OCSF has no place for go: the whole event, or for a
/// checkpoint its seq and head hash.
#[derive(Serialize)]
struct Unmapped<U> {
    squadron: U,
}

#[derive(Serialize)]
struct Head<'a> {
    seq: i64,
    head_hash: &'a str,
}

fn severity(s: Severity) -> (u8, &'static str) {
    match s {
        Severity::Low => (2, "Low"),
        Severity::Medium => (3, "Medium"),
        Severity::High => (4, "High"),
    }
}

fn status(o: Outcome) -> (u8, &'static str) {
    match o {
        Outcome::Success => (1, "Success"),
        Outcome::Failure => (2, "Failure"),
        Outcome::Unknown => (0, "Unknown"),
    }
}

/// The API Activity id and caption for an action.
fn api_activity(e: &AuditEvent, act: &str) -> (u8, String) {
    match admin_verb(e, act) {
        Some(Verb::Create) => (1, "Create".to_owned()),
        Some(Verb::Read) => (2, "Read".to_owned()),
        Some(Verb::Update) => (3, "Update".to_owned()),
        Some(Verb::Delete) => (4, "Delete".to_owned()),
        None => (99, act.to_owned()),
    }
}

/// `squad.tool` when the event names both (and is not an admin action), else the action.
fn operation(e: &AuditEvent, act: &str) -> String {
    match (non_empty(e.squad.as_deref()), non_empty(e.tool.as_deref())) {
        (Some(s), Some(t)) if e.kind != "admin" => format!("{s}.{t}"),
        _ => act.to_owned(),
    }
}

pub(super) fn event(e: &AuditEvent, origin: &Origin) -> String {
    let act = action(e);
    let run = e.kind == "tool_run";
    let (class_uid, class_name, category_uid, category_name) = if run {
        (1007, "Process Activity", 1, "System Activity")
    } else {
        (6003, "API Activity", 6, "Application Activity")
    };
    let (activity_id, activity_name) = if run {
        (1, "Launch".to_owned())
    } else {
        api_activity(e, &act)
    };
    let (severity_id, severity) = severity(Severity::of(&e.status));
    let (status_id, status) = status(Outcome::of(&e.status));
    let admin = e.kind == "admin";
    let node = non_empty(e.node.as_deref());
    let record = Record {
        activity_id,
        type_name: format!("{class_name}: {activity_name}"),
        activity_name: &activity_name,
        category_uid,
        category_name,
        class_uid,
        class_name,
        type_uid: class_uid * 100 + u32::from(activity_id),
        severity_id,
        severity,
        time: epoch_ms(&e.ts).unwrap_or(0),
        end_time: e.end_ts.as_deref().and_then(epoch_ms),
        duration: e.duration_ms,
        status_id,
        status,
        status_code: &e.status,
        status_detail: non_empty(e.reason.as_deref()),
        message: non_empty(e.command.as_deref()).or(non_empty(e.reason.as_deref())),
        metadata: Metadata {
            uid: non_empty(Some(&e.id)),
            correlation_uid: non_empty(e.conversation.as_deref()),
            ..Metadata::new(origin, e.seq)
        },
        actor: Actor {
            user: User {
                uid: non_empty(Some(&e.actor)),
                name: non_empty(e.actor_name.as_deref()).unwrap_or(&e.actor),
                type_id: if admin { 2 } else { 1 },
                kind: if admin { "Admin" } else { "User" },
            },
        },
        device: Device::unknown(if run {
            node.unwrap_or(&origin.host)
        } else {
            &origin.host
        }),
        process: run.then(|| Process {
            uid: &e.id,
            name: non_empty(e.tool.as_deref()),
            cmd_line: non_empty(e.command.as_deref()),
        }),
        exit_code: if run { e.exit_code } else { None },
        api: (!run).then(|| Api {
            operation: operation(e, &act),
            service: Service { name: "squadron" },
        }),
        src_endpoint: (!run).then(|| Endpoint {
            name: Some(non_empty(Some(&e.platform)).unwrap_or("unknown")),
            hostname: None,
        }),
        dst_endpoint: node.filter(|_| !run).map(|n| Endpoint {
            name: None,
            hostname: Some(n),
        }),
        log_name: None,
        log_provider: None,
        unmapped: Unmapped { squadron: e },
    };
    to_json(&record)
}

pub(super) fn checkpoint(cp: &AuditCheckpoint, origin: &Origin) -> String {
    let message = format!("audit chain head at seq {}", cp.seq);
    let record = Record {
        activity_id: 99,
        activity_name: "Checkpoint",
        category_uid: 1,
        category_name: "System Activity",
        class_uid: 1008,
        class_name: "Event Log Activity",
        type_uid: 100_899,
        type_name: "Event Log Activity: Checkpoint".to_owned(),
        severity_id: 1,
        severity: "Informational",
        time: epoch_ms(&cp.ts).unwrap_or(0),
        end_time: None,
        duration: None,
        status_id: 1,
        status: "Success",
        status_code: "ok",
        status_detail: None,
        message: Some(&message),
        metadata: Metadata::new(origin, cp.seq),
        actor: Actor {
            user: User {
                uid: None,
                name: "squadron",
                type_id: 3,
                kind: "System",
            },
        },
        device: Device::unknown(&origin.host),
        process: None,
        exit_code: None,
        api: None,
        src_endpoint: None,
        dst_endpoint: None,
        log_name: Some("audit"),
        log_provider: Some("Squadron"),
        unmapped: Unmapped {
            squadron: Head {
                seq: cp.seq,
                head_hash: &cp.head_hash,
            },
        },
    };
    to_json(&record)
}
