//! ArcSight CEF: `CEF:0|Squadron|Squadron|<version>|<kind>|<name>|<severity>|<extension>`.
//!
//! Escaping follows the CEF implementation standard: in header fields `\` and `|` get a
//! backslash and line breaks (not allowed there) become spaces; in extension values `\` and
//! `=` get a backslash, and a line feed or carriage return becomes `\n` or `\r`. Keys:
//!
//! | key | value |
//! |---|---|
//! | `rt` / `end` | start / end time, ms since the epoch |
//! | `dvchost` | the control plane (origin host) |
//! | `dhost` | the node the command ran on |
//! | `suid` / `suser` | chat user id / display name (the id when there is no name) |
//! | `act` | the status (`ok`, `denied`...) |
//! | `outcome` | `success`, `failure` or `unknown` |
//! | `externalId` | the event id |
//! | `dproc` | the tool id |
//! | `cs1`..`cs6` | squad, command, hash, prevHash, conversation, channel |
//! | `cn1`..`cn3` | seq, exitCode, durationMs |
//! | `flexString1` / `flexString2` | platform / agent |
//! | `msg` | reason, else command, capped at 1023 characters |
//!
//! Severity: low 3, medium 5, high 8 (on CEF's 0-10 scale). Empty values are left out.

use std::fmt::Write as _;

use squadron_store::{AuditCheckpoint, AuditEvent};

use super::{Origin, Outcome, Severity, action, epoch_ms, non_empty};

/// ArcSight's limit for `msg`, in characters.
pub(crate) const MSG_MAX_CHARS: usize = 1023;

/// CEF's 0-10 severity.
fn severity(s: Severity) -> u8 {
    match s {
        Severity::Low => 3,
        Severity::Medium => 5,
        Severity::High => 8,
    }
}

/// Appends a header field: `\` and `|` escaped, line breaks as spaces.
fn push_header(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '|' => out.push_str("\\|"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
}

/// Appends an extension value: `\` and `=` escaped, CR and LF as `\r` and `\n`.
fn push_value(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '=' => out.push_str("\\="),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// Builds the extension part, one ` key=value` pair at a time.
struct Extension {
    out: String,
    /// No pair written yet (no separating space needed).
    first: bool,
}

impl Extension {
    fn key(&mut self, key: &str) {
        if !std::mem::take(&mut self.first) {
            self.out.push(' ');
        }
        self.out.push_str(key);
    }

    fn pair(&mut self, key: &str, value: &str) {
        if value.is_empty() {
            return;
        }
        self.key(key);
        self.out.push('=');
        push_value(&mut self.out, value);
    }

    fn opt(&mut self, key: &str, value: Option<&str>) {
        if let Some(v) = non_empty(value) {
            self.pair(key, v);
        }
    }

    fn num(&mut self, key: &str, value: Option<i64>) {
        if let Some(v) = value {
            self.key(key);
            // Writing to a String cannot fail.
            let _ = write!(self.out, "={v}");
        }
    }

    /// A labelled custom field (`cs1Label=squad cs1=...`), left out when the value is.
    fn labelled(&mut self, key: &str, label: &str, value: Option<&str>) {
        if let Some(v) = non_empty(value) {
            self.key(key);
            self.out.push_str("Label=");
            push_value(&mut self.out, label);
            self.pair(key, v);
        }
    }

    fn labelled_num(&mut self, key: &str, label: &str, value: Option<i64>) {
        if value.is_some() {
            self.key(key);
            self.out.push_str("Label=");
            push_value(&mut self.out, label);
            self.num(key, value);
        }
    }
}

/// The header up to and including the `|` before the extension.
fn header(version: &str, class: &str, name: &str, sev: Severity) -> Extension {
    let mut out = String::with_capacity(512);
    out.push_str("CEF:0|Squadron|Squadron|");
    push_header(&mut out, version);
    out.push('|');
    push_header(&mut out, class);
    out.push('|');
    push_header(&mut out, name);
    let _ = write!(out, "|{}|", severity(sev));
    Extension { out, first: true }
}

/// `s` cut to at most `max` characters.
pub(crate) fn cap(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

pub(super) fn event(e: &AuditEvent, origin: &Origin) -> String {
    let act = action(e);
    let name = format!("{act} {}", e.status);
    let mut x = header(&origin.version, &e.kind, &name, Severity::of(&e.status));
    x.num("rt", epoch_ms(&e.ts));
    x.num("end", e.end_ts.as_deref().and_then(epoch_ms));
    x.pair("dvchost", &origin.host);
    x.opt("dhost", e.node.as_deref());
    x.pair("suid", &e.actor);
    x.opt(
        "suser",
        non_empty(e.actor_name.as_deref()).or(Some(&e.actor)),
    );
    x.pair("act", &e.status);
    x.pair("outcome", Outcome::of(&e.status).word());
    x.pair("externalId", &e.id);
    x.opt("dproc", e.tool.as_deref());
    x.labelled("cs1", "squad", e.squad.as_deref());
    x.labelled("cs2", "command", e.command.as_deref());
    x.labelled("cs3", "hash", Some(&e.hash));
    x.labelled("cs4", "prevHash", Some(&e.prev_hash));
    x.labelled("cs5", "conversation", e.conversation.as_deref());
    x.labelled("cs6", "channel", e.channel.as_deref());
    x.labelled_num("cn1", "seq", Some(e.seq));
    x.labelled_num("cn2", "exitCode", e.exit_code.map(i64::from));
    x.labelled_num("cn3", "durationMs", e.duration_ms);
    x.labelled("flexString1", "platform", Some(&e.platform));
    x.labelled("flexString2", "agent", e.agent.as_deref());
    let msg = non_empty(e.reason.as_deref()).or(non_empty(e.command.as_deref()));
    x.opt("msg", msg.map(|m| cap(m, MSG_MAX_CHARS)));
    x.out
}

pub(super) fn checkpoint(cp: &AuditCheckpoint, origin: &Origin) -> String {
    let mut x = header(
        &origin.version,
        "checkpoint",
        "audit chain checkpoint",
        Severity::Low,
    );
    x.num("rt", epoch_ms(&cp.ts));
    x.pair("dvchost", &origin.host);
    x.labelled("cs3", "hash", Some(&cp.head_hash));
    x.labelled_num("cn1", "seq", Some(cp.seq));
    x.pair("msg", &format!("audit chain head at seq {}", cp.seq));
    x.out
}
