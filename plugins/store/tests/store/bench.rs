//! Append-rate measurement, ignored by default. Run with
//! `cargo test --release -p squadron-store --test store bench -- --ignored --nocapture`.

use std::sync::Arc;
use std::time::Instant;

use squadron_store::{ChainHasher, verify_chain_summary};

use crate::audit::{event, key};
use crate::harness::Ctx;

const SEQUENTIAL: usize = 5000;
const TASKS: usize = 8;
const PER_TASK: usize = 1000;

async fn measure(ctx: Ctx) {
    let hasher: Arc<dyn ChainHasher> = Arc::new(key());
    let start = Instant::now();
    for i in 0..SEQUENTIAL {
        ctx.store
            .append_audit(event(i), hasher.as_ref())
            .await
            .unwrap();
    }
    let seq_rate = SEQUENTIAL as f64 / start.elapsed().as_secs_f64();
    let start = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| {
            let (store, hasher) = (ctx.store.clone(), hasher.clone());
            tokio::spawn(async move {
                for i in 0..PER_TASK {
                    store
                        .append_audit(event(t * PER_TASK + i), hasher.as_ref())
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let conc_rate = (TASKS * PER_TASK) as f64 / start.elapsed().as_secs_f64();
    let start = Instant::now();
    let sum = verify_chain_summary(ctx.store.as_ref(), hasher.as_ref())
        .await
        .unwrap();
    let verify_rate = sum.events as f64 / start.elapsed().as_secs_f64();
    println!(
        "{}: sequential {seq_rate:.0} appends/s, {TASKS} tasks {conc_rate:.0} appends/s, verify {verify_rate:.0} events/s",
        ctx.backend()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; run with --ignored --nocapture"]
async fn bench_append_rate_sqlite() {
    crate::harness::on_sqlite(measure).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; run with --ignored --nocapture"]
async fn bench_append_rate_postgres() {
    crate::harness::on_postgres(measure).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "tmp"]
async fn tmp_roundtrips() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.db");
    let store = squadron_store::SqliteStore::open(p.to_str().unwrap())
        .await
        .unwrap();
    let opts: sqlx::sqlite::SqliteConnectOptions = p
        .to_str()
        .unwrap()
        .parse::<sqlx::sqlite::SqliteConnectOptions>()
        .unwrap()
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .synchronous(sqlx::sqlite::SqliteSynchronous::Normal);
    let mut c = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
    drop(store);
    let n = 3000;
    let head = "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1";
    let t = Instant::now();
    for _ in 0..n {
        let mut tx = c.begin_with("BEGIN IMMEDIATE").await.unwrap();
        let _h: Option<(i64, String)> =
            sqlx::query_as(head).fetch_optional(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
    }
    println!(
        "begin+head+commit: {:.1} us",
        t.elapsed().as_micros() as f64 / n as f64
    );
    for (label, trig) in [("with triggers", false), ("no triggers", true)] {
        if trig {
            sqlx::query("DROP TRIGGER audit_events_contiguous")
                .execute(&mut c)
                .await
                .unwrap();
        }
        let t = Instant::now();
        let base: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq),0) FROM audit_events")
            .fetch_one(&mut c)
            .await
            .unwrap();
        for i in 0..n as i64 {
            let mut tx = c.begin_with("BEGIN IMMEDIATE").await.unwrap();
            let _h: Option<(i64, String)> =
                sqlx::query_as(head).fetch_optional(&mut *tx).await.unwrap();
            sqlx::query("INSERT INTO audit_events (seq, id, ts, kind, actor, platform, status, prev_hash, hash, output, node, squad, command, args) VALUES ($1, $2, 'ts', 'k', 'a', 'p', 's', 'ph', 'h', 'some output text here', 'web', 'k8s', 'kubectl get pods', '{}')")
                .bind(base + i + 1).bind(format!("evt_{}_{i}", label.len())).execute(&mut *tx).await.unwrap();
            tx.commit().await.unwrap();
        }
        println!(
            "append-like {label}: {:.1} us",
            t.elapsed().as_micros() as f64 / n as f64
        );
    }
    sqlx::query("PRAGMA wal_autocheckpoint = 100000")
        .execute(&mut c)
        .await
        .unwrap();
    let t = Instant::now();
    let base: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq),0) FROM audit_events")
        .fetch_one(&mut c)
        .await
        .unwrap();
    for i in 0..n as i64 {
        let mut tx = c.begin_with("BEGIN IMMEDIATE").await.unwrap();
        let _h: Option<(i64, String)> =
            sqlx::query_as(head).fetch_optional(&mut *tx).await.unwrap();
        sqlx::query("INSERT INTO audit_events (seq, id, ts, kind, actor, platform, status, prev_hash, hash, output, node, squad, command, args) VALUES ($1, $2, 'ts', 'k', 'a', 'p', 's', 'ph', 'h', 'some output text here', 'web', 'k8s', 'kubectl get pods', '{}')")
            .bind(base + i + 1).bind(format!("evt_x_{i}")).execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
    }
    println!(
        "append-like no autocheckpoint: {:.1} us",
        t.elapsed().as_micros() as f64 / n as f64
    );
}
