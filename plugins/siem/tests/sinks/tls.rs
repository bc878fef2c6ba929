//! Syslog over TLS (RFC 5425): exact octet-counted frames checked byte for byte against an
//! in-test rustls server, certificate checking against `ca_file`, and delivery into
//! rsyslogd's TLS listener (ossl or gtls driver) when the package is there.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use squadron_siem::formats::{Format, render, render_checkpoint};
use squadron_siem::sinks::{SinkConfig, SinkKind};
use squadron_store::AuditCheckpoint;
use tokio::io::AsyncReadExt;
use tokio_rustls::TlsAcceptor;

use crate::harness::{
    Env, Got, Running, assert_exactly_once_in_order, event_seqs, origin, wait_until,
};
use crate::rsyslog::{Rsyslog, TlsFiles, make_certs, tls_driver};

/// A TLS server that stores every byte it reads, connection after connection.
async fn tls_server(files: &TlsFiles) -> (u16, Arc<Mutex<Vec<u8>>>) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(&files.key).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let bytes = Arc::new(Mutex::new(Vec::new()));
    let sink = bytes.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let sink = sink.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = [0u8; 8192];
                while let Ok(n) = tls.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    sink.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            });
        }
    });
    (port, bytes)
}

/// Splits `LEN SP MSG` frames; panics on anything else.
fn frames(mut bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let sp = bytes
            .iter()
            .position(|b| *b == b' ')
            .expect("a frame starts with LEN SP");
        let len: usize = std::str::from_utf8(&bytes[..sp])
            .unwrap()
            .parse()
            .expect("LEN is a number");
        let msg = &bytes[sp + 1..sp + 1 + len];
        out.push(String::from_utf8(msg.to_vec()).unwrap());
        bytes = &bytes[sp + 1 + len..];
    }
    out
}

fn tls_sink(url: String, ca: &TlsFiles) -> SinkConfig {
    SinkConfig {
        kind: SinkKind::Syslog,
        url,
        ca_file: Some(ca.ca.clone()),
        checkpoint_every: Some(10),
        ..SinkConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tls_frames_are_rfc5425_octet_counted() {
    let env = Env::new().await;
    let files = make_certs(env.dir.path());
    let (port, bytes) = tls_server(&files).await;
    let run = Running::start(
        &env.store,
        vec![tls_sink(format!("tls://localhost:{port}"), &files)],
    );
    let events = env.append(25).await;
    run.waker().wake();
    assert!(
        wait_until(Duration::from_secs(20), || frames(&bytes.lock().unwrap())
            .len()
            >= 27)
        .await
    );
    let got = frames(&bytes.lock().unwrap());
    let mut want: Vec<String> = Vec::new();
    for e in &events {
        want.push(render(e, Format::Syslog, &origin()));
        if e.seq % 10 == 0 {
            let cp = AuditCheckpoint {
                seq: e.seq,
                head_hash: e.hash.clone(),
                ts: e.ts.clone(),
            };
            want.push(render_checkpoint(&cp, Format::Syslog, &origin()));
        }
    }
    assert_eq!(got, want);
    run.stop().await;
    // Shutdown vouches for the tail with one more checkpoint.
    let got = frames(&bytes.lock().unwrap());
    let last = &events[24];
    let cp = AuditCheckpoint {
        seq: 25,
        head_hash: last.hash.clone(),
        ts: last.ts.clone(),
    };
    assert_eq!(
        got.last().unwrap(),
        &render_checkpoint(&cp, Format::Syslog, &origin())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tls_refuses_a_server_outside_ca_file_and_sends_nothing() {
    let env = Env::new().await;
    let server = make_certs(env.dir.path());
    let other_dir = env.path("other");
    std::fs::create_dir_all(&other_dir).unwrap();
    let other = make_certs(&other_dir);
    let (port, bytes) = tls_server(&server).await;
    let run = Running::start(
        &env.store,
        vec![tls_sink(format!("tls://localhost:{port}"), &other)],
    );
    env.append(3).await;
    run.waker().wake();
    assert!(
        wait_until(Duration::from_secs(10), || {
            let s = run.status();
            s.last_error.is_some() && s.lag == 3
        })
        .await
    );
    let st = run.status();
    assert!(st.last_error.as_deref().unwrap().contains("TLS"), "{st:?}");
    assert_eq!((st.cursor, st.lag, st.up), (0, 3, false));
    assert!(bytes.lock().unwrap().is_empty());
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tls_into_rsyslog() {
    let env = Env::new().await;
    crate::rsyslog::ensure_rsyslogd();
    let Some(driver) = tls_driver() else {
        eprintln!(
            "SKIPPED tls_into_rsyslog: no rsyslog TLS driver (install rsyslog-openssl); \
             tls_frames_are_rfc5425_octet_counted covers the framing"
        );
        return;
    };
    let files = make_certs(env.dir.path());
    let rs = Rsyslog::start(env.dir.path(), Some((driver, &files)));
    let run = Running::start(
        &env.store,
        vec![tls_sink(format!("tls://localhost:{}", rs.tcp), &files)],
    );
    env.append(50).await;
    run.waker().wake();
    let ok = wait_until(Duration::from_secs(20), || {
        event_seqs(&rs.got()).len() >= 50
    })
    .await;
    assert!(
        ok,
        "rsyslog ({driver}) got {:?}; it said: {}",
        rs.got().len(),
        rs.stderr()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = rs.got();
    assert_exactly_once_in_order(&event_seqs(&got), 50);
    assert!(got.contains(&Got::Checkpoint(50)));
    run.stop().await;
}
