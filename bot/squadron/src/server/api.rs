//! The admin HTTP API under `/v1`: nodes, squads and the audit trail. Every route needs the
//! admin token (`Authorization: Bearer ...`); every change is audited.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use squadron_store::{AuditEvent, AuditFilter, StoreError};

use super::agent_ws::bearer;
use super::state::AppState;

/// An API error: a status and one line.
#[derive(Debug)]
pub struct ApiError(pub StatusCode, pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        let status = match &e {
            StoreError::Exists { .. } => StatusCode::CONFLICT,
            StoreError::NotFound { .. } => StatusCode::NOT_FOUND,
            StoreError::Invalid(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::SERVICE_UNAVAILABLE,
        };
        ApiError(status, e.to_string())
    }
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, msg.into())
}

/// Refuses requests without the admin token.
pub async fn require_admin(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    match bearer(req.headers()) {
        Some(t) if squadron_store::token_matches(&t, &state.admin_token_hash) => {
            next.run(req).await
        }
        _ => ApiError(
            StatusCode::UNAUTHORIZED,
            "missing or wrong admin token (see <data_dir>/admin.token or SQUADRON_TOKEN)".into(),
        )
        .into_response(),
    }
}

async fn audit_admin(
    state: &AppState,
    action: &str,
    target: &str,
    status: &str,
) -> Result<(), ApiError> {
    let event = AuditEvent {
        kind: "admin".into(),
        actor: "admin".into(),
        platform: "api".into(),
        status: status.into(),
        reason: Some(format!("{action} {target}")),
        ..AuditEvent::default()
    };
    state.auditor.record(event).await.map(|_| ()).map_err(|e| {
        ApiError(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("refused: the audit trail cannot be written ({e})"),
        )
    })
}

fn valid_name(name: &str) -> Result<(), ApiError> {
    squadron_core::param::ParamType::K8sName
        .check(name)
        .map(|_| ())
        .map_err(|rule| {
            bad(format!(
                "node name `{}`: {rule}",
                squadron_core::param::preview(name)
            ))
        })
}

#[derive(Debug, Deserialize)]
pub struct CreateNode {
    name: String,
}

pub async fn create_node(
    State(state): State<Arc<AppState>>,
    Json(body): Json<CreateNode>,
) -> Result<Response, ApiError> {
    valid_name(&body.name)?;
    audit_admin(&state, "node create", &body.name, "ok").await?;
    let token = squadron_store::new_token();
    let node = state
        .store
        .create_node(&body.name, &squadron_store::hash_token(&token))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": node.id, "name": node.name, "token": token })),
    )
        .into_response())
}

pub async fn list_nodes(State(state): State<Arc<AppState>>) -> Result<Json<Value>, ApiError> {
    let mut out = Vec::new();
    for n in state.store.list_nodes().await? {
        let live = state.gateway.get(&n.id).await;
        let status = if n.revoked {
            "revoked"
        } else if live.is_some() {
            "connected"
        } else {
            "disconnected"
        };
        let last_seen = live
            .as_ref()
            .map(|c| c.last_seen.load(std::sync::atomic::Ordering::Relaxed))
            .or(n.last_seen)
            .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
            .map(|t| t.to_rfc3339());
        out.push(json!({
            "id": n.id,
            "name": n.name,
            "status": status,
            "last_seen": last_seen,
            "version": live.as_ref().map(|c| c.version.clone()).or(n.version),
            "host": live.as_ref().map(|c| c.host.clone()).or(n.host),
            "connected_since": live.as_ref().and_then(|c| chrono::DateTime::from_timestamp(c.connected_at, 0)).map(|t| t.to_rfc3339()),
            "serves": live.as_ref().map(|c| c.squads.clone()),
            "allow_write": live.as_ref().map(|c| c.allow_write),
        }));
    }
    Ok(Json(json!({ "nodes": out })))
}

