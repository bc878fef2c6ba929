//! [`spawn`]: one task per sink that reads the events after its cursor, delivers them in
//! order, advances and persists the cursor on acknowledgement, retries with backoff, and
//! reports its state ([`SinkStatus`]) for `/metrics`.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use squadron_store::{AuditFilter, Store};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use super::config::{ConfigError, Sink, SinkConfig, Target, Transport, check_unique, validate_all};
use super::cursor::Cursor;
use super::file::FileSender;
use super::hec::HecSender;
use super::record::{self, Record};
use super::syslog::SyslogSender;
use super::webhook::WebhookSender;
use super::{Failure, Retry, SinkError, http, tls};
use crate::formats::Origin;

/// How often a sink looks for new events when nobody wakes it.
pub const POLL_EVERY: Duration = Duration::from_millis(500);
/// First retry delay; it doubles after each failure up to [`BACKOFF_MAX`].
pub const BACKOFF_START: Duration = Duration::from_millis(500);
pub const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// How long a sink may spend on shutdown delivering what is left and the checkpoint.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// What one sink is doing, for `/metrics` and status pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SinkStatus {
    pub name: String,
    pub kind: &'static str,
    /// The destination without credentials or query string.
    pub target: String,
    /// The last seq the sink acknowledged.
    pub cursor: i64,
    /// The last seq in the store, as of the last look.
    pub head: i64,
    /// `head - cursor`: events stored but not delivered yet.
    pub lag: i64,
    /// Events delivered since the process started.
    pub delivered: u64,
    /// Failed delivery attempts since the process started.
    pub failures: u64,
    /// Whether the last attempt succeeded (or nothing has failed yet).
    pub up: bool,
    /// Whether a connection (or open file) is held; always true for HTTP sinks.
    pub connected: bool,
    pub last_error: Option<String>,
    /// Unix seconds of `last_error`.
    pub last_error_at: Option<i64>,
    /// Unix seconds of the last acknowledged delivery.
    pub last_delivery_at: Option<i64>,
}

/// Wakes every sink so it looks for new events now rather than at its next poll. Cheap to
/// clone; call [`wake`](Self::wake) after each `append_audit`.
#[derive(Debug, Clone, Default)]
pub struct SinkWaker {
    notifies: Arc<Vec<Arc<Notify>>>,
}

impl SinkWaker {
    pub fn wake(&self) {
        for n in self.notifies.iter() {
            n.notify_one();
        }
    }
}

/// The running sinks.
#[derive(Debug)]
pub struct SinkHandles {
    statuses: Vec<Arc<Mutex<SinkStatus>>>,
    waker: SinkWaker,
    tasks: Vec<JoinHandle<()>>,
}

impl SinkHandles {
    /// A snapshot of every sink's state, in configuration order.
    pub fn status(&self) -> Vec<SinkStatus> {
        self.statuses
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).clone())
            .collect()
    }

    /// The waker to poke after appending audit events.
    pub fn waker(&self) -> SinkWaker {
        self.waker.clone()
    }

    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Waits for every sink task to end (after the shutdown signal: each drains what it
    /// can within [`SHUTDOWN_GRACE`], sends a checkpoint and persists its cursor).
    pub async fn join(self) {
        for task in self.tasks {
            if let Err(e) = task.await {
                tracing::error!(error = %e, "an audit sink task failed");
            }
        }
    }
}

/// Checks the sinks (names unique, secrets present, CA files readable) and starts one task
/// for each. `shutdown` turning true (or its sender dropping) stops them.
pub fn spawn(
    store: Arc<dyn Store>,
    sinks: Vec<SinkConfig>,
    origin: Origin,
    shutdown: watch::Receiver<bool>,
) -> Result<SinkHandles, ConfigError> {
    spawn_validated(store, validate_all(&sinks)?, origin, shutdown)
}

