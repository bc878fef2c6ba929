//! Shared test plumbing: a real SQLite store in a temp dir, audit events, a running set of
//! sinks, waiting, free ports, and reading back what a receiver got.

use std::sync::Arc;
use std::time::{Duration, Instant};

use squadron_siem::formats::Origin;
use squadron_siem::sinks::{Sink, SinkConfig, SinkHandles, SinkStatus, SinkWaker, spawn_validated};
use squadron_store::{AuditEvent, HmacChain, Store};
use tokio::sync::watch;

/// The outage the outage tests simulate: `SQUADRON_SINK_OUTAGE_SECS` (default 4; the issue's
/// acceptance run uses 30).
pub fn outage() -> Duration {
    let secs = std::env::var("SQUADRON_SINK_OUTAGE_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(4);
    Duration::from_secs(secs)
}

/// A store in a temp dir, and the key events are chained with.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub store: Arc<dyn Store>,
    key: Arc<HmacChain>,
}

impl Env {
    pub async fn new() -> Self {
        // The sinks' logs, shown for failing tests (RUST_LOG to change the level).
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "squadron_siem=debug".into()),
            )
            .with_test_writer()
            .try_init();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("squadron.db").display());
        let store = squadron_store::open(&url).await.unwrap();
        Self {
            dir,
            store,
            key: Arc::new(HmacChain::new(
                b"sink tests: a key of 32 bytes or more".to_vec(),
            )),
        }
    }

    pub async fn append(&self, n: usize) -> Vec<AuditEvent> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.append_one().await);
        }
        out
    }

    pub async fn append_one(&self) -> AuditEvent {
        append_one(&self.store, &self.key).await
    }

    /// Appends `n` events in a task, one every `every`, waking the sinks after each (as the
    /// server does).
    pub fn stream(
        &self,
        n: usize,
        every: Duration,
        waker: SinkWaker,
    ) -> tokio::task::JoinHandle<()> {
        let store = self.store.clone();
        let key = self.key.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            for _ in 0..n {
                tick.tick().await;
                append_one(&store, &key).await;
                waker.wake();
            }
        })
    }

    pub fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }
}

async fn append_one(store: &Arc<dyn Store>, key: &HmacChain) -> AuditEvent {
    let head = store.audit_head().await.unwrap().map_or(0, |h| h.seq);
    store
        .append_audit(event(head as usize + 1), key)
        .await
        .unwrap()
}