pub async fn revoke_node(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    audit_admin(&state, "node revoke", &name, "ok").await?;
    let node = state.store.revoke_node(&name).await?;
    state.deployments_changed().await;
    state.gateway.disconnect(&node.id, "node revoked").await;
    Ok(Json(
        json!({ "id": node.id, "name": node.name, "status": "revoked" }),
    ))
}

pub async fn list_squads(State(state): State<Arc<AppState>>) -> Result<Json<Value>, ApiError> {
    let deployed = state.deployments().await?;
    let squads: Vec<Value> = state
        .catalog
        .squads()
        .map(|s| {
            let d = deployed.iter().find(|d| d.squad == s.id);
            json!({
                "id": s.id,
                "name": s.name,
                "description": s.description,
                "tools": s.tools.len(),
                "deployed": d.is_some(),
                "nodes": d.map(|d| d.nodes.clone()).unwrap_or_default(),
            })
        })
        .collect();
    Ok(Json(json!({ "squads": squads })))
}

fn known_squad(state: &AppState, id: &str) -> Result<(), ApiError> {
    if state.catalog.squad(id).is_some() {
        return Ok(());
    }
    let known: Vec<String> = state.catalog.squads().map(|s| s.id.clone()).collect();
    Err(ApiError(
        StatusCode::NOT_FOUND,
        format!("unknown squad `{id}`; known squads: {}", known.join(", ")),
    ))
}

pub async fn deploy_squad(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    known_squad(&state, &id)?;
    audit_admin(&state, "squad deploy", &id, "ok").await?;
    let d = state.store.deploy_squad(&id, super::now()).await?;
    state.deployments_changed().await;
    Ok(Json(
        json!({ "squad": d.squad, "deployed": true, "nodes": d.nodes }),
    ))
}

#[derive(Debug, Deserialize)]
pub struct LinkBody {
    node: String,
}

pub async fn link(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Json(body): Json<LinkBody>,
) -> Result<Json<Value>, ApiError> {
    known_squad(&state, &id)?;
    audit_admin(
        &state,
        "squad link",
        &format!("{id} --node {}", body.node),
        "ok",
    )
    .await?;
    let d = state.store.link(&id, &body.node).await?;
    state.deployments_changed().await;
    Ok(Json(json!({ "squad": d.squad, "nodes": d.nodes })))
}

pub async fn unlink(
    State(state): State<Arc<AppState>>,
    Path((id, node)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    known_squad(&state, &id)?;
    audit_admin(&state, "squad unlink", &format!("{id} --node {node}"), "ok").await?;
    let d = state.store.unlink(&id, &node).await?;
    state.deployments_changed().await;
    Ok(Json(json!({ "squad": d.squad, "nodes": d.nodes })))
}

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    since_seq: Option<i64>,
    limit: Option<i64>,
    node: Option<String>,
    squad: Option<String>,
    status: Option<String>,
    actor: Option<String>,
}

pub async fn list_audit(
    State(state): State<Arc<AppState>>,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = q.limit.unwrap_or(100).clamp(1, 10_000);
    let filtered = q.node.is_some() || q.squad.is_some() || q.status.is_some() || q.actor.is_some();
    // Without a starting point, show the latest `limit` events (oldest first).
    let since_seq = match q.since_seq {
        Some(s) => Some(s),
        None if !filtered => state
            .store
            .audit_head()
            .await?
            .map(|h| (h.seq - limit).max(0)),
        None => None,
    };
    let filter = AuditFilter {
        since_seq,
        limit: Some(limit),
        node: q.node,
        squad: q.squad,
        status: q.status,
        actor: q.actor,
    };
    let events = state.store.list_audit(&filter).await?;
    Ok(Json(json!({ "events": events })))
}

pub async fn show_audit(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    match state.store.audit_by_id(&id).await? {
        Some(e) => Ok(Json(serde_json::to_value(e).unwrap_or_default())),
        None => Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("audit event `{id}` not found"),
        )),
    }
}
