//! The connection to the control plane: one outbound WebSocket with the bearer token on
//! the upgrade, `Hello` first, heartbeats, runs dispatched to the [`Runner`], results
//! sent back; reconnects forever with jittered backoff, and drains on shutdown.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use squadron_core::output::RunStatus;
use squadron_core::{DatabaseRef, Inventory, ToolOutput};
use squadron_proto::{
    AgentMessage, MAX_FRAME, MISSED_HEARTBEATS, PROTOCOL_VERSION, RequestId, ServerMessage,
};
use tokio::net::TcpStream;
use tokio::sync::{Notify, mpsc, watch};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode, header};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use crate::backoff::Backoff;
use crate::config::{Loaded, Secret};
use crate::runner::{Outcome, Runner};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Timings of the connection; the defaults are the protocol's.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub backoff: Backoff,
    pub heartbeat: Duration,
    /// Longest wait for TCP, TLS and the upgrade.
    pub connect_timeout: Duration,
    /// How long in-flight runs get to finish after a shutdown signal.
    pub shutdown_grace: Duration,
    /// A connection that lasted this long resets the backoff.
    pub stable_after: Duration,
    /// Runs accepted at once (running or waiting for a slot); more are refused as busy.
    pub max_queued: usize,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            backoff: Backoff::default(),
            heartbeat: Duration::from_secs(squadron_proto::HEARTBEAT_SECS),
            connect_timeout: Duration::from_secs(20),
            shutdown_grace: Duration::from_secs(10),
            stable_after: Duration::from_secs(60),
            max_queued: 64,
        }
    }
}

/// Why the client could not start.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("ca_file {path}: {message}")]
    CaFile { path: String, message: String },
}

/// The agent's side of the tunnel.
#[derive(Debug)]
pub struct Client {
    url: String,
    token: Secret,
    hello: AgentMessage,
    runner: Arc<Runner>,
    tls: Option<Arc<rustls::ClientConfig>>,
    options: ClientOptions,
}

/// How a session ended.
enum End {
    /// The connection went away; reconnect.
    Dropped,
    /// Shutdown finished.
    Shutdown,
}

/// Runs accepted and not yet answered, across connections.
#[derive(Debug, Default)]
struct InFlight {
    count: AtomicUsize,
    idle: Notify,
}

impl InFlight {
    fn done(&self) {
        if self.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.idle.notify_waiters();
        }
    }

    fn get(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }
}

impl Client {
    pub fn new(
        url: String,
        token: Secret,
        hello: AgentMessage,
        runner: Arc<Runner>,
        options: ClientOptions,
    ) -> Client {
        Client {
            url,
            token,
            hello,
            runner,
            tls: None,
            options,
        }
    }