/// [`spawn`] for sinks already checked with [`SinkConfig::validate`] (names must still
/// be unique).
pub fn spawn_validated(
    store: Arc<dyn Store>,
    sinks: Vec<Sink>,
    origin: Origin,
    shutdown: watch::Receiver<bool>,
) -> Result<SinkHandles, ConfigError> {
    check_unique(&sinks)?;
    let mut senders = Vec::with_capacity(sinks.len());
    for sink in &sinks {
        let sender = Sender::build(sink, &origin).map_err(|e| ConfigError {
            sink: sink.name.clone(),
            message: e.to_string(),
        })?;
        senders.push(sender);
    }
    let mut statuses = Vec::new();
    let mut notifies = Vec::new();
    let mut tasks = Vec::new();
    for (sink, sender) in sinks.into_iter().zip(senders) {
        let status = Arc::new(Mutex::new(SinkStatus {
            name: sink.name.clone(),
            kind: sink.kind.name(),
            target: sink.target.to_string(),
            cursor: 0,
            head: 0,
            lag: 0,
            delivered: 0,
            failures: 0,
            up: true,
            connected: false,
            last_error: None,
            last_error_at: None,
            last_delivery_at: None,
        }));
        let notify = Arc::new(Notify::new());
        let runner = Runner {
            sink,
            sender,
            store: store.clone(),
            origin: origin.clone(),
            status: status.clone(),
            notify: notify.clone(),
            shutdown: shutdown.clone(),
            backoff: Backoff::default(),
            limit: 0,
            last_checkpoint: 0,
        };
        tasks.push(tokio::spawn(runner.run()));
        statuses.push(status);
        notifies.push(notify);
    }
    Ok(SinkHandles {
        statuses,
        waker: SinkWaker {
            notifies: Arc::new(notifies),
        },
        tasks,
    })
}

/// Prometheus text for the sinks: lag, cursor, up, delivered and failure counters.
pub fn render_metrics(statuses: &[SinkStatus]) -> String {
    type Metric = (
        &'static str,
        &'static str,
        &'static str,
        fn(&SinkStatus) -> i64,
    );
    const METRICS: [Metric; 5] = [
        (
            "squadron_audit_sink_lag",
            "gauge",
            "Audit events stored but not yet delivered by the sink (head seq - cursor).",
            |s| s.lag,
        ),
        (
            "squadron_audit_sink_cursor",
            "gauge",
            "The last audit seq the sink acknowledged.",
            |s| s.cursor,
        ),
        (
            "squadron_audit_sink_up",
            "gauge",
            "1 if the sink's last delivery attempt succeeded.",
            |s| i64::from(s.up),
        ),
        (
            "squadron_audit_sink_delivered_total",
            "counter",
            "Audit events the sink delivered since the server started.",
            |s| i64::try_from(s.delivered).unwrap_or(i64::MAX),
        ),
        (
            "squadron_audit_sink_failures_total",
            "counter",
            "Failed delivery attempts since the server started.",
            |s| i64::try_from(s.failures).unwrap_or(i64::MAX),
        ),
    ];
    let mut out = String::new();
    if statuses.is_empty() {
        return out;
    }
    for (name, kind, help, value) in METRICS {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for s in statuses {
            let _ = writeln!(
                out,
                "{name}{{sink=\"{}\",kind=\"{}\"}} {}",
                label(&s.name),
                s.kind,
                value(s)
            );
        }
    }
    out
}

fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// One sink's transport.
#[derive(Debug)]
enum Sender {
    Syslog(Box<SyslogSender>),
    Hec(HecSender),
    Webhook(WebhookSender),
    File(FileSender),
}

