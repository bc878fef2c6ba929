//! End to end, as a newcomer runs it: `squadron serve` and `squadron-agent` as real
//! processes on loopback sockets, driven through the CLI.

mod support;

use std::time::Duration;

use support::{Agent, Server, connected_node};

#[test]
fn newcomer_path_runs_a_real_command_and_audits_it() {
    let server = Server::start("newcomer");
    let (code, body) = server.get("/healthz");
    assert_eq!((code, body.trim()), (200, "ok"));
    let _agent = connected_node(&server, "web-1", "hostinfo");

    let nodes = server.json(&["node", "list", "--json"]);
    let n = &nodes["nodes"][0];
    assert_eq!(n["name"], "web-1");
    assert_eq!(n["status"], "connected");
    assert!(
        n["version"].is_string() && n["host"].is_string() && n["last_seen"].is_string(),
        "{n}"
    );

    let reply = server.json(&[
        "chat",
        "--squad",
        "hostinfo",
        "--json",
        "which kernel runs here?",
    ]);
    assert!(
        reply["answer"]
            .as_str()
            .is_some_and(|a| a.contains("Linux") && a.contains("web-1")),
        "{reply}"
    );
    let cmd = &reply["commands"][0];
    assert_eq!(cmd["command"], "uname -a");
    assert_eq!(cmd["status"], "ok");
    assert_eq!(cmd["exit_code"], 0);
    assert_eq!(cmd["node"], "web-1");

    let audit = server.json(&["audit", "list", "--json"]);
    let events = audit["events"].as_array().expect("events");
    let done = events
        .iter()
        .find(|e| e["command"] == "uname -a" && e["status"] == "ok")
        .unwrap_or_else(|| panic!("no finished event in {audit}"));
    for field in [
        "id",
        "seq",
        "ts",
        "duration_ms",
        "actor",
        "platform",
        "channel",
        "conversation",
        "squad",
        "agent",
        "node",
        "tool",
        "command",
        "args",
        "status",
        "exit_code",
        "output",
        "output_bytes",
        "output_sha256",
        "reason",
        "prev_hash",
        "hash",
    ] {
        assert!(
            done.get(field).is_some(),
            "audit event lacks {field}: {done}"
        );
    }
    assert!(done["output"].as_str().is_some_and(|o| o.contains("Linux")));
    assert_eq!(done["output_sha256"].as_str().map(str::len), Some(64));
    assert_eq!(done["node"], "web-1");
    assert!(
        events
            .iter()
            .any(|e| e["command"] == "uname -a" && e["status"] == "started"),
        "no started event"
    );
    let seqs: Vec<i64> = events.iter().filter_map(|e| e["seq"].as_i64()).collect();
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "seq has gaps: {seqs:?}"
    );
    let show = server.json(&["audit", "show", done["id"].as_str().expect("id"), "--json"]);
    assert_eq!(show["hash"], done["hash"]);
}

#[test]
fn wrong_and_revoked_tokens_are_refused() {
    let server = Server::start("tokens");
    let node = server.json(&["node", "create", "db-1", "--json"]);
    let id = node["id"].as_str().expect("id");
    let mut bad = Agent::install(&server.dir.join("bad"), id, "sqn_wrongtoken", &server.url);
    bad.start();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(server.node_status("db-1").as_deref(), Some("disconnected"));
    bad.kill();
    assert!(
        !bad.log_text().contains("sqn_wrongtoken"),
        "the agent logged its token"
    );

    let mut good = Agent::install(
        &server.dir.join("good"),
        id,
        node["token"].as_str().expect("token"),
        &server.url,
    );
    good.start();
    server.wait_status("db-1", "connected", Duration::from_secs(15));
    let (ok, _, stderr) = server.cli(&["node", "revoke", "db-1"]);
    assert!(ok, "{stderr}");
    server.wait_status("db-1", "revoked", Duration::from_secs(5));
    let log = std::fs::read_to_string(server.dir.join("server.log")).unwrap_or_default();
    assert!(
        !log.contains(node["token"].as_str().expect("token")),
        "the server logged a token"
    );
    let (code, _) = server.get("/healthz");
    assert_eq!(code, 200);
}

