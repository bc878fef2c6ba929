//! What a sink delivers: audit events and checkpoints rendered by [`crate::formats`], with
//! the few facts transports need beside the text (seq, time, severity), and how a batch
//! is assembled from the events after the cursor.

use squadron_store::{AuditCheckpoint, AuditEvent};

use crate::formats::{self, Format, Origin};

/// One rendered record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Record {
    /// The event's seq, or the seq a checkpoint vouches for.
    pub(crate) seq: i64,
    pub(crate) checkpoint: bool,
    /// The event kind (`tool_run`...) or `checkpoint`.
    pub(crate) kind: String,
    /// RFC 3339 time of the event or checkpoint.
    pub(crate) ts: String,
    /// The event's status (empty for checkpoints).
    pub(crate) status: String,
    /// The record itself, one line.
    pub(crate) text: String,
}

impl Record {
    pub(crate) fn event(e: &AuditEvent, format: Format, origin: &Origin) -> Self {
        Self {
            seq: e.seq,
            checkpoint: false,
            kind: e.kind.clone(),
            ts: e.ts.clone(),
            status: e.status.clone(),
            text: formats::render(e, format, origin),
        }
    }

    pub(crate) fn checkpoint(cp: &AuditCheckpoint, format: Format, origin: &Origin) -> Self {
        Self {
            seq: cp.seq,
            checkpoint: true,
            kind: "checkpoint".into(),
            ts: cp.ts.clone(),
            status: String::new(),
            text: formats::render_checkpoint(cp, format, origin),
        }
    }

    /// Unix seconds (with milliseconds) of `ts`, if it parses.
    pub(crate) fn epoch(&self) -> Option<f64> {
        let t = chrono::DateTime::parse_from_rfc3339(&self.ts).ok()?;
        // Epoch milliseconds fit an f64 exactly.
        Some(t.timestamp_millis() as f64 / 1000.0)
    }
}

/// Whether records of this format are JSON objects (embedded as objects, not strings,
/// in HEC events and webhook arrays).
pub(crate) fn is_json(format: Format) -> bool {
    matches!(format, Format::Jsonl | Format::Ocsf | Format::Ecs)
}

/// The checkpoint that vouches for `e` (the chain head as of this event).
pub(crate) fn checkpoint_of(e: &AuditEvent) -> AuditCheckpoint {
    AuditCheckpoint {
        seq: e.seq,
        head_hash: e.hash.clone(),
        ts: e.ts.clone(),
    }
}

/// The records for `events` (ascending): each event, followed by a checkpoint after every
/// seq that is a multiple of `checkpoint_every` (0: none).
pub(crate) fn batch(
    events: &[AuditEvent],
    format: Format,
    origin: &Origin,
    checkpoint_every: u64,
) -> Vec<Record> {
    let every = i64::try_from(checkpoint_every).unwrap_or(i64::MAX);
    let mut out = Vec::with_capacity(events.len() + 1);
    for e in events {
        out.push(Record::event(e, format, origin));
        if every > 0 && e.seq % every == 0 {
            out.push(Record::checkpoint(&checkpoint_of(e), format, origin));
        }
    }
    out
}

/// The last event seq of `records` acknowledged when the first `delivered` were: an event
/// followed by its checkpoint counts only once the checkpoint is through too, so that a
/// checkpoint is never skipped.
pub(crate) fn acked_seq(records: &[Record], delivered: usize) -> Option<i64> {
    let delivered = delivered.min(records.len());
    let mut acked = None;
    for (i, r) in records[..delivered].iter().enumerate() {
        if r.checkpoint {
            continue;
        }
        let checkpoint_next = records.get(i + 1).is_some_and(|n| n.checkpoint);
        if !checkpoint_next || i + 1 < delivered {
            acked = Some(r.seq);
        }
    }
    acked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(seq: i64) -> AuditEvent {
        AuditEvent {
            seq,
            id: format!("evt_{seq}"),
            ts: "2026-05-01T10:00:00.250Z".into(),
            kind: "tool_run".into(),
            status: "ok".into(),
            hash: format!("{seq:064x}"),
            ..AuditEvent::default()
        }
    }

    fn origin() -> Origin {
        Origin {
            host: "cp".into(),
            version: "0.1.0".into(),
        }
    }

    #[test]
    fn checkpoints_follow_multiples_and_hold_back_their_event() {
        let events: Vec<AuditEvent> = (8..=12).map(ev).collect();
        let recs = batch(&events, Format::Jsonl, &origin(), 5);
        let shape: Vec<(i64, bool)> = recs.iter().map(|r| (r.seq, r.checkpoint)).collect();
        assert_eq!(
            shape,
            [
                (8, false),
                (9, false),
                (10, false),
                (10, true),
                (11, false),
                (12, false)
            ]
        );
        assert_eq!(acked_seq(&recs, 0), None);
        assert_eq!(acked_seq(&recs, 2), Some(9));
        assert_eq!(acked_seq(&recs, 3), Some(9), "10 waits for its checkpoint");
        assert_eq!(acked_seq(&recs, 4), Some(10));
        assert_eq!(acked_seq(&recs, 99), Some(12));
        assert!(
            batch(&events, Format::Jsonl, &origin(), 0)
                .iter()
                .all(|r| !r.checkpoint)
        );
        assert_eq!(recs[0].epoch(), Some(1_777_629_600.25));
    }
}