impl Sender {
    fn build(sink: &Sink, origin: &Origin) -> Result<Self, SinkError> {
        Ok(match &sink.target {
            Target::Syslog {
                transport,
                host,
                port,
                framing,
            } => {
                let tls = match transport {
                    Transport::Tls => Some(tls::client_config(sink.ca_file.as_deref(), &[], true)?),
                    Transport::Udp | Transport::Tcp => None,
                };
                Sender::Syslog(Box::new(SyslogSender::new(
                    *transport,
                    host.clone(),
                    *port,
                    *framing,
                    sink.format,
                    &origin.host,
                    tls,
                )))
            }
            Target::Http { url } => {
                let client = http::client(sink.ca_file.as_deref(), url.scheme() == "https")?;
                match sink.kind {
                    super::SinkKind::SplunkHec => {
                        let token = sink.token.as_ref().ok_or_else(|| {
                            SinkError::Config("splunk_hec needs token_env".into())
                        })?;
                        Sender::Hec(HecSender::new(
                            client,
                            url.clone(),
                            token,
                            sink.format,
                            &origin.host,
                        )?)
                    }
                    _ => Sender::Webhook(WebhookSender::new(
                        client,
                        url.clone(),
                        sink.token.as_ref(),
                        sink.secret.clone(),
                        sink.format,
                    )?),
                }
            }
            Target::File { path } => Sender::File(FileSender::new(path.clone())),
        })
    }

    async fn send(&mut self, records: &[Record]) -> Result<(), Failure> {
        match self {
            Sender::Syslog(s) => s.send(records).await,
            Sender::Hec(s) => s.send(records).await,
            Sender::Webhook(s) => s.send(records).await,
            Sender::File(s) => s.send(records).await,
        }
    }

    /// Closes the connection; returns where to rewind the cursor to if the receiver turns
    /// out not to have read the last batch.
    async fn close(&mut self) -> Option<i64> {
        match self {
            Sender::Syslog(s) => s.close().await,
            Sender::Hec(_) | Sender::Webhook(_) | Sender::File(_) => None,
        }
    }

    /// Whether a connection (or open file) is kept between batches.
    fn connected(&self) -> bool {
        match self {
            Sender::Syslog(s) => s.connected(),
            Sender::File(s) => s.connected(),
            Sender::Hec(_) | Sender::Webhook(_) => true,
        }
    }
}

/// Exponential backoff with jitter: 0.5 s, 1 s, 2 s... up to 30 s, each delay drawn
/// between half and all of the nominal one.
#[derive(Debug)]
struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            next: BACKOFF_START,
        }
    }
}

impl Backoff {
    fn fail(&mut self) -> Duration {
        let nominal = self.next;
        self.next = (self.next * 2).min(BACKOFF_MAX);
        nominal.mul_f64(rand::random_range(0.5..=1.0))
    }

    fn reset(&mut self) {
        self.next = BACKOFF_START;
    }
}

/// What one pass of the loop did.
enum Step {
    /// Nothing after the cursor.
    Idle,
    /// A batch went through.
    Delivered,
    /// Something failed; try again after this long.
    Failed(Duration),
}

struct Runner {
    sink: Sink,
    sender: Sender,
    store: Arc<dyn Store>,
    origin: Origin,
    status: Arc<Mutex<SinkStatus>>,
    notify: Arc<Notify>,
    shutdown: watch::Receiver<bool>,
    backoff: Backoff,
    /// The batch size in use (halved on 413, grown back after successes).
    limit: usize,
    /// The seq of the last checkpoint delivered.
    last_checkpoint: i64,
}

impl Runner {
    async fn run(mut self) {
        self.limit = self.sink.batch;
        tracing::info!(sink = %self.sink.name, target = %self.sink.target, format = %self.sink.format, "audit sink started");
        let mut cursor = loop {
            match Cursor::load(self.store.clone(), &self.sink.name).await {
                Ok(c) => break c,
                Err(e) => {
                    let delay = self.failed(&SinkError::Store(e), false);
                    if self.pause(delay, false).await {
                        return;
                    }
                }
            }
        };
        self.update(|s| s.cursor = cursor.acked());
        loop {
            if self.stopping() {
                break;
            }
            match self.step(&mut cursor).await {
                Step::Idle => {
                    if self.pause(POLL_EVERY, true).await {
                        break;
                    }
                }
                Step::Delivered => {}
                Step::Failed(delay) => {
                    if self.pause(delay, false).await {
                        break;
                    }
                }
            }
        }
        let finish = async {
            // Deliver what is left while it goes through, then vouch for the tail.
            while let Step::Delivered = self.step(&mut cursor).await {}
            self.final_checkpoint(&cursor).await;
        };
        if tokio::time::timeout(SHUTDOWN_GRACE, finish).await.is_err() {
            tracing::warn!(sink = %self.sink.name, cursor = cursor.acked(), "audit sink stopped before catching up; it resumes from its cursor at the next start");
        }
        if let Some(seq) = self.sender.close().await {
            cursor.rewind(seq);
        }
        if let Err(e) = cursor.persist().await {
            tracing::error!(sink = %self.sink.name, error = %e, "cannot save the audit sink's cursor; events after the stored one will be sent again");
        }
        tracing::info!(sink = %self.sink.name, cursor = cursor.acked(), "audit sink stopped");
    }

