//! Faults and hostile peers: frames that are too big or malformed, an audit store that
//! hangs or disappears. Each is refused or contained; nothing runs unaudited; the server
//! stays healthy.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use support::{Server, connected_node};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

fn ws_url(server: &Server) -> String {
    format!(
        "{}/v1/agent/connect",
        server.url.replacen("http://", "ws://", 1)
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_and_malformed_frames_are_refused_and_the_server_stays_healthy() {
    let server = Server::start("frames");
    let node = server.json(&["node", "create", "frames-1", "--json"]);
    let token = node["token"].as_str().expect("token").to_owned();

    // no bearer token: refused before the upgrade
    let err = tokio_tungstenite::connect_async(ws_url(&server))
        .await
        .expect_err("must refuse");
    assert!(err.to_string().contains("401"), "{err}");

    // a malformed hello
    let mut req = ws_url(&server).into_client_request().expect("request");
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req.clone())
        .await
        .expect("upgrade");
    ws.send(Message::Text(
        "{\"type\":\"hello\",\"protocol\":\"nope\"}".into(),
    ))
    .await
    .expect("send");
    let reply = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .expect("answer in time");
    let text = match reply {
        Some(Ok(Message::Text(t))) => t.to_string(),
        other => format!("{other:?}"),
    };
    assert!(text.contains("expected a hello frame"), "{text}");

    // an oversized frame
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("upgrade");
    let big = "x".repeat(5 << 20);
    let _ = ws.send(Message::Text(big.into())).await;
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return true,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert_eq!(closed, Ok(true));

    assert_eq!(server.get("/healthz").0, 200);
    assert_eq!(
        server.node_status("frames-1").as_deref(),
        Some("disconnected")
    );
    let metrics = server.get("/metrics").1;
    assert!(metrics.contains("squadron_agents_connected 0"), "{metrics}");
}

#[test]
fn a_hanging_audit_store_refuses_the_command() {
    let server = Server::start_in(
        support::tempdir("hang"),
        &[("SQUADRON_SERVER__AUDIT_TIMEOUT_SECS", "2")],
    );
    let _agent = connected_node(&server, "hang-1", "hostinfo");
    let db = server.dir.join("data/squadron.db");
    let mut locker = Command::new("sqlite3")
        .arg(&db)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("sqlite3");
    let mut stdin = locker.stdin.take().expect("stdin");
    writeln!(stdin, "BEGIN EXCLUSIVE; SELECT 1;").expect("lock");
    stdin.flush().expect("flush");
    std::thread::sleep(Duration::from_millis(300));

    let (ok, stdout, stderr) =
        server.cli(&["chat", "--squad", "hostinfo", "--json", "which kernel?"]);
    assert!(ok, "{stderr}");
    let reply: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(reply["commands"][0]["status"], "denied", "{reply}");
    assert!(
        reply["answer"].as_str().is_some_and(
            |a| a.contains("audit trail cannot be written") && a.contains("nothing was run")
        ),
        "{reply}"
    );

    writeln!(stdin, "COMMIT;").expect("unlock");
    drop(stdin);
    let _ = locker.wait();
    let reply = server.json(&["chat", "--squad", "hostinfo", "--json", "which kernel?"]);
    assert_eq!(reply["commands"][0]["status"], "ok", "{reply}");
    let events = server.json(&["audit", "list", "--json"]);
    let runs: Vec<&serde_json::Value> = events["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["command"] == "uname -a")
        .collect();
    assert_eq!(
        runs.len(),
        2,
        "only the second request ran and was audited: {events}"
    );
}

#[test]
fn a_vanished_postgres_refuses_the_command() {
    let db = format!("squadron_e2e_{}", std::process::id());
    let psql = |sql: &str| {
        let out = Command::new("psql")
            .args([
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-qAtc",
                sql,
            ])
            .output()
            .expect("psql");
        assert!(
            out.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    psql(&format!("CREATE DATABASE {db}"));
    let url = format!("postgres://postgres@127.0.0.1:5432/{db}");
    let server = Server::start_in(
        support::tempdir("pg"),
        &[
            ("SQUADRON_DATABASE_URL", &url),
            ("SQUADRON_SERVER__AUDIT_TIMEOUT_SECS", "3"),
        ],
    );
    let _agent = connected_node(&server, "pg-1", "hostinfo");
    let reply = server.json(&["chat", "--squad", "hostinfo", "--json", "which kernel?"]);
    assert_eq!(reply["commands"][0]["status"], "ok", "{reply}");

    psql(&format!("DROP DATABASE {db} WITH (FORCE)"));
    let (_, stdout, stderr) =
        server.cli(&["chat", "--squad", "hostinfo", "--json", "which kernel?"]);
    let refused = stdout.contains("\"denied\"") && stdout.contains("audit trail cannot be written")
        || stderr.contains("error:");
    assert!(refused, "stdout: {stdout}\nstderr: {stderr}");
    assert!(
        !stdout.contains("\"status\": \"ok\""),
        "a command ran without its audit record: {stdout}"
    );
    assert_eq!(server.get("/healthz").0, 200);
    assert_eq!(server.get("/readyz").0, 503);
}

#[test]
fn audit_verify_names_the_first_tampered_event() {
    let mut server = Server::start_in(
        support::tempdir("verify"),
        &[("SQUADRON_AUDIT__CHECKPOINT_SECS", "1")],
    );
    let _agent = connected_node(&server, "ver-1", "hostinfo");
    for q in [
        "which kernel?",
        "what time is it on the clock?",
        "which kernel?",
    ] {
        server.json(&[
            "chat", "--squad", "hostinfo", "--node", "ver-1", "--json", q,
        ]);
    }
    let (ok, stdout, stderr) = server.cli(&["audit", "verify"]);
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.starts_with("audit chain intact:"), "{stdout}");
    std::thread::sleep(Duration::from_millis(1500));
    server.stop();

    let db = server.dir.join("data/squadron.db");
    let sql = |q: &str| {
        let out = Command::new("sqlite3")
            .arg(&db)
            .arg(q)
            .output()
            .expect("sqlite3");
        assert!(
            out.status.success(),
            "{q}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let target = sql("SELECT seq FROM audit_events WHERE command = 'date -u' AND status = 'ok'");
    let id = sql(&format!("SELECT id FROM audit_events WHERE seq = {target}"));
    sql("DROP TRIGGER audit_events_append_only");
    sql(&format!(
        "UPDATE audit_events SET output = output || '!' WHERE seq = {target}"
    ));
    let (ok, stdout, stderr) = server.cli(&["audit", "verify"]);
    assert!(!ok, "tampering went unnoticed: {stdout}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("seq {target} (event {id})")) && stderr.contains("changed"),
        "{stderr}"
    );

    let json = server.cli(&["audit", "verify", "--json"]).1;
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["ok"], false);
    assert_eq!(v["seq"].to_string(), target);

    // the tail cut off behind the last checkpoint is noticed too
    sql(&format!(
        "UPDATE audit_events SET output = substr(output, 1, length(output) - 1) WHERE seq = {target}"
    ));
    let head = sql("SELECT max(seq) FROM audit_events");
    let checkpoint = sql("SELECT max(seq) FROM audit_checkpoints");
    assert_eq!(head, checkpoint, "the shutdown checkpoint covers the head");
    sql(&format!("DELETE FROM audit_events WHERE seq = {head}"));
    let (ok, _, stderr) = server.cli(&["audit", "verify"]);
    assert!(!ok);
    assert!(
        stderr.contains(&format!("event {head} was deleted")),
        "{stderr}"
    );
}
