//! http tools: one GET, redirects not followed, printed as `curl -i` prints a response:
//! status line, headers, blank line, body (capped).

use std::time::Duration;

use squadron_core::ToolOutput;
use squadron_core::output::RunStatus;

/// The client every http tool uses: no redirects, no proxy from the environment, no
/// compression (the body is shown as the server sent it).
pub fn client() -> Result<reqwest::Client, reqwest::Error> {
    crate::install_crypto_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(concat!("squadron-agent/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// GETs `url`; any HTTP status is a successful run (as with `curl -i`), a transport
/// failure is an error, and running out of time is a timeout.
pub async fn get(client: &reqwest::Client, url: &str, timeout: Duration, cap: u64) -> ToolOutput {
    match tokio::time::timeout(timeout, fetch(client, url, cap)).await {
        Ok(Ok((text, truncated))) => {
            let mut out = ToolOutput::finished(0, text, String::new());
            out.truncated = truncated;
            out
        }
        Ok(Err(e)) => ToolOutput::finished(1, String::new(), format!("http GET {url}: {e}")),
        Err(_) => ToolOutput {
            status: RunStatus::Timeout,
            exit_code: None,
            stdout: String::new(),
            stderr: crate::exec::timed_out(String::new(), timeout),
            truncated: false,
            duration_ms: 0,
        },
    }
}

async fn fetch(client: &reqwest::Client, url: &str, cap: u64) -> Result<(String, bool), String> {
    let mut response = client.get(url).send().await.map_err(|e| chain(&e))?;
    let status = response.status();
    let mut head = format!(
        "{:?} {}{}\r\n",
        response.version(),
        status.as_u16(),
        status
            .canonical_reason()
            .map(|r| format!(" {r}"))
            .unwrap_or_default()
    );
    for (name, value) in response.headers() {
        head.push_str(&title_case(name.as_str()));
        head.push_str(": ");
        head.push_str(&String::from_utf8_lossy(value.as_bytes()));
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    let cap = usize::try_from(cap).unwrap_or(usize::MAX);
    let mut body: Vec<u8> = Vec::new();
    let mut truncated = false;
    while let Some(chunk) = response.chunk().await.map_err(|e| chain(&e))? {
        let room = cap.saturating_sub(head.len() + body.len());
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            truncated = true;
            break;
        }
        body.extend_from_slice(&chunk);
    }
    head.push_str(&String::from_utf8_lossy(&body));
    Ok((head, truncated))
}

/// `content-type` as HTTP/1.1 servers usually spell it: `Content-Type`.
fn title_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        out.push(if upper { c.to_ascii_uppercase() } else { c });
        upper = c == '-';
    }
    out
}

/// An error and its causes on one line.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::title_case;

    #[test]
    fn header_names_are_title_cased() {
        assert_eq!(title_case("content-type"), "Content-Type");
        assert_eq!(title_case("x-redirect-by"), "X-Redirect-By");
        assert_eq!(title_case("location"), "Location");
    }
}
