//! Syslog over UDP and TCP into a real rsyslogd: order, framing, rendering kept byte for
//! byte, checkpoints, and an outage (rsyslogd stopped and restarted) in the middle of a
//! stream of events.

use std::time::{Duration, Instant};

use squadron_siem::formats::{Format, render};
use squadron_siem::sinks::{SinkConfig, SinkKind, render_metrics};

use crate::harness::{
    Env, Got, Running, assert_exactly_once_in_order, event_seqs, origin, outage, wait_until,
};
use crate::rsyslog::Rsyslog;

fn syslog_sink(url: String) -> SinkConfig {
    SinkConfig {
        kind: SinkKind::Syslog,
        url,
        ..SinkConfig::default()
    }
}

async fn wait_events(r: &Rsyslog, n: usize, within: Duration) -> Vec<Got> {
    let ok = wait_until(within, || event_seqs(&r.got()).len() >= n).await;
    if !ok {
        let seqs = event_seqs(&r.got());
        let missing: Vec<i64> = (1..=n as i64).filter(|s| !seqs.contains(s)).collect();
        panic!(
            "rsyslog got {} of {n} events within {within:?} (missing {missing:?}); rsyslogd said: {}",
            seqs.len(),
            r.stderr()
        );
    }
    // Anything sent twice would show up right behind.
    tokio::time::sleep(Duration::from_millis(300)).await;
    r.got()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn udp_into_rsyslog_in_order_with_checkpoints() {
    let env = Env::new().await;
    let rs = Rsyslog::start(env.dir.path(), None);
    let mut config = syslog_sink(format!("udp://127.0.0.1:{}", rs.udp));
    config.checkpoint_every = Some(25);
    config.batch = Some(20);
    let run = Running::start(&env.store, vec![config]);
    let events = env.append(60).await;
    run.waker().wake();
    let got = wait_events(&rs, 60, Duration::from_secs(20)).await;
    assert_exactly_once_in_order(&event_seqs(&got), 60);
    let cps: Vec<usize> = got
        .iter()
        .enumerate()
        .filter(|(_, g)| matches!(g, Got::Checkpoint(_)))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(cps.len(), 2, "{got:?}");
    assert_eq!(got[cps[0]], Got::Checkpoint(25));
    assert_eq!(
        got[cps[0] - 1],
        Got::Event(25),
        "a checkpoint follows its event"
    );
    assert_eq!(got[cps[1]], Got::Checkpoint(50));
    // The default format is RFC 5424, received as rendered.
    let lines = rs.lines();
    let first = lines.iter().find(|l| l.contains("seq=\"1\"")).unwrap();
    assert_eq!(first, &render(&events[0], Format::Syslog, &origin()));
    assert!(wait_until(Duration::from_secs(5), || run.status().lag == 0).await);
    let st = run.status();
    assert_eq!(
        (st.cursor, st.head, st.delivered, st.up),
        (60, 60, 60, true)
    );
    assert_eq!(env.store.sink_cursor(&st.name).await.unwrap(), 60);
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tcp_octet_counting_into_rsyslog_keeps_every_byte() {
    let env = Env::new().await;
    let rs = Rsyslog::start(env.dir.path(), None);
    let mut config = syslog_sink(format!("tcp://127.0.0.1:{}", rs.tcp));
    config.batch = Some(50);
    let run = Running::start(&env.store, vec![config]);
    let events = env.append(200).await;
    run.waker().wake();
    let got = wait_events(&rs, 200, Duration::from_secs(20)).await;
    assert_exactly_once_in_order(&event_seqs(&got), 200);
    // Octet counting carries the records unchanged (quotes, brackets, backslashes, UTF-8).
    let lines = rs.lines();
    for e in &events {
        let want = render(e, Format::Syslog, &origin());
        assert!(lines.contains(&want), "rsyslog did not get {want}");
    }
    assert!(run.status().connected);
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tcp_lf_framing_with_jsonl_in_a_syslog_header() {
    let env = Env::new().await;
    let rs = Rsyslog::start(env.dir.path(), None);
    let mut config = syslog_sink(format!("tcp://127.0.0.1:{}", rs.tcp));
    config.framing = Some("lf".into());
    config.format = Some("jsonl".into());
    let run = Running::start(&env.store, vec![config]);
    let events = env.append(30).await;
    run.waker().wake();
    let got = wait_events(&rs, 30, Duration::from_secs(20)).await;
    assert_exactly_once_in_order(&event_seqs(&got), 30);
    let lines = rs.lines();
    let line = lines.iter().find(|l| l.contains(&events[4].id)).unwrap();
    // seq 5 is `denied`: authpriv.warning.
    assert!(
        line.starts_with("<84>1 2026-05-01T10:00:05.005Z squadron-test squadron - tool_run - {"),
        "{line}"
    );
    assert!(
        line.ends_with(&render(&events[4], Format::Jsonl, &origin())),
        "{line}"
    );
    run.stop().await;
}

/// The acceptance case over syslog: the SIEM (rsyslogd) is stopped in the middle
/// of a stream of commands and started again after the outage; afterwards it has every
/// event exactly once, in order, and the lag metric showed the backlog meanwhile.
///
/// Plain syslog has no acknowledgement: a receiver that stops reading while a batch is on
/// the wire and then closes loses it, and the sink only learns that from the reset (it
/// then sends the last batch again; `reset::*` tests that deterministically). So the stop
/// happens between two events of the stream, once the receiver has read what it was sent;
/// the stream goes on during the outage. The HTTP outage tests have no such pause.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tcp_outage_mid_stream_loses_and_duplicates_nothing() {
    outage_mid_stream("tcp").await;
}

/// The same over UDP: on loopback a stopped receiver answers with ICMP port unreachable,
/// which the sink sees, so nothing sent during the outage is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn udp_outage_mid_stream_loses_nothing_on_loopback() {
    outage_mid_stream("udp").await;
}

/// The same over TLS into rsyslogd's TLS listener (when its TLS driver is installed).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tls_outage_mid_stream_loses_and_duplicates_nothing() {
    crate::rsyslog::ensure_rsyslogd();
    if crate::rsyslog::tls_driver().is_none() {
        eprintln!("SKIPPED tls_outage_mid_stream: no rsyslog TLS driver (install rsyslog-openssl)");
        return;
    }
    outage_mid_stream("tls").await;
}

