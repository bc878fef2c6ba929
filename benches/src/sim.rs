//! Simulated agents: real WebSocket connections that say Hello with a real node token,
//! heartbeat, and answer every run at once with a fixed output.

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use squadron_core::{Inventory, ToolOutput};
use squadron_proto::{AgentMessage, PROTOCOL_VERSION, ServerMessage};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// The running simulated agents; dropping it disconnects them.
#[derive(Debug)]
pub struct Agents(Vec<JoinHandle<()>>);

impl Drop for Agents {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

/// Connects one simulated agent per node, `parallel` handshakes at a time.
pub async fn connect_all(
    server: &str,
    nodes: &[(String, String, String)],
    parallel: usize,
) -> anyhow::Result<Agents> {
    let ws = format!(
        "{}{}",
        server.replacen("http://", "ws://", 1),
        squadron_proto::CONNECT_PATH
    );
    let mut handles = Vec::with_capacity(nodes.len());
    for chunk in nodes.chunks(parallel.max(1)) {
        let mut ready = Vec::new();
        for (_, id, token) in chunk {
            let (tx, rx) = tokio::sync::oneshot::channel();
            let (ws, id, token) = (ws.clone(), id.clone(), token.clone());
            handles.push(tokio::spawn(async move {
                if let Err(e) = agent(&ws, &id, &token, tx).await {
                    eprintln!("simulated agent {id}: {e:#}");
                }
            }));
            ready.push(rx);
        }
        for r in ready {
            r.await.context("a simulated agent failed to connect")?;
        }
    }
    Ok(Agents(handles))
}

async fn agent(
    url: &str,
    id: &str,
    token: &str,
    ready: tokio::sync::oneshot::Sender<()>,
) -> anyhow::Result<()> {
    let mut req = url.into_client_request()?;
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse()?);
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await?;
    let hello = AgentMessage::Hello {
        protocol: PROTOCOL_VERSION,
        node_id: id.to_owned(),
        version: "sim".into(),
        host: "sim".into(),
        squads: vec!["*".into()],
        allow_write: false,
        inventory: Inventory::default(),
    };
    ws.send(Message::Text(squadron_proto::encode(&hello)?.into()))
        .await?;
    let mut ready = Some(ready);
    while let Some(msg) = ws.next().await {
        let Message::Text(text) = msg? else { continue };
        match squadron_proto::decode::<ServerMessage>(&text)? {
            ServerMessage::Welcome { .. } => {
                if let Some(r) = ready.take() {
                    let _ = r.send(());
                }
            }
            ServerMessage::Run { id, .. } => {
                let output = ToolOutput::finished(
                    0,
                    "Linux sim 6.1.0 #1 SMP x86_64 GNU/Linux\n".into(),
                    String::new(),
                );
                ws.send(Message::Text(
                    squadron_proto::encode(&AgentMessage::Result { id, output })?.into(),
                ))
                .await?;
            }
            ServerMessage::Close { .. } => break,
            ServerMessage::HeartbeatAck { .. } => {}
        }
    }
    Ok(())
}
