//! RFC 5424 syslog: `<PRI>1 TIMESTAMP HOSTNAME squadron - MSGID [squadron@32473 ...] MSG`.
//!
//! - PRI = facility authpriv (10) * 8 + severity: low 6 (informational), medium 5
//!   (notice), high 4 (warning).
//! - TIMESTAMP is the event's start time with its offset (`Z` for UTC) and at most six
//!   fraction digits; `-` if it does not parse.
//! - HOSTNAME is the control plane (origin host), APP-NAME `squadron`, PROCID `-`, MSGID the
//!   event kind (`checkpoint` for checkpoints); characters outside printable US-ASCII become
//!   `_`, lengths are cut to 255 and 32, and an empty value is the NILVALUE `-`.
//! - One SD-ELEMENT `squadron@32473` (the RFC 5612 documentation enterprise number) with
//!   `id seq kind status actor platform squad node tool exit_code duration_ms hash
//!   prev_hash` and `reason` when MSG is the command; empty values are left out. In
//!   PARAM-VALUEs `"`, `\` and `]` get a backslash; line breaks become spaces.
//! - MSG is the command, else the reason, with line breaks folded to spaces; left out when
//!   there is neither. It is UTF-8 without a BOM.

use std::fmt::Write as _;

use chrono::{Datelike, SecondsFormat, Timelike};
use squadron_store::{AuditCheckpoint, AuditEvent};

use super::{Origin, Severity, fold_lines, opt, parse_time};

/// The facility: security/authorization messages (`authpriv`).
pub(crate) const FACILITY: u8 = 10;
/// The SD-ID of our structured data element.
pub(crate) const SD_ID: &str = "squadron@32473";
/// RFC 5424 field limits.
pub(crate) const HOSTNAME_MAX: usize = 255;
pub(crate) const MSGID_MAX: usize = 32;

fn severity(s: Severity) -> u8 {
    match s {
        Severity::Low => 6,
        Severity::Medium => 5,
        Severity::High => 4,
    }
}

/// An RFC 5424 TIMESTAMP, or `-`.
fn timestamp(ts: &str) -> String {
    let Some(mut t) = parse_time(ts) else {
        return "-".to_owned();
    };
    // RFC 5424 forbids leap seconds; chrono shows one as a nanosecond count >= 1e9.
    if t.nanosecond() >= 1_000_000_000 {
        t = t.with_nanosecond(999_999_999).unwrap_or(t);
    }
    if !(0..=9999).contains(&t.year()) {
        return "-".to_owned();
    }
    let nanos = t.nanosecond();
    let digits = if nanos == 0 {
        SecondsFormat::Secs
    } else if nanos % 1_000_000 == 0 {
        SecondsFormat::Millis
    } else {
        SecondsFormat::Micros
    };
    t.to_rfc3339_opts(digits, true)
}

/// A header field: printable US-ASCII only (others become `_`), at most `max` characters,
/// `-` when empty.
fn header_name(s: &str, max: usize) -> String {
    let name: String = s
        .chars()
        .take(max)
        .map(|c| if c.is_ascii_graphic() { c } else { '_' })
        .collect();
    if name.is_empty() {
        "-".to_owned()
    } else {
        name
    }
}

/// Builds the structured data element.
struct Sd {
    out: String,
}

impl Sd {
    fn param(&mut self, name: &str, value: &str) {
        if value.is_empty() {
            return;
        }
        self.out.push(' ');
        self.out.push_str(name);
        self.out.push_str("=\"");
        for c in fold_lines(value).chars() {
            if matches!(c, '"' | '\\' | ']') {
                self.out.push('\\');
            }
            self.out.push(c);
        }
        self.out.push('"');
    }

    fn opt(&mut self, name: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.param(name, v);
        }
    }

    fn num(&mut self, name: &str, value: Option<i64>) {
        if let Some(v) = value {
            // Writing to a String cannot fail.
            let _ = write!(self.out, " {name}=\"{v}\"");
        }
    }
}

/// Everything up to the structured data element's parameters.
fn open(sev: Severity, ts: &str, origin: &Origin, msgid: &str) -> Sd {
    let mut out = String::with_capacity(512);
    let _ = write!(
        out,
        "<{}>1 {} {} squadron - {} [{SD_ID}",
        FACILITY * 8 + severity(sev),
        timestamp(ts),
        header_name(&origin.host, HOSTNAME_MAX),
        header_name(msgid, MSGID_MAX),
    );
    Sd { out }
}

/// Closes the element and appends MSG, if any.
fn close(mut sd: Sd, msg: Option<&str>) -> String {
    sd.out.push(']');
    if let Some(m) = msg.filter(|m| !m.is_empty()) {
        sd.out.push(' ');
        sd.out.push_str(&fold_lines(m));
    }
    sd.out
}

pub(super) fn event(e: &AuditEvent, origin: &Origin) -> String {
    let mut sd = open(Severity::of(&e.status), &e.ts, origin, &e.kind);
    sd.param("id", &e.id);
    sd.num("seq", Some(e.seq));
    sd.param("kind", &e.kind);
    sd.param("status", &e.status);
    sd.param("actor", &e.actor);
    sd.param("platform", &e.platform);
    sd.opt("squad", opt(&e.squad));
    sd.opt("node", opt(&e.node));
    sd.opt("tool", opt(&e.tool));
    sd.num("exit_code", e.exit_code.map(i64::from));
    sd.num("duration_ms", e.duration_ms);
    sd.param("hash", &e.hash);
    sd.param("prev_hash", &e.prev_hash);
    let msg = match opt(&e.command) {
        Some(command) => {
            sd.opt("reason", opt(&e.reason));
            Some(command)
        }
        None => opt(&e.reason),
    };
    close(sd, msg)
}

pub(super) fn checkpoint(cp: &AuditCheckpoint, origin: &Origin) -> String {
    let mut sd = open(Severity::Low, &cp.ts, origin, "checkpoint");
    sd.num("seq", Some(cp.seq));
    sd.param("hash", &cp.head_hash);
    close(sd, Some(&format!("audit chain head at seq {}", cp.seq)))
}
