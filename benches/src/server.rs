//! Starts the release `squadron serve` (and a real agent) from the same target directory,
//! in a fresh data directory, and talks to its API.

use std::path::PathBuf;
use std::process::Stdio;

use anyhow::{Context, bail};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

fn bin(name: &str) -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe().context("own path")?;
    let path = me.with_file_name(name);
    if !path.is_file() {
        bail!(
            "{} is missing: build it with `cargo build --release -p squadron -p squadron-agent`",
            path.display()
        );
    }
    Ok(path)
}

/// An API client.
#[derive(Debug, Clone)]
pub struct Api {
    pub url: String,
    token: String,
    http: reqwest::Client,
}

impl Api {
    pub async fn chat(&self, body: &Value) -> anyhow::Result<Value> {
        self.post("/v1/chat", body).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let r = self
            .http
            .post(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await?;
        let status = r.status();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("POST {path}: HTTP {status}: {v}");
        }
        Ok(v)
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let r = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .send()
            .await?;
        Ok(r.json().await?)
    }
}

/// A running server.
#[derive(Debug)]
pub struct Bench {
    pub url: String,
    pub dir: PathBuf,
    api: Api,
    server: Child,
}

impl Bench {
    pub async fn start(name: &str) -> anyhow::Result<Bench> {
        let dir =
            std::env::temp_dir().join(format!("squadron-bench-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let squads = std::env::current_dir()?.join("tests/squads");
        let mut server = Command::new(bin("squadron")?)
            .arg("serve")
            .env("SQUADRON_DATA_DIR", dir.join("data"))
            .env("SQUADRON_SERVER__LISTEN", "127.0.0.1:0")
            .env("SQUADRON_SQUADS_DIR", &squads)
            .env("SQUADRON_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("starting squadron serve")?;
        let stdout = server.stdout.take().context("stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).await?;
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .context("no URL printed")?
            .to_owned();
        let token = std::fs::read_to_string(dir.join("data/admin.token"))?
            .trim()
            .to_owned();
        let api = Api {
            url: url.clone(),
            token,
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(256)
                .build()?,
        };
        Ok(Bench {
            url,
            dir,
            api,
            server,
        })
    }

    pub fn client(&self) -> Api {
        self.api.clone()
    }

    pub async fn chat(&self, body: &Value) -> anyhow::Result<Value> {
        self.api.chat(body).await
    }

    /// Creates `n` nodes; returns (name, id, token).
    pub async fn create_nodes(&self, n: usize) -> anyhow::Result<Vec<(String, String, String)>> {
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let v = self
                .api
                .post("/v1/nodes", &json!({ "name": format!("sim-{i}") }))
                .await?;
            out.push((
                format!("sim-{i}"),
                v["id"].as_str().unwrap_or_default().to_owned(),
                v["token"].as_str().unwrap_or_default().to_owned(),
            ));
        }
        Ok(out)
    }

    pub async fn deploy(&self, squad: &str) -> anyhow::Result<()> {
        self.api
            .post(&format!("/v1/squads/{squad}/deploy"), &json!({}))
            .await
            .map(|_| ())
    }

    pub async fn link(&self, squad: &str, node: &str) -> anyhow::Result<()> {
        self.api
            .post(
                &format!("/v1/squads/{squad}/links"),
                &json!({ "node": node }),
            )
            .await
            .map(|_| ())
    }

    pub async fn deploy_and_link(&self, squad: &str, node: &str) -> anyhow::Result<()> {
        self.deploy(squad).await?;
        self.link(squad, node).await
    }

    /// Starts a real `squadron-agent` for a new node and waits until it is connected.
    pub async fn real_agent(&self, name: &str) -> anyhow::Result<Child> {
        let v = self.api.post("/v1/nodes", &json!({ "name": name })).await?;
        let config = self.dir.join(name).join("agent.toml");
        let agent = bin("squadron-agent")?;
        let st = Command::new(&agent)
            .args([
                "install",
                "--node-id",
                v["id"].as_str().unwrap_or_default(),
                "--token",
                v["token"].as_str().unwrap_or_default(),
                "--server",
                &self.url,
                "--config",
            ])
            .arg(&config)
            .status()
            .await?;
        anyhow::ensure!(st.success(), "agent install failed");
        let text = std::fs::read_to_string(&config)?;
        let squads = std::env::current_dir()?.join("tests/squads");
        std::fs::write(
            &config,
            format!("squads_dir = {:?}\n{text}", squads.display().to_string()),
        )?;
        let child = Command::new(agent)
            .args(["start", "--config"])
            .arg(&config)
            .env("SQUADRON_AGENT_LOG", "warn")
            .kill_on_drop(true)
            .spawn()?;
        for _ in 0..100 {
            if self.connected().await? >= 1 {
                return Ok(child);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        bail!("the agent did not connect")
    }

    pub async fn connected(&self) -> anyhow::Result<usize> {
        let v = self.api.get("/v1/nodes").await?;
        Ok(v["nodes"].as_array().map_or(0, |n| {
            n.iter().filter(|n| n["status"] == "connected").count()
        }))
    }

    /// The server's resident memory in KiB.
    pub fn rss_kib(&self) -> anyhow::Result<u64> {
        let pid = self.server.id().context("server exited")?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .context("no VmRSS")
    }
}
