//! Splunk HEC and webhooks against a local HTTP server: request shape, token, signature,
//! batching, error statuses retried without skipping, and an outage mid-stream.

use std::time::{Duration, Instant};

use serde_json::Value;
use squadron_siem::sinks::{
    HEC_SOURCETYPE, SEQ_FIRST_HEADER, SEQ_LAST_HEADER, SIGNATURE_HEADER, SinkConfig, SinkKind,
    webhook_signature,
};

use crate::harness::{
    Env, Got, Running, SECRET, TOKEN, assert_exactly_once_in_order, event_seqs, json_record,
    outage, wait_until,
};
use crate::receiver::{Receiver, Request};

fn hec(url: String) -> SinkConfig {
    SinkConfig {
        kind: SinkKind::SplunkHec,
        url,
        token_env: Some("TOKEN".into()),
        ..SinkConfig::default()
    }
}

fn webhook(url: String) -> SinkConfig {
    SinkConfig {
        kind: SinkKind::Webhook,
        url,
        ..SinkConfig::default()
    }
}

/// The HEC events of a request body (concatenated JSON objects).
fn hec_events(body: &str) -> Vec<Value> {
    serde_json::Deserializer::from_str(body)
        .into_iter::<Value>()
        .map(Result::unwrap)
        .collect()
}