#[test]
fn chat_refusals_are_one_clear_line_and_change_nothing() {
    let server = Server::start("refusals");
    let _agent = connected_node(&server, "app-1", "hostinfo");
    server.json(&["node", "create", "idle-1", "--json"]);
    server.json(&["node", "create", "lone-1", "--json"]);
    server.json(&["squad", "link", "hostinfo", "--node", "idle-1", "--json"]);
    let before = server.json(&["audit", "list", "--json"])["events"]
        .as_array()
        .map(Vec::len);
    for (args, needle) in [
        (
            vec!["chat", "--squad", "nope", "hello"],
            "unknown squad `nope`",
        ),
        (
            vec!["chat", "--squad", "hostinfo", "--node", "ghost", "kernel?"],
            "node `ghost` is unknown",
        ),
        (
            vec!["chat", "--squad", "k8s", "why is my pod crashing"],
            "squad `k8s` is not deployed",
        ),
        (
            vec!["chat", "--squad", "hostinfo", "--node", "idle-1", "kernel?"],
            "node `idle-1` is offline (last seen never)",
        ),
        (
            vec!["chat", "--squad", "hostinfo", "--node", "lone-1", "kernel?"],
            "squad `hostinfo` is not linked to node `lone-1`",
        ),
        (
            vec!["chat", "--squad", "hostinfo", "kernel?"],
            "linked to several nodes (app-1, idle-1); say which one",
        ),
    ] {
        let (ok, stdout, stderr) = server.cli(&args);
        assert!(!ok, "{args:?} succeeded: {stdout}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
    let after = server.json(&["audit", "list", "--json"])["events"]
        .as_array()
        .map(Vec::len);
    assert_eq!(before, after, "a refused request changed the audit trail");

    let reply = server.json(&[
        "chat",
        "--squad",
        "hostinfo",
        "--node",
        "app-1",
        "--json",
        "sleep --server=http://x",
    ]);
    assert!(
        reply["commands"].as_array().is_some_and(Vec::is_empty),
        "{reply}"
    );
    assert!(
        reply["answer"]
            .as_str()
            .is_some_and(|a| a.contains("refused") && a.contains("parameter `secs`")),
        "{reply}"
    );
    let reply = server.json(&[
        "chat",
        "--squad",
        "hostinfo",
        "--node",
        "app-1",
        "--json",
        "restart it",
    ]);
    assert!(
        reply["answer"]
            .as_str()
            .is_some_and(|a| a.contains("approval")),
        "{reply}"
    );
    let events = server.json(&["audit", "list", "--json"]);
    let denied: Vec<&serde_json::Value> = events["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["status"] == "denied")
        .collect();
    assert_eq!(denied.len(), 1, "{events}");
    assert!(
        denied[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("secs")),
        "{events}"
    );
    assert!(
        !events["events"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|e| e["kind"] == "tool_run"),
        "something ran: {events}"
    );
    assert_eq!(server.get("/healthz").0, 200);
}

#[test]
fn a_broken_config_file_is_one_clear_line() {
    let dir = support::tempdir("badconfig");
    let cfg = dir.join("squadron.toml");
    std::fs::write(&cfg, "[server]\nlisten = \"not an address\"\n").expect("write");
    let out = std::process::Command::new(support::squadron_bin())
        .args(["serve", "--config"])
        .arg(&cfg)
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("server.listen"), "{stderr}");
    std::fs::write(&cfg, "[server]\nlisten = \"127.0.0.1:0\"\nshout = true\n").expect("write");
    let out = std::process::Command::new(support::squadron_bin())
        .args(["serve", "--config"])
        .arg(&cfg)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("shout") && stderr.contains("squadron.toml"),
        "{stderr}"
    );
}

#[test]
fn killed_agent_mid_command_is_lost_and_never_rerun() {
    let server = Server::start("lost");
    let mut agent = connected_node(&server, "slow-1", "hostinfo");
    let asking = support::spawn_chat(&server, &["--squad", "hostinfo", "sleep 8"]);
    std::thread::sleep(Duration::from_millis(1500));
    agent.kill();
    let out = asking.join().expect("thread");
    let reply: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json reply");
    assert_eq!(reply["commands"][0]["status"], "lost", "{reply}");
    agent.start();
    server.wait_status("slow-1", "connected", Duration::from_secs(15));
    std::thread::sleep(Duration::from_secs(1));
    let events = server.json(&["audit", "list", "--json"]);
    let runs = events["events"].as_array().map(|e| {
        e.iter()
            .filter(|e| e["command"] == "sleep 8" && e["status"] == "started")
            .count()
    });
    assert_eq!(runs, Some(1), "the lost command was started again");
}

#[test]
fn agents_are_back_within_seconds_after_a_server_restart() {
    let mut server = Server::start("restart");
    let _agent = connected_node(&server, "edge-1", "hostinfo");
    let addr = server.url.trim_start_matches("http://").to_owned();
    let dir = server.dir.clone();
    server.stop();
    let server = Server::start_on(dir, &addr, &[]);
    server.wait_status("edge-1", "connected", Duration::from_secs(20));
    let reply = server.json(&[
        "chat",
        "--squad",
        "hostinfo",
        "--json",
        "what time is it on the clock",
    ]);
    assert_eq!(reply["commands"][0]["status"], "ok", "{reply}");
}

#[test]
fn tls_serves_https_and_wss_to_an_agent_that_trusts_the_ca() {
    let dir = support::tempdir("tls");
    let (ca, cert, key) = (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    );
    let openssl = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(&dir)
            .output()
            .expect("openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .expect("ext");
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=squadron test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "key.pem",
        "-out",
        "leaf.csr",
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "leaf.ext",
        "-out",
        "cert.pem",
    ]);
    let ca = ca.display().to_string();
    let (c, k) = (cert.display().to_string(), key.display().to_string());
    let server = Server::start_in(
        dir.clone(),
        &[
            ("SQUADRON_SERVER__TLS_CERT", &c),
            ("SQUADRON_SERVER__TLS_KEY", &k),
            ("SQUADRON_CA_FILE", &ca),
        ],
    );
    assert!(server.url.starts_with("https://"), "{}", server.url);
    let node = server.json(&["node", "create", "tls-1", "--json"]);
    let mut agent = Agent::install(
        &dir.join("tls-1"),
        node["id"].as_str().expect("id"),
        node["token"].as_str().expect("token"),
        &server.url,
    );
    let text = std::fs::read_to_string(&agent.config).expect("config");
    std::fs::write(&agent.config, format!("ca_file = {ca:?}\n{text}")).expect("config");
    agent.start();
    server.json(&["squad", "deploy", "hostinfo", "--json"]);
    server.json(&["squad", "link", "hostinfo", "--node", "tls-1", "--json"]);
    server.wait_status("tls-1", "connected", Duration::from_secs(15));
    let reply = server.json(&["chat", "--squad", "hostinfo", "--json", "kernel?"]);
    assert_eq!(reply["commands"][0]["status"], "ok", "{reply}");
}

