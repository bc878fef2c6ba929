//! Splunk HTTP Event Collector: `POST /services/collector/event` with
//! `Authorization: Splunk <token>` and several events per request, each
//! `{"time","host","source","sourcetype","event"}` (concatenated, one a line, as HEC
//! batches them). JSON records (jsonl, ocsf, ecs) are sent as objects, others (cef,
//! syslog) as strings. A 2xx means HEC accepted the batch; indexer acknowledgement is not
//! used.

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use serde::Serialize;

use super::config::Secret;
use super::record::{Record, is_json};
use super::{Failure, SinkError, http};
use crate::formats::Format;

/// The `source` of every event.
pub const SOURCE: &str = "squadron";
/// The `sourcetype` of audit events and of checkpoints.
pub const SOURCETYPE: &str = "squadron:audit";
pub const SOURCETYPE_CHECKPOINT: &str = "squadron:audit:checkpoint";

#[derive(Serialize)]
struct HecEvent<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    time: Option<f64>,
    host: &'a str,
    source: &'static str,
    sourcetype: &'static str,
    event: serde_json::Value,
}

/// Posts batches to one HEC endpoint.
#[derive(Debug)]
pub(crate) struct HecSender {
    client: reqwest::Client,
    url: reqwest::Url,
    auth: HeaderValue,
    format: Format,
    host: String,
}

impl HecSender {
    pub(crate) fn new(
        client: reqwest::Client,
        url: reqwest::Url,
        token: &Secret,
        format: Format,
        host: &str,
    ) -> Result<Self, SinkError> {
        let mut auth = HeaderValue::from_str(&format!("Splunk {}", token.0)).map_err(|_| {
            SinkError::Config("the HEC token has characters not allowed in a header".into())
        })?;
        auth.set_sensitive(true);
        Ok(Self {
            client,
            url,
            auth,
            format,
            host: host.to_owned(),
        })
    }

    pub(crate) async fn send(&mut self, records: &[Record]) -> Result<(), Failure> {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, self.auth.clone());
        http::post(&self.client, &self.url, headers, self.body(records)).await
    }

    fn body(&self, records: &[Record]) -> String {
        let mut body = String::new();
        for r in records {
            let event = HecEvent {
                time: r.epoch(),
                host: &self.host,
                source: SOURCE,
                sourcetype: if r.checkpoint {
                    SOURCETYPE_CHECKPOINT
                } else {
                    SOURCETYPE
                },
                event: payload(r, self.format),
            };
            // Serializing a struct of strings, numbers and a Value cannot fail.
            if let Ok(line) = serde_json::to_string(&event) {
                if !body.is_empty() {
                    body.push('\n');
                }
                body.push_str(&line);
            }
        }
        body
    }
}

/// A record as a JSON value: the object itself for JSON formats, else a string.
pub(crate) fn payload(r: &Record, format: Format) -> serde_json::Value {
    if is_json(format)
        && let Ok(v) = serde_json::from_str::<serde_json::Value>(&r.text)
    {
        return v;
    }
    serde_json::Value::String(r.text.clone())
}
