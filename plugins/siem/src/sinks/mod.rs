//! Live sinks (`[[audit.sinks]]`): syslog over UDP, TCP and TLS, Splunk HEC, HTTPS
//! webhooks and local files, each fed in order from a cursor persisted in the store, so an
//! outage or a restart loses nothing and delivery resumes where it stopped.
//!
//! # Use
//!
//! ```ignore
//! let handles = squadron_siem::sinks::spawn(store, config.audit.sinks, origin, shutdown_rx)?;
//! let waker = handles.waker();          // call waker.wake() after each append_audit
//! handles.status();                     // per sink: cursor, head, lag, last error
//! squadron_siem::sinks::render_metrics(&handles.status()); // Prometheus text
//! shutdown_tx.send(true); handles.join().await;   // drains (bounded), checkpoints, closes
//! ```
//!
//! # Delivery
//!
//! One task per sink reads the events after its cursor (`Store::list_audit`, ascending),
//! renders them with [`crate::formats`], and delivers them in batches, in seq order. The
//! cursor moves only past what the sink acknowledged, and is persisted after each batch:
//!
//! - HTTP (HEC, webhook): a 2xx response acknowledges the whole batch;
//! - TCP and TLS: the batch once written (in one buffer) and flushed, the stream having
//!   been probed just before for a receiver that closed or reset it; a reset means the
//!   receiver dropped unread data, which includes the last batch written, so the cursor
//!   moves back before that batch and it is sent again (see `syslog`);
//! - UDP: each datagram once sent without an ICMP error reported on the socket;
//! - file: the batch once written and `fsync`ed.
//!
//! Failures are retried forever, never skipping an event: backoff starts at 0.5 s and
//! doubles up to 30 s, with jitter (0.5x to 1x). HTTP 400/401/403 (bad token, rejected
//! data) are logged as errors rather than warnings (still retried, nothing is skipped);
//! 413 halves the batch. A checkpoint record (seq and chain hash of the event just sent)
//! follows every event whose seq is a multiple of `checkpoint_every`, in the same batch
//! (the event is not acknowledged without it), and one more is sent on shutdown.
//!
//! # Guarantees and their limits
//!
//! Every event is delivered, in order, and an acknowledged event is never sent again by
//! this process or the next: from the receiver's side that is exactly once for HTTP,
//! TCP and TLS, with these residual windows:
//!
//! - duplicates: the process dies after the sink acknowledged a batch but before the
//!   cursor reached the store (one batch, re-sent at start); an HTTP response is lost
//!   after the receiver committed (timeout, connection reset): the batch is re-sent, with
//!   the same `X-Squadron-Seq-First`/`-Last` for webhook receivers to drop it; a file write
//!   that fails halfway is rewritten whole.
//! - duplicates, syslog over TCP/TLS: the receiver had read part of the last batch before it reset
//!   the connection (that part arrives twice); a reset not caused by unread data (a
//!   middlebox, an abortive close) resends the last batch.
//! - losses, syslog only: plain syslog has no application acknowledgement. If a receiver
//!   stops reading and then closes while *two or more* batches are unread, only the last
//!   is sent again (a reset cannot say how much was unread); the window is its shutdown
//!   (rsyslogd: tens of milliseconds after SIGTERM). What a receiver read but did not
//!   process is its own loss. UDP is best effort: datagrams queued in a receiver's socket
//!   when it stops vanish silently, an ICMP error that comes back late cannot be tied to a
//!   datagram, and datagrams are cut at 65,000 bytes. Use HEC or a webhook where that
//!   matters.

mod config;
mod cursor;
mod file;
mod hec;
mod http;
mod record;
mod runner;
mod syslog;
mod tls;
mod webhook;

pub use config::{
    ConfigError, DEFAULT_BATCH, DEFAULT_CHECKPOINT_EVERY, Framing, MAX_BATCH, Secret, Sink,
    SinkConfig, SinkKind, Target, Transport, validate_all,
};
pub use hec::{
    SOURCE as HEC_SOURCE, SOURCETYPE as HEC_SOURCETYPE,
    SOURCETYPE_CHECKPOINT as HEC_SOURCETYPE_CHECKPOINT,
};
pub use runner::{
    BACKOFF_MAX, BACKOFF_START, POLL_EVERY, SHUTDOWN_GRACE, SinkHandles, SinkStatus, SinkWaker,
    render_metrics, spawn, spawn_validated,
};
pub use webhook::{
    SEQ_FIRST_HEADER, SEQ_LAST_HEADER, SIGNATURE_HEADER, signature as webhook_signature,
};

/// Why a delivery attempt failed (one line, for logs and [`SinkStatus::last_error`]).
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("send failed: {0}")]
    Io(#[source] std::io::Error),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("the receiver reset the connection: {0}")]
    Reset(String),
    #[error("HTTP request failed: {0}")]
    Http(String),
    #[error("HTTP {status} from the receiver: {body}")]
    Status { status: u16, body: String },
    #[error("timed out {0}")]
    Timeout(&'static str),
    #[error("cannot append to {path}: {source}")]
    File {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("audit store: {0}")]
    Store(#[from] squadron_store::StoreError),
    #[error("{0}")]
    Config(String),
    #[error("the connection is closed")]
    Closed,
}

/// How a failed attempt should be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// With the usual backoff.
    Backoff,
    /// The receiver refused us (401/403) or the data (400): logged as an error.
    Refused,
    /// The receiver wants smaller requests (413): with half the batch.
    Smaller,
}

/// A failed delivery: how many leading records got through first, why the rest did not,
/// and whether records acknowledged by an earlier delivery turned out unread (`rewind`:
/// the cursor to go back to).
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) delivered: usize,
    pub(crate) error: SinkError,
    pub(crate) retry: Retry,
    pub(crate) rewind: Option<i64>,
}

impl Failure {
    pub(crate) fn retry(delivered: usize, error: SinkError) -> Self {
        Self {
            delivered,
            error,
            retry: Retry::Backoff,
            rewind: None,
        }
    }

    pub(crate) fn reset(rewind: Option<i64>, error: SinkError) -> Self {
        Self {
            delivered: 0,
            error,
            retry: Retry::Backoff,
            rewind,
        }
    }

    pub(crate) fn refused(error: SinkError) -> Self {
        Self {
            delivered: 0,
            error,
            retry: Retry::Refused,
            rewind: None,
        }
    }

    pub(crate) fn too_large(error: SinkError) -> Self {
        Self {
            delivered: 0,
            error,
            retry: Retry::Smaller,
            rewind: None,
        }
    }
}
