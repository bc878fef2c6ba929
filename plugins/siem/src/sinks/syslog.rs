//! Syslog transports: UDP (RFC 5426, one message a datagram), TCP (RFC 6587, octet
//! counting or LF framing) and TLS (RFC 5425: octet counting over TLS, rustls with ring).
//!
//! Records in the `syslog` (RFC 5424) format go out as rendered; records in another
//! format (CEF, JSON) become the MSG of an RFC 5424 header
//! `<PRI>1 TIMESTAMP HOST squadron - MSGID - MSG`, facility authpriv like the formatter.
//!
//! Acknowledgement. Plain syslog has no application-level acknowledgement, so:
//!
//! - a stream batch counts as delivered once written (all its frames in one buffer) and
//!   flushed to the socket; a datagram once `send` succeeded and the socket reports no ICMP
//!   error;
//! - before every write the connection is probed with one non-blocking read (receivers
//!   never send): "would block" is alive; end of stream (or TLS EOF) means the receiver
//!   closed after reading everything we wrote (a close with unread data is a reset, not a
//!   FIN), so we just reconnect; a reset means the receiver discarded unread data, which is
//!   always a suffix of the stream and so includes the last batch written: the sender asks
//!   the runner to rewind the cursor to before that batch and it is sent again;
//! - on shutdown the stream is half-closed and the receiver's own close awaited (2 s), with
//!   the same rewind if it resets.
//!
//! What remains: two or more batches written while a receiver was shutting down (after its
//! last read, before its close) lose all but the last; a receiver that had read part of the
//! last batch gets that part twice; a reset for another reason (middlebox, abortive close)
//! resends the last batch.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use chrono::SecondsFormat;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpStream, UdpSocket};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::config::{Framing, Transport};
use super::record::Record;
use super::{Failure, SinkError};
use crate::formats::Format;

/// How long a connection (TCP connect and TLS handshake) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one message may take to write and flush (a receiver that stopped reading).
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long shutdown waits for the receiver to close its side.
const CLOSE_WAIT: Duration = Duration::from_secs(2);
/// Largest datagram payload sent; longer messages are cut (at a character boundary).
pub(crate) const MAX_DATAGRAM: usize = 65_000;
/// The facility of wrapped records (authpriv, as the RFC 5424 formatter uses).
const FACILITY: u8 = 10;

enum Conn {
    Udp(UdpSocket),
    Tcp(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

/// Sends syslog messages over one transport, reconnecting as needed.
pub(crate) struct SyslogSender {
    transport: Transport,
    host: String,
    port: u16,
    framing: Framing,
    format: Format,
    origin_host: String,
    tls: Option<TlsConnector>,
    conn: Option<Conn>,
    /// The cursor to return to if the receiver turns out not to have read the last unit
    /// written on `conn` (a batch on streams, a datagram on UDP) that carried events.
    unread_rewind: Option<i64>,
}

impl std::fmt::Debug for SyslogSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyslogSender")
            .field("transport", &self.transport)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("connected", &self.conn.is_some())
            .finish_non_exhaustive()
    }
}

impl SyslogSender {
    pub(crate) fn new(
        transport: Transport,
        host: String,
        port: u16,
        framing: Framing,
        format: Format,
        origin_host: &str,
        tls: Option<rustls::ClientConfig>,
    ) -> Self {
        Self {
            transport,
            host,
            port,
            framing,
            format,
            origin_host: header_field(origin_host, 255),
            tls: tls.map(|c| TlsConnector::from(Arc::new(c))),
            conn: None,
            unread_rewind: None,
        }
    }

