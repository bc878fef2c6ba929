//! http tools against a tiny local server: `curl -i` output, redirects not followed,
//! body caps, timeouts and refused connections.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Fixture, answer, policy};
use squadron_core::output::RunStatus;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves `/health`, `/moved` (301 to /health), `/big` (100 KB) and `/slow` (5 s);
/// counts the requests per path.
async fn server() -> (String, Arc<[AtomicUsize; 4]>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let hits: Arc<[AtomicUsize; 4]> = Arc::new(Default::default());
    let counted = Arc::clone(&hits);
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let hits = Arc::clone(&counted);
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&request).into_owned();
                let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let (i, response) = match path.as_str() {
                    "/health" => (0, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Powered-By: PHP/8.2.24\r\nContent-Length: 3\r\n\r\nok\n".to_owned()),
                    "/moved" => (1, "HTTP/1.1 301 Moved Permanently\r\nLocation: /health\r\nX-Redirect-By: WordPress\r\nContent-Length: 0\r\n\r\n".to_owned()),
                    "/big" => (2, format!("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n{}", "x".repeat(100_000))),
                    _ => {
                        hits[3].fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                        return;
                    }
                };
                hits[i].fetch_add(1, Ordering::SeqCst);
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (base, hits)
}

#[tokio::test]
async fn a_get_prints_like_curl_i() {
    let (base, hits) = server().await;
    let fx = Fixture::new();
    let runner = fx.runner(policy(&[fx.path()]));
    let inv = fx.invocation("testsq", "web", &[("base", &base), ("page", "health")]);
    assert_eq!(inv.canonical, format!("http GET {base}/health"));
    let out = answer(&runner, "h1", "testsq", &inv).await;
    assert_eq!(out.status, RunStatus::Ok, "{out:?}");
    assert_eq!(out.exit_code, Some(0));
    assert!(
        out.stdout.starts_with("HTTP/1.1 200 OK\r\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("\r\nContent-Type: text/plain\r\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("\r\nX-Powered-By: PHP/8.2.24\r\n"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.ends_with("\r\n\r\nok\n"), "{}", out.stdout);
    assert_eq!(hits[0].load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn redirects_are_shown_not_followed() {
    let (base, hits) = server().await;
    let fx = Fixture::new();
    let runner = fx.runner(policy(&[fx.path()]));
    let inv = fx.invocation("testsq", "web", &[("base", &base), ("page", "moved")]);
    let out = answer(&runner, "h2", "testsq", &inv).await;
    assert_eq!(out.status, RunStatus::Ok, "{out:?}");
    assert!(
        out.stdout.starts_with("HTTP/1.1 301 Moved Permanently\r\n"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("\r\nLocation: /health\r\n"));
    assert!(out.stdout.contains("\r\nX-Redirect-By: WordPress\r\n"));
    assert_eq!(hits[1].load(Ordering::SeqCst), 1);
    assert_eq!(
        hits[0].load(Ordering::SeqCst),
        0,
        "the redirect was followed"
    );
}

#[tokio::test]
async fn bodies_are_capped_timeouts_and_refusals_reported() {
    let (base, hits) = server().await;
    let fx = Fixture::new();
    let runner = fx.runner(policy(&[fx.path()]));
    let inv = fx.invocation("testsq", "web", &[("base", &base), ("page", "big")]);
    let out = answer(&runner, "h3", "testsq", &inv).await;
    assert_eq!(out.status, RunStatus::Ok);
    assert!(out.truncated);
    assert!(out.stdout.len() <= 1024, "{}", out.stdout.len());
    assert!(out.stdout.ends_with("xxxx"));

    let inv = fx.invocation("testsq", "web", &[("base", &base), ("page", "slow")]);
    let out = answer(&runner, "h4", "testsq", &inv).await;
    assert_eq!(out.status, RunStatus::Timeout, "{out:?}");
    assert_eq!(hits[3].load(Ordering::SeqCst), 1);

    // Nothing listens on port 1.
    let inv = fx.invocation(
        "testsq",
        "web",
        &[("base", "http://127.0.0.1:1"), ("page", "health")],
    );
    let out = answer(&runner, "h5", "testsq", &inv).await;
    assert_eq!(out.status, RunStatus::Error, "{out:?}");
    assert!(
        out.stderr
            .starts_with("http GET http://127.0.0.1:1/health: "),
        "{}",
        out.stderr
    );
}