    /// Reads the events after the cursor and delivers one batch.
    async fn step(&mut self, cursor: &mut Cursor) -> Step {
        if let Err(e) = cursor.persist().await {
            return Step::Failed(self.failed(&SinkError::Store(e), false));
        }
        match self.store.audit_head().await {
            Ok(head) => {
                let head = head.map_or(0, |h| h.seq);
                self.update(|s| {
                    s.head = head;
                    s.lag = (head - s.cursor).max(0);
                });
            }
            Err(e) => return Step::Failed(self.failed(&SinkError::Store(e), false)),
        }
        let filter = AuditFilter {
            since_seq: Some(cursor.acked()),
            limit: Some(i64::try_from(self.limit).unwrap_or(i64::MAX)),
            ..AuditFilter::default()
        };
        let events = match self.store.list_audit(&filter).await {
            Ok(events) => events,
            Err(e) => return Step::Failed(self.failed(&SinkError::Store(e), false)),
        };
        let (Some(first), Some(last)) = (events.first(), events.last()) else {
            return Step::Idle;
        };
        // Events may have been appended between reading the head and listing them.
        let newest = last.seq;
        self.update(|s| s.head = s.head.max(newest));
        if first.seq > cursor.acked() + 1 && cursor.acked() > 0 {
            tracing::warn!(sink = %self.sink.name, cursor = cursor.acked(), next = first.seq, "audit events after the sink's cursor are gone (retention); continuing from the oldest kept");
        }
        let records = record::batch(
            &events,
            self.sink.format,
            &self.origin,
            self.sink.checkpoint_every,
        );
        let result = self.sender.send(&records).await;
        let delivered = match &result {
            Ok(()) => records.len(),
            Err(f) => f.delivered,
        };
        if let Some(seq) = record::acked_seq(&records, delivered) {
            cursor.advance(seq);
        }
        if let Err(Failure {
            rewind: Some(seq), ..
        }) = &result
        {
            tracing::warn!(sink = %self.sink.name, from = seq + 1, "the receiver dropped the last batch unread; sending it again");
            cursor.rewind(*seq);
        }
        if let Some(cp) = records[..delivered].iter().rev().find(|r| r.checkpoint) {
            self.last_checkpoint = cp.seq;
        }
        let events_through = u64::try_from(
            records[..delivered]
                .iter()
                .filter(|r| !r.checkpoint)
                .count(),
        )
        .unwrap_or(0);
        let acked = cursor.acked();
        self.update(|s| {
            s.cursor = acked;
            s.lag = (s.head - acked).max(0);
            s.delivered += events_through;
            if delivered > 0 {
                s.last_delivery_at = Some(unix_now());
            }
        });
        // Persisting now rather than at the next step narrows the duplicate window of a
        // crash; a failure here is retried at the next step.
        if let Err(e) = cursor.persist().await {
            tracing::warn!(sink = %self.sink.name, error = %e, "cannot save the audit sink's cursor yet");
        }
        match result {
            Ok(()) => {
                self.backoff.reset();
                self.limit = (self.limit * 2).min(self.sink.batch);
                let connected = self.sender.connected();
                self.update(|s| {
                    s.up = true;
                    s.connected = connected;
                });
                Step::Delivered
            }
            Err(f) => {
                if f.retry == Retry::Smaller {
                    self.limit = (self.limit / 2).max(1);
                }
                Step::Failed(self.failed(&f.error, f.retry == Retry::Refused))
            }
        }
    }

