//! The agent's WebSocket client against small in-test servers: bearer on the upgrade,
//! Hello first, runs answered, heartbeats, reconnects with backoff after 401s, `Close`
//! messages and oversized frames, and a shutdown that lets running requests finish.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Fixture, policy};
use futures_util::{SinkExt, StreamExt};
use squadron_agent::backoff::Backoff;
use squadron_agent::client::{Client, ClientOptions};
use squadron_agent::config;
use squadron_agent::policy::Policy;
use squadron_core::output::RunStatus;
use squadron_core::{Invocation, ToolOutput};
use squadron_proto::{AgentMessage, PROTOCOL_VERSION, ServerMessage};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;

const TOKEN: &str = "tok_TEST_s3cret_value";

/// What the test server saw, per connection number.
#[derive(Debug)]
enum Event {
    Hello(usize, AgentMessage),
    Result(usize, String, ToolOutput),
    Heartbeat(usize),
    Closed(usize),
}

type Conns = Arc<Mutex<Vec<mpsc::UnboundedSender<Message>>>>;

/// A WebSocket server at `/v1/agent/connect` that wants `Bearer TOKEN`, acks
/// heartbeats, and reports everything else.
async fn ws_server() -> (String, mpsc::UnboundedReceiver<Event>, Conns) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (events, rx) = mpsc::unbounded_channel();
    let conns: Conns = Arc::default();
    let registry = Arc::clone(&conns);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            // The callback type is tungstenite's.
            #[allow(clippy::result_large_err)]
            let check = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
                let auth = req
                    .headers()
                    .get("authorization")
                    .and_then(|v| v.to_str().ok());
                if req.uri().path() == "/v1/agent/connect"
                    && auth == Some(&format!("Bearer {TOKEN}"))
                {
                    Ok(resp)
                } else {
                    let mut denied = ErrorResponse::new(Some("unauthorized".into()));
                    *denied.status_mut() = StatusCode::UNAUTHORIZED;
                    Err(denied)
                }
            };
            let Ok(ws) = tokio_tungstenite::accept_hdr_async(stream, check).await else {
                continue;
            };
            let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Message>();
            let n = {
                let mut c = registry.lock().unwrap();
                c.push(out_tx.clone());
                c.len() - 1
            };
            let events = events.clone();
            tokio::spawn(async move {
                let (mut sink, mut stream) = ws.split();
                loop {
                    tokio::select! {
                        msg = out_rx.recv() => {
                            let Some(msg) = msg else { break };
                            if sink.send(msg).await.is_err() { break; }
                        }
                        frame = stream.next() => {
                            let Some(Ok(Message::Text(text))) = frame else {
                                if matches!(frame, Some(Ok(Message::Ping(_)) | Ok(Message::Pong(_)))) { continue; }
                                break;
                            };
                            match squadron_proto::decode::<AgentMessage>(&text).unwrap() {
                                AgentMessage::Heartbeat { seq } => {
                                    let _ = events.send(Event::Heartbeat(n));
                                    let ack = squadron_proto::encode(&ServerMessage::HeartbeatAck { seq }).unwrap();
                                    let _ = out_tx.send(Message::Text(ack.into()));
                                }
                                AgentMessage::Result { id, output } => { let _ = events.send(Event::Result(n, id, output)); }
                                hello @ AgentMessage::Hello { .. } => { let _ = events.send(Event::Hello(n, hello)); }
                            }
                        }
                    }
                }
                let _ = events.send(Event::Closed(n));
            });
        }
    });
    (base, rx, conns)
}

fn send(conns: &Conns, n: usize, msg: &ServerMessage) {
    let text = squadron_proto::encode(msg).unwrap();
    conns.lock().unwrap()[n]
        .send(Message::Text(text.into()))
        .unwrap();
}

fn run(id: &str, squad: &str, invocation: &Invocation) -> ServerMessage {
    ServerMessage::Run {
        id: id.into(),
        squad: squad.into(),
        invocation: invocation.clone(),
    }
}

/// The next event that is not a heartbeat.
async fn next(events: &mut mpsc::UnboundedReceiver<Event>) -> Event {
    loop {
        let e = tokio::time::timeout(Duration::from_secs(10), events.recv())
            .await
            .expect("no event within 10s")
            .expect("server gone");
        if !matches!(e, Event::Heartbeat(_)) {
            return e;
        }
    }
}

