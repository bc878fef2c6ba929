//! Audit recording, fail closed: an event that cannot be written within the timeout
//! refuses the command it would have recorded.

use std::sync::Arc;
use std::time::Duration;

use squadron_store::{AuditEvent, ChainHasher, Store};

/// Why an event could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("the audit store did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the audit store failed: {0}")]
    Store(#[from] squadron_store::StoreError),
}

/// Appends events to the chain.
#[derive(Debug, Clone)]
pub struct Auditor {
    pub store: Arc<dyn Store>,
    pub hasher: Arc<dyn ChainHasher>,
    pub timeout: Duration,
    /// Wakes the live sinks after each append.
    pub sinks: Option<squadron_siem::sinks::SinkWaker>,
}

/// A new event id.
pub fn event_id() -> String {
    format!(
        "evt_{:016x}{:08x}",
        rand::random::<u64>(),
        rand::random::<u32>()
    )
}

impl Auditor {
    /// Records one event, or says why it could not.
    pub async fn record(&self, mut event: AuditEvent) -> Result<AuditEvent, AuditError> {
        if event.id.is_empty() {
            event.id = event_id();
        }
        if event.ts.is_empty() {
            event.ts = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        }
        let append = self.store.append_audit(event, self.hasher.as_ref());
        let stored = match tokio::time::timeout(self.timeout, append).await {
            Ok(r) => r?,
            Err(_) => return Err(AuditError::Timeout(self.timeout)),
        };
        if let Some(w) = &self.sinks {
            w.wake();
        }
        Ok(stored)
    }
}

/// Records a checkpoint of the chain's head when it moved since the last one.
pub async fn checkpoint(store: &dyn squadron_store::Store, last: &mut i64) {
    match store.audit_head().await {
        Ok(Some(head)) if head.seq > *last => match store.record_checkpoint(&head).await {
            Ok(()) => *last = head.seq,
            Err(e) => tracing::warn!(error = %e, "could not record an audit checkpoint"),
        },
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "could not read the audit head for a checkpoint"),
    }
}

/// Checkpoints the chain every `every` until the process ends.
pub fn spawn_checkpoints(
    store: std::sync::Arc<dyn squadron_store::Store>,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut last = 0;
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            checkpoint(store.as_ref(), &mut last).await;
        }
    })
}
