//! The JSON formats read back with serde_json: required attributes present and right.

use serde_json::Value;
use squadron_store::AuditEvent;

use super::{admin, checkpoint, denied, origin, samples, tool_run};
use crate::formats::{Format, render, render_checkpoint};

fn json(line: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

fn ms(ts: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(ts)
        .expect("fixture time")
        .timestamp_millis()
}

/// The OCSF 1.x base event's required attributes.
fn assert_ocsf_base(v: &Value) {
    for key in [
        "activity_id",
        "category_uid",
        "class_uid",
        "type_uid",
        "severity_id",
        "time",
    ] {
        assert!(v[key].is_i64(), "{key} in {v}");
    }
    let class = v["class_uid"].as_i64().expect("class");
    let activity = v["activity_id"].as_i64().expect("activity");
    assert_eq!(v["type_uid"].as_i64(), Some(class * 100 + activity));
    assert_eq!(v["category_uid"].as_i64(), Some(class / 1000));
    assert!(
        v["metadata"]["version"]
            .as_str()
            .is_some_and(|s| s.starts_with("1."))
    );
    assert_eq!(v["metadata"]["product"]["name"], "Squadron");
    assert_eq!(v["metadata"]["product"]["version"], "0.1.0");
    assert!(v["status_id"].is_i64());
}

#[test]
fn jsonl_is_the_native_event() {
    for e in samples() {
        let back: AuditEvent =
            serde_json::from_str(&render(&e, Format::Jsonl, &origin())).expect("native event");
        assert_eq!(back, e);
    }
    let v = json(&render_checkpoint(&checkpoint(), Format::Jsonl, &origin()));
    assert_eq!(v["kind"], "checkpoint");
    assert_eq!(v["seq"], 44);
    assert_eq!(v["head_hash"], "d".repeat(64));
    assert_eq!(v["ts"], "2026-03-01T12:36:00Z");
}

#[test]
fn ocsf_tool_run_is_process_activity() {
    let e = tool_run();
    let v = json(&render(&e, Format::Ocsf, &origin()));
    assert_ocsf_base(&v);
    assert_eq!(v["class_uid"], 1007);
    assert_eq!(v["category_uid"], 1);
    assert_eq!(v["activity_id"], 1);
    assert_eq!(v["type_uid"], 100_701);
    assert_eq!(v["severity_id"], 2);
    assert_eq!(v["status_id"], 1);
    assert_eq!(v["time"], ms(&e.ts));
    assert_eq!(v["actor"]["user"]["uid"], "U123");
    assert_eq!(v["actor"]["user"]["name"], "Ada | Lovelace");
    assert_eq!(v["device"]["hostname"], "node-1");
    assert!(v["device"]["type_id"].is_i64());
    assert_eq!(
        v["process"]["cmd_line"],
        e.command.clone().expect("command")
    );
    assert_eq!(v["process"]["uid"], "evt_01");
    assert_eq!(v["exit_code"], 0);
    assert_eq!(v["duration"], 1212);
    assert_eq!(v["metadata"]["uid"], "evt_01");
    assert_eq!(v["metadata"]["sequence"], 42);
    let native: AuditEvent =
        serde_json::from_value(v["unmapped"]["squadron"].clone()).expect("native");
    assert_eq!(native, e);
}

#[test]
fn ocsf_denied_and_admin_are_api_activity() {
    let v = json(&render(&denied(), Format::Ocsf, &origin()));
    assert_ocsf_base(&v);
    assert_eq!(v["class_uid"], 6003);
    assert_eq!(v["category_uid"], 6);
    assert_eq!(v["activity_id"], 99);
    assert_eq!(v["severity_id"], 4);
    assert_eq!(v["status_id"], 2);
    assert_eq!(v["status_code"], "denied");
    assert_eq!(v["status_detail"], denied().reason.expect("reason"));
    assert_eq!(v["api"]["operation"], "hostinfo.uname");
    assert_eq!(v["actor"]["user"]["uid"], "U9");
    assert_eq!(v["src_endpoint"]["name"], "discord");
    assert_eq!(v["dst_endpoint"]["hostname"], "ghost");

    let v = json(&render(&admin(), Format::Ocsf, &origin()));
    assert_ocsf_base(&v);
    assert_eq!(v["class_uid"], 6003);
    assert_eq!(v["activity_id"], 1, "node create is Create");
    assert_eq!(v["type_uid"], 600_301);
    assert_eq!(v["api"]["operation"], "node.create");
    assert_eq!(v["actor"]["user"]["type_id"], 2);
}

#[test]
fn ocsf_every_sample_and_the_checkpoint() {
    for e in samples() {
        let v = json(&render(&e, Format::Ocsf, &origin()));
        assert_ocsf_base(&v);
        assert!(v["actor"]["user"].is_object(), "actor required: {v}");
        if e.kind == "tool_run" {
            assert!(v["device"].is_object() && v["process"].is_object(), "{v}");
        } else {
            assert!(v["api"]["operation"].is_string(), "{v}");
            assert!(v["src_endpoint"].is_object(), "{v}");
        }
    }
    let v = json(&render_checkpoint(&checkpoint(), Format::Ocsf, &origin()));
    assert_ocsf_base(&v);
    assert_eq!(v["class_uid"], 1008);
    assert_eq!(v["unmapped"]["squadron"]["seq"], 44);
    assert_eq!(v["unmapped"]["squadron"]["head_hash"], "d".repeat(64));
    assert_eq!(v["time"], ms("2026-03-01T12:36:00Z"));
}

#[test]
fn ecs_fields() {
    let e = tool_run();
    let v = json(&render(&e, Format::Ecs, &origin()));
    assert_eq!(v["@timestamp"], "2026-03-01T12:34:56.789Z");
    assert!(v["ecs"]["version"].is_string());
    assert_eq!(v["event"]["kind"], "event");
    assert_eq!(v["event"]["category"], serde_json::json!(["process"]));
    assert_eq!(v["event"]["type"], serde_json::json!(["end"]));
    assert_eq!(v["event"]["action"], "tool_run");
    assert_eq!(v["event"]["outcome"], "success");
    assert_eq!(v["event"]["duration"], 1_212_000_000_i64);
    assert_eq!(v["event"]["sequence"], 42);
    assert_eq!(v["user"]["id"], "U123");
    assert_eq!(v["user"]["name"], "Ada | Lovelace");
    assert_eq!(v["host"]["name"], "node-1");
    assert_eq!(v["observer"]["hostname"], "cp-1.example.com");
    assert_eq!(
        v["process"]["command_line"],
        e.command.clone().expect("command")
    );
    assert_eq!(v["process"]["exit_code"], 0);
    assert_eq!(v["labels"]["squad"], "k8s");
    assert_eq!(v["labels"]["conversation"], "conv=7");
    assert_eq!(v["squadron"]["seq"], 42);
    assert_eq!(v["squadron"]["hash"], e.hash);
    assert_eq!(v["squadron"]["prev_hash"], e.prev_hash);
    assert_eq!(v["squadron"]["output"], "line 1\nline 2");

    let v = json(&render(&denied(), Format::Ecs, &origin()));
    assert_eq!(v["@timestamp"], "2026-03-01T10:35:00Z", "UTC");
    assert_eq!(v["event"]["type"], serde_json::json!(["denied"]));
    assert_eq!(v["event"]["outcome"], "failure");
    assert_eq!(v["event"]["reason"], denied().reason.expect("reason"));

    let v = json(&render(&admin(), Format::Ecs, &origin()));
    assert_eq!(v["event"]["category"], serde_json::json!(["configuration"]));
    assert_eq!(v["event"]["type"], serde_json::json!(["creation"]));
    assert_eq!(v["event"]["action"], "node.create");
    assert_eq!(v["host"]["name"], "cp-1.example.com");

    let v = json(&render_checkpoint(&checkpoint(), Format::Ecs, &origin()));
    assert_eq!(v["@timestamp"], "2026-03-01T12:36:00Z");
    assert_eq!(v["event"]["kind"], "state");
    assert_eq!(v["squadron"]["seq"], 44);
    assert_eq!(v["squadron"]["hash"], "d".repeat(64));
}