    /// Sends the records in order; on failure, says how many went through first, or where
    /// to rewind to when the receiver reset the connection with our last batch unread.
    pub(crate) async fn send(&mut self, records: &[Record]) -> Result<(), Failure> {
        if let Some(conn) = &mut self.conn {
            match probe(conn) {
                Probe::Alive => {}
                Probe::Closed => {
                    tracing::debug!(host = %self.host, port = self.port, "the syslog receiver closed the connection; reconnecting");
                    self.drop_conn();
                }
                Probe::Reset(e) => {
                    let rewind = self.drop_conn();
                    return Err(Failure::reset(rewind, SinkError::Reset(e)));
                }
            }
        }
        if self.conn.is_none() {
            self.conn = Some(self.connect().await.map_err(|e| Failure::retry(0, e))?);
        }
        let framing = self.framing;
        let messages: Vec<String> = records.iter().map(|r| self.message(r)).collect();
        let written = match self.conn.as_mut() {
            None => Err(Failure::retry(0, SinkError::Closed)),
            Some(Conn::Udp(sock)) => {
                send_datagrams(sock, records, &messages, &mut self.unread_rewind).await
            }
            Some(Conn::Tcp(s)) => write_batch(s, &messages, framing).await,
            Some(Conn::Tls(s)) => write_batch(s.as_mut(), &messages, framing).await,
        };
        match written {
            Ok(()) => {
                if let Some(rewind) = rewind_point(records)
                    && !matches!(self.conn, Some(Conn::Udp(_)))
                {
                    self.unread_rewind = Some(rewind);
                }
                Ok(())
            }
            Err(mut f) => {
                // A reset while writing means what we wrote before was not read either.
                let rewind = self.drop_conn();
                if matches!(f.error, SinkError::Reset(_)) && f.rewind.is_none() {
                    f.rewind = rewind;
                }
                Err(f)
            }
        }
    }

    /// Closes the connection: a TLS close_notify or TCP FIN, then waits (2 s at most) for
    /// the receiver to close its side. Returns where to rewind to if it reset instead,
    /// having discarded our last batch.
    pub(crate) async fn close(&mut self) -> Option<i64> {
        let conn = self.conn.take()?;
        let rewind = self.unread_rewind.take();
        let outcome = match conn {
            Conn::Tcp(mut s) => half_close(&mut s).await,
            Conn::Tls(mut s) => half_close(s.as_mut()).await,
            Conn::Udp(_) => Probe::Closed,
        };
        match outcome {
            Probe::Reset(e) => {
                tracing::warn!(host = %self.host, port = self.port, error = %e, "the syslog receiver reset the connection on close; the last batch will be sent again");
                rewind
            }
            Probe::Alive | Probe::Closed => None,
        }
    }

    pub(crate) fn connected(&self) -> bool {
        self.conn.is_some()
    }

    /// Forgets the connection; returns the rewind point of its last unit.
    fn drop_conn(&mut self) -> Option<i64> {
        self.conn = None;
        self.unread_rewind.take()
    }

    /// The RFC 5424 message for a record: as rendered for the syslog format, else wrapped.
    fn message(&self, r: &Record) -> String {
        if self.format == Format::Syslog {
            return r.text.clone();
        }
        let ts = chrono::DateTime::parse_from_rfc3339(&r.ts)
            .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
            .unwrap_or_else(|_| "-".to_owned());
        format!(
            "<{}>1 {ts} {} squadron - {} - {}",
            FACILITY * 8 + severity(&r.status),
            self.origin_host,
            header_field(&r.kind, 32),
            r.text
        )
    }

    async fn connect(&self) -> Result<Conn, SinkError> {
        let addr = format!("{}:{}", bracket(&self.host), self.port);
        let connect_err = |source: std::io::Error| SinkError::Connect {
            addr: addr.clone(),
            source,
        };
        let resolved = tokio::net::lookup_host((self.host.as_str(), self.port))
            .await
            .map_err(connect_err)?
            .next()
            .ok_or_else(|| connect_err(std::io::Error::other("the name resolves to no address")))?;
        match self.transport {
            Transport::Udp => {
                let local = if resolved.is_ipv4() {
                    "0.0.0.0:0"
                } else {
                    "[::]:0"
                };
                let sock = UdpSocket::bind(local).await.map_err(connect_err)?;
                sock.connect(resolved).await.map_err(connect_err)?;
                Ok(Conn::Udp(sock))
            }
            Transport::Tcp | Transport::Tls => {
                let tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(resolved))
                    .await
                    .map_err(|_| SinkError::Timeout("connecting"))?
                    .map_err(connect_err)?;
                tcp.set_nodelay(true).map_err(connect_err)?;
                let Some(tls) = &self.tls else {
                    return Ok(Conn::Tcp(tcp));
                };
                let name =
                    rustls::pki_types::ServerName::try_from(self.host.clone()).map_err(|e| {
                        SinkError::Tls(format!("`{}` is not a valid server name: {e}", self.host))
                    })?;
                let stream = tokio::time::timeout(CONNECT_TIMEOUT, tls.connect(name, tcp))
                    .await
                    .map_err(|_| SinkError::Timeout("the TLS handshake"))?
                    .map_err(|e| SinkError::Tls(format!("handshake with {addr} failed: {e}")))?;
                Ok(Conn::Tls(Box::new(stream)))
            }
        }
    }
}

