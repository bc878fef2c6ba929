//! Prometheus metrics, rendered by hand in the text exposition format: connected agents,
//! commands by status, command latency, audit failures, refused frames and logins.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Latency buckets, seconds.
const BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
const STATUSES: &[&str] = &["ok", "error", "timeout", "denied", "lost"];

/// Counters shared by handlers.
#[derive(Debug, Default)]
pub struct Metrics {
    commands: [AtomicU64; 5],
    latency_buckets: [AtomicU64; 12],
    latency_count: AtomicU64,
    latency_sum_us: AtomicU64,
    pub audit_failures: AtomicU64,
    pub bad_frames: AtomicU64,
    pub auth_failures: AtomicU64,
    pub chat_requests: AtomicU64,
}

impl Metrics {
    /// Counts a finished command.
    pub fn command(&self, status: &str, seconds: f64) {
        if let Some(i) = STATUSES.iter().position(|s| *s == status) {
            self.commands[i].fetch_add(1, Ordering::Relaxed);
        }
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                self.latency_buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_us
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }

    /// The exposition text.
    pub fn render(&self, connected_agents: usize) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP squadron_agents_connected Agents with a live connection.\n# TYPE squadron_agents_connected gauge\nsquadron_agents_connected {connected_agents}"
        );
        let _ = writeln!(
            out,
            "# HELP squadron_commands_total Tool runs by final status.\n# TYPE squadron_commands_total counter"
        );
        for (i, s) in STATUSES.iter().enumerate() {
            let _ = writeln!(
                out,
                "squadron_commands_total{{status=\"{s}\"}} {}",
                self.commands[i].load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP squadron_command_duration_seconds Round trip of tool runs.\n# TYPE squadron_command_duration_seconds histogram"
        );
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "squadron_command_duration_seconds_bucket{{le=\"{b}\"}} {}",
                self.latency_buckets[i].load(Ordering::Relaxed)
            );
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "squadron_command_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "squadron_command_duration_seconds_sum {}",
            self.latency_sum_us.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "squadron_command_duration_seconds_count {count}");
        for (name, help, v) in [
            (
                "squadron_audit_failures_total",
                "Commands refused because the audit store failed.",
                &self.audit_failures,
            ),
            (
                "squadron_bad_frames_total",
                "Agent frames refused as malformed or oversized.",
                &self.bad_frames,
            ),
            (
                "squadron_agent_auth_failures_total",
                "Agent connections refused for bad credentials.",
                &self.auth_failures,
            ),
            (
                "squadron_chat_requests_total",
                "Chat requests answered.",
                &self.chat_requests,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                v.load(Ordering::Relaxed)
            );
        }
        out
    }
}
