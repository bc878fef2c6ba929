//! Tests of the export formats: parsers written against the CEF and RFC 5424 specs (not
//! sharing the formatters' code), serde_json checks of the JSON formats, property tests of
//! the escaping, and a throughput figure.

mod cef_parser;
mod cef_tests;
mod json;
mod props;
mod syslog_parser;
mod syslog_tests;
mod throughput;

use squadron_store::{AuditCheckpoint, AuditEvent};

use super::{Format, Origin};

pub(crate) fn origin() -> Origin {
    Origin {
        host: "cp-1.example.com".into(),
        version: "0.1.0".into(),
    }
}

/// A finished tool run with every field set, including awkward characters.
pub(crate) fn tool_run() -> AuditEvent {
    AuditEvent {
        id: "evt_01".into(),
        seq: 42,
        ts: "2026-03-01T12:34:56.789Z".into(),
        end_ts: Some("2026-03-01T12:34:58.001Z".into()),
        duration_ms: Some(1212),
        kind: "tool_run".into(),
        actor: "U123".into(),
        actor_name: Some("Ada | Lovelace".into()),
        platform: "slack".into(),
        channel: Some("C42".into()),
        conversation: Some("conv=7".into()),
        context: Some("why is\nmy pod crashing?".into()),
        squad: Some("k8s".into()),
        agent: Some("k8s".into()),
        node: Some("node-1".into()),
        tool: Some("pod_logs".into()),
        command: Some(r#"kubectl logs -n prod web-0 --since=1h | grep "x\y" ]"#.into()),
        args: Some(r#"{"pod":"web-0"}"#.into()),
        status: "ok".into(),
        exit_code: Some(0),
        output: Some("line 1\nline 2".into()),
        output_bytes: Some(13),
        output_sha256: Some("ab".repeat(32)),
        reason: None,
        prev_hash: "0".repeat(64),
        hash: "f".repeat(64),
    }
}

/// A refused request (kind `denied`).
pub(crate) fn denied() -> AuditEvent {
    AuditEvent {
        id: "evt_02".into(),
        seq: 43,
        ts: "2026-03-01T12:35:00+02:00".into(),
        kind: "denied".into(),
        actor: "U9".into(),
        platform: "discord".into(),
        squad: Some("hostinfo".into()),
        node: Some("ghost".into()),
        tool: Some("uname".into()),
        status: "denied".into(),
        reason: Some("node `ghost` is unknown\r\nask an admin".into()),
        prev_hash: "f".repeat(64),
        hash: "e".repeat(64),
        ..AuditEvent::default()
    }
}

/// An admin action through the API.
pub(crate) fn admin() -> AuditEvent {
    AuditEvent {
        id: "evt_03".into(),
        seq: 44,
        ts: "2026-03-01T12:36:00Z".into(),
        kind: "admin".into(),
        actor: "admin".into(),
        platform: "api".into(),
        status: "ok".into(),
        reason: Some("node create web-1".into()),
        prev_hash: "e".repeat(64),
        hash: "d".repeat(64),
        ..AuditEvent::default()
    }
}

/// Every sample event.
pub(crate) fn samples() -> Vec<AuditEvent> {
    let started = AuditEvent {
        status: "started".into(),
        end_ts: None,
        duration_ms: None,
        exit_code: None,
        output: None,
        ..tool_run()
    };
    let timeout = AuditEvent {
        status: "timeout".into(),
        exit_code: None,
        ..tool_run()
    };
    let approval = AuditEvent {
        kind: "approval".into(),
        status: "approved".into(),
        ..denied()
    };
    let chat = AuditEvent {
        kind: "chat".into(),
        status: "ok".into(),
        context: Some("kernel?".into()),
        ..denied()
    };
    vec![
        tool_run(),
        started,
        timeout,
        denied(),
        admin(),
        approval,
        chat,
    ]
}

pub(crate) fn checkpoint() -> AuditCheckpoint {
    AuditCheckpoint {
        seq: 44,
        head_hash: "d".repeat(64),
        ts: "2026-03-01T12:36:00Z".into(),
    }
}

#[test]
fn format_names_parse_back() {
    for f in Format::ALL {
        assert_eq!(f.name().parse::<Format>(), Ok(f));
        assert_eq!(f.to_string(), f.name());
        let json = serde_json::to_string(&f).expect("serialize");
        assert_eq!(json, format!("\"{}\"", f.name()));
    }
    assert_eq!("rfc5424".parse::<Format>(), Ok(Format::Syslog));
    let alias: Format = serde_json::from_str("\"rfc5424\"").expect("alias");
    assert_eq!(alias, Format::Syslog);
    assert_eq!(" CEF ".parse::<Format>(), Ok(Format::Cef));
    let err = "xml".parse::<Format>().expect_err("xml is not a format");
    let text = err.to_string();
    for name in ["jsonl", "cef", "ocsf", "ecs", "syslog", "xml"] {
        assert!(text.contains(name), "{text}");
    }
}

#[test]
fn every_record_is_one_line() {
    let o = origin();
    for f in Format::ALL {
        for e in samples() {
            let line = super::render(&e, f, &o);
            assert!(!line.contains(['\n', '\r']), "{f}: {line}");
            assert!(!line.is_empty());
        }
        let line = super::render_checkpoint(&checkpoint(), f, &o);
        assert!(!line.contains(['\n', '\r']), "{f}: {line}");
    }
}

#[test]
#[ignore = "prints sample records"]
fn print_samples() {
    let o = origin();
    for f in Format::ALL {
        for e in [tool_run(), denied(), admin()] {
            println!("{}", super::render(&e, f, &o));
        }
        println!("{}", super::render_checkpoint(&checkpoint(), f, &o));
    }
}
