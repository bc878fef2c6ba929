//! RFC 5424 records read back with the independent parser: every field round-trips.

use super::syslog_parser::parse;
use super::{admin, checkpoint, denied, origin, samples, tool_run};
use crate::formats::{Format, Origin, render, render_checkpoint};

const ID: &str = "squadron@32473";

#[test]
fn tool_run_round_trips() {
    let e = tool_run();
    let line = render(&e, Format::Syslog, &origin());
    let m = parse(&line).unwrap_or_else(|err| panic!("{err}: {line}"));
    assert_eq!((m.facility, m.severity), (10, 6));
    assert_eq!(m.timestamp.as_deref(), Some("2026-03-01T12:34:56.789Z"));
    assert_eq!(m.hostname.as_deref(), Some("cp-1.example.com"));
    assert_eq!(m.app_name.as_deref(), Some("squadron"));
    assert_eq!(m.procid, None);
    assert_eq!(m.msgid.as_deref(), Some("tool_run"));
    assert_eq!(m.sd.len(), 1);
    for (name, value) in [
        ("id", "evt_01"),
        ("seq", "42"),
        ("kind", "tool_run"),
        ("status", "ok"),
        ("actor", "U123"),
        ("platform", "slack"),
        ("squad", "k8s"),
        ("node", "node-1"),
        ("tool", "pod_logs"),
        ("exit_code", "0"),
        ("duration_ms", "1212"),
        ("hash", e.hash.as_str()),
        ("prev_hash", e.prev_hash.as_str()),
    ] {
        assert_eq!(m.param(ID, name), Some(value), "{name}");
    }
    assert_eq!(m.param(ID, "reason"), None);
    assert_eq!(m.msg, e.command);
}

#[test]
fn denied_folds_the_reason_and_keeps_the_offset() {
    let line = render(&denied(), Format::Syslog, &origin());
    let m = parse(&line).unwrap_or_else(|err| panic!("{err}: {line}"));
    assert_eq!((m.facility, m.severity), (10, 4));
    assert_eq!(m.timestamp.as_deref(), Some("2026-03-01T12:35:00+02:00"));
    assert_eq!(
        m.msg.as_deref(),
        Some("node `ghost` is unknown ask an admin")
    );
    assert_eq!(m.param(ID, "exit_code"), None);

    let with_command = squadron_store::AuditEvent {
        command: Some("uname -a".into()),
        ..denied()
    };
    let m = parse(&render(&with_command, Format::Syslog, &origin())).expect("parse");
    assert_eq!(m.msg.as_deref(), Some("uname -a"));
    assert_eq!(
        m.param(ID, "reason"),
        Some("node `ghost` is unknown ask an admin")
    );
}

#[test]
fn admin_without_node() {
    let m = parse(&render(&admin(), Format::Syslog, &origin())).expect("parse");
    assert_eq!(m.msgid.as_deref(), Some("admin"));
    assert_eq!(m.param(ID, "node"), None);
    assert_eq!(m.msg.as_deref(), Some("node create web-1"));
}

#[test]
fn nil_and_limits() {
    let o = Origin {
        host: format!("hôte {}", "x".repeat(300)),
        version: "1".into(),
    };
    let e = squadron_store::AuditEvent {
        ts: "not a time".into(),
        kind: "k".repeat(40),
        command: None,
        reason: None,
        ..tool_run()
    };
    let line = render(&e, Format::Syslog, &o);
    let m = parse(&line).unwrap_or_else(|err| panic!("{err}: {line}"));
    assert_eq!(m.timestamp, None);
    let host = m.hostname.expect("hostname");
    assert_eq!(host.len(), 255);
    assert!(host.starts_with("h_te_xxx"), "{host}");
    assert_eq!(m.msgid.as_deref(), Some("k".repeat(32).as_str()));
    assert_eq!(m.msg, None);
    let empty = Origin {
        host: String::new(),
        version: String::new(),
    };
    let m = parse(&render(&e, Format::Syslog, &empty)).expect("parse");
    assert_eq!(m.hostname, None);
}

#[test]
fn sub_microsecond_times_are_cut_to_six_digits() {
    let e = squadron_store::AuditEvent {
        ts: "2026-03-01T12:34:56.123456789-05:30".into(),
        ..tool_run()
    };
    let m = parse(&render(&e, Format::Syslog, &origin())).expect("parse");
    assert_eq!(
        m.timestamp.as_deref(),
        Some("2026-03-01T12:34:56.123456-05:30")
    );
}

#[test]
fn every_sample_and_the_checkpoint_parse() {
    let o = origin();
    for e in samples() {
        let line = render(&e, Format::Syslog, &o);
        let m = parse(&line).unwrap_or_else(|err| panic!("{err}: {line}"));
        assert_eq!(m.param(ID, "seq"), Some(e.seq.to_string().as_str()));
        assert_eq!(m.param(ID, "status"), Some(e.status.as_str()));
    }
    let cp = checkpoint();
    let m = parse(&render_checkpoint(&cp, Format::Syslog, &o)).expect("parse");
    assert_eq!(m.msgid.as_deref(), Some("checkpoint"));
    assert_eq!(m.param(ID, "seq"), Some("44"));
    assert_eq!(m.param(ID, "hash"), Some(cp.head_hash.as_str()));
    assert_eq!(m.timestamp.as_deref(), Some("2026-03-01T12:36:00Z"));
    assert_eq!(m.severity, 6);
}
