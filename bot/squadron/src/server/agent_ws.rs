//! `GET /v1/agent/connect`: one agent's WebSocket session, from the bearer check and
//! `Hello` to heartbeats, results and the end of the connection.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use squadron_proto::{
    AgentMessage, HEARTBEAT_SECS, MAX_FRAME, MISSED_HEARTBEATS, PROTOCOL_VERSION, ServerMessage,
};
use tokio::sync::mpsc;

use super::gateway::NewConnection;
use super::state::AppState;

/// Seconds an agent has to send `Hello` after the upgrade.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);

pub fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let token = value.strip_prefix("Bearer ")?.trim();
    (!token.is_empty()).then(|| token.to_owned())
}

/// The upgrade handler.
pub async fn connect(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let Some(token) = bearer(&headers) else {
        return (StatusCode::UNAUTHORIZED, "missing bearer token\n").into_response();
    };
    let Ok(permit) = state.handshakes.clone().try_acquire_owned() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "too many agents connecting at once; retry with backoff\n",
        )
            .into_response();
    };
    // Small buffers: thousands of idle agents each hold one; they grow for large frames.
    ws.read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
        .on_upgrade(move |socket| async move { session(state, socket, token, permit).await })
}

async fn close(mut socket: WebSocket, reason: &str) {
    let frame = squadron_proto::encode(&ServerMessage::Close {
        reason: reason.to_owned(),
    })
    .unwrap_or_default();
    let _ = socket.send(Message::Text(frame.into())).await;
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code: 1008,
            reason: reason.to_owned().into(),
        })))
        .await;
}

async fn session(
    state: Arc<AppState>,
    mut socket: WebSocket,
    token: String,
    permit: tokio::sync::OwnedSemaphorePermit,
) {
    let hello = match tokio::time::timeout(HELLO_TIMEOUT, socket.recv()).await {
        Ok(Some(Ok(Message::Text(text)))) => squadron_proto::decode::<AgentMessage>(&text),
        _ => {
            tracing::info!("agent sent no hello in time");
            return close(socket, "expected a hello frame").await;
        }
    };
    let Ok(AgentMessage::Hello {
        protocol,
        node_id,
        version,
        host,
        squads,
        allow_write,
        inventory,
    }) = hello
    else {
        return close(socket, "expected a hello frame").await;
    };
    if protocol != PROTOCOL_VERSION {
        return close(
            socket,
            &format!("protocol {protocol} is not supported; this server speaks {PROTOCOL_VERSION}"),
        )
        .await;
    }
    let stored = state.store.node_token_hash(&node_id).await;
    let authorized =
        matches!(&stored, Ok(Some(hash)) if squadron_store::token_matches(&token, hash));
    let node = match (authorized, state.store.node_by_id(&node_id).await) {
        (true, Ok(Some(node))) if !node.revoked => node,
        _ => {
            state.metrics.auth_failures.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(node_id = %node_id, "agent refused: unknown node, revoked node or wrong token");
            return close(
                socket,
                "unauthorized: unknown node, revoked node or wrong token",
            )
            .await;
        }
    };
    drop(permit);
    let now = super::now();
    let (outbox, mut rx) = mpsc::channel::<ServerMessage>(64);
    let conn = state
        .gateway
        .register(NewConnection {
            node_id: node.id.clone(),
            node_name: node.name.clone(),
            version: version.clone(),
            host: host.clone(),
            squads,
            allow_write,
            inventory,
            now,
            outbox: outbox.clone(),
        })
        .await;
    if let Err(e) = state
        .store
        .touch_node(&node.id, now, Some(&version), Some(&host))
        .await
    {
        tracing::warn!(node = %node.name, error = %e, "could not record the connection");
    }
    tracing::info!(node = %node.name, %version, %host, "agent connected");
    let _ = outbox
        .send(ServerMessage::Welcome {
            node: node.name.clone(),
            heartbeat_secs: HEARTBEAT_SECS,
        })
        .await;

    let (mut sink, mut stream) = socket.split();
    let writer = tokio::spawn(async move {
        while let Some(msg) = rx.recv().await {
            let closing = matches!(msg, ServerMessage::Close { .. });
            let Ok(frame) = squadron_proto::encode(&msg) else {
                continue;
            };
            if sink.send(Message::Text(frame.into())).await.is_err() {
                break;
            }
            if closing {
                let _ = sink
                    .send(Message::Close(Some(CloseFrame {
                        code: 1000,
                        reason: "closed by server".into(),
                    })))
                    .await;
                break;
            }
        }
    });

    let idle = Duration::from_secs(HEARTBEAT_SECS * MISSED_HEARTBEATS);
    loop {
        let next = tokio::time::timeout(idle, stream.next()).await;
        let text = match next {
            Err(_) => {
                tracing::warn!(node = %node.name, "agent missed {MISSED_HEARTBEATS} heartbeats; closing");
                break;
            }
            Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => break,
            Ok(Some(Ok(Message::Text(text)))) => text,
            Ok(Some(Ok(_))) => continue,
        };
        match squadron_proto::decode::<AgentMessage>(&text) {
            Ok(AgentMessage::Heartbeat { seq }) => {
                let now = super::now();
                conn.last_seen.store(now, Ordering::Relaxed);
                let _ = outbox.send(ServerMessage::HeartbeatAck { seq }).await;
                if let Err(e) = state.store.touch_node(&node.id, now, None, None).await {
                    tracing::warn!(node = %node.name, error = %e, "could not record a heartbeat");
                }
            }
            Ok(AgentMessage::Result { id, output }) => {
                conn.last_seen.store(super::now(), Ordering::Relaxed);
                conn.complete(&id, output).await;
            }
            Ok(AgentMessage::Hello { .. }) => {}
            Err(e) => {
                state.metrics.bad_frames.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(node = %node.name, error = %e, "bad frame from agent; closing");
                let _ = outbox
                    .send(ServerMessage::Close {
                        reason: format!("refused: {e}"),
                    })
                    .await;
                break;
            }
        }
    }
    state.gateway.unregister(&conn).await;
    drop(outbox);
    let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
    tracing::info!(node = %node.name, "agent disconnected");
}