/// The cursor before the first event of `records` (`None` for checkpoints only).
fn rewind_point(records: &[Record]) -> Option<i64> {
    records.iter().find(|r| !r.checkpoint).map(|r| r.seq - 1)
}

/// Sends one datagram per message, checking the socket for an ICMP error after each.
async fn send_datagrams(
    sock: &UdpSocket,
    records: &[Record],
    messages: &[String],
    unread_rewind: &mut Option<i64>,
) -> Result<(), Failure> {
    for (i, (record, msg)) in records.iter().zip(messages).enumerate() {
        let sent = sock.send(cut(msg, MAX_DATAGRAM).as_bytes()).await;
        // On loopback and most LANs a closed port answers at once with ICMP port
        // unreachable, which the socket reports as a pending error.
        let error = match sent {
            Err(e) => Some(e),
            Ok(_) => sock.take_error().unwrap_or_else(Some),
        };
        if let Some(e) = error {
            return Err(Failure::retry(i, SinkError::Io(e)));
        }
        if !record.checkpoint {
            *unread_rewind = Some(record.seq - 1);
        }
    }
    Ok(())
}

/// Writes every framed message in one buffer and flushes it.
async fn write_batch<S>(s: &mut S, messages: &[String], framing: Framing) -> Result<(), Failure>
where
    S: AsyncWrite + Unpin,
{
    let mut buf = String::with_capacity(messages.iter().map(|m| m.len() + 8).sum());
    for msg in messages {
        match framing {
            Framing::OctetCounting => {
                buf.push_str(&msg.len().to_string());
                buf.push(' ');
                buf.push_str(msg);
            }
            Framing::Lf => {
                buf.push_str(msg);
                buf.push('\n');
            }
        }
    }
    let write = async {
        s.write_all(buf.as_bytes()).await?;
        s.flush().await
    };
    match tokio::time::timeout(WRITE_TIMEOUT, write).await {
        Err(_) => Err(Failure::retry(
            0,
            SinkError::Timeout("writing to the receiver"),
        )),
        Ok(Err(e)) if is_reset(&e) => Err(Failure::retry(0, SinkError::Reset(e.to_string()))),
        Ok(Err(e)) => Err(Failure::retry(0, SinkError::Io(e))),
        Ok(Ok(())) => Ok(()),
    }
}

/// Whether an error means the peer reset the connection (and dropped unread data).
fn is_reset(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset};
    matches!(e.kind(), ConnectionReset | ConnectionAborted | BrokenPipe)
}

/// What a connection's state is, as far as a non-blocking read can tell.
#[derive(Debug)]
enum Probe {
    /// Nothing to read: the receiver is there.
    Alive,
    /// End of stream: the receiver closed after reading everything.
    Closed,
    /// Reset (or any other error): the receiver may have dropped what we wrote last.
    Reset(String),
}

fn probe(conn: &mut Conn) -> Probe {
    match conn {
        Conn::Udp(sock) => match sock.take_error() {
            Ok(None) => Probe::Alive,
            Ok(Some(e)) | Err(e) => Probe::Reset(e.to_string()),
        },
        Conn::Tcp(s) => after_eof(probe_stream(s), s),
        Conn::Tls(s) => {
            let probe = probe_stream(s.as_mut());
            after_eof(probe, s.get_ref().0)
        }
    }
}

