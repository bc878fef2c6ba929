//! Generic HTTPS webhook: each batch is one `POST` of a JSON array of records (objects for
//! jsonl, ocsf and ecs; strings for cef and syslog), with
//!
//! - `Authorization: Bearer <token>` when `token_env` is set;
//! - `X-Squadron-Signature: sha256=<hex HMAC-SHA256 of the body>` when `secret_env` is set;
//! - `X-Squadron-Seq-First` / `X-Squadron-Seq-Last`: the seq range of the events in the
//!   batch, so a receiver can drop a batch it has already stored (the residual duplicate
//!   case: a response lost after the receiver committed).
//!
//! Any 2xx acknowledges the whole batch.

use hmac::{Hmac, KeyInit, Mac};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use sha2::Sha256;

use super::config::Secret;
use super::hec::payload;
use super::record::Record;
use super::{Failure, SinkError, http};
use crate::formats::Format;

pub const SIGNATURE_HEADER: &str = "x-squadron-signature";
pub const SEQ_FIRST_HEADER: &str = "x-squadron-seq-first";
pub const SEQ_LAST_HEADER: &str = "x-squadron-seq-last";

/// Posts batches to one webhook.
#[derive(Debug)]
pub(crate) struct WebhookSender {
    client: reqwest::Client,
    url: reqwest::Url,
    bearer: Option<HeaderValue>,
    secret: Option<Secret>,
    format: Format,
}

impl WebhookSender {
    pub(crate) fn new(
        client: reqwest::Client,
        url: reqwest::Url,
        token: Option<&Secret>,
        secret: Option<Secret>,
        format: Format,
    ) -> Result<Self, SinkError> {
        let bearer = match token {
            Some(t) => {
                let mut v = HeaderValue::from_str(&format!("Bearer {}", t.0)).map_err(|_| {
                    SinkError::Config(
                        "the webhook token has characters not allowed in a header".into(),
                    )
                })?;
                v.set_sensitive(true);
                Some(v)
            }
            None => None,
        };
        Ok(Self {
            client,
            url,
            bearer,
            secret,
            format,
        })
    }

    pub(crate) async fn send(&mut self, records: &[Record]) -> Result<(), Failure> {
        let values: Vec<serde_json::Value> =
            records.iter().map(|r| payload(r, self.format)).collect();
        let body = serde_json::Value::Array(values).to_string();
        let mut headers = HeaderMap::new();
        if let Some(b) = &self.bearer {
            headers.insert(AUTHORIZATION, b.clone());
        }
        if let Some(secret) = &self.secret {
            headers.insert(
                HeaderName::from_static(SIGNATURE_HEADER),
                signature_header(secret.0.as_bytes(), body.as_bytes()),
            );
        }
        let mut events = records.iter().filter(|r| !r.checkpoint).map(|r| r.seq);
        if let Some(first) = events.next() {
            let last = events.next_back().unwrap_or(first);
            headers.insert(
                HeaderName::from_static(SEQ_FIRST_HEADER),
                HeaderValue::from(first),
            );
            headers.insert(
                HeaderName::from_static(SEQ_LAST_HEADER),
                HeaderValue::from(last),
            );
        }
        http::post(&self.client, &self.url, headers, body).await
    }
}

/// `sha256=<lowercase hex of HMAC-SHA256(key, body)>`.
pub fn signature(key: &[u8], body: &[u8]) -> String {
    use std::fmt::Write as _;
    // HMAC takes keys of any length: this never fails.
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(body);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256=");
    for b in mac.finalize().into_bytes() {
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn signature_header(key: &[u8], body: &[u8]) -> HeaderValue {
    // Hex and `sha256=` are always valid header characters.
    HeaderValue::from_str(&signature(key, body))
        .unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}
