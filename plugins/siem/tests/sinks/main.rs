//! Integration tests of the live sinks against real receivers: rsyslogd (Debian package,
//! started by each test on loopback ports) for syslog over UDP, TCP and TLS, an in-test
//! rustls server for exact RFC 5425 framing, and a local axum server for Splunk HEC and
//! webhooks; outages in the middle of a stream, restarts, checkpoints and the lag metric.
//! Every test uses a real SQLite store in a temp dir.
//!
//! `SQUADRON_SINK_OUTAGE_SECS` sets the simulated outage (default 4 s).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;
mod http;
mod receiver;
mod reset;
mod restart;
mod rsyslog;
mod syslog;
mod tls;