    /// On shutdown: a checkpoint for the last acknowledged event, unless one was just sent.
    async fn final_checkpoint(&mut self, cursor: &Cursor) {
        let seq = cursor.acked();
        if seq == 0 || seq == self.last_checkpoint {
            return;
        }
        let filter = AuditFilter {
            since_seq: Some(seq - 1),
            limit: Some(1),
            ..AuditFilter::default()
        };
        let Ok(events) = self.store.list_audit(&filter).await else {
            return;
        };
        let Some(e) = events.first().filter(|e| e.seq == seq) else {
            return;
        };
        let cp = Record::checkpoint(&record::checkpoint_of(e), self.sink.format, &self.origin);
        match self.sender.send(std::slice::from_ref(&cp)).await {
            Ok(()) => self.last_checkpoint = seq,
            Err(f) => {
                tracing::warn!(sink = %self.sink.name, error = %f.error, "cannot send the shutdown checkpoint");
            }
        }
    }

    /// Records a failure and returns how long to wait before the next attempt.
    fn failed(&mut self, error: &SinkError, refused: bool) -> Duration {
        let message = error.to_string();
        if refused {
            tracing::error!(sink = %self.sink.name, target = %self.sink.target, error = %message, "the audit sink refuses our requests: check its token, URL and format; retrying with backoff, nothing is skipped");
        } else {
            tracing::warn!(sink = %self.sink.name, target = %self.sink.target, error = %message, "audit sink delivery failed; retrying");
        }
        let connected = self.sender.connected();
        self.update(|s| {
            s.failures += 1;
            s.up = false;
            s.connected = connected;
            s.last_error = Some(message);
            s.last_error_at = Some(unix_now());
        });
        self.backoff.fail()
    }

    /// Waits `delay` (or for a wake-up, when `wakeable`); true when shutting down.
    async fn pause(&mut self, delay: Duration, wakeable: bool) -> bool {
        if self.stopping() {
            return true;
        }
        let notify = self.notify.clone();
        let woken = async {
            if wakeable {
                notify.notified().await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            () = tokio::time::sleep(delay) => false,
            () = woken => false,
            changed = self.shutdown.changed() => changed.is_err() || *self.shutdown.borrow(),
        }
    }

    fn stopping(&self) -> bool {
        *self.shutdown.borrow()
    }

    fn update(&self, f: impl FnOnce(&mut SinkStatus)) {
        f(&mut self.status.lock().unwrap_or_else(PoisonError::into_inner));
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_cap_with_jitter() {
        let mut b = Backoff::default();
        let mut nominal = BACKOFF_START;
        for _ in 0..10 {
            let d = b.fail();
            assert!(d >= nominal / 2 && d <= nominal, "{d:?} vs {nominal:?}");
            nominal = (nominal * 2).min(BACKOFF_MAX);
        }
        assert_eq!(b.next, BACKOFF_MAX);
        b.reset();
        assert!(b.fail() <= BACKOFF_START);
    }

    #[test]
    fn metrics_are_labelled_and_escaped() {
        let s = SinkStatus {
            name: "a\"b".into(),
            kind: "syslog",
            target: "tcp://h:1".into(),
            cursor: 5,
            head: 9,
            lag: 4,
            delivered: 5,
            failures: 1,
            up: false,
            connected: false,
            last_error: Some("x".into()),
            last_error_at: Some(1),
            last_delivery_at: None,
        };
        let text = render_metrics(&[s]);
        assert!(
            text.contains("squadron_audit_sink_lag{sink=\"a\\\"b\",kind=\"syslog\"} 4\n"),
            "{text}"
        );
        assert!(text.contains("# TYPE squadron_audit_sink_failures_total counter\n"));
        assert!(text.contains("squadron_audit_sink_up{sink=\"a\\\"b\",kind=\"syslog\"} 0\n"));
        assert_eq!(render_metrics(&[]), "");
    }
}
