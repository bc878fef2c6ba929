//! The cursor across restarts of the runner: acknowledged events are never sent again,
//! delivery resumes after the stored cursor, and shutdown leaves a checkpoint; the file
//! sink; refusing bad configuration at spawn.

use std::time::Duration;

use squadron_siem::sinks::{SinkConfig, SinkKind, spawn};
use tokio::sync::watch;

use crate::harness::{
    Env, Got, Running, assert_exactly_once_in_order, event_seqs, json_record, origin, parse_record,
    wait_until,
};
use crate::receiver::Receiver;

fn got(rx: &Receiver) -> Vec<Got> {
    rx.accepted()
        .iter()
        .flat_map(|r| serde_json::from_str::<Vec<serde_json::Value>>(&r.body).unwrap())
        .map(|v| json_record(&v).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cursor_survives_a_restart_without_resending() {
    let env = Env::new().await;
    let rx = Receiver::start().await;
    let config = SinkConfig {
        name: Some("siem".into()),
        kind: SinkKind::Webhook,
        url: rx.url("/audit"),
        batch: Some(16),
        checkpoint_every: Some(0),
        ..SinkConfig::default()
    };
    let run = Running::start(&env.store, vec![config.clone()]);
    env.append(50).await;
    run.waker().wake();
    assert!(
        wait_until(Duration::from_secs(20), || event_seqs(&got(&rx)).len()
            >= 50)
        .await
    );
    run.stop().await;
    assert_eq!(env.store.sink_cursor("siem").await.unwrap(), 50);
    let first_run = got(&rx);
    assert_eq!(
        first_run.last(),
        Some(&Got::Checkpoint(50)),
        "shutdown sends a checkpoint"
    );

    // Events appended while the sink is not running are delivered at the next start.
    env.append(10).await;
    let run = Running::start(&env.store, vec![config.clone()]);
    env.append(10).await;
    run.waker().wake();
    assert!(
        wait_until(Duration::from_secs(20), || event_seqs(&got(&rx)).len()
            >= 70)
        .await
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_exactly_once_in_order(&event_seqs(&got(&rx)), 70);
    let second: Vec<i64> = rx.accepted()[first_run.len().min(rx.accepted().len())..]
        .iter()
        .flat_map(|r| serde_json::from_str::<Vec<serde_json::Value>>(&r.body).unwrap())
        .filter_map(|v| v.get("seq").and_then(serde_json::Value::as_i64))
        .collect();
    assert!(
        second.iter().all(|s| *s > 50),
        "nothing acknowledged is sent again: {second:?}"
    );
    let st = run.status();
    assert_eq!((st.cursor, st.delivered), (70, 20));
    run.stop().await;
    assert_eq!(env.store.sink_cursor("siem").await.unwrap(), 70);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn file_sink_appends_lines_and_resumes() {
    let env = Env::new().await;
    let path = env.path("audit.jsonl");
    let config = SinkConfig {
        kind: SinkKind::File,
        url: path.display().to_string(),
        checkpoint_every: Some(20),
        ..SinkConfig::default()
    };
    let read = || -> Vec<Got> {
        std::fs::read_to_string(&path)
            .unwrap_or_default()
            .lines()
            .map(|l| parse_record(l).unwrap())
            .collect()
    };
    let run = Running::start(&env.store, vec![config.clone()]);
    env.append(30).await;
    run.waker().wake();
    assert!(wait_until(Duration::from_secs(20), || event_seqs(&read()).len() >= 30).await);
    run.stop().await;
    let run = Running::start(&env.store, vec![config]);
    env.append(15).await;
    run.waker().wake();
    assert!(wait_until(Duration::from_secs(20), || event_seqs(&read()).len() >= 45).await);
    run.stop().await;
    let all = read();
    assert_exactly_once_in_order(&event_seqs(&all), 45);
    for cp in [20, 30, 40, 45] {
        assert!(
            all.contains(&Got::Checkpoint(cp)),
            "checkpoint {cp}: {all:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn spawn_refuses_bad_configuration_in_one_line() {
    let env = Env::new().await;
    let (_tx, rx) = watch::channel(false);
    let bad = vec![
        SinkConfig {
            kind: SinkKind::Syslog,
            url: "tcp://127.0.0.1:1".into(),
            ..SinkConfig::default()
        },
        SinkConfig {
            kind: SinkKind::Syslog,
            url: "tcp://127.0.0.1:1/".into(),
            ..SinkConfig::default()
        },
    ];
    let err = spawn(env.store.clone(), bad, origin(), rx.clone())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("distinct `name`") && !err.contains('\n'),
        "{err}"
    );
    let hec = vec![SinkConfig {
        kind: SinkKind::SplunkHec,
        url: "https://splunk.example.com:8088".into(),
        token_env: Some("SQUADRON_TEST_SURELY_UNSET_TOKEN".into()),
        ..SinkConfig::default()
    }];
    let err = spawn(env.store.clone(), hec, origin(), rx)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("SQUADRON_TEST_SURELY_UNSET_TOKEN, which is not set"),
        "{err}"
    );
}