    /// A client for a loaded config (the server URL and CA file from it).
    pub fn from_config(
        loaded: &Loaded,
        runner: Arc<Runner>,
        options: ClientOptions,
    ) -> Result<Client, ClientError> {
        let url = crate::config::server_url(&loaded.config.server, loaded.config.allow_insecure)?;
        let mut client = Client::new(url, loaded.token.clone(), hello(loaded), runner, options);
        if let Some(ca) = &loaded.config.ca_file {
            client.tls = Some(tls_with_ca(ca)?);
        }
        Ok(client)
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Connects and serves until `shutdown` completes, reconnecting forever.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        let (stop_tx, stop_rx) = watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        });
        let (results_tx, mut results_rx) = mpsc::unbounded_channel();
        let in_flight = Arc::new(InFlight::default());
        let mut backoff = self.options.backoff.clone();
        let mut attempt: u64 = 0;
        loop {
            if *stop_rx.borrow() {
                self.drain_offline(&in_flight).await;
                return;
            }
            attempt += 1;
            let mut stop = stop_rx.clone();
            let connected = tokio::select! {
                c = self.connect() => c,
                () = stopped(&mut stop) => continue,
            };
            match connected {
                Ok(socket) => {
                    tracing::info!(url = %self.url, attempt, "connected to the control plane");
                    let since = Instant::now();
                    let end = self
                        .session(
                            socket,
                            &results_tx,
                            &mut results_rx,
                            &in_flight,
                            stop_rx.clone(),
                        )
                        .await;
                    if matches!(end, End::Shutdown) {
                        return;
                    }
                    if since.elapsed() >= self.options.stable_after {
                        backoff.reset();
                        attempt = 0;
                    }
                    let delay = backoff.next_delay();
                    tracing::info!("reconnecting in {}", millis(delay));
                    pause(delay, &stop_rx).await;
                }
                Err(reason) => {
                    let delay = backoff.next_delay();
                    tracing::warn!(
                        url = %self.url,
                        attempt,
                        "cannot connect: {reason}; retrying in {}",
                        millis(delay)
                    );
                    pause(delay, &stop_rx).await;
                }
            }
        }
    }

    /// One connection attempt; the error is one line without the token.
    async fn connect(&self) -> Result<Socket, String> {
        let mut request = self
            .url
            .as_str()
            .into_client_request()
            .map_err(|e| format!("bad server URL: {e}"))?;
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", self.token.expose()))
            .map_err(|_| "the token cannot be sent in a header".to_owned())?;
        auth.set_sensitive(true);
        request.headers_mut().insert(header::AUTHORIZATION, auth);
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_FRAME))
            .max_frame_size(Some(MAX_FRAME));
        let connector = self.tls.clone().map(Connector::Rustls);
        crate::install_crypto_provider();
        let attempt = tokio_tungstenite::connect_async_tls_with_config(
            request,
            Some(config),
            true,
            connector,
        );
        match tokio::time::timeout(self.options.connect_timeout, attempt).await {
            Err(_) => Err(format!(
                "no answer within {}s",
                self.options.connect_timeout.as_secs()
            )),
            Ok(Ok((socket, _response))) => Ok(socket),
            Ok(Err(tungstenite::Error::Http(response))) => Err(match response.status() {
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => format!(
                    "the server refused the agent's credentials (HTTP {}); check node_id and the token file, or run `squadron-agent install` with a new token",
                    response.status().as_u16()
                ),
                status => format!("the server answered the upgrade with HTTP {status}"),
            }),
            Ok(Err(e)) => Err(crate::policy::one_line(&e.to_string())),
        }
    }

    /// One connected session: Hello, then frames, heartbeats and results until the
    /// connection ends or shutdown has drained.
    async fn session(
        &self,
        socket: Socket,
        results_tx: &mpsc::UnboundedSender<(RequestId, ToolOutput)>,
        results_rx: &mut mpsc::UnboundedReceiver<(RequestId, ToolOutput)>,
        in_flight: &Arc<InFlight>,
        mut stop: watch::Receiver<bool>,
    ) -> End {
        let (mut sink, mut stream) = socket.split();
        if let Err(e) = send(&mut sink, &self.hello).await {
            tracing::warn!("could not send hello: {e}");
            return End::Dropped;
        }
        let heartbeat = self.options.heartbeat;
        let mut ticker =
            tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let silence = heartbeat * u32::try_from(MISSED_HEARTBEATS + 1).unwrap_or(4);
        let mut last_heard = Instant::now();
        let mut seq: u64 = 0;
        let mut draining: Option<tokio::time::Instant> = None;
        loop {
            if let Some(deadline) = draining {
                if in_flight.get() == 0 && results_rx.is_empty() {
                    tracing::info!("in-flight runs finished; closing the connection");
                    let _ = sink.send(Message::Close(None)).await;
                    return End::Shutdown;
                }
                if tokio::time::Instant::now() >= deadline {
                    tracing::warn!(
                        running = in_flight.get(),
                        "shutdown grace over; runs still going are killed and will be reported lost"
                    );
                    let _ = sink.send(Message::Close(None)).await;
                    return End::Shutdown;
                }
            }
            let idle = in_flight.idle.notified();
            let grace_left = draining.map_or(Duration::from_secs(3600), |d| {
                d.saturating_duration_since(tokio::time::Instant::now())
            });
            tokio::select! {
                frame = stream.next() => {
                    last_heard = Instant::now();
                    let text = match frame {
                        None => {
                            tracing::warn!("the server closed the connection");
                            return End::Dropped;
                        }
                        Some(Err(e)) => {
                            tracing::warn!("connection error: {}", crate::policy::one_line(&e.to_string()));
                            return End::Dropped;
                        }
                        Some(Ok(Message::Text(text))) => text,
                        Some(Ok(Message::Close(frame))) => {
                            let reason = frame.map(|f| f.reason.to_string()).unwrap_or_default();
                            tracing::warn!(reason = %reason, "the server closed the connection");
                            return End::Dropped;
                        }
                        Some(Ok(Message::Binary(_))) => {
                            tracing::warn!("ignoring a binary frame from the server");
                            continue;
                        }
                        Some(Ok(_)) => continue,
                    };
                    let message = match squadron_proto::decode::<ServerMessage>(&text) {
                        Ok(m) => m,
                        Err(e) => {
                            tracing::warn!("ignoring a frame from the server: {e}");
                            continue;
                        }
                    };
                    match message {
                        ServerMessage::Welcome { node, heartbeat_secs } => {
                            tracing::info!(node = %node, heartbeat_secs, "welcomed by the control plane");
                        }
                        ServerMessage::HeartbeatAck { .. } => {}
                        ServerMessage::Close { reason } => {
                            tracing::warn!(reason = %reason, "the server ended the session");
                            return End::Dropped;
                        }
                        ServerMessage::Run { id, squad, invocation } => {
                            if draining.is_some() {
                                let out = ToolOutput::refused(RunStatus::Denied, "the agent is shutting down; not run");
                                let _ = results_tx.send((id, out));
                            } else if in_flight.get() >= self.options.max_queued {
                                let out = ToolOutput::refused(
                                    RunStatus::Denied,
                                    format!("the agent is busy ({} requests queued); not run", in_flight.get()),
                                );
                                let _ = results_tx.send((id, out));
                            } else {
                                in_flight.count.fetch_add(1, Ordering::AcqRel);
                                let runner = Arc::clone(&self.runner);
                                let tx = results_tx.clone();
                                let flight = Arc::clone(in_flight);
                                tokio::spawn(async move {
                                    if let Outcome::Answer(out) = runner.handle(&id, &squad, &invocation).await {
                                        let _ = tx.send((id, out));
                                    }
                                    flight.done();
                                });
                            }
                        }
                    }
                }
                Some((id, output)) = results_rx.recv() => {
                    if let Err(e) = send(&mut sink, &result_frame(id, output)).await {
                        tracing::warn!("could not send a result: {e}");
                        return End::Dropped;
                    }
                }
                _ = ticker.tick() => {
                    if last_heard.elapsed() > silence {
                        tracing::warn!("no frame from the server in {}s; reconnecting", silence.as_secs());
                        return End::Dropped;
                    }
                    seq += 1;
                    if let Err(e) = send(&mut sink, &AgentMessage::Heartbeat { seq }).await {
                        tracing::warn!("could not send a heartbeat: {e}");
                        return End::Dropped;
                    }
                }
                () = stopped(&mut stop), if draining.is_none() => {
                    tracing::info!(running = in_flight.get(), "shutting down: no new runs; waiting for the running ones");
                    self.runner.close();
                    draining = Some(tokio::time::Instant::now() + self.options.shutdown_grace);
                }
                () = idle, if draining.is_some() => {}
                () = tokio::time::sleep(grace_left), if draining.is_some() => {}
            }
        }
    }

    /// Shutdown while not connected: stop new runs and give running ones the grace.
    async fn drain_offline(&self, in_flight: &InFlight) {
        self.runner.close();
        let deadline = tokio::time::Instant::now() + self.options.shutdown_grace;
        while in_flight.get() > 0 && tokio::time::Instant::now() < deadline {
            let idle = in_flight.idle.notified();
            let _ = tokio::time::timeout_at(deadline, idle).await;
        }
    }
}