#[test]
fn sigterm_finishes_in_flight_runs_and_stops() {
    let mut server = Server::start("sigterm");
    let _agent = connected_node(&server, "term-1", "hostinfo");
    let token = server.dir.join("data/admin.token");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&token)
            .expect("admin.token")
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "admin.token is {mode:o}");
    let asking = support::spawn_chat(&server, &["--squad", "hostinfo", "sleep 2"]);
    std::thread::sleep(Duration::from_millis(700));
    let pid = server.child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success()
    );
    let out = asking.join().expect("thread");
    let reply: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!(
        reply["commands"][0]["status"], "ok",
        "the run in flight did not finish: {reply}"
    );
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(s) = server.child.try_wait().expect("wait") {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the server did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status}");
}

#[test]
fn the_chat_repl_keeps_the_conversation() {
    let server = Server::start("repl");
    let _agent = connected_node(&server, "repl-1", "hostinfo");
    let mut cmd = std::process::Command::new(support::squadron_bin());
    cmd.args(["chat", "--squad", "hostinfo", "--server", &server.url])
        .current_dir(&server.dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in &server.env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("repl");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        writeln!(stdin, "which kernel?\nand the clock?\nexit").expect("write");
    }
    let out = child.wait_with_output().expect("repl ends");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("`uname -a`") && stdout.contains("`date -u`"),
        "{stdout}"
    );
    assert!(
        stderr.contains("running `uname -a` on repl-1"),
        "progress is shown: {stderr}"
    );
    let events = server.json(&["audit", "list", "--json"]);
    let convs: std::collections::BTreeSet<String> = events["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["kind"] == "tool_run")
        .filter_map(|e| e["conversation"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        convs.len(),
        1,
        "both questions belong to one conversation: {convs:?}"
    );
}

#[test]
fn audit_export_writes_every_format_with_a_closing_checkpoint() {
    let server = Server::start("export");
    let _agent = connected_node(&server, "exp-1", "hostinfo");
    server.json(&["chat", "--squad", "hostinfo", "--json", "which kernel?"]);
    let events = server.json(&["audit", "list", "--json", "--limit", "1000"]);
    let n = events["events"].as_array().map_or(0, Vec::len);
    assert!(n >= 4, "{events}");
    for format in ["jsonl", "cef", "ocsf", "ecs", "syslog"] {
        let file = server.dir.join(format!("audit.{format}"));
        let (ok, _, stderr) = server.cli(&[
            "audit",
            "export",
            "--format",
            format,
            "--output",
            &file.display().to_string(),
        ]);
        assert!(ok, "{format}: {stderr}");
        let text = std::fs::read_to_string(&file).expect("export written");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines.len(),
            n + 1,
            "{format}: one line per event and a checkpoint:\n{text}"
        );
        for line in &lines {
            match format {
                "cef" => assert!(line.starts_with("CEF:0|"), "{line}"),
                "syslog" => assert!(line.starts_with('<') && line.contains(">1 "), "{line}"),
                _ => {
                    serde_json::from_str::<serde_json::Value>(line)
                        .unwrap_or_else(|e| panic!("{format}: {e}: {line}"));
                }
            }
        }
        assert!(text.contains("uname -a"), "{format} lacks the command");
    }
    let (ok, _, stderr) = server.cli(&["audit", "export", "--format", "xml"]);
    assert!(!ok);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    let (ok, _, stderr) =
        server.cli(&["audit", "export", "--format", "cef", "--since", "yesterday"]);
    assert!(!ok && stderr.contains("since"), "{stderr}");
}

