//! HTTP delivery shared by Splunk HEC and webhooks: one reqwest client per sink (rustls
//! with ring, the sink's CAs), one POST per batch, and what a response means: 2xx is an
//! acknowledgement of the whole batch; 413 asks for smaller batches; 400, 401 and 403 are
//! configuration or data problems that retrying alone will not fix (logged as errors,
//! still retried with backoff); anything else is retried with backoff.

use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};

use super::tls::client_config;
use super::{Failure, SinkError};

/// How long one request may take, response included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of an error response body is kept for the status and logs.
const BODY_SNIPPET: usize = 300;

/// A client for one sink's endpoint.
pub(crate) fn client(
    ca_file: Option<&std::path::Path>,
    https: bool,
) -> Result<reqwest::Client, SinkError> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("squadron/", env!("CARGO_PKG_VERSION")));
    // Always preconfigured: reqwest (rustls-no-provider) would panic building its own
    // TLS config without a process-wide crypto provider, even for http:// URLs.
    let tls = client_config(ca_file, &[b"http/1.1"], https)?;
    builder = builder.use_preconfigured_tls(tls);
    builder
        .build()
        .map_err(|e| SinkError::Tls(format!("cannot build the HTTP client: {e}")))
}

/// POSTs `body`; `Ok` on 2xx.
pub(crate) async fn post(
    client: &reqwest::Client,
    url: &reqwest::Url,
    headers: HeaderMap,
    body: String,
) -> Result<(), Failure> {
    let response = client
        .post(url.clone())
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .headers(headers)
        .body(body)
        .send()
        .await
        .map_err(|e| Failure::retry(0, SinkError::Http(describe(&e))))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let text = response.text().await.unwrap_or_default();
    let snippet: String = text
        .chars()
        .take(BODY_SNIPPET)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let error = SinkError::Status {
        status: status.as_u16(),
        body: snippet.trim().to_owned(),
    };
    Err(match status.as_u16() {
        400 | 401 | 403 => Failure::refused(error),
        413 => Failure::too_large(error),
        _ => Failure::retry(0, error),
    })
}

/// A reqwest error with its causes, on one line (reqwest's Display omits them).
fn describe(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
