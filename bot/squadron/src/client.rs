//! The admin CLI's HTTP client: the running server's API with the admin token, errors as
//! one line, and the chat stream (server-sent events) read as it arrives.

use std::path::Path;

use anyhow::{Context, bail};
use futures_util::StreamExt;
use serde_json::Value;

/// A client for one server.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Client {
    /// `server` is the base URL; the token comes from `SQUADRON_TOKEN` or the data dir.
    pub fn new(server: &str, data_dir: &Path) -> anyhow::Result<Client> {
        let token = match std::env::var("SQUADRON_TOKEN") {
            Ok(t) if !t.trim().is_empty() => t.trim().to_owned(),
            _ => {
                let path = data_dir.join("admin.token");
                std::fs::read_to_string(&path)
                    .map(|t| t.trim().to_owned())
                    .with_context(|| {
                        format!(
                            "no admin token: set SQUADRON_TOKEN or run this where {} is readable",
                            path.display()
                        )
                    })?
            }
        };
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder =
            reqwest::Client::builder().connect_timeout(std::time::Duration::from_secs(5));
        if let Ok(ca) = std::env::var("SQUADRON_CA_FILE") {
            let pem =
                std::fs::read(&ca).with_context(|| format!("cannot read SQUADRON_CA_FILE {ca}"))?;
            let cert = reqwest::Certificate::from_pem(&pem)
                .with_context(|| format!("{ca} is not a PEM certificate"))?;
            builder = builder.tls_certs_only([cert]);
        }
        let http = builder.build().context("cannot build the HTTP client")?;
        Ok(Client {
            base: server.trim_end_matches('/').to_owned(),
            token,
            http,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn check(
        &self,
        resp: Result<reqwest::Response, reqwest::Error>,
    ) -> anyhow::Result<Value> {
        let resp = resp.map_err(|e| {
            let mut cause = String::new();
            let mut src = std::error::Error::source(&e);
            while let Some(err) = src {
                cause = err.to_string();
                src = err.source();
            }
            let hint = if e.is_connect() && !cause.to_ascii_lowercase().contains("certificate") {
                " (is it running? `squadron serve`)"
            } else {
                ""
            };
            anyhow::anyhow!("cannot reach the server at {}: {cause}{hint}", self.base)
        })?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let msg = body
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("request failed");
            bail!("{msg} (HTTP {})", status.as_u16());
        }
        Ok(body)
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let r = self
            .http
            .get(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await;
        self.check(r).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let r = self
            .http
            .post(self.url(path))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await;
        self.check(r).await
    }

    pub async fn delete(&self, path: &str) -> anyhow::Result<Value> {
        let r = self
            .http
            .delete(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await;
        self.check(r).await
    }

    /// Streams a GET response body into `out`; returns the bytes written.
    pub async fn download<W: tokio::io::AsyncWrite + Unpin>(
        &self,
        path: &str,
        out: &mut W,
    ) -> anyhow::Result<u64> {
        use tokio::io::AsyncWriteExt;
        let resp = self
            .http
            .get(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await;
        let resp = match resp {
            Ok(r) if r.status().is_success() => r,
            other => {
                self.check(other).await?;
                bail!("unexpected answer from the server");
            }
        };
        let mut stream = resp.bytes_stream();
        let mut n = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.context("the export stream broke; the output is incomplete")?;
            out.write_all(&chunk)
                .await
                .context("cannot write the export")?;
            n += chunk.len() as u64;
        }
        out.flush().await.context("cannot write the export")?;
        Ok(n)
    }

    /// Sends a chat message and reads the event stream; `progress` sees each progress event.
    pub async fn chat(
        &self,
        body: &Value,
        mut progress: impl FnMut(&Value),
    ) -> anyhow::Result<Value> {
        let resp = self
            .http
            .post(self.url("/v1/chat"))
            .bearer_auth(&self.token)
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .json(body)
            .send()
            .await;
        let resp = match resp {
            Ok(r) if r.status().is_success() => r,
            other => return self.check(other).await,
        };
        let mut stream = resp.bytes_stream();
        let mut buf = String::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.context("the chat stream broke")?;
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let block: String = buf.drain(..end + 2).collect();
                let mut event = "message";
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(e) = line.strip_prefix("event:") {
                        event = if e.trim() == "progress" {
                            "progress"
                        } else if e.trim() == "answer" {
                            "answer"
                        } else if e.trim() == "error" {
                            "error"
                        } else {
                            "other"
                        };
                    } else if let Some(d) = line.strip_prefix("data:") {
                        data.push_str(d.trim_start());
                    }
                }
                let value: Value = serde_json::from_str(&data).unwrap_or(Value::Null);
                match event {
                    "progress" => progress(&value),
                    "answer" => return Ok(value),
                    "error" => bail!(
                        "{}",
                        value
                            .get("error")
                            .and_then(Value::as_str)
                            .unwrap_or("chat failed")
                    ),
                    _ => {}
                }
            }
        }
        bail!("the server closed the chat stream without an answer")
    }
}
