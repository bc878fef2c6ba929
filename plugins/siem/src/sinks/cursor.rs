//! A sink's cursor: the last event seq the sink acknowledged, kept in memory (the truth
//! while the process runs) and persisted in the store (`Store::set_sink_cursor`) after
//! every acknowledged batch, so a restart resumes where delivery stopped. It moves back
//! only when a syslog receiver reset its connection with our last batch unread. A failed write
//! to the store does not hold delivery back: it is retried before the next batch.

use std::sync::Arc;

use squadron_store::{Store, StoreError};

/// One sink's position in the audit trail.
#[derive(Debug)]
pub(crate) struct Cursor {
    store: Arc<dyn Store>,
    sink: String,
    acked: i64,
    persisted: i64,
}

impl Cursor {
    /// The stored cursor (0 for a sink that never delivered).
    pub(crate) async fn load(store: Arc<dyn Store>, sink: &str) -> Result<Self, StoreError> {
        let seq = store.sink_cursor(sink).await?;
        Ok(Self {
            store,
            sink: sink.to_owned(),
            acked: seq,
            persisted: seq,
        })
    }

    /// The last acknowledged seq: delivery resumes after it.
    pub(crate) fn acked(&self) -> i64 {
        self.acked
    }

    /// Records that everything up to `seq` was acknowledged (never moves back).
    pub(crate) fn advance(&mut self, seq: i64) {
        self.acked = self.acked.max(seq);
    }

    /// Moves the cursor back to `seq` when a receiver turned out not to have read what it
    /// had acknowledged (never forward).
    pub(crate) fn rewind(&mut self, seq: i64) {
        self.acked = self.acked.min(seq.max(0));
    }

    /// Writes the cursor to the store if it moved since the last write.
    pub(crate) async fn persist(&mut self) -> Result<(), StoreError> {
        if self.acked == self.persisted {
            return Ok(());
        }
        self.store.set_sink_cursor(&self.sink, self.acked).await?;
        self.persisted = self.acked;
        Ok(())
    }
}
