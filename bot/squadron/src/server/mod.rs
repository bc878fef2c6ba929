//! `squadron serve`: the HTTP API, the agent gateway and the chat endpoint on one port, with
//! TLS when a certificate is configured, health and metrics endpoints, and a graceful
//! shutdown that lets in-flight requests finish.

pub mod agent_ws;
pub mod api;
pub mod audit;
pub mod chat;
pub mod export;
pub mod fleet;
pub mod gateway;
pub mod metrics;
pub mod state;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use squadron_engine::Engine;
use squadron_store::HmacChain;
use tokio::sync::{Mutex, Semaphore};

use crate::config::Config;
use audit::Auditor;
use state::{AppState, MAX_HANDSHAKES};

/// Unix seconds now.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Writes a secret file readable by its owner only, creating its directory.
pub fn write_secret(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(contents)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// The audit chain's key: read from the key file, or created there (0600) on first start.
fn audit_key(config: &Config) -> anyhow::Result<Vec<u8>> {
    let path = config.audit_key_file();
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the audit key {}", path.display()))?;
        let key = text.trim().as_bytes().to_vec();
        anyhow::ensure!(
            key.len() >= 32,
            "the audit key {} is shorter than 32 bytes",
            path.display()
        );
        return Ok(key);
    }
    let key: String = (0..64)
        .map(|_| format!("{:x}", rand::random::<u8>() & 0x0f))
        .collect();
    write_secret(&path, key.as_bytes())?;
    Ok(key.into_bytes())
}

/// The admin token: kept if `<data_dir>/admin.token` exists, else created; its hash is stored.
async fn admin_token(config: &Config, store: &dyn squadron_store::Store) -> anyhow::Result<String> {
    let path = config.data_dir.join("admin.token");
    let token = match std::fs::read_to_string(&path) {
        Ok(t) if !t.trim().is_empty() => t.trim().to_owned(),
        _ => {
            let t = squadron_store::new_token();
            write_secret(&path, format!("{t}\n").as_bytes())?;
            tracing::info!(path = %path.display(), "wrote a new admin token");
            t
        }
    };
    let hash = squadron_store::hash_token(&token);
    store
        .set_admin_token_hash(&hash)
        .await
        .context("cannot store the admin token hash")?;
    Ok(hash)
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    match tokio::time::timeout(Duration::from_secs(2), state.store.list_deployments()).await {
        Ok(Ok(_)) => (StatusCode::OK, "ready\n".to_owned()),
        Ok(Err(e)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("store unavailable: {e}\n"),
        ),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "store did not answer\n".to_owned(),
        ),
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let n = state.gateway.count().await;
    let mut text = state.metrics.render(n);
    if let Some(sinks) = state.sinks.lock().await.as_ref() {
        text.push_str(&squadron_siem::sinks::render_metrics(&sinks.status()));
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        text,
    )
}

/// The router of every endpoint.
pub fn router(state: Arc<AppState>) -> Router {
    let admin = Router::new()
        .route("/v1/nodes", post(api::create_node).get(api::list_nodes))
        .route("/v1/nodes/{name}/revoke", post(api::revoke_node))
        .route("/v1/squads", get(api::list_squads))
        .route("/v1/squads/{id}/deploy", post(api::deploy_squad))
        .route("/v1/squads/{id}/links", post(api::link))
        .route("/v1/squads/{id}/links/{node}", delete(api::unlink))
        .route("/v1/audit", get(api::list_audit))
        .route("/v1/audit/export", get(export::export))
        .route("/v1/audit/{id}", get(api::show_audit))
        .route("/v1/chat", post(chat::chat))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            api::require_admin,
        ));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route(squadron_proto::CONNECT_PATH, get(agent_ws::connect))
        .merge(admin)
        .layer(axum::extract::DefaultBodyLimit::max(256 * 1024))
        .with_state(state)
}

