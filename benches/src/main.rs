//! `squadron-bench`: measures the control plane against baselines in the same run and prints
//! ratios. Run it from the repository root after a release build:
//!
//! ```sh
//! cargo build --release -p squadron -p squadron-agent -p squadron-bench
//! target/release/squadron-bench [roundtrip|memory|throughput|all]
//! ```
//!
//! - roundtrip: a trivial read tool (`uname -a`) through API -> gateway -> real agent and
//!   back, p50/p99 over sequential requests, against `ssh localhost uname -a`.
//! - memory: the server's resident memory with 1,000 and 10,000 idle agents connected
//!   (simulated in this process: real WebSockets, real Hello and heartbeats).
//! - throughput: audited commands per second across 100 simulated agents.
//! - audit [N]: appends per second (SQLite, Postgres) with the keyed chain, and the time to
//!   verify the whole chain.

mod audit;
mod server;
mod sim;
mod stats;

use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;

use server::Bench;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let which = std::env::args().nth(1).unwrap_or_else(|| "all".into());
    if matches!(which.as_str(), "roundtrip" | "all") {
        roundtrip().await?;
    }
    if matches!(which.as_str(), "memory" | "all") {
        memory().await?;
    }
    if matches!(which.as_str(), "throughput" | "all") {
        throughput().await?;
    }
    if matches!(which.as_str(), "audit" | "all") {
        let n = std::env::args()
            .nth(2)
            .and_then(|n| n.parse().ok())
            .unwrap_or(100_000);
        audit::run(n, 5_000).await?;
    }
    Ok(())
}

async fn roundtrip() -> anyhow::Result<()> {
    const N: usize = 300;
    let bench = Bench::start("roundtrip").await?;
    let _agent = bench.real_agent("bench-node").await?;
    bench.deploy_and_link("hostinfo", "bench-node").await?;
    let body = json!({ "squad": "hostinfo", "message": "which kernel?" });
    for _ in 0..20 {
        bench.chat(&body).await?;
    }
    let mut ours = Vec::with_capacity(N);
    for _ in 0..N {
        let t = Instant::now();
        let v = bench.chat(&body).await?;
        ours.push(t.elapsed());
        anyhow::ensure!(v["commands"][0]["status"] == "ok", "the run failed: {v}");
    }
    let ssh_ok = std::process::Command::new("ssh")
        .args([
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=accept-new",
            "localhost",
            "true",
        ])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    let ours = stats::Summary::of(&ours);
    println!("roundtrip squadron (chat API -> gateway -> agent -> back, uname -a): {ours}");
    if !ssh_ok {
        println!(
            "roundtrip ssh: skipped (`ssh localhost` does not work here; install openssh-server and a key)"
        );
        return Ok(());
    }
    let mut ssh = Vec::with_capacity(N / 3);
    for _ in 0..N / 3 {
        let t = Instant::now();
        let out = std::process::Command::new("ssh")
            .args(["-o", "BatchMode=yes", "localhost", "uname", "-a"])
            .output()?;
        ssh.push(t.elapsed());
        anyhow::ensure!(out.status.success(), "ssh failed");
    }
    let ssh = stats::Summary::of(&ssh);
    println!("roundtrip ssh localhost uname -a (fresh connection): {ssh}");
    println!(
        "ratio ssh/squadron: p50 {:.1}x, p99 {:.1}x",
        ssh.p50.as_secs_f64() / ours.p50.as_secs_f64(),
        ssh.p99.as_secs_f64() / ours.p99.as_secs_f64()
    );
    Ok(())
}

async fn memory() -> anyhow::Result<()> {
    for n in [1_000usize, 10_000] {
        let bench = Bench::start(&format!("memory-{n}")).await?;
        let nodes = bench.create_nodes(n).await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let before = bench.rss_kib()?;
        let agents = sim::connect_all(&bench.url, &nodes, 48).await?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let connected = bench.connected().await?;
        let after = bench.rss_kib()?;
        let per = (after.saturating_sub(before)) as f64 * 1024.0 / n as f64;
        println!(
            "memory with {n} idle agents ({connected} connected): server RSS {before} KiB -> {after} KiB, {:.1} KiB per agent (target <= 40 KiB)",
            per / 1024.0
        );
        drop(agents);
    }
    Ok(())
}

async fn throughput() -> anyhow::Result<()> {
    const AGENTS: usize = 100;
    const CLIENTS: usize = 32;
    const SECS: u64 = 10;
    let bench = Bench::start("throughput").await?;
    let nodes = bench.create_nodes(AGENTS).await?;
    let _agents = sim::connect_all(&bench.url, &nodes, 48).await?;
    bench.deploy("hostinfo").await?;
    for (name, _, _) in &nodes {
        bench.link("hostinfo", name).await?;
    }
    let deadline = Instant::now() + Duration::from_secs(SECS);
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let b = bench.client();
        let node = nodes[c % AGENTS].0.clone();
        tasks.push(tokio::spawn(async move {
            let mut done = 0u64;
            let body = json!({ "squad": "hostinfo", "node": node, "message": "which kernel?" });
            while Instant::now() < deadline {
                if b.chat(&body)
                    .await
                    .is_ok_and(|v| v["commands"][0]["status"] == "ok")
                {
                    done += 1;
                }
            }
            done
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.context("client task")?;
    }
    println!(
        "throughput: {total} audited commands in {SECS}s across {AGENTS} agents, {CLIENTS} concurrent chat clients = {:.0} commands/s (target >= 1,000/s)",
        total as f64 / SECS as f64
    );
    Ok(())
}
