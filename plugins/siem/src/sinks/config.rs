//! `[[audit.sinks]]`: what the operator writes ([`SinkConfig`], deserialized from TOML)
//! and what a sink runs with once checked ([`Sink`]): its name, transport target, format,
//! secrets read from the environment, batch size and checkpoint interval.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::Deserialize;

use crate::formats::Format;

/// Events per delivery when `batch` is not set.
pub const DEFAULT_BATCH: usize = 100;
/// Largest `batch` accepted.
pub const MAX_BATCH: usize = 10_000;
/// Events between two checkpoint records when `checkpoint_every` is not set.
pub const DEFAULT_CHECKPOINT_EVERY: u64 = 1000;
/// Longest sink name (the cursor's key in the store).
const MAX_NAME: usize = 200;

/// One `[[audit.sinks]]` table, as written:
///
/// ```toml
/// [[audit.sinks]]
/// name = "siem"                       # optional: the cursor's key; default kind:target
/// kind = "syslog"                     # syslog | splunk_hec | webhook | file
/// url = "tls://siem.example.com:6514" # udp://, tcp://, tls://, https://, or a file path
/// format = "rfc5424"                  # rfc5424 (syslog) | cef | ocsf | ecs | jsonl
/// framing = "octet-counting"          # tcp/tls only: octet-counting (RFC 6587/5425) | lf
/// token_env = "SPLUNK_HEC_TOKEN"      # splunk_hec (required), webhook (bearer, optional)
/// secret_env = "WEBHOOK_SECRET"       # webhook: HMAC-SHA256 key for X-Squadron-Signature
/// ca_file = "/etc/squadron/siem-ca.pem"  # tls/https: trust only these CAs
/// batch = 100                         # events per delivery
/// checkpoint_every = 1000             # events between checkpoint records; 0 = on shutdown only
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinkConfig {
    pub name: Option<String>,
    pub kind: SinkKind,
    pub url: String,
    /// `rfc5424` (alias `syslog`), `cef`, `ocsf`, `ecs` or `jsonl`; default `rfc5424` for
    /// syslog sinks and `jsonl` otherwise.
    pub format: Option<String>,
    /// `octet-counting` (default) or `lf`, for `tcp://` and `tls://`.
    pub framing: Option<String>,
    /// The name of the environment variable holding the HEC token or webhook bearer token.
    pub token_env: Option<String>,
    /// The name of the environment variable holding the webhook's HMAC-SHA256 key.
    pub secret_env: Option<String>,
    /// PEM file of the CA certificates to trust for `tls://` and `https://` (instead of
    /// the system's).
    pub ca_file: Option<PathBuf>,
    pub batch: Option<usize>,
    pub checkpoint_every: Option<u64>,
}

/// Where a sink delivers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SinkKind {
    /// RFC 5424 over UDP (RFC 5426), TCP (RFC 6587) or TLS (RFC 5425).
    #[default]
    Syslog,
    /// Splunk HTTP Event Collector.
    SplunkHec,
    /// A JSON array POSTed to an HTTPS endpoint.
    Webhook,
    /// Records appended to a local file, one a line.
    File,
}

impl SinkKind {
    /// The name used in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            SinkKind::Syslog => "syslog",
            SinkKind::SplunkHec => "splunk_hec",
            SinkKind::Webhook => "webhook",
            SinkKind::File => "file",
        }
    }
}

impl fmt::Display for SinkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How syslog messages are delimited on a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `LEN SP MSG` (RFC 6587 section 3.4.1, the only framing RFC 5425 allows).
    OctetCounting,
    /// `MSG LF` (RFC 6587 section 3.4.2, non-transparent framing).
    Lf,
}

/// A syslog transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
    Tls,
}

/// A checked destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Syslog {
        transport: Transport,
        host: String,
        port: u16,
        framing: Framing,
    },
    Http {
        url: reqwest::Url,
    },
    File {
        path: PathBuf,
    },
}

