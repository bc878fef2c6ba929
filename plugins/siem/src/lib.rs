//! Squadron's audit trail outside Squadron: export formats for SIEMs and live sinks that
//! stream events with a persisted cursor, so an outage loses nothing.
//!
//! # Layout
//!
//! - [`formats`]: one audit event (or checkpoint) as a JSONL, CEF, OCSF, ECS or RFC 5424
//!   syslog record.
//! - [`sinks`]: syslog over UDP/TCP/TLS, Splunk HEC and HTTPS webhooks, each delivering in
//!   order from its cursor with bounded retries and backoff.

pub mod formats;
pub mod sinks;