/// A receiver that closed cleanly, but only after something we wrote arrived (a FIN then
/// a reset): a read reports the end of stream first, the socket keeps the reset's error.
fn after_eof(probe: Probe, tcp: &TcpStream) -> Probe {
    match probe {
        Probe::Closed => match tcp.take_error() {
            Ok(Some(e)) => Probe::Reset(e.to_string()),
            Ok(None) | Err(_) => Probe::Closed,
        },
        other => other,
    }
}

/// One non-blocking read. Syslog receivers never send application data: unexpected bytes
/// are discarded (a few reads at most).
fn probe_stream<S: AsyncRead + Unpin>(s: &mut S) -> Probe {
    let mut buf = [0u8; 1024];
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..16 {
        let mut rb = ReadBuf::new(&mut buf);
        match Pin::new(&mut *s).poll_read(&mut cx, &mut rb) {
            Poll::Pending => return Probe::Alive,
            Poll::Ready(Ok(())) if rb.filled().is_empty() => return Probe::Closed,
            Poll::Ready(Ok(())) => {}
            // A TLS peer that closed TCP without close_notify had still read everything.
            Poll::Ready(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Probe::Closed;
            }
            Poll::Ready(Err(e)) => return Probe::Reset(e.to_string()),
        }
    }
    Probe::Alive
}

/// Shuts our side down and waits for the receiver to close its own.
async fn half_close<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S) -> Probe {
    let closed = async {
        if let Err(e) = s.shutdown().await {
            return if is_reset(&e) {
                Probe::Reset(e.to_string())
            } else {
                Probe::Closed
            };
        }
        let mut buf = [0u8; 1024];
        loop {
            match s.read(&mut buf).await {
                Ok(0) => return Probe::Closed,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Probe::Closed,
                Err(e) => return Probe::Reset(e.to_string()),
            }
        }
    };
    // A receiver that keeps the connection open after our FIN has read what it got.
    tokio::time::timeout(CLOSE_WAIT, closed)
        .await
        .unwrap_or(Probe::Alive)
}

/// Syslog severity of a record, as the RFC 5424 formatter maps statuses: informational
/// for `ok`/`approved`/`started` and checkpoints, warning for `denied`/`rejected`,
/// notice otherwise.
fn severity(status: &str) -> u8 {
    match status {
        "" | "ok" | "approved" | "started" => 6,
        "denied" | "rejected" => 4,
        _ => 5,
    }
}

/// An RFC 5424 header field: printable US-ASCII (others become `_`), at most `max`
/// characters, `-` when empty.
fn header_field(s: &str, max: usize) -> String {
    let out: String = s
        .chars()
        .take(max)
        .map(|c| if c.is_ascii_graphic() { c } else { '_' })
        .collect();
    if out.is_empty() { "-".into() } else { out }
}

/// At most `max` bytes of `s`, cut at a character boundary.
pub(crate) fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::Origin;
    use squadron_store::AuditEvent;

    #[test]
    fn wraps_other_formats_in_an_rfc5424_header() {
        let s = SyslogSender::new(
            Transport::Udp,
            "h".into(),
            1,
            Framing::Lf,
            Format::Jsonl,
            "control plane",
            None,
        );
        let e = AuditEvent {
            seq: 3,
            ts: "2026-05-01T10:00:00.250+02:00".into(),
            kind: "tool_run".into(),
            status: "denied".into(),
            ..AuditEvent::default()
        };
        let origin = Origin {
            host: "x".into(),
            version: "0".into(),
        };
        let r = Record::event(&e, Format::Jsonl, &origin);
        let m = s.message(&r);
        assert!(
            m.starts_with(
                "<84>1 2026-05-01T10:00:00.250+02:00 control_plane squadron - tool_run - {"
            ),
            "{m}"
        );
        assert_eq!(cut("héllo", 2), "h");
        assert_eq!(cut("héllo", 3), "hé");
    }
}