impl fmt::Display for Target {
    /// The destination without credentials or query string (safe for logs and metrics).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Syslog {
                transport,
                host,
                port,
                ..
            } => {
                let scheme = match transport {
                    Transport::Udp => "udp",
                    Transport::Tcp => "tcp",
                    Transport::Tls => "tls",
                };
                if host.contains(':') {
                    write!(f, "{scheme}://[{host}]:{port}")
                } else {
                    write!(f, "{scheme}://{host}:{port}")
                }
            }
            Target::Http { url } => {
                write!(f, "{}://", url.scheme())?;
                if let Some(host) = url.host_str() {
                    f.write_str(host)?;
                }
                if let Some(port) = url.port() {
                    write!(f, ":{port}")?;
                }
                f.write_str(url.path())
            }
            Target::File { path } => write!(f, "{}", path.display()),
        }
    }
}

/// A secret read from the environment; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub(crate) String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// A sink ready to run: [`SinkConfig::validate`] checked it and read its secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sink {
    /// The cursor's key and the metrics label.
    pub name: String,
    pub kind: SinkKind,
    pub target: Target,
    pub format: Format,
    pub token: Option<Secret>,
    pub secret: Option<Secret>,
    pub ca_file: Option<PathBuf>,
    pub batch: usize,
    pub checkpoint_every: u64,
}

/// A sink configuration that cannot run, in one line: which sink, what is wrong, what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit sink `{sink}`: {message}")]
pub struct ConfigError {
    pub sink: String,
    pub message: String,
}

impl SinkConfig {
    /// Checks the configuration and reads its secrets from the environment.
    pub fn validate(&self) -> Result<Sink, ConfigError> {
        self.validate_with(|name| std::env::var(name).ok())
    }