#[test]
fn a_file_sink_receives_every_event_in_order() {
    let dir = support::tempdir("sink");
    let sink = dir.join("siem.jsonl");
    std::fs::write(
        dir.join("squadron.toml"),
        format!("[[audit.sinks]]\nname = \"local-file\"\nkind = \"file\"\nurl = {:?}\nformat = \"jsonl\"\n", sink.display().to_string()),
    )
    .expect("config");
    let server = Server::start_in(dir, &[]);
    let _agent = connected_node(&server, "sink-1", "hostinfo");
    server.json(&["chat", "--squad", "hostinfo", "--json", "which kernel?"]);
    let listed = server.json(&["audit", "list", "--json", "--limit", "1000"]);
    let want: Vec<i64> = listed["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["seq"].as_i64())
        .collect();
    let start = std::time::Instant::now();
    let got = loop {
        let text = std::fs::read_to_string(&sink).unwrap_or_default();
        let got: Vec<i64> = text
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["kind"] != "checkpoint")
            .filter_map(|v| v["seq"].as_i64())
            .collect();
        if got.len() >= want.len() || start.elapsed() > Duration::from_secs(10) {
            break got;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(got, want, "the sink has every event exactly once, in order");
    let metrics = server.get("/metrics").1;
    assert!(
        metrics.contains("local-file"),
        "sink metrics missing: {metrics}"
    );
}
