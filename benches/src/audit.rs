//! Audit trail rates: appends per second on SQLite and Postgres with the keyed chain, and
//! verification of the whole chain, measured directly on `squadron-store`.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use squadron_store::{AuditEvent, HmacChain, Store};

fn event(i: usize) -> AuditEvent {
    AuditEvent {
        kind: "tool_run".into(),
        ts: "2026-11-22T02:00:00.000Z".into(),
        actor: "U0123".into(),
        platform: "slack".into(),
        squad: Some("k8s".into()),
        node: Some("production-k8s-cluster".into()),
        tool: Some("pod_logs".into()),
        command: Some(format!(
            "kubectl logs web-{i} --namespace=production --tail=200 --previous=true"
        )),
        status: "ok".into(),
        exit_code: Some(0),
        output: Some(format!("line {i}: started\nline {i}: ready\n")),
        ..AuditEvent::default()
    }
}

async fn append(
    store: &Arc<dyn Store>,
    hasher: &HmacChain,
    n: usize,
    tasks: usize,
    phase: &str,
) -> anyhow::Result<f64> {
    let start = Instant::now();
    let mut handles = Vec::new();
    for t in 0..tasks {
        let (store, hasher, phase) = (store.clone(), hasher.clone(), phase.to_owned());
        handles.push(tokio::spawn(async move {
            for i in (t..n).step_by(tasks) {
                let mut e = event(i);
                e.id = format!("evt_bench_{phase}_{i}");
                store.append_audit(e, &hasher).await?;
            }
            Ok::<_, squadron_store::StoreError>(())
        }));
    }
    for h in handles {
        h.await.context("append task")??;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// Appends and verifies on SQLite (`n` events) and Postgres (`pg_n` events).
pub async fn run(n: usize, pg_n: usize) -> anyhow::Result<()> {
    let hasher = HmacChain::new(b"0123456789abcdef0123456789abcdef".to_vec());
    let dir = std::env::temp_dir().join(format!("squadron-bench-audit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let sqlite =
        squadron_store::open(&format!("sqlite://{}", dir.join("audit.db").display())).await?;
    let rate = append(&sqlite, &hasher, n, 1, "seq").await?;
    println!("audit append, SQLite, 1 writer: {n} events at {rate:.0}/s (target >= 5,000/s)");
    let rate = append(&sqlite, &hasher, n / 5, 8, "par").await?;
    println!(
        "audit append, SQLite, 8 concurrent writers: {} events at {rate:.0}/s",
        n / 5
    );
    let start = Instant::now();
    let summary = squadron_store::verify_chain_summary(sqlite.as_ref(), &hasher).await?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "audit verify, SQLite: {} events in {secs:.2}s = {:.0} events/s ({:.1}s per million; target < 10s)",
        summary.events,
        summary.events as f64 / secs,
        1e6 * secs / summary.events.max(1) as f64
    );
    sqlite.close().await;

    let db = format!("squadron_bench_{}", std::process::id());
    let admin = "postgres://postgres@127.0.0.1:5432/postgres";
    let status = std::process::Command::new("psql")
        .args(["-qAtc", &format!("CREATE DATABASE {db}"), admin])
        .status();
    if !status.map(|s| s.success()).unwrap_or(false) {
        println!("audit append, Postgres: skipped (cannot create a database at 127.0.0.1:5432)");
        return Ok(());
    }
    let pg = squadron_store::open(&format!("postgres://postgres@127.0.0.1:5432/{db}")).await?;
    let rate = append(&pg, &hasher, pg_n, 1, "seq").await?;
    println!("audit append, Postgres, 1 writer: {pg_n} events at {rate:.0}/s (target >= 5,000/s)");
    let rate = append(&pg, &hasher, pg_n, 8, "par").await?;
    println!("audit append, Postgres, 8 concurrent writers: {pg_n} events at {rate:.0}/s");
    let start = Instant::now();
    let summary = squadron_store::verify_chain_summary(pg.as_ref(), &hasher).await?;
    println!(
        "audit verify, Postgres: {} events at {:.0} events/s",
        summary.events,
        summary.events as f64 / start.elapsed().as_secs_f64()
    );
    pg.close().await;
    let _ = std::process::Command::new("psql")
        .args(["-qAtc", &format!("DROP DATABASE {db} WITH (FORCE)"), admin])
        .status();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
