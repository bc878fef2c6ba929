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
