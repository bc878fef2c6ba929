//! A local HTTP receiver (axum on 127.0.0.1) standing in for Splunk HEC and webhook
//! endpoints: it records every request, can answer with a forced status for a while, and
//! can be taken down (listener closed, connections refused) and brought back on the same
//! port.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::post;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    pub headers: HeaderMap,
    pub body: String,
    /// The status we answered.
    pub status: u16,
}

#[derive(Default)]
struct Shared {
    requests: Mutex<Vec<Request>>,
    /// Statuses to answer with, one per request, before going back to 200.
    forced: Mutex<VecDeque<u16>>,
    /// A status to answer every request with, while set.
    failing: Mutex<Option<u16>>,
}

pub struct Receiver {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    server: Option<(oneshot::Sender<()>, JoinHandle<()>)>,
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let failing = *shared.failing.lock().unwrap();
    let status = failing
        .or_else(|| shared.forced.lock().unwrap().pop_front())
        .unwrap_or(200);
    shared.requests.lock().unwrap().push(Request {
        path: uri.path().to_owned(),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        status,
    });
    StatusCode::from_u16(status).unwrap()
}

impl Receiver {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut r = Self {
            addr,
            shared: Arc::default(),
            server: None,
        };
        r.serve(listener);
        r
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let app = Router::new()
            .route("/{*path}", post(handle))
            .with_state(self.shared.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        self.server = Some((tx, task));
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Closes the listener and every connection: the endpoint is down.
    pub async fn down(&mut self) {
        if let Some((tx, task)) = self.server.take() {
            let _ = tx.send(());
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                panic!("the receiver did not shut down");
            }
        }
    }

    /// Listens again on the same address.
    pub async fn up(&mut self) {
        assert!(self.server.is_none());
        let mut tries = 0;
        let listener = loop {
            match tokio::net::TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                Err(e) if tries < 100 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("cannot listen on {} again: {e}", self.addr),
            }
        };
        self.serve(listener);
    }

    /// Answers the next requests with these statuses.
    pub fn force(&self, statuses: &[u16]) {
        self.shared.forced.lock().unwrap().extend(statuses);
    }

    /// Answers every request with `status` until called with `None`.
    pub fn set_failing(&self, status: Option<u16>) {
        *self.shared.failing.lock().unwrap() = status;
    }

    pub fn requests(&self) -> Vec<Request> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// Requests we answered with a 2xx.
    pub fn accepted(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| (200..300).contains(&r.status))
            .collect()
    }
}