fn options() -> ClientOptions {
    ClientOptions {
        backoff: Backoff::new(Duration::from_millis(20), Duration::from_millis(100)),
        heartbeat: Duration::from_millis(100),
        connect_timeout: Duration::from_secs(5),
        shutdown_grace: Duration::from_secs(5),
        ..ClientOptions::default()
    }
}

/// A config pointing at `server`, loaded as `start` loads it.
fn loaded(fx: &Fixture, server: &str) -> config::Loaded {
    let path = fx.path().join("agent.toml");
    let mut f = std::fs::File::create(&path).unwrap();
    write!(
        f,
        r#"server = "{server}"
node_id = "node_test"
token = "{TOKEN}"
site_url = "https://shop.example"
[policy]
squads = ["testsq", "database"]
[[databases]]
name = "main"
url = "{}"
"#,
        common::PG_URL
    )
    .unwrap();
    config::load(&path).unwrap()
}

/// Captures this thread's log lines (the tests run on a current-thread runtime).
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn install(&self) -> tracing::subscriber::DefaultGuard {
        let writer = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_default(subscriber)
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn a_session_says_hello_runs_requests_and_heartbeats() {
    let logs = Logs::default();
    let _guard = logs.install();
    let fx = Fixture::new();
    let (base, mut events, conns) = ws_server().await;
    let loaded = loaded(&fx, &base);
    // The runner applies the config's own policy (squads testsq and database only).
    let runner = Arc::new(fx.runner(Policy::from_config(&loaded)));
    let client = Client::from_config(&loaded, runner, options()).unwrap();
    assert_eq!(
        client.url(),
        format!("{}/v1/agent/connect", base.replace("http://", "ws://"))
    );
    let (stop, stopped) = oneshot::channel::<()>();
    let agent = tokio::spawn(client.run(async move {
        let _ = stopped.await;
    }));

    let Event::Hello(0, hello) = next(&mut events).await else {
        panic!("no hello")
    };
    let AgentMessage::Hello {
        protocol,
        node_id,
        squads,
        allow_write,
        inventory,
        version,
        host,
    } = hello
    else {
        unreachable!()
    };
    assert_eq!(protocol, PROTOCOL_VERSION);
    assert_eq!(node_id, "node_test");
    assert_eq!(squads, ["testsq", "database"]);
    assert!(!allow_write);
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
    assert!(!host.is_empty());
    assert_eq!(inventory.databases.len(), 1);
    assert_eq!(inventory.databases[0].name, "main");
    assert_eq!(
        inventory.databases[0].engine,
        squadron_core::squad::DbEngine::Postgres
    );
    assert_eq!(inventory.site_url.as_deref(), Some("https://shop.example"));
    send(
        &conns,
        0,
        &ServerMessage::Welcome {
            node: "test".into(),
            heartbeat_secs: 20,
        },
    );

    let echo = fx.invocation("testsq", "echo", &[("word", "hello")]);
    send(&conns, 0, &run("r1", "testsq", &echo));
    let Event::Result(0, id, out) = next(&mut events).await else {
        panic!("no result")
    };
    assert_eq!(
        (id.as_str(), out.status, out.stdout.as_str()),
        ("r1", RunStatus::Ok, "hello\n")
    );

    // The same id again is answered from the journal, not run.
    send(&conns, 0, &run("r1", "testsq", &echo));
    let Event::Result(0, id, again) = next(&mut events).await else {
        panic!("no result")
    };
    assert_eq!((id.as_str(), &again), ("r1", &out));

    // A squad outside the ceiling is refused.
    let k8s = fx.invocation("k8s", "pod_logs", &[("pod", "web-1")]);
    send(&conns, 0, &run("r2", "k8s", &k8s));
    let Event::Result(0, id, out) = next(&mut events).await else {
        panic!("no result")
    };
    assert_eq!((id.as_str(), out.status), ("r2", RunStatus::Denied));

    // A malformed frame is ignored; the session goes on.
    conns.lock().unwrap()[0]
        .send(Message::Text("{\"type\":\"bogus\"}".into()))
        .unwrap();
    send(
        &conns,
        0,
        &run(
            "r3",
            "testsq",
            &fx.invocation("testsq", "echo", &[("word", "still")]),
        ),
    );
    let Event::Result(0, id, out) = next(&mut events).await else {
        panic!("no result")
    };
    assert_eq!((id.as_str(), out.stdout.as_str()), ("r3", "still\n"));

    // Heartbeats flow.
    let beat = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Some(Event::Heartbeat(0)) = events.recv().await {
                return;
            }
        }
    })
    .await;
    assert!(beat.is_ok(), "no heartbeat");

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), agent)
        .await
        .expect("agent did not stop")
        .unwrap();
    assert!(!logs.text().contains(TOKEN), "the token reached the logs");
}

