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
    use squadron_store::Store;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.db");
    let store = squadron_store::SqliteStore::open(p.to_str().unwrap())
        .await
        .unwrap();
    let pool = store.pool().clone();
    let n = 5000;
    let t = Instant::now();
    for _ in 0..n {
        sqlx::query("SELECT 1").execute(&pool).await.unwrap();
    }
    println!(
        "pool select1: {:.1} us",
        t.elapsed().as_micros() as f64 / n as f64
    );
    let mut c = pool.acquire().await.unwrap();
    let t = Instant::now();
    for _ in 0..n {
        sqlx::query("SELECT 1").execute(&mut *c).await.unwrap();
    }
    println!(
        "conn select1: {:.1} us",
        t.elapsed().as_micros() as f64 / n as f64
    );
    let t = Instant::now();
    for _ in 0..n {
        let tx = c.begin_with("BEGIN IMMEDIATE").await.unwrap();
        tx.commit().await.unwrap();
    }
    println!(
        "conn begin+commit: {:.1} us",
        t.elapsed().as_micros() as f64 / n as f64
    );
    drop(c);
    let t = Instant::now();
    for _ in 0..n {
        let tx = pool.begin_with("BEGIN IMMEDIATE").await.unwrap();
        tx.commit().await.unwrap();
    }
    println!(
        "pool begin+commit: {:.1} us",
        t.elapsed().as_micros() as f64 / n as f64
    );
    let k = crate::audit::key();
    let t = Instant::now();
    for i in 0..n {
        store.append_audit(event(i), &k).await.unwrap();
    }
    println!(
        "append: {:.1} us",
        t.elapsed().as_micros() as f64 / n as f64
    );
    let e = event(1);
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(squadron_store::ChainHasher::hash(
            &k,
            &e.prev_hash,
            &squadron_store::canonical_bytes(&e),
        ));
    }
    println!("hash: {:.1} us", t.elapsed().as_micros() as f64 / n as f64);
}