/// Sleeps `delay`, or less when shutdown is asked for.
async fn pause(delay: Duration, stop_rx: &watch::Receiver<bool>) {
    let mut stop = stop_rx.clone();
    tokio::select! {
        () = tokio::time::sleep(delay) => {}
        () = stopped(&mut stop) => {}
    }
}

/// A delay for a log line: `850ms`, `12.4s`.
fn millis(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// Resolves once shutdown was asked for (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// A result frame that fits in [`MAX_FRAME`]: an output that would not is cut further.
fn result_frame(id: RequestId, mut output: ToolOutput) -> AgentMessage {
    let fits = |o: &ToolOutput, id: &RequestId| {
        squadron_proto::encode(&AgentMessage::Result {
            id: id.clone(),
            output: o.clone(),
        })
        .is_ok()
    };
    let mut budget = (MAX_FRAME / 4) as u64;
    while !fits(&output, &id) && budget > 0 {
        output.truncated |= squadron_core::output::cap(&mut output.stdout, budget);
        output.truncated |= squadron_core::output::cap(&mut output.stderr, budget);
        budget /= 2;
    }
    AgentMessage::Result { id, output }
}

async fn send<S>(sink: &mut S, message: &AgentMessage) -> Result<(), String>
where
    S: futures_util::Sink<Message, Error = tungstenite::Error> + Unpin,
{
    let frame = squadron_proto::encode(message).map_err(|e| e.to_string())?;
    sink.send(Message::Text(frame.into()))
        .await
        .map_err(|e| crate::policy::one_line(&e.to_string()))
}

/// The agent's `Hello`: who it is, its ceiling, and what it has.
pub fn hello(loaded: &Loaded) -> AgentMessage {
    let c = &loaded.config;
    AgentMessage::Hello {
        protocol: PROTOCOL_VERSION,
        node_id: c.node_id.clone(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        host: hostname(),
        squads: c.policy.squads.clone(),
        allow_write: c.policy.allow_write,
        inventory: Inventory {
            databases: c
                .databases
                .iter()
                .filter_map(|d| {
                    Some(DatabaseRef {
                        name: d.name.clone(),
                        engine: d.engine()?,
                    })
                })
                .collect(),
            site_url: c.site_url.clone(),
            wordpress_path: c.wordpress_path.clone(),
        },
    }
}

/// This machine's host name.
pub fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// A TLS config that trusts only the CA certificates in `path`.
fn tls_with_ca(path: &std::path::Path) -> Result<Arc<rustls::ClientConfig>, ClientError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let err = |message: String| ClientError::CaFile {
        path: path.display().to_string(),
        message,
    };
    crate::install_crypto_provider();
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(path).map_err(|e| err(e.to_string()))?;
    for cert in certs {
        let cert = cert.map_err(|e| err(e.to_string()))?;
        roots.add(cert).map_err(|e| err(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(err("no certificates in the file".into()));
    }
    Ok(Arc::new(
        rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_too_big_for_a_frame_are_cut_to_fit() {
        // Control characters escape to six bytes each in JSON: 1 MiB of them is 6 MiB.
        let output = ToolOutput::finished(0, "\u{1}".repeat(1 << 20), "\u{2}".repeat(1 << 20));
        let frame = result_frame("r1".into(), output);
        let text = squadron_proto::encode(&frame).expect("fits");
        assert!(text.len() <= MAX_FRAME);
        let AgentMessage::Result { id, output } = frame else {
            panic!("not a result")
        };
        assert_eq!(id, "r1");
        assert!(output.truncated);
        assert!(!output.stdout.is_empty());
        // A small result is left alone.
        let small = ToolOutput::finished(0, "ok\n".into(), String::new());
        let AgentMessage::Result { output, .. } = result_frame("r2".into(), small.clone()) else {
            panic!("not a result")
        };
        assert_eq!(output, small);
    }
}