#[tokio::test]
async fn a_401_is_retried_with_backoff_and_never_logs_the_token() {
    let logs = Logs::default();
    let _guard = logs.install();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let attempts = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = Arc::clone(&attempts);
    let saw_token = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let token_seen = Arc::clone(&saw_token);
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut buf = vec![0u8; 4096];
            let n = socket.read(&mut buf).await.unwrap_or(0);
            if String::from_utf8_lossy(&buf[..n]).contains(&format!("Bearer {TOKEN}")) {
                token_seen.store(true, std::sync::atomic::Ordering::SeqCst);
            }
            let _ = socket
                .write_all(
                    b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .await;
        }
    });
    let fx = Fixture::new();
    let loaded = loaded(&fx, &base);
    let client = Client::from_config(
        &loaded,
        Arc::new(fx.runner(policy(&[fx.path()]))),
        options(),
    )
    .unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let agent = tokio::spawn(client.run(async move {
        let _ = stopped.await;
    }));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!agent.is_finished(), "the agent gave up");
    let n = attempts.load(std::sync::atomic::Ordering::SeqCst);
    assert!(n >= 3, "only {n} attempts");
    assert!(n < 100, "{n} attempts: no backoff");
    assert!(
        saw_token.load(std::sync::atomic::Ordering::SeqCst),
        "no bearer on the upgrade"
    );
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), agent)
        .await
        .expect("agent did not stop")
        .unwrap();
    let text = logs.text();
    assert!(
        text.contains("refused the agent's credentials (HTTP 401)"),
        "{text}"
    );
    assert!(!text.contains(TOKEN), "the token reached the logs");
}

#[tokio::test]
async fn a_close_message_or_an_oversized_frame_ends_the_session_and_the_agent_comes_back() {
    let fx = Fixture::new();
    let (base, mut events, conns) = ws_server().await;
    let loaded = loaded(&fx, &base);
    let client = Client::from_config(
        &loaded,
        Arc::new(fx.runner(policy(&[fx.path()]))),
        options(),
    )
    .unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let agent = tokio::spawn(client.run(async move {
        let _ = stopped.await;
    }));
    assert!(matches!(next(&mut events).await, Event::Hello(0, _)));
    send(
        &conns,
        0,
        &ServerMessage::Close {
            reason: "node revoked".into(),
        },
    );
    // The agent leaves the first connection and dials again.
    let mut saw = Vec::new();
    while !saw.iter().any(|e| matches!(e, Event::Hello(1, _))) {
        saw.push(next(&mut events).await);
    }
    // A frame over MAX_FRAME is refused before parsing; the agent reconnects again.
    let huge = "x".repeat(squadron_proto::MAX_FRAME + 16);
    conns.lock().unwrap()[1]
        .send(Message::Text(huge.into()))
        .unwrap();
    loop {
        if let Event::Hello(2, _) = next(&mut events).await {
            break;
        }
    }
    assert!(!agent.is_finished());
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), agent)
        .await
        .expect("agent did not stop")
        .unwrap();
}

#[tokio::test]
async fn shutdown_lets_running_requests_finish() {
    let fx = Fixture::new();
    let (base, mut events, conns) = ws_server().await;
    let loaded = loaded(&fx, &base);
    let client = Client::from_config(
        &loaded,
        Arc::new(fx.runner(policy(&[fx.path()]))),
        options(),
    )
    .unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let agent = tokio::spawn(client.run(async move {
        let _ = stopped.await;
    }));
    assert!(matches!(next(&mut events).await, Event::Hello(0, _)));
    let nap = fx.invocation("testsq", "nap", &[("secs", "1")]);
    send(&conns, 0, &run("slow", "testsq", &nap));
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.send(()).unwrap();
    let Event::Result(0, id, out) = next(&mut events).await else {
        panic!("no result before close")
    };
    assert_eq!(
        (id.as_str(), out.status),
        ("slow", RunStatus::Ok),
        "{out:?}"
    );
    assert!(matches!(next(&mut events).await, Event::Closed(0)));
    tokio::time::timeout(Duration::from_secs(5), agent)
        .await
        .expect("agent did not stop")
        .unwrap();
}