pub fn event(n: usize) -> AuditEvent {
    AuditEvent {
        ts: format!(
            "2026-05-01T10:{:02}:{:02}.{:03}Z",
            (n / 60) % 60,
            n % 60,
            n % 1000
        ),
        kind: "tool_run".into(),
        actor: format!("U{}", n % 3),
        actor_name: Some("Ada \"the admin\"".into()),
        platform: "slack".into(),
        channel: Some("C0123".into()),
        squad: Some("k8s".into()),
        node: Some(["web", "db"][n % 2].into()),
        tool: Some("kubectl_get_pods".into()),
        command: Some(format!("kubectl get pods -n ns{n} | grep ] = \\ é")),
        args: Some(format!(r#"{{"namespace":"ns{n}"}}"#)),
        status: ["ok", "error", "denied"][n % 3].into(),
        exit_code: Some((n % 3) as i32),
        output: Some(format!("line one\nline two {n}")),
        output_bytes: Some(20),
        duration_ms: Some(12),
        ..AuditEvent::default()
    }
}

pub fn origin() -> Origin {
    Origin {
        host: "squadron-test".into(),
        version: "0.1.0".into(),
    }
}

/// Sinks running against a store, and their shutdown switch.
pub struct Running {
    pub handles: SinkHandles,
    stop: watch::Sender<bool>,
}

impl Running {
    /// Starts the sinks, with `TOKEN` and `SECRET` as the only environment variables.
    pub fn start(store: &Arc<dyn Store>, sinks: Vec<SinkConfig>) -> Self {
        let sinks: Vec<Sink> = sinks
            .iter()
            .map(|c| c.validate_with(test_env).unwrap())
            .collect();
        let (stop, rx) = watch::channel(false);
        let handles = spawn_validated(store.clone(), sinks, origin(), rx).unwrap();
        Self { handles, stop }
    }

    pub fn waker(&self) -> SinkWaker {
        self.handles.waker()
    }

    pub fn status(&self) -> SinkStatus {
        self.handles.status().remove(0)
    }

    /// Signals shutdown and waits for the tasks (drain, checkpoint, cursor saved).
    pub async fn stop(self) {
        self.stop.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(15), self.handles.join())
            .await
            .expect("sinks stop within their shutdown grace");
    }
}

pub const TOKEN: &str = "11111111-2222-3333-4444-555555555555";
pub const SECRET: &str = "webhook signing secret";

pub fn test_env(name: &str) -> Option<String> {
    match name {
        "TOKEN" => Some(TOKEN.into()),
        "SECRET" => Some(SECRET.into()),
        _ => None,
    }
}

/// Polls `f` every 50 ms until it holds or `within` passes; returns whether it held.
pub async fn wait_until(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if f() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A TCP port nobody listens on right now.
pub fn free_tcp_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One record as a receiver stored it: an event (with its seq) or a checkpoint (with the
/// seq it vouches for).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Got {
    Event(i64),
    Checkpoint(i64),
}

/// Reads a record in the `syslog` (RFC 5424, our SD element) or `jsonl` format, wrapped in
/// a syslog header or not; `None` for anything else.
pub fn parse_record(line: &str) -> Option<Got> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.contains("[squadron@32473") {
        let msgid = line.split(' ').nth(5)?;
        let seq = line
            .split(" seq=\"")
            .nth(1)?
            .split('"')
            .next()?
            .parse()
            .ok()?;
        return Some(if msgid == "checkpoint" {
            Got::Checkpoint(seq)
        } else {
            Got::Event(seq)
        });
    }
    let json = &line[line.find('{')?..];
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    json_record(&v)
}

/// A jsonl record as a JSON value.
pub fn json_record(v: &serde_json::Value) -> Option<Got> {
    let seq = v.get("seq")?.as_i64()?;
    Some(if v.get("kind")?.as_str()? == "checkpoint" {
        Got::Checkpoint(seq)
    } else {
        Got::Event(seq)
    })
}

/// The event seqs among `got`, in order.
pub fn event_seqs(got: &[Got]) -> Vec<i64> {
    got.iter()
        .filter_map(|g| match g {
            Got::Event(s) => Some(*s),
            Got::Checkpoint(_) => None,
        })
        .collect()
}

/// Asserts the events are exactly 1..=n, each once, in order; names the first deviation.
pub fn assert_exactly_once_in_order(seqs: &[i64], n: i64) {
    let want: Vec<i64> = (1..=n).collect();
    if seqs == want.as_slice() {
        return;
    }
    let first_bad = seqs
        .iter()
        .zip(&want)
        .position(|(a, b)| a != b)
        .unwrap_or(seqs.len().min(want.len()));
    let mut counts = std::collections::BTreeMap::new();
    for s in seqs {
        *counts.entry(*s).or_insert(0) += 1;
    }
    let dups: Vec<_> = counts
        .iter()
        .filter(|(_, c)| **c > 1)
        .map(|(s, _)| *s)
        .collect();
    let missing: Vec<_> = want.iter().filter(|s| !counts.contains_key(s)).collect();
    panic!(
        "expected events 1..={n} exactly once in order; got {} events, first deviation at index {first_bad} \
         (around {:?}), duplicated {dups:?}, missing {missing:?}",
        seqs.len(),
        &seqs[first_bad.saturating_sub(2)..(first_bad + 3).min(seqs.len())]
    );
}
