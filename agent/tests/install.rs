//! `squadron-agent install` and the config file: what install writes (0600, the default
//! policy), what a config must pass, and the binary's one-line errors and clean stop.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use squadron_agent::config::{self, Secret};
use squadron_agent::install::{InstallOptions, install};

const TOKEN: &str = "tok_INSTALL_s3cret";
const BIN: &str = env!("CARGO_BIN_EXE_squadron-agent");

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn opts(path: &Path, server: &str) -> InstallOptions {
    InstallOptions {
        node_id: "node_abc".into(),
        token: Secret::new(TOKEN),
        server: server.into(),
        config_path: path.to_owned(),
        allow_insecure: false,
        force: false,
    }
}

#[test]
fn install_writes_a_private_config_with_the_default_policy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("etc/agent.toml");
    let done = install(&opts(&path, "wss://squadron.example.com")).unwrap();
    assert_eq!(done.config_path, path);
    assert_eq!(done.token_path, dir.path().join("etc/token"));
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&done.token_path), 0o600);
    assert_eq!(mode(&dir.path().join("etc")), 0o700);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains(TOKEN), "the token is in the config");
    assert_eq!(
        std::fs::read_to_string(&done.token_path).unwrap(),
        format!("{TOKEN}\n")
    );

    let loaded = config::load(&path).unwrap();
    assert_eq!(loaded.token.expose(), TOKEN);
    let c = &loaded.config;
    assert_eq!(
        (c.server.as_str(), c.node_id.as_str()),
        ("wss://squadron.example.com", "node_abc")
    );
    assert_eq!(c.policy.squads, ["*"]);
    assert!(!c.policy.allow_write);
    assert_eq!(c.policy.max_concurrency, 4);
    assert_eq!(loaded.max_output, 1 << 20);
    assert_eq!(c.policy.file_roots, [Path::new("/var/log")]);
    assert!(c.databases.is_empty());
    assert_eq!(loaded.state_dir(), dir.path().join("etc"));
    assert!(
        !format!("{loaded:?}").contains(TOKEN),
        "Debug prints the token"
    );
}

#[test]
fn install_refuses_plain_text_to_remote_servers_and_existing_configs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agent.toml");
    let e = install(&opts(&path, "ws://10.1.2.3:8080"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("plain text to a non-loopback host") && e.contains("allow_insecure"),
        "{e}"
    );
    assert!(!path.exists());
    let mut insecure = opts(&path, "ws://10.1.2.3:8080");
    insecure.allow_insecure = true;
    install(&insecure).unwrap();
    assert!(config::load(&path).unwrap().config.allow_insecure);

    let e = install(&opts(&path, "http://127.0.0.1:8080"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("already exists; pass --force"), "{e}");
    let mut force = opts(&path, "http://127.0.0.1:8080");
    force.force = true;
    install(&force).unwrap();
    assert!(!config::load(&path).unwrap().config.allow_insecure);

    let mut bad = opts(&dir.path().join("b.toml"), "https://x.example");
    bad.token = Secret::new("has space");
    assert!(install(&bad).unwrap_err().to_string().contains("token"));
}

#[test]
fn bad_configs_are_refused_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "server = \"https://x\"\nnode_id = \"n\"\ntoken = \"t\"\nsquadz = 1\n",
            "unknown field",
        ),
        (
            "server = \"https://x\"\nnode_id = \"n\"\ntoken = \"t\"\ntoken_file = \"/tmp/t\"\n",
            "both `token` and `token_file`",
        ),
        (
            "server = \"https://x\"\nnode_id = \"n\"\n",
            "neither `token` nor `token_file`",
        ),
        (
            "server = \"https://x\"\nnode_id = \"n\"\ntoken = \"t\"\n[policy]\nmax_output = \"lots\"\n",
            "policy.max_output",
        ),
        (
            "server = \"https://x\"\nnode_id = \"n\"\ntoken = \"t\"\n[policy]\nfile_roots = [\"var/log\"]\n",
            "not an absolute path",
        ),
        (
            "server = \"https://x\"\nnode_id = \"n\"\ntoken = \"t\"\n[policy]\nmax_concurrency = 0\n",
            "max_concurrency",
        ),
        (
            "server = \"https://x\"\nnode_id = \"n\"\ntoken = \"t\"\n[[databases]]\nname = \"main\"\nurl = \"sqlite://x.db\"\n",
            "is not postgres://",
        ),
        (
            "server = \"https://x\"\nnode_id = \"n\"\ntoken = \"t\"\n[[databases]]\nname = \"m\"\nurl = \"postgres://u:pw@h/d\"\n[[databases]]\nname = \"m\"\nurl = \"mysql://h/d\"\n",
            "configured twice",
        ),
        (
            "server = \"ws://example.com\"\nnode_id = \"n\"\ntoken = \"t\"\n",
            "allow_insecure",
        ),
        (
            "server = \"https://x\"\nnode_id = \"n\"\ntoken_file = \"missing-token\"\n",
            "missing-token",
        ),
    ];
    for (i, (text, needle)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("c{i}.toml"));
        std::fs::write(&path, text).unwrap();
        let e = config::load(&path).unwrap_err().to_string();
        assert!(e.contains(needle), "case {i}: `{e}` lacks `{needle}`");
        assert!(!e.contains('\n'), "case {i}: not one line: {e}");
        assert!(
            !e.contains("pw@"),
            "case {i}: a password in the message: {e}"
        );
    }
}

#[test]
fn the_binary_installs_where_it_is_told() {
    let dir = tempfile::tempdir().unwrap();
    let from_env = dir.path().join("env/agent.toml");
    let out = Command::new(BIN)
        .args([
            "install",
            "--node-id",
            "node_1",
            "--server",
            "https://squadron.example.com",
        ])
        .env("SQUADRON_AGENT_CONFIG", &from_env)
        .env("SQUADRON_AGENT_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(from_env.exists());
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!printed.contains(TOKEN), "install printed the token");

    // --config wins over the environment.
    let flagged = dir.path().join("flag/agent.toml");
    let out = Command::new(BIN)
        .args([
            "install",
            "--node-id",
            "node_1",
            "--token",
            TOKEN,
            "--server",
            "http://localhost:8080",
        ])
        .arg("--config")
        .arg(&flagged)
        .env("SQUADRON_AGENT_CONFIG", dir.path().join("ignored.toml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(flagged.exists() && !dir.path().join("ignored.toml").exists());

    let out = Command::new(BIN)
        .args([
            "install",
            "--node-id",
            "n",
            "--token",
            TOKEN,
            "--server",
            "ws://10.0.0.9:8080",
        ])
        .arg("--config")
        .arg(dir.path().join("x.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("squadron-agent: ") && err.contains("allow_insecure"),
        "{err}"
    );

    let out = Command::new(BIN)
        .args(["start", "--config"])
        .arg(dir.path().join("nope.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("cannot read") && err.contains("nope.toml"),
        "{err}"
    );
}

#[test]
fn the_binary_retries_an_absent_server_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agent.toml");
    // Port 1 on loopback: nothing listens, every attempt fails at once.
    install(&opts(&path, "http://127.0.0.1:1")).unwrap();
    let child = Command::new(BIN)
        .args(["start", "--config"])
        .arg(&path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(4));
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(15));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {err}", out.status);
    assert!(err.contains("cannot connect"), "{err}");
    assert!(err.contains("squadron-agent stopped"), "{err}");
    assert!(!err.contains(TOKEN), "the token reached the logs");
    // The journal was created in the config's directory.
    assert!(dir.path().join("journal.jsonl").exists());
}
