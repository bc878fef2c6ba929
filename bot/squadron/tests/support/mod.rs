//! Test harness: a real `squadron serve` and real `squadron-agent` processes on loopback
//! ports chosen by the OS, each in its own temporary directory, killed when dropped.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn squadron_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_squadron"))
}

/// The agent binary, built beside `squadron` by `cargo test --workspace`.
pub fn agent_bin() -> PathBuf {
    let bin = squadron_bin().with_file_name("squadron-agent");
    assert!(
        bin.is_file(),
        "{} is missing: run the tests with `cargo test --workspace`",
        bin.display()
    );
    bin
}

pub fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "squadron-e2e-{name}-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0)
}

/// A running control plane.
pub struct Server {
    pub child: Child,
    pub dir: PathBuf,
    pub url: String,
    pub env: Vec<(String, String)>,
}

impl Server {
    /// Starts `squadron serve` on 127.0.0.1:0 with its data in a fresh directory.
    pub fn start(name: &str) -> Server {
        Server::start_in(tempdir(name), &[])
    }

    pub fn start_in(dir: PathBuf, extra_env: &[(&str, &str)]) -> Server {
        Server::start_on(dir, "127.0.0.1:0", extra_env)
    }

    pub fn start_on(dir: PathBuf, listen: &str, extra_env: &[(&str, &str)]) -> Server {
        let mut env: Vec<(String, String)> = vec![
            (
                "SQUADRON_DATA_DIR".into(),
                dir.join("data").display().to_string(),
            ),
            ("SQUADRON_SERVER__LISTEN".into(), listen.into()),
            (
                "SQUADRON_SQUADS_DIR".into(),
                root().join("tests/squads").display().to_string(),
            ),
        ];
        env.extend(
            extra_env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let mut cmd = Command::new(squadron_bin());
        cmd.arg("serve")
            .current_dir(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(
                std::fs::File::create(dir.join("server.log")).expect("log file"),
            ));
        for (k, v) in &env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("squadron serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the listening line");
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://") || w.starts_with("https://"))
            .unwrap_or_else(|| {
                panic!(
                    "no URL in {line:?}; log: {}",
                    std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
                )
            })
            .to_owned();
        Server {
            child,
            dir,
            url,
            env,
        }
    }

    /// Runs the `squadron` CLI against this server.
    pub fn cli(&self, args: &[&str]) -> (bool, String, String) {
        let mut cmd = Command::new(squadron_bin());
        cmd.args(args)
            .arg("--server")
            .arg(&self.url)
            .current_dir(&self.dir);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("squadron runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Runs the CLI and parses its JSON output, failing loudly.
    pub fn json(&self, args: &[&str]) -> Value {
        let (ok, stdout, stderr) = self.cli(args);
        assert!(ok, "squadron {args:?} failed: {stderr}");
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
    }

    pub fn node_status(&self, name: &str) -> Option<String> {
        let v = self.json(&["node", "list", "--json"]);
        v["nodes"]
            .as_array()?
            .iter()
            .find(|n| n["name"] == name)
            .and_then(|n| n["status"].as_str().map(str::to_owned))
    }

    pub fn wait_status(&self, name: &str, want: &str, within: Duration) {
        let start = Instant::now();
        while start.elapsed() < within {
            if self.node_status(name).as_deref() == Some(want) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "node {name} did not become {want} within {within:?}; it is {:?}",
            self.node_status(name)
        );
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        let out = Command::new("curl")
            .args([
                "-s",
                "-o",
                "-",
                "-w",
                "\n%{http_code}",
                &format!("{}{path}", self.url),
            ])
            .output()
            .expect("curl");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
        (code.trim().parse().unwrap_or(0), body.to_owned())
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A running agent.
pub struct Agent {
    pub child: Option<Child>,
    pub config: PathBuf,
    pub log: PathBuf,
}

impl Agent {
    /// Installs an agent config for `node_id`/`token` pointing at `server_url`, with the
    /// test squads, in `dir`.
    pub fn install(dir: &Path, node_id: &str, token: &str, server_url: &str) -> Agent {
        let config = dir.join("agent").join("agent.toml");
        let out = Command::new(agent_bin())
            .args([
                "install",
                "--node-id",
                node_id,
                "--token",
                token,
                "--server",
                server_url,
                "--config",
            ])
            .arg(&config)
            .output()
            .expect("squadron-agent install runs");
        assert!(
            out.status.success(),
            "install failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(&config).expect("config written");
        let squads = root().join("tests/squads").display().to_string();
        let set = text
            .lines()
            .any(|l| l.trim_start().starts_with("squads_dir"));
        let text = if set {
            text
        } else {
            format!("squads_dir = {squads:?}\n{text}")
        };
        std::fs::write(&config, text).expect("config updated");
        Agent {
            child: None,
            config,
            log: dir.join("agent.log"),
        }
    }

    pub fn start(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log");
        let child = Command::new(agent_bin())
            .args(["start", "--config"])
            .arg(&self.config)
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("squadron-agent start");
        self.child = Some(child);
    }

    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Creates a node, installs and starts its agent, deploys and links `squad`, and waits for
/// the connection.
pub fn connected_node(server: &Server, name: &str, squad: &str) -> Agent {
    let node = server.json(&["node", "create", name, "--json"]);
    let (id, token) = (
        node["id"].as_str().expect("id"),
        node["token"].as_str().expect("token"),
    );
    let mut agent = Agent::install(&server.dir.join(name), id, token, &server.url);
    agent.start();
    server.json(&["squad", "deploy", squad, "--json"]);
    server.json(&["squad", "link", squad, "--node", name, "--json"]);
    server.wait_status(name, "connected", Duration::from_secs(15));
    agent
}

/// Runs `squadron chat ... --json` against `server` on another thread.
pub fn spawn_chat(server: &Server, args: &[&str]) -> std::thread::JoinHandle<std::process::Output> {
    let mut cmd = Command::new(squadron_bin());
    cmd.arg("chat")
        .args(args)
        .arg("--json")
        .arg("--server")
        .arg(&server.url)
        .current_dir(&server.dir);
    for (k, v) in &server.env {
        cmd.env(k, v);
    }
    std::thread::spawn(move || cmd.output().expect("chat runs"))
}
