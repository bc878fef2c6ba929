//! What a stream sink does when the receiver goes away, against an in-test TCP receiver
//! whose reading and closing the test controls: a close after reading everything (FIN)
//! resends nothing; a close with our last batch unread (the kernel answers with a reset)
//! rewinds the cursor and sends that batch again, so nothing is lost or duplicated.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use squadron_siem::sinks::{SinkConfig, SinkKind};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

use crate::harness::{
    Env, Running, assert_exactly_once_in_order, event_seqs, parse_record, wait_until,
};

/// A receiver that keeps what it read, can stop reading, and can drop its connection.
struct Receiver {
    port: u16,
    bytes: Arc<Mutex<Vec<u8>>>,
    reading: watch::Sender<bool>,
    drop_conn: Arc<Notify>,
    connections: Arc<Mutex<usize>>,
}

impl Receiver {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let (reading, reading_rx) = watch::channel(true);
        let drop_conn = Arc::new(Notify::new());
        let connections = Arc::new(Mutex::new(0));
        let (b, d, c) = (bytes.clone(), drop_conn.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((mut tcp, _)) = listener.accept().await {
                *c.lock().unwrap() += 1;
                let mut reading = reading_rx.clone();
                let mut buf = [0u8; 65536];
                loop {
                    let can_read = *reading.borrow_and_update();
                    tokio::select! {
                        () = d.notified() => break,
                        _ = reading.changed() => {}
                        r = tcp.read(&mut buf), if can_read => match r {
                            Ok(0) | Err(_) => break,
                            Ok(n) => b.lock().unwrap().extend_from_slice(&buf[..n]),
                        },
                    }
                }
                // Dropped here: a FIN if everything was read, else a reset.
            }
        });
        Self {
            port,
            bytes,
            reading,
            drop_conn,
            connections,
        }
    }

    fn events(&self) -> Vec<i64> {
        let text = String::from_utf8(self.bytes.lock().unwrap().clone()).unwrap();
        event_seqs(&text.lines().filter_map(parse_record).collect::<Vec<_>>())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reset_resends_the_unread_batch_and_a_clean_close_resends_nothing() {
    let env = Env::new().await;
    let rx = Receiver::start().await;
    let config = SinkConfig {
        kind: SinkKind::Syslog,
        url: format!("tcp://127.0.0.1:{}", rx.port),
        framing: Some("lf".into()),
        checkpoint_every: Some(0),
        ..SinkConfig::default()
    };
    let run = Running::start(&env.store, vec![config]);
    env.append(5).await;
    run.waker().wake();
    assert!(wait_until(Duration::from_secs(10), || rx.events().len() == 5).await);

    // The receiver stops reading; event 6 is written (and acknowledged) but not read.
    rx.reading.send(false).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    env.append(1).await;
    run.waker().wake();
    assert!(wait_until(Duration::from_secs(10), || run.status().cursor == 6).await);
    assert_eq!(rx.events().len(), 5);
    // It closes with 6 unread: a reset. The next delivery notices and sends 6 again.
    rx.drop_conn.notify_one();
    tokio::time::sleep(Duration::from_millis(100)).await;
    rx.reading.send(true).unwrap();
    env.append(1).await;
    run.waker().wake();
    assert!(
        wait_until(Duration::from_secs(15), || rx.events().len() >= 7).await,
        "{:?} {:?}",
        rx.events(),
        run.status()
    );
    assert_exactly_once_in_order(&rx.events(), 7);
    assert_eq!(*rx.connections.lock().unwrap(), 2);
    let st = run.status();
    assert!(
        st.last_error.as_deref().unwrap().contains("reset"),
        "{st:?}"
    );

    // A close after reading everything (FIN): reconnect, resend nothing.
    tokio::time::sleep(Duration::from_millis(200)).await;
    rx.drop_conn.notify_one();
    tokio::time::sleep(Duration::from_millis(100)).await;
    env.append(1).await;
    run.waker().wake();
    assert!(wait_until(Duration::from_secs(15), || rx.events().len() >= 8).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_exactly_once_in_order(&rx.events(), 8);
    assert_eq!(*rx.connections.lock().unwrap(), 3);
    run.stop().await;
    assert_eq!(env.store.sink_cursor(&run_name(&rx)).await.unwrap(), 8);
}

fn run_name(rx: &Receiver) -> String {
    format!("syslog:tcp://127.0.0.1:{}", rx.port)
}
