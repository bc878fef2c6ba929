//! Squadron's node agent: it dials out to the control plane over one WebSocket, checks
//! every request again against its own squad catalogue and local policy, runs what passes
//! without a shell under limits, and answers each request id at most once.
//!
//! # Layout
//!
//! - [`config`]: the config file (SPEC section 8), its path, its checks, the token.
//! - [`install`]: `squadron-agent install`, which writes the config and token (0600).
//! - [`policy`]: the second validation: ceiling, catalogue, access, re-render, file roots
//!   (after symlinks), configured databases. Passing requests become a [`policy::Plan`].
//! - [`journal`]: the at-most-once journal of request ids and their results.
//! - [`runner`]: one request from arrival to result: journal, validation, concurrency
//!   limit, executor, filter and caps.
//! - executors, one per tool kind: [`exec`] (argv, scrubbed env, process group, timeout,
//!   capped output), [`sql`] (read-only transaction, CSV), [`tail`] (read_file), [`http`]
//!   (GET as `curl -i`).
//! - [`client`]: the WebSocket session: Hello, heartbeats, runs, results, reconnects with
//!   [`backoff`], graceful shutdown.
//! - [`start`]: `squadron-agent start`, wiring a loaded config into a runner and client.

pub mod backoff;
pub mod client;
pub mod config;
pub mod exec;
pub mod http;
pub mod install;
pub mod journal;
pub mod policy;
pub mod runner;
pub mod sql;
pub mod start;
pub mod tail;

/// Makes ring the process's TLS provider (idempotent); every TLS user calls it first.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
