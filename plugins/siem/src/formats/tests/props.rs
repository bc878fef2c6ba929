//! Property tests: arbitrary strings (pipes, backslashes, `=`, `]`, quotes, line breaks,
//! unicode) survive each format and come back exactly, or as the spec says they must
//! change (line breaks folded where a format cannot carry them).

use chrono::{DateTime, FixedOffset, SecondsFormat};
use proptest::prelude::*;
use squadron_store::AuditEvent;

use super::{cef_parser, syslog_parser};
use crate::formats::{Format, Origin, render};

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z|\\\\=\\]\"\n\r \t=é漢😀-]{0,24}",
        Just(String::new()),
    ]
}

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("tool_run".to_owned()),
        Just("admin".to_owned()),
        Just("ok".to_owned()),
        Just("denied".to_owned()),
        text(),
    ]
}

fn ts() -> impl Strategy<Value = String> {
    (0i64..4_102_444_800, 0u32..1_000_000_000, -840i32..=840).prop_map(|(s, ns, min)| {
        let off = FixedOffset::east_opt(min * 60).expect("offset in range");
        DateTime::from_timestamp(s, ns)
            .expect("time in range")
            .with_timezone(&off)
            .to_rfc3339_opts(SecondsFormat::AutoSi, true)
    })
}

prop_compose! {
    fn event()(
        (kind, status, actor, actor_name, platform) in (word(), word(), text(), proptest::option::of(text()), text()),
        (squad, node, tool, command, reason) in (
            proptest::option::of(text()), proptest::option::of(text()), proptest::option::of(text()),
            proptest::option::of(text()), proptest::option::of(text())),
        (conversation, channel, agent, id, hash) in (
            proptest::option::of(text()), proptest::option::of(text()), proptest::option::of(text()),
            text(), text()),
        (seq, ts, exit_code, duration_ms) in (any::<i64>(), ts(), proptest::option::of(any::<i32>()),
            proptest::option::of(0i64..1_000_000_000)),
    ) -> AuditEvent {
        AuditEvent {
            id, seq, ts, duration_ms, kind, actor, actor_name, platform, channel, conversation,
            squad, agent, node, tool, command, exit_code, reason, prev_hash: hash.chars().rev().collect(),
            hash, status, ..AuditEvent::default()
        }
    }
}

fn origin() -> impl Strategy<Value = Origin> {
    (text(), text()).prop_map(|(host, version)| Origin { host, version })
}

/// `Some` unless empty: empty values are left out of CEF and syslog records.
fn present(s: &Option<String>) -> Option<String> {
    s.clone().filter(|s| !s.is_empty())
}