    /// [`validate`](Self::validate) with the environment given as a lookup function.
    pub fn validate_with(&self, env: impl Fn(&str) -> Option<String>) -> Result<Sink, ConfigError> {
        let label = self.label();
        let err = |message: String| ConfigError {
            sink: label.clone(),
            message,
        };
        let target = self.target().map_err(err)?;
        let name = match &self.name {
            Some(n) => n.trim().to_owned(),
            None => format!("{}:{target}", self.kind),
        };
        let err = |message: String| ConfigError {
            sink: name.clone(),
            message,
        };
        if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control)
        {
            return Err(err(format!(
                "name must be 1 to {MAX_NAME} printable characters"
            )));
        }
        let format = match self.format.as_deref().map(str::trim) {
            None | Some("") => match self.kind {
                SinkKind::Syslog => Format::Syslog,
                _ => Format::Jsonl,
            },
            Some(f) => Format::from_str(f).map_err(|e| err(e.to_string()))?,
        };
        let token = read_secret("token_env", self.token_env.as_deref(), &env).map_err(err)?;
        let secret = read_secret("secret_env", self.secret_env.as_deref(), &env).map_err(err)?;
        match self.kind {
            SinkKind::SplunkHec if token.is_none() => {
                return Err(err(
                    "splunk_hec needs a token: set token_env to the name of the variable holding the HEC token"
                        .into(),
                ));
            }
            SinkKind::Syslog | SinkKind::File if token.is_some() || secret.is_some() => {
                return Err(err(format!(
                    "token_env and secret_env apply to splunk_hec and webhook sinks, not {}",
                    self.kind
                )));
            }
            SinkKind::SplunkHec if secret.is_some() => {
                return Err(err(
                    "secret_env applies to webhook sinks; HEC authenticates with token_env".into(),
                ));
            }
            _ => {}
        }
        let tls = matches!(
            &target,
            Target::Syslog {
                transport: Transport::Tls,
                ..
            }
        ) || matches!(&target, Target::Http { url } if url.scheme() == "https");
        if let Some(ca) = &self.ca_file {
            if !tls {
                return Err(err(
                    "ca_file applies to tls:// and https:// urls only".into()
                ));
            }
            if !ca.is_file() {
                return Err(err(format!(
                    "ca_file {} is not a readable file: point it at a PEM file of CA certificates",
                    ca.display()
                )));
            }
        }
        let batch = self.batch.unwrap_or(DEFAULT_BATCH);
        if !(1..=MAX_BATCH).contains(&batch) {
            return Err(err(format!(
                "batch must be between 1 and {MAX_BATCH}, not {batch}"
            )));
        }
        Ok(Sink {
            name,
            kind: self.kind,
            target,
            format,
            token,
            secret,
            ca_file: self.ca_file.clone(),
            batch,
            checkpoint_every: self.checkpoint_every.unwrap_or(DEFAULT_CHECKPOINT_EVERY),
        })
    }

    /// How errors name the sink before its name is known.
    fn label(&self) -> String {
        match &self.name {
            Some(n) if !n.trim().is_empty() => n.trim().to_owned(),
            _ => format!("{} {}", self.kind, self.url.trim()),
        }
    }

    fn target(&self) -> Result<Target, String> {
        let url = self.url.trim();
        if url.is_empty() {
            return Err(format!("url is empty: {}", expected(self.kind)));
        }
        let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
        match (self.kind, scheme.as_deref()) {
            (SinkKind::Syslog, Some(s @ ("udp" | "tcp" | "tls"))) => {
                let transport = match s {
                    "udp" => Transport::Udp,
                    "tcp" => Transport::Tcp,
                    _ => Transport::Tls,
                };
                let default_port = if transport == Transport::Tls {
                    6514
                } else {
                    514
                };
                let (host, port) = host_port(&url[s.len() + 3..], default_port)?;
                let framing = match (self.framing.as_deref().map(str::trim), transport) {
                    (None, _) => Framing::OctetCounting,
                    (Some(_), Transport::Udp) => {
                        return Err(
                            "framing applies to tcp:// and tls:// (UDP sends one message a datagram)"
                                .into(),
                        );
                    }
                    (Some("octet-counting" | "octet_counting" | "octet"), _) => {
                        Framing::OctetCounting
                    }
                    (Some("lf" | "newline"), _) => Framing::Lf,
                    (Some(other), _) => {
                        return Err(format!(
                            "unknown framing `{other}`: use octet-counting or lf"
                        ));
                    }
                };
                Ok(Target::Syslog {
                    transport,
                    host,
                    port,
                    framing,
                })
            }
            (SinkKind::SplunkHec | SinkKind::Webhook, Some("https" | "http")) => {
                if self.framing.is_some() {
                    return Err("framing applies to syslog tcp:// and tls:// urls only".into());
                }
                let mut parsed = reqwest::Url::parse(url).map_err(|e| {
                    format!("url `{url}` does not parse ({e}): {}", expected(self.kind))
                })?;
                let Some(host) = parsed.host_str() else {
                    return Err(format!("url `{url}` has no host"));
                };
                if parsed.scheme() == "http" && !is_loopback(host) {
                    return Err(format!(
                        "url `{url}` is plain http: use https:// (http:// is accepted for localhost only)"
                    ));
                }
                if self.kind == SinkKind::SplunkHec && matches!(parsed.path(), "" | "/") {
                    parsed.set_path("/services/collector/event");
                }
                Ok(Target::Http { url: parsed })
            }
            (SinkKind::File, None | Some("file")) => {
                if self.framing.is_some() {
                    return Err("framing applies to syslog tcp:// and tls:// urls only".into());
                }
                let path = url.strip_prefix("file://").unwrap_or(url);
                if path.is_empty() {
                    return Err(format!("url is empty: {}", expected(self.kind)));
                }
                Ok(Target::File {
                    path: PathBuf::from(path),
                })
            }
            _ => Err(format!(
                "url `{url}` does not fit kind {}: {}",
                self.kind,
                expected(self.kind)
            )),
        }
    }
}

/// Checks every sink and that their names (cursor keys) are unique.
pub fn validate_all(sinks: &[SinkConfig]) -> Result<Vec<Sink>, ConfigError> {
    let out = sinks
        .iter()
        .map(SinkConfig::validate)
        .collect::<Result<Vec<_>, _>>()?;
    check_unique(&out)?;
    Ok(out)
}

/// Two sinks with one name would share (and fight over) one cursor.
pub(crate) fn check_unique(sinks: &[Sink]) -> Result<(), ConfigError> {
    for (i, sink) in sinks.iter().enumerate() {
        if sinks[..i].iter().any(|s| s.name == sink.name) {
            return Err(ConfigError {
                sink: sink.name.clone(),
                message: "two sinks have this name: give each a distinct `name` (it keys the delivery cursor)"
                    .into(),
            });
        }
    }
    Ok(())
}

