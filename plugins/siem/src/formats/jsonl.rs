//! JSONL: the native audit event as compact JSON, the same object `audit list --json` prints.
//!
//! A checkpoint is `{"kind":"checkpoint","seq":N,"head_hash":"...","ts":"..."}`; events
//! always carry their own `kind` (`tool_run`, `admin`...), so readers tell them apart by it.

use serde::Serialize;
use squadron_store::{AuditCheckpoint, AuditEvent};

use super::to_json;

#[derive(Serialize)]
struct Checkpoint<'a> {
    kind: &'static str,
    seq: i64,
    head_hash: &'a str,
    ts: &'a str,
}

pub(super) fn event(e: &AuditEvent) -> String {
    to_json(e)
}

pub(super) fn checkpoint(cp: &AuditCheckpoint) -> String {
    to_json(&Checkpoint {
        kind: "checkpoint",
        seq: cp.seq,
        head_hash: &cp.head_hash,
        ts: &cp.ts,
    })
}