/// Builds the shared state from the configuration.
pub async fn build_state(config: Config) -> anyhow::Result<Arc<AppState>> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data_dir {}", config.data_dir.display()))?;
    let extra: Vec<_> = config.squads_dir.iter().cloned().collect();
    let catalog = crate::catalog::load(&extra).context("loading squads")?;
    let url = config.database_url();
    let store = squadron_store::open(&url)
        .await
        .with_context(|| format!("opening the database {}", crate::config::redact_url(&url)))?;
    let key = audit_key(&config)?;
    let admin_token_hash = admin_token(&config, store.as_ref()).await?;
    let mut sink_configs = Vec::new();
    for (i, v) in config.audit.sinks.iter().enumerate() {
        let c: squadron_siem::sinks::SinkConfig = v
            .clone()
            .try_into()
            .map_err(|e: toml::de::Error| anyhow::anyhow!("audit.sinks[{i}]: {}", e.message()))?;
        sink_configs.push(c);
    }
    let (sinks_stop, stop_rx) = tokio::sync::watch::channel(false);
    let sinks = squadron_siem::sinks::spawn(store.clone(), sink_configs, export::origin(), stop_rx)
        .map_err(|e| anyhow::anyhow!("audit.sinks: {e}"))?;
    let auditor = Auditor {
        store: store.clone(),
        hasher: Arc::new(HmacChain::new(key)),
        timeout: Duration::from_secs(config.server.audit_timeout_secs.max(1)),
        sinks: (!sinks.is_empty()).then(|| sinks.waker()),
    };
    Ok(Arc::new(AppState {
        engine: Engine::new(catalog.clone()),
        catalog,
        store,
        gateway: Default::default(),
        auditor,
        metrics: Default::default(),
        admin_token_hash,
        handshakes: Arc::new(Semaphore::new(MAX_HANDSHAKES)),
        conversations: Mutex::new(HashMap::new()),
        deployments: tokio::sync::RwLock::new(None),
        sinks: Mutex::new(Some(sinks)),
        sinks_stop,
        config,
    }))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// How long shutdown waits for runs in flight before it reports them lost.
const DRAIN: Duration = Duration::from_secs(15);

/// Waits for the signal, lets runs in flight finish (or reports them lost after
/// [`DRAIN`]), then closes the agents' connections so the HTTP server can stop.
async fn shutdown(state: Arc<AppState>) {
    shutdown_signal().await;
    let start = std::time::Instant::now();
    while state.gateway.pending_total().await > 0 && start.elapsed() < DRAIN {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    state.gateway.close_all("server shutting down").await;
}

/// Runs the server until SIGINT/SIGTERM.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let addr: SocketAddr = config.server.listen.parse().context("server.listen")?;
    let tls = config.tls();
    let state = build_state(config).await?;
    let app = router(state.clone());
    let every = Duration::from_secs(state.config.audit.checkpoint_secs.max(1));
    let checkpoints = audit::spawn_checkpoints(state.store.clone(), every);
    match tls {
        None => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr}"))?;
            let bound = listener.local_addr().unwrap_or(addr);
            tracing::info!(%bound, "squadron serving http");
            println!(
                "squadron listening on http://{bound} (data in {})",
                state.config.data_dir.display()
            );
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown(state.clone()))
                .await
                .context("server failed")?;
        }
        Some((cert, key)) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let rustls = axum_server::tls_rustls::RustlsConfig::from_pem_file(&cert, &key)
                .await
                .with_context(|| {
                    format!(
                        "cannot load TLS certificate {} / key {}",
                        cert.display(),
                        key.display()
                    )
                })?;
            let handle = axum_server::Handle::new();
            let h = handle.clone();
            let draining = state.clone();
            tokio::spawn(async move {
                shutdown(draining).await;
                h.graceful_shutdown(Some(Duration::from_secs(10)));
            });
            let announce = handle.clone();
            let data_dir = state.config.data_dir.display().to_string();
            tokio::spawn(async move {
                if let Some(bound) = announce.listening().await {
                    tracing::info!(%bound, "squadron serving https");
                    println!("squadron listening on https://{bound} (data in {data_dir})");
                }
            });
            axum_server::bind_rustls(addr, rustls)
                .handle(handle)
                .serve(app.into_make_service())
                .await
                .context("server failed")?;
        }
    }
    checkpoints.abort();
    audit::checkpoint(state.store.as_ref(), &mut 0).await;
    let _ = state.sinks_stop.send(true);
    let sinks = state.sinks.lock().await.take();
    if let Some(sinks) = sinks {
        sinks.join().await;
    }
    state.store.close().await;
    tracing::info!("stopped");
    Ok(())
}