fn expected(kind: SinkKind) -> &'static str {
    match kind {
        SinkKind::Syslog => "use udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT",
        SinkKind::SplunkHec => {
            "use https://HOST:8088 (the /services/collector/event path is added)"
        }
        SinkKind::Webhook => "use https://HOST/PATH",
        SinkKind::File => "use a file path",
    }
}

fn read_secret(
    key: &str,
    var: Option<&str>,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Option<Secret>, String> {
    let Some(var) = var.map(str::trim) else {
        return Ok(None);
    };
    if var.is_empty() {
        return Err(format!(
            "{key} is empty: name the environment variable that holds the secret"
        ));
    }
    match env(var) {
        Some(v) if !v.trim().is_empty() => Ok(Some(Secret(v.trim().to_owned()))),
        _ => Err(format!(
            "{key} names {var}, which is not set or empty: export it before starting the server"
        )),
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `host:port`, `[v6]:port` or a bare host (with `default_port`).
fn host_port(rest: &str, default_port: u16) -> Result<(String, u16), String> {
    let rest = rest.trim_end_matches('/');
    let bad = || format!("`{rest}` is not HOST:PORT");
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or_else(bad)?;
        match after {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':').ok_or_else(bad)?)),
        }
    } else {
        match rest.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, Some(p)),
            Some(_) => return Err(format!("`{rest}`: write an IPv6 address as [ADDR]:PORT")),
            None => (rest, None),
        }
    };
    if host.is_empty() || host.contains(['/', '@', '?', '#', ' ']) {
        return Err(bad());
    }
    let port = match port {
        None => default_port,
        Some(p) => match p.parse::<u16>() {
            Ok(p) if p != 0 => p,
            _ => return Err(format!("port `{p}` is not between 1 and 65535")),
        },
    };
    Ok((host.to_owned(), port))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "TOKEN").then(|| "t0k3n".to_owned())
    }

    fn sink(kind: SinkKind, url: &str) -> SinkConfig {
        SinkConfig {
            kind,
            url: url.into(),
            ..SinkConfig::default()
        }
    }

    #[test]
    fn defaults_and_names() {
        let s = sink(SinkKind::Syslog, "tcp://127.0.0.1:6514")
            .validate_with(env)
            .unwrap();
        assert_eq!(s.name, "syslog:tcp://127.0.0.1:6514");
        assert_eq!(s.format, Format::Syslog);
        assert_eq!(
            (s.batch, s.checkpoint_every),
            (DEFAULT_BATCH, DEFAULT_CHECKPOINT_EVERY)
        );
        let Target::Syslog { framing, port, .. } = s.target else {
            panic!()
        };
        assert_eq!((framing, port), (Framing::OctetCounting, 6514));
        let s = sink(SinkKind::Syslog, "tls://[::1]")
            .validate_with(env)
            .unwrap();
        assert_eq!(s.target.to_string(), "tls://[::1]:6514");
        let mut c = sink(SinkKind::SplunkHec, "https://user:pw@splunk:8088/?x=1");
        c.token_env = Some("TOKEN".into());
        let s = c.validate_with(env).unwrap();
        assert_eq!(
            s.name,
            "splunk_hec:https://splunk:8088/services/collector/event"
        );
        assert_eq!(s.format, Format::Jsonl);
        assert_eq!(s.token, Some(Secret("t0k3n".into())));
        assert!(
            !format!("{s:?}").contains("t0k3n"),
            "secrets are not printed"
        );
        let s = sink(SinkKind::File, "/var/log/squadron-audit.jsonl")
            .validate_with(env)
            .unwrap();
        assert_eq!(
            s.target,
            Target::File {
                path: "/var/log/squadron-audit.jsonl".into()
            }
        );
    }

    #[test]
    fn toml_round_trip() {
        #[derive(Debug, Deserialize)]
        struct Audit {
            sinks: Vec<SinkConfig>,
        }
        let a: Audit = toml::from_str(
            r#"
            [[sinks]]
            kind = "syslog"
            url = "udp://127.0.0.1:514"
            format = "cef"
            [[sinks]]
            name = "hook"
            kind = "webhook"
            url = "https://hooks.example.com/audit"
            batch = 10
            checkpoint_every = 0
            "#,
        )
        .unwrap();
        let s = a.sinks[0].validate_with(env).unwrap();
        assert_eq!(s.format, Format::Cef);
        let s = a.sinks[1].validate_with(env).unwrap();
        assert_eq!(
            (s.name.as_str(), s.batch, s.checkpoint_every),
            ("hook", 10, 0)
        );
        let bad = toml::from_str::<Audit>("[[sinks]]\nkind = \"syslog\"\nurl = \"x\"\nport = 1\n");
        assert!(bad.is_err(), "unknown keys are refused");
        let bad = toml::from_str::<Audit>("[[sinks]]\nkind = \"kafka\"\nurl = \"x\"\n");
        assert!(bad.unwrap_err().to_string().contains("splunk_hec"));
    }

    #[test]
    fn errors_are_one_line_and_name_the_fix() {
        let cases: Vec<(SinkConfig, &str)> = vec![
            (
                sink(SinkKind::Syslog, "https://x"),
                "does not fit kind syslog",
            ),
            (
                sink(SinkKind::Syslog, "tcp://host:99999"),
                "between 1 and 65535",
            ),
            (sink(SinkKind::Syslog, "tcp://::1:514"), "[ADDR]:PORT"),
            (sink(SinkKind::Syslog, ""), "url is empty"),
            (
                sink(SinkKind::SplunkHec, "https://splunk:8088"),
                "token_env",
            ),
            (
                sink(SinkKind::Webhook, "http://example.com/x"),
                "use https://",
            ),
            (sink(SinkKind::Webhook, "udp://x:1"), "does not fit"),
            (
                SinkConfig {
                    format: Some("xml".into()),
                    ..sink(SinkKind::File, "/tmp/a")
                },
                "unknown export format",
            ),
            (
                SinkConfig {
                    batch: Some(0),
                    ..sink(SinkKind::File, "/tmp/a")
                },
                "batch must be",
            ),
            (
                SinkConfig {
                    framing: Some("lf".into()),
                    ..sink(SinkKind::Syslog, "udp://h:1")
                },
                "framing applies",
            ),
            (
                SinkConfig {
                    framing: Some("x".into()),
                    ..sink(SinkKind::Syslog, "tcp://h:1")
                },
                "unknown framing",
            ),
            (
                SinkConfig {
                    token_env: Some("NOPE".into()),
                    ..sink(SinkKind::Webhook, "https://h/")
                },
                "NOPE",
            ),
            (
                SinkConfig {
                    token_env: Some("TOKEN".into()),
                    ..sink(SinkKind::Syslog, "tcp://h:1")
                },
                "apply to",
            ),
            (
                SinkConfig {
                    ca_file: Some("/nonexistent.pem".into()),
                    ..sink(SinkKind::Syslog, "tls://h:1")
                },
                "ca_file",
            ),
            (
                SinkConfig {
                    ca_file: Some("/etc/hostname".into()),
                    ..sink(SinkKind::Syslog, "tcp://h:1")
                },
                "tls:// and https://",
            ),
            (
                SinkConfig {
                    name: Some(" ".into()),
                    ..sink(SinkKind::File, "/tmp/a")
                },
                "name must be",
            ),
        ];
        for (config, want) in cases {
            let e = config.validate_with(env).unwrap_err().to_string();
            assert!(e.contains(want), "{e:?} should contain {want:?}");
            assert!(!e.contains('\n'), "{e:?}");
            assert!(e.starts_with("audit sink `"), "{e:?}");
        }
        let twice = vec![
            sink(SinkKind::File, "/tmp/a"),
            sink(SinkKind::File, "file:///tmp/a"),
        ];
        assert!(
            validate_all(&twice)
                .unwrap_err()
                .to_string()
                .contains("distinct")
        );
    }
}