/// What the receiver accepted, in order: HEC bodies or webhook arrays.
fn got(requests: &[Request]) -> Vec<Got> {
    let mut out = Vec::new();
    for r in requests {
        let values = if r.path == "/services/collector/event" {
            hec_events(&r.body)
                .into_iter()
                .map(|e| e["event"].clone())
                .collect()
        } else {
            serde_json::from_str::<Vec<Value>>(&r.body).unwrap()
        };
        out.extend(
            values
                .iter()
                .map(|v| json_record(v).expect("a jsonl record")),
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hec_posts_batches_with_the_token_and_the_hec_shape() {
    let env = Env::new().await;
    let rx = Receiver::start().await;
    let mut config = hec(rx.url(""));
    config.batch = Some(20);
    let run = Running::start(&env.store, vec![config]);
    let events = env.append(55).await;
    run.waker().wake();
    assert!(
        wait_until(Duration::from_secs(20), || event_seqs(&got(&rx.accepted()))
            .len()
            >= 55)
        .await
    );
    let requests = rx.accepted();
    assert_exactly_once_in_order(&event_seqs(&got(&requests)), 55);
    assert!(
        requests.len() >= 3 && requests.len() < 55,
        "batched: {} requests",
        requests.len()
    );
    for r in &requests {
        assert_eq!(r.path, "/services/collector/event");
        assert_eq!(
            r.headers["authorization"],
            format!("Splunk {TOKEN}").as_str()
        );
        assert_eq!(r.headers["content-type"], "application/json");
    }
    let first = &hec_events(&requests[0].body)[0];
    assert_eq!(first["host"], "squadron-test");
    assert_eq!(first["source"], "squadron");
    assert_eq!(first["sourcetype"], HEC_SOURCETYPE);
    assert_eq!(first["event"]["id"], events[0].id.as_str());
    assert_eq!(first["event"]["hash"], events[0].hash.as_str());
    // 2026-05-01T10:00:01.001Z
    assert_eq!(first["time"].as_f64().unwrap(), 1_777_629_601.001);
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hec_errors_and_refusals_are_retried_without_skipping() {
    let env = Env::new().await;
    let rx = Receiver::start().await;
    rx.force(&[503, 401, 500, 413]);
    let mut config = hec(rx.url("/services/collector/event"));
    config.batch = Some(8);
    env.append(40).await;
    let run = Running::start(&env.store, vec![config]);
    assert!(
        wait_until(Duration::from_secs(30), || event_seqs(&got(&rx.accepted()))
            .len()
            >= 40)
        .await
    );
    let all = rx.requests();
    let statuses: Vec<u16> = all.iter().map(|r| r.status).collect();
    assert_eq!(&statuses[..5], &[503, 401, 500, 413, 200]);
    // Each refused request carried the same first batch; after 413 it was halved.
    for r in &all[..4] {
        assert_eq!(hec_events(&r.body).len(), 8);
        assert_eq!(hec_events(&r.body)[0]["event"]["seq"], 1);
    }
    assert_eq!(hec_events(&all[4].body).len(), 4);
    assert_exactly_once_in_order(&event_seqs(&got(&rx.accepted())), 40);
    let st = run.status();
    assert_eq!((st.failures, st.up, st.lag), (4, true, 0));
    assert!(st.last_error.as_deref().unwrap().contains("413"), "{st:?}");
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn webhook_signs_bearer_and_names_the_seq_range() {
    let env = Env::new().await;
    let rx = Receiver::start().await;
    let mut config = webhook(rx.url("/audit"));
    config.token_env = Some("TOKEN".into());
    config.secret_env = Some("SECRET".into());
    config.batch = Some(7);
    config.checkpoint_every = Some(10);
    let run = Running::start(&env.store, vec![config]);
    let events = env.append(21).await;
    run.waker().wake();
    assert!(
        wait_until(Duration::from_secs(20), || event_seqs(&got(&rx.accepted()))
            .len()
            >= 21)
        .await
    );
    let requests = rx.accepted();
    for r in &requests {
        assert_eq!(r.path, "/audit");
        assert_eq!(
            r.headers["authorization"],
            format!("Bearer {TOKEN}").as_str()
        );
        let sig = r.headers[SIGNATURE_HEADER].to_str().unwrap();
        assert_eq!(sig, webhook_signature(SECRET.as_bytes(), r.body.as_bytes()));
        let seqs = event_seqs(&got(std::slice::from_ref(r)));
        assert_eq!(r.headers[SEQ_FIRST_HEADER], seqs[0].to_string().as_str());
        assert_eq!(
            r.headers[SEQ_LAST_HEADER],
            seqs.last().unwrap().to_string().as_str()
        );
    }
    let all = got(&requests);
    assert_exactly_once_in_order(&event_seqs(&all), 21);
    // The checkpoint after seq 10 carries that event's hash.
    let i = all.iter().position(|g| *g == Got::Checkpoint(10)).unwrap();
    assert_eq!(all[i - 1], Got::Event(10));
    let arrays: Vec<Value> = requests
        .iter()
        .flat_map(|r| serde_json::from_str::<Vec<Value>>(&r.body).unwrap())
        .collect();
    assert_eq!(arrays[i]["head_hash"], events[9].hash.as_str());
    run.stop().await;
}

/// The acceptance case over HTTP: the receiver is down (connections refused) for a
/// while in the middle of a stream, then comes back on the same port.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn webhook_outage_mid_stream_loses_and_duplicates_nothing() {
    let n = 300;
    let outage = outage();
    let env = Env::new().await;
    let mut rx = Receiver::start().await;
    let run = Running::start(&env.store, vec![webhook(rx.url("/audit"))]);
    let every = ((outage + Duration::from_secs(2)) / n as u32).max(Duration::from_millis(10));
    let stream = env.stream(n, every, run.waker());
    assert!(
        wait_until(Duration::from_secs(20), || event_seqs(&got(&rx.accepted()))
            .len()
            >= 40)
        .await
    );
    rx.down().await;
    let down_at = Instant::now();
    assert!(
        wait_until(outage, || {
            let s = run.status();
            !s.up && s.lag > 0
        })
        .await,
        "{:?}",
        run.status()
    );
    tokio::time::sleep(outage.saturating_sub(down_at.elapsed())).await;
    rx.up().await;
    stream.await.unwrap();
    assert!(
        wait_until(outage + Duration::from_secs(45), || event_seqs(&got(
            &rx.accepted()
        ))
        .len()
            >= n)
        .await,
        "{:?}",
        run.status()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_exactly_once_in_order(&event_seqs(&got(&rx.accepted())), n as i64);
    assert!(wait_until(Duration::from_secs(5), || run.status().lag == 0).await);
    run.stop().await;
}

/// HEC answering 503 (up but unhealthy) for the length of the outage mid-stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hec_unavailable_mid_stream_loses_and_duplicates_nothing() {
    let n = 300;
    let outage = outage();
    let env = Env::new().await;
    let rx = Receiver::start().await;
    let run = Running::start(&env.store, vec![hec(rx.url(""))]);
    let every = ((outage + Duration::from_secs(2)) / n as u32).max(Duration::from_millis(10));
    let stream = env.stream(n, every, run.waker());
    assert!(
        wait_until(Duration::from_secs(20), || event_seqs(&got(&rx.accepted()))
            .len()
            >= 40)
        .await
    );
    rx.set_failing(Some(503));
    tokio::time::sleep(outage).await;
    rx.set_failing(None);
    stream.await.unwrap();
    assert!(
        wait_until(outage + Duration::from_secs(45), || event_seqs(&got(
            &rx.accepted()
        ))
        .len()
            >= n)
        .await
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_exactly_once_in_order(&event_seqs(&got(&rx.accepted())), n as i64);
    assert!(
        rx.requests().iter().any(|r| r.status == 503),
        "the outage was seen"
    );
    run.stop().await;
}
