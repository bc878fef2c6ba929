//! CEF records read back with the independent parser: every field round-trips.

use super::cef_parser::parse;
use super::{admin, checkpoint, denied, origin, samples, tool_run};
use crate::formats::{Format, render, render_checkpoint};

fn ms(ts: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(ts)
        .expect("fixture time")
        .timestamp_millis()
        .to_string()
}

#[test]
fn tool_run_round_trips() {
    let e = tool_run();
    let line = render(&e, Format::Cef, &origin());
    let c = parse(&line).unwrap_or_else(|err| panic!("{err}: {line}"));
    assert_eq!(
        (c.version.as_str(), c.vendor.as_str(), c.product.as_str()),
        ("0", "Squadron", "Squadron")
    );
    assert_eq!(c.device_version, "0.1.0");
    assert_eq!(c.class_id, "tool_run");
    assert_eq!(c.name, "tool_run ok");
    assert_eq!(c.severity, "3");
    assert_eq!(c.get("rt"), Some(ms(&e.ts).as_str()));
    assert_eq!(c.get("end"), Some(ms("2026-03-01T12:34:58.001Z").as_str()));
    assert_eq!(c.get("dvchost"), Some("cp-1.example.com"));
    assert_eq!(c.get("dhost"), Some("node-1"));
    assert_eq!(c.get("suid"), Some("U123"));
    assert_eq!(c.get("suser"), Some("Ada | Lovelace"));
    assert_eq!(c.get("act"), Some("ok"));
    assert_eq!(c.get("outcome"), Some("success"));
    assert_eq!(c.get("externalId"), Some("evt_01"));
    assert_eq!(c.get("dproc"), Some("pod_logs"));
    assert_eq!(c.labelled("squad"), Some("k8s"));
    assert_eq!(c.labelled("command"), e.command.as_deref());
    assert_eq!(c.labelled("hash"), Some(e.hash.as_str()));
    assert_eq!(c.labelled("prevHash"), Some(e.prev_hash.as_str()));
    assert_eq!(c.labelled("conversation"), Some("conv=7"));
    assert_eq!(c.labelled("channel"), Some("C42"));
    assert_eq!(c.labelled("seq"), Some("42"));
    assert_eq!(c.labelled("exitCode"), Some("0"));
    assert_eq!(c.labelled("durationMs"), Some("1212"));
    assert_eq!(c.labelled("platform"), Some("slack"));
    assert_eq!(c.labelled("agent"), Some("k8s"));
    assert_eq!(c.get("msg"), e.command.as_deref());
}

#[test]
fn denied_and_admin_round_trip() {
    let e = denied();
    let c = parse(&render(&e, Format::Cef, &origin())).expect("parse");
    assert_eq!(c.severity, "8");
    assert_eq!(c.name, "denied denied");
    assert_eq!(c.get("outcome"), Some("failure"));
    assert_eq!(c.get("msg"), e.reason.as_deref(), "CR LF survive as \\r\\n");
    assert_eq!(c.get("suser"), Some("U9"), "no display name: the id");
    assert_eq!(c.get("rt"), Some(ms(&e.ts).as_str()));
    assert_eq!(c.labelled("command"), None);
    assert_eq!(c.labelled("exitCode"), None);

    let c = parse(&render(&admin(), Format::Cef, &origin())).expect("parse");
    assert_eq!(c.class_id, "admin");
    assert_eq!(c.name, "node.create ok");
    assert_eq!(c.get("msg"), Some("node create web-1"));
    assert_eq!(c.get("dhost"), None);
}

#[test]
fn severities_follow_the_status() {
    let o = origin();
    for (status, sev) in [
        ("ok", "3"),
        ("approved", "3"),
        ("started", "3"),
        ("error", "5"),
        ("timeout", "5"),
        ("lost", "5"),
        ("denied", "8"),
        ("rejected", "8"),
    ] {
        let e = squadron_store::AuditEvent {
            status: status.into(),
            ..tool_run()
        };
        assert_eq!(
            parse(&render(&e, Format::Cef, &o)).expect("parse").severity,
            sev
        );
    }
}

#[test]
fn header_escaping() {
    let o = crate::formats::Origin {
        host: "h".into(),
        version: r"1.0|beta\2".into(),
    };
    let e = squadron_store::AuditEvent {
        kind: "a|b\\c\nd".into(),
        status: "x|y".into(),
        ..denied()
    };
    let line = render(&e, Format::Cef, &o);
    assert!(
        line.starts_with(r"CEF:0|Squadron|Squadron|1.0\|beta\\2|a\|b\\c d|a\|b\\c d x\|y|"),
        "{line}"
    );
    let c = parse(&line).expect("parse");
    assert_eq!(c.device_version, r"1.0|beta\2");
    assert_eq!(c.class_id, "a|b\\c d");
}

#[test]
fn msg_is_capped() {
    let e = squadron_store::AuditEvent {
        reason: Some("é".repeat(5000)),
        ..denied()
    };
    let c = parse(&render(&e, Format::Cef, &origin())).expect("parse");
    assert_eq!(c.get("msg").map(|m| m.chars().count()), Some(1023));
}

#[test]
fn every_sample_and_the_checkpoint_parse() {
    let o = origin();
    for e in samples() {
        let line = render(&e, Format::Cef, &o);
        let c = parse(&line).unwrap_or_else(|err| panic!("{err}: {line}"));
        assert_eq!(c.labelled("seq"), Some(e.seq.to_string().as_str()));
    }
    let cp = checkpoint();
    let c = parse(&render_checkpoint(&cp, Format::Cef, &o)).expect("parse");
    assert_eq!(c.class_id, "checkpoint");
    assert_eq!(c.labelled("seq"), Some("44"));
    assert_eq!(c.labelled("hash"), Some(cp.head_hash.as_str()));
    assert_eq!(c.get("rt"), Some(ms(&cp.ts).as_str()));
    assert_eq!(c.get("dvchost"), Some("cp-1.example.com"));
}
