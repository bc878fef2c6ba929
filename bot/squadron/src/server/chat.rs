//! `POST /v1/chat`: one message to a squad, answered as JSON, or streamed as server-sent
//! events (`progress` while tools run, then `answer`) when the client accepts
//! `text/event-stream`.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use squadron_engine::{Conversation, Progress, Request};
use tokio::sync::mpsc;

use super::api::ApiError;
use super::fleet::{Actor, ServerFleet};
use super::state::{AppState, MAX_CONVERSATIONS};

/// A chat request.
#[derive(Debug, Clone, Deserialize)]
pub struct ChatRequest {
    pub message: String,
    pub squad: Option<String>,
    pub node: Option<String>,
    /// Continue this conversation; a new one is started without it.
    pub conversation: Option<String>,
    /// Who asks (`--as USER`); defaults to the admin.
    pub user: Option<String>,
}

/// Longest message accepted.
const MAX_MESSAGE: usize = 8 * 1024;

fn conversation_id() -> String {
    format!("conv_{:016x}", rand::random::<u64>())
}

/// Runs one turn; errors are one line.
async fn answer(
    state: Arc<AppState>,
    req: ChatRequest,
    progress: Option<mpsc::UnboundedSender<Progress>>,
) -> Result<Value, ApiError> {
    if req.message.trim().is_empty() {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "the message is empty".into(),
        ));
    }
    if req.message.len() > MAX_MESSAGE {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            format!("the message is longer than {MAX_MESSAGE} bytes"),
        ));
    }
    let id = req.conversation.clone().unwrap_or_else(conversation_id);
    let mut conv = {
        let mut convs = state.conversations.lock().await;
        convs
            .remove(&id)
            .map(|(_, c)| c)
            .unwrap_or_else(|| Conversation::new(id.clone()))
    };
    let fleet = ServerFleet {
        state: state.clone(),
        actor: Actor {
            platform: "cli".into(),
            user: req.user.clone().unwrap_or_else(|| "admin".into()),
            display_name: None,
            channel: None,
            conversation: Some(id.clone()),
            message: Some(req.message.clone()),
        },
    };
    state
        .metrics
        .chat_requests
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let request = Request {
        message: &req.message,
        squad: req.squad.as_deref(),
        node: req.node.as_deref(),
        now: super::now(),
        progress: progress.as_ref(),
    };
    let result = state.engine.handle(&fleet, &mut conv, request).await;
    {
        let mut convs = state.conversations.lock().await;
        if convs.len() >= MAX_CONVERSATIONS
            && let Some(oldest) = convs
                .iter()
                .min_by_key(|(_, (t, _))| *t)
                .map(|(k, _)| k.clone())
        {
            convs.remove(&oldest);
        }
        convs.insert(id.clone(), (super::now(), conv));
    }
    let reply = result.map_err(|e| ApiError(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    Ok(json!({
        "conversation": id,
        "squad": reply.squad,
        "node": reply.node,
        "intent": reply.intent,
        "answer": reply.answer,
        "commands": reply.commands,
        "pending": reply.pending.iter().map(|p| p.canonical.clone()).collect::<Vec<_>>(),
    }))
}

pub async fn chat(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Json(req): Json<ChatRequest>,
) -> Response {
    let wants_sse = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"));
    if !wants_sse {
        return match answer(state, req, None).await {
            Ok(v) => Json(v).into_response(),
            Err(e) => e.into_response(),
        };
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<Progress>();
    let (events_tx, events_rx) = mpsc::unbounded_channel::<Result<Event, Infallible>>();
    let forward = events_tx.clone();
    let forwarder = tokio::spawn(async move {
        while let Some(p) = rx.recv().await {
            let data = match p {
                Progress::Running { node, command } => {
                    json!({ "node": node, "command": command, "state": "running" })
                }
                Progress::Finished {
                    node,
                    command,
                    status,
                } => json!({ "node": node, "command": command, "state": status }),
            };
            let _ = forward.send(Ok(Event::default()
                .event("progress")
                .data(data.to_string())));
        }
    });
    tokio::spawn(async move {
        let result = answer(state, req, Some(tx)).await;
        let _ = forwarder.await;
        let event = match result {
            Ok(v) => Event::default().event("answer").data(v.to_string()),
            Err(ApiError(_, msg)) => Event::default()
                .event("error")
                .data(json!({ "error": msg }).to_string()),
        };
        let _ = events_tx.send(Ok(event));
    });
    let stream = tokio_stream::wrappers::UnboundedReceiverStream::new(events_rx);
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}