/// CEF header fields cannot hold line breaks: each one becomes a space.
fn cef_header(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

/// Syslog line folding: CRLF, LF or CR become one space.
fn folded(s: &str) -> String {
    s.replace("\r\n", " ").replace(['\r', '\n'], " ")
}

fn expected_action(e: &AuditEvent) -> String {
    let words: Vec<&str> = e
        .reason
        .as_deref()
        .unwrap_or("")
        .split_whitespace()
        .take(2)
        .collect();
    if e.kind == "admin" && !words.is_empty() {
        words.join(".")
    } else {
        e.kind.clone()
    }
}

proptest! {
    #[test]
    fn cef_recovers_every_field(e in event(), o in origin()) {
        let line = render(&e, Format::Cef, &o);
        let c = cef_parser::parse(&line).map_err(|err| TestCaseError::fail(format!("{err}: {line}")))?;
        prop_assert_eq!(&c.device_version, &cef_header(&o.version));
        prop_assert_eq!(&c.class_id, &cef_header(&e.kind));
        prop_assert_eq!(&c.name, &cef_header(&format!("{} {}", expected_action(&e), e.status)));
        let get = |k: &str| c.get(k).map(str::to_owned);
        let label = |l: &str| c.labelled(l).map(str::to_owned);
        prop_assert_eq!(get("dvchost"), present(&Some(o.host.clone())));
        prop_assert_eq!(get("dhost"), present(&e.node));
        prop_assert_eq!(get("suid"), present(&Some(e.actor.clone())));
        prop_assert_eq!(get("suser"), present(&e.actor_name).or(present(&Some(e.actor.clone()))));
        prop_assert_eq!(get("act"), present(&Some(e.status.clone())));
        prop_assert_eq!(get("externalId"), present(&Some(e.id.clone())));
        prop_assert_eq!(get("dproc"), present(&e.tool));
        prop_assert_eq!(label("squad"), present(&e.squad));
        prop_assert_eq!(label("command"), present(&e.command));
        prop_assert_eq!(label("hash"), present(&Some(e.hash.clone())));
        prop_assert_eq!(label("prevHash"), present(&Some(e.prev_hash.clone())));
        prop_assert_eq!(label("conversation"), present(&e.conversation));
        prop_assert_eq!(label("channel"), present(&e.channel));
        prop_assert_eq!(label("platform"), present(&Some(e.platform.clone())));
        prop_assert_eq!(label("agent"), present(&e.agent));
        prop_assert_eq!(label("seq"), Some(e.seq.to_string()));
        prop_assert_eq!(label("exitCode"), e.exit_code.map(|c| c.to_string()));
        let msg = present(&e.reason).or(present(&e.command));
        prop_assert_eq!(get("msg"), msg.map(|m| m.chars().take(1023).collect::<String>()));
        let rt = DateTime::parse_from_rfc3339(&e.ts).map(|t| t.timestamp_millis().to_string()).ok();
        prop_assert_eq!(get("rt"), rt);
    }

    #[test]
    fn syslog_recovers_every_field(e in event(), o in origin()) {
        let line = render(&e, Format::Syslog, &o);
        let m = syslog_parser::parse(&line).map_err(|err| TestCaseError::fail(format!("{err}: {line}")))?;
        let name = |s: &str, max: usize| -> Option<String> {
            let n: String = s.chars().take(max)
                .map(|c| if ('!'..='~').contains(&c) { c } else { '_' }).collect();
            (!n.is_empty() && n != "-").then_some(n)
        };
        prop_assert_eq!(&m.hostname, &name(&o.host, 255));
        prop_assert_eq!(&m.msgid, &name(&e.kind, 32));
        prop_assert_eq!(m.app_name.as_deref(), Some("squadron"));
        let sent = DateTime::parse_from_rfc3339(&e.ts).expect("generated time");
        let got = DateTime::parse_from_rfc3339(m.timestamp.as_deref().unwrap_or("-"))
            .map_err(|err| TestCaseError::fail(format!("{err}: {line}")))?;
        prop_assert_eq!(got.offset(), sent.offset());
        prop_assert_eq!(got.timestamp_micros(), sent.timestamp_micros());
        let param = |n: &str| m.param("squadron@32473", n).map(str::to_owned);
        let fold = |s: &Option<String>| present(s).map(|s| folded(&s));
        for (n, v) in [
            ("id", Some(e.id.clone())), ("kind", Some(e.kind.clone())),
            ("status", Some(e.status.clone())), ("actor", Some(e.actor.clone())),
            ("platform", Some(e.platform.clone())), ("squad", e.squad.clone()),
            ("node", e.node.clone()), ("tool", e.tool.clone()),
            ("hash", Some(e.hash.clone())), ("prev_hash", Some(e.prev_hash.clone())),
        ] {
            prop_assert_eq!(param(n), fold(&v), "{}", n);
        }
        prop_assert_eq!(param("seq"), Some(e.seq.to_string()));
        prop_assert_eq!(param("exit_code"), e.exit_code.map(|c| c.to_string()));
        prop_assert_eq!(param("duration_ms"), e.duration_ms.map(|c| c.to_string()));
        let (msg, reason) = match fold(&e.command) {
            Some(c) => (Some(c), fold(&e.reason)),
            None => (fold(&e.reason), None),
        };
        prop_assert_eq!(&m.msg, &msg);
        prop_assert_eq!(param("reason"), reason);
    }

    #[test]
    fn json_formats_recover_every_field(e in event(), o in origin()) {
        let native: AuditEvent = serde_json::from_str(&render(&e, Format::Jsonl, &o))
            .map_err(|err| TestCaseError::fail(err.to_string()))?;
        prop_assert_eq!(&native, &e);
        let v: serde_json::Value = serde_json::from_str(&render(&e, Format::Ocsf, &o))
            .map_err(|err| TestCaseError::fail(err.to_string()))?;
        let inner: AuditEvent = serde_json::from_value(v["unmapped"]["squadron"].clone())
            .map_err(|err| TestCaseError::fail(err.to_string()))?;
        prop_assert_eq!(&inner, &e);
        prop_assert_eq!(&v["metadata"]["product"]["version"], &serde_json::json!(o.version));
        if e.kind == "tool_run" {
            prop_assert_eq!(&v["class_uid"], &serde_json::json!(1007));
            prop_assert_eq!(v["process"]["cmd_line"].as_str().map(str::to_owned), present(&e.command));
        } else {
            prop_assert_eq!(&v["class_uid"], &serde_json::json!(6003));
        }
        let v: serde_json::Value = serde_json::from_str(&render(&e, Format::Ecs, &o))
            .map_err(|err| TestCaseError::fail(err.to_string()))?;
        prop_assert_eq!(v["process"]["command_line"].as_str().map(str::to_owned), present(&e.command));
        prop_assert_eq!(v["labels"]["squad"].as_str().map(str::to_owned), present(&e.squad));
        prop_assert_eq!(v["squadron"]["hash"].as_str(), Some(e.hash.as_str()));
        prop_assert_eq!(v["squadron"]["prev_hash"].as_str(), Some(e.prev_hash.as_str()));
        prop_assert_eq!(v["observer"]["hostname"].as_str(), Some(o.host.as_str()));
        prop_assert!(v["@timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
    }
}
