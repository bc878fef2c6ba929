//! `GET /v1/audit/export?format=F[&since=T][&until=T]`: the audit trail as one record per
//! line in a SIEM format, streamed page by page (memory stays flat however long the trail),
//! with a closing checkpoint record so the receiver can tell a truncated file.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use squadron_siem::formats::{self, Format, Origin};
use squadron_store::{AuditCheckpoint, AuditFilter};

use super::api::ApiError;
use super::state::AppState;

/// Events read per page.
const PAGE: i64 = 2000;

#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    format: String,
    /// RFC 3339; events at or after it.
    since: Option<String>,
    /// RFC 3339; events before it.
    until: Option<String>,
}

fn instant(
    name: &str,
    value: Option<String>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
    value
        .map(|v| {
            chrono::DateTime::parse_from_rfc3339(&v)
                .map(|t| t.with_timezone(&chrono::Utc))
                .map_err(|e| {
                    ApiError(
                        StatusCode::BAD_REQUEST,
                        format!("{name} = {v:?} is not an RFC 3339 time: {e}"),
                    )
                })
        })
        .transpose()
}

/// The host name the records name as their origin.
pub fn origin() -> Origin {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "squadron".into());
    Origin {
        host,
        version: env!("CARGO_PKG_VERSION").to_owned(),
    }
}

pub async fn export(
    State(state): State<Arc<AppState>>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let format: Format = q
        .format
        .parse()
        .map_err(|e: formats::UnknownFormat| ApiError(StatusCode::BAD_REQUEST, e.to_string()))?;
    let since = instant("since", q.since)?;
    let until = instant("until", q.until)?;
    let origin = origin();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<String, std::io::Error>>(4);
    tokio::spawn(async move {
        let mut cursor = 0;
        let mut last: Option<AuditCheckpoint> = None;
        loop {
            let filter = AuditFilter {
                since_seq: Some(cursor),
                limit: Some(PAGE),
                ..AuditFilter::default()
            };
            let page = match state.store.list_audit(&filter).await {
                Ok(p) => p,
                Err(e) => {
                    let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                    return;
                }
            };
            let Some(tail) = page.last() else { break };
            cursor = tail.seq;
            let mut chunk = String::new();
            for e in &page {
                let at = chrono::DateTime::parse_from_rfc3339(&e.ts)
                    .ok()
                    .map(|t| t.with_timezone(&chrono::Utc));
                if since.is_some_and(|s| at.is_some_and(|t| t < s))
                    || until.is_some_and(|u| at.is_some_and(|t| t >= u))
                {
                    continue;
                }
                chunk.push_str(&formats::render(e, format, &origin));
                chunk.push('\n');
                last = Some(AuditCheckpoint {
                    seq: e.seq,
                    head_hash: e.hash.clone(),
                    ts: e.ts.clone(),
                });
            }
            if !chunk.is_empty() && tx.send(Ok(chunk)).await.is_err() {
                return;
            }
        }
        if let Some(cp) = last {
            let mut line = formats::render_checkpoint(&cp, format, &origin);
            line.push('\n');
            let _ = tx.send(Ok(line)).await;
        }
    });
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    let content_type = match format {
        Format::Jsonl | Format::Ocsf | Format::Ecs => "application/x-ndjson",
        Format::Cef | Format::Syslog => "text/plain; charset=utf-8",
    };
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}