async fn outage_mid_stream(scheme: &str) {
    let (n, first) = (300, 60);
    let outage = outage();
    let env = Env::new().await;
    let (mut rs, mut config) = if scheme == "tls" {
        let files = crate::rsyslog::make_certs(env.dir.path());
        let driver = crate::rsyslog::tls_driver().unwrap();
        let rs = Rsyslog::start(env.dir.path(), Some((driver, &files)));
        let mut config = syslog_sink(format!("tls://localhost:{}", rs.tcp));
        config.ca_file = Some(files.ca.clone());
        (rs, config)
    } else {
        let rs = Rsyslog::start(env.dir.path(), None);
        let port = if scheme == "udp" { rs.udp } else { rs.tcp };
        let config = syslog_sink(format!("{scheme}://127.0.0.1:{port}"));
        (rs, config)
    };
    config.checkpoint_every = Some(100);
    let run = Running::start(&env.store, vec![config]);
    // The second part of the stream outlasts the outage by about two seconds.
    let every =
        ((outage + Duration::from_secs(2)) / (n - first) as u32).max(Duration::from_millis(10));
    env.stream(first, every, run.waker()).await.unwrap();
    wait_events(&rs, first, Duration::from_secs(20)).await;

    rs.stop();
    let down_at = Instant::now();
    let stream = env.stream(n - first, every, run.waker());
    assert!(
        wait_until(outage, || {
            let s = run.status();
            !s.up && s.lag > 0 && s.last_error.is_some()
        })
        .await,
        "the sink notices the outage and reports its lag: {:?}",
        run.status()
    );
    let during = run.status();
    let metrics = render_metrics(&run.handles.status());
    assert!(metrics.contains("squadron_audit_sink_up{"), "{metrics}");
    assert_eq!(
        event_seqs(&rs.got()).len(),
        first,
        "nothing arrives during the outage"
    );
    tokio::time::sleep(outage.saturating_sub(down_at.elapsed())).await;
    rs.resume();
    stream.await.unwrap();

    let got = wait_events(&rs, n, outage + Duration::from_secs(45)).await;
    assert_exactly_once_in_order(&event_seqs(&got), n as i64);
    assert!(during.lag > 0 && !during.up, "{during:?}");
    assert!(wait_until(Duration::from_secs(5), || run.status().lag == 0).await);
    let st = run.status();
    assert!(st.up && st.failures > 0 && st.cursor == n as i64, "{st:?}");
    for cp in [100, 200, 300] {
        assert!(
            got.contains(&Got::Checkpoint(cp)),
            "checkpoint {cp} missing"
        );
    }
    run.stop().await;
}
