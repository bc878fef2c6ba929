//! The agent's config file (SPEC section 8): where it is, what it holds, and the checks a
//! config must pass before the agent will install or start with it.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use squadron_core::squad::DbEngine;
use squadron_core::units::parse_size;
use tokio_tungstenite::tungstenite::http::Uri;

/// Where the config lives when neither `--config` nor the environment says otherwise.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/squadron-agent/agent.toml";
/// The environment variable that names the config file.
pub const CONFIG_ENV: &str = "SQUADRON_AGENT_CONFIG";
/// The squad ceiling that serves every squad the control plane links to the node.
pub const ALL_SQUADS: &str = "*";
/// Most runs an agent may allow at once.
pub const MAX_CONCURRENCY_LIMIT: usize = 256;

/// Why a config could not be used. Every message is one line and never holds the token.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{0}")]
    Invalid(String),
}

/// A secret that never prints.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The agent config file, as written on disk.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// The control plane's base URL: `wss://`/`https://`, or `ws://`/`http://` to loopback.
    pub server: String,
    pub node_id: String,
    /// A file holding the token (0600), or the token inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_file: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Allows a plain `ws://`/`http://` server that is not on loopback.
    #[serde(default)]
    pub allow_insecure: bool,
    /// A PEM file of CA certificates to trust for the server instead of the public roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Where the request journal lives; default: the config file's directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_dir: Option<PathBuf>,
    /// Extra squads (`<dir>/<id>/squad.toml`) on top of the built-ins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub squads_dir: Option<PathBuf>,
    /// Inventory: the site this node serves, and where WordPress lives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wordpress_path: Option<String>,
    #[serde(default)]
    pub policy: PolicyConfig,
    #[serde(default)]
    pub databases: Vec<DatabaseConfig>,
}

/// The local policy: a ceiling the control plane cannot raise.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// Squads served; `["*"]` serves every squad the control plane links to this node.
    #[serde(default = "default_squads")]
    pub squads: Vec<String>,
    #[serde(default)]
    pub allow_write: bool,
    #[serde(default = "default_concurrency")]
    pub max_concurrency: usize,
    /// Cap on each of stdout and stderr, whatever the tool declares.
    #[serde(default = "default_max_output")]
    pub max_output: String,
    /// The only directories read_file tools may read, after symlinks are resolved.
    #[serde(default = "default_file_roots")]
    pub file_roots: Vec<PathBuf>,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            squads: default_squads(),
            allow_write: false,
            max_concurrency: default_concurrency(),
            max_output: default_max_output(),
            file_roots: default_file_roots(),
        }
    }
}

fn default_squads() -> Vec<String> {
    vec![ALL_SQUADS.to_owned()]
}
fn default_concurrency() -> usize {
    4
}
fn default_max_output() -> String {
    "1MiB".to_owned()
}
fn default_file_roots() -> Vec<PathBuf> {
    vec![PathBuf::from("/var/log")]
}

/// A database sql tools may query.
#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    pub name: String,
    /// `postgres://...` or `mysql://...` (`mariadb://` is read as mysql).
    pub url: String,
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("name", &self.name)
            .field("url", &redact_url(&self.url))
            .finish()
    }
}

impl DatabaseConfig {
    /// The engine the URL's scheme names.
    pub fn engine(&self) -> Option<DbEngine> {
        let scheme = self.url.split_once("://")?.0;
        DbEngine::parse(&scheme.to_ascii_lowercase())
    }
}

/// A URL with any password replaced by `***`, for messages.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}{tail}")
        }
        _ => url.to_owned(),
    }
}

/// The config path: `--config`, else `$SQUADRON_AGENT_CONFIG`, else the default.
pub fn resolve_path(flag: Option<&Path>) -> PathBuf {
    if let Some(p) = flag {
        return p.to_owned();
    }
    match std::env::var_os(CONFIG_ENV) {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => PathBuf::from(DEFAULT_CONFIG_PATH),
    }
}

/// A loaded, checked config with its token and derived paths.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub path: PathBuf,
    pub config: AgentConfig,
    pub token: Secret,
    pub max_output: u64,
}

impl Loaded {
    /// Where the journal and other state go.
    pub fn state_dir(&self) -> PathBuf {
        match &self.config.state_dir {
            Some(d) => d.clone(),
            None => self
                .path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_owned),
        }
    }
}

/// Reads, parses and checks the config at `path`, and reads its token.
pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    let config: AgentConfig = toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_owned(),
        message: e.message().replace('\n', " "),
    })?;
    let max_output = check(&config)?;
    let token = read_token(&config, path)?;
    Ok(Loaded {
        path: path.to_owned(),
        config,
        token,
        max_output,
    })
}

fn read_token(config: &AgentConfig, config_path: &Path) -> Result<Secret, ConfigError> {
    let raw = match (&config.token, &config.token_file) {
        (Some(t), None) => t.clone(),
        (None, Some(file)) => {
            let file = if file.is_relative() {
                config_path.parent().unwrap_or(Path::new(".")).join(file)
            } else {
                file.clone()
            };
            warn_if_shared(&file);
            std::fs::read_to_string(&file).map_err(|source| ConfigError::Read {
                path: file.clone(),
                source,
            })?
        }
        (Some(_), Some(_)) => {
            return Err(ConfigError::Invalid(
                "config sets both `token` and `token_file`; keep one".into(),
            ));
        }
        (None, None) => {
            return Err(ConfigError::Invalid(
                "config sets neither `token` nor `token_file`; run `squadron-agent install` again"
                    .into(),
            ));
        }
    };
    let token = raw.trim();
    check_token(token)?;
    Ok(Secret::new(token))
}

/// Warns when a secret file can be read by anyone but its owner.
fn warn_if_shared(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            file = %path.display(),
            "the token file is readable by other users; run `chmod 600` on it"
        );
    }
}

/// A token must be non-empty printable ASCII without spaces (it goes into a header).
pub fn check_token(token: &str) -> Result<(), ConfigError> {
    if token.is_empty() {
        return Err(ConfigError::Invalid("the agent token is empty".into()));
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ConfigError::Invalid(
            "the agent token holds spaces or non-ASCII characters; copy it again from `squadron node create`".into(),
        ));
    }
    Ok(())
}

/// Checks everything but the token; returns the policy's output cap in bytes.
pub fn check(config: &AgentConfig) -> Result<u64, ConfigError> {
    let bad = |m: String| Err(ConfigError::Invalid(m));
    server_url(&config.server, config.allow_insecure)?;
    if config.node_id.trim().is_empty() || config.node_id.chars().any(char::is_control) {
        return bad("`node_id` is empty or holds control characters".into());
    }
    let p = &config.policy;
    if p.squads.is_empty() {
        return bad(
            "`policy.squads` is empty: list squad ids, or \"*\" for every squad linked to the node"
                .into(),
        );
    }
    if p.max_concurrency == 0 || p.max_concurrency > MAX_CONCURRENCY_LIMIT {
        return bad(format!(
            "`policy.max_concurrency` must be between 1 and {MAX_CONCURRENCY_LIMIT}"
        ));
    }
    let max_output = parse_size(&p.max_output)
        .map_err(|e| ConfigError::Invalid(format!("`policy.max_output`: {e}")))?;
    if max_output == 0 || max_output > 64 << 20 {
        return bad("`policy.max_output` must be between 1B and 64MiB".into());
    }
    for root in &p.file_roots {
        if !root.is_absolute() {
            return bad(format!(
                "`policy.file_roots`: `{}` is not an absolute path",
                root.display()
            ));
        }
    }
    let mut names = BTreeSet::new();
    for db in &config.databases {
        let ident = !db.name.is_empty()
            && db.name.len() <= 63
            && db
                .name
                .starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && db
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
        if !ident {
            return bad(format!(
                "database name `{}` is not an identifier (letters, digits, `_`)",
                db.name
            ));
        }
        if !names.insert(db.name.as_str()) {
            return bad(format!("database `{}` is configured twice", db.name));
        }
        if db.engine().is_none() {
            return bad(format!(
                "database `{}`: url `{}` is not postgres://, postgresql://, mysql:// or mariadb://",
                db.name,
                redact_url(&db.url)
            ));
        }
    }
    if let Some(site) = &config.site_url
        && !(site.starts_with("http://") || site.starts_with("https://"))
    {
        return bad(format!("`site_url` `{site}` is not an http(s) URL"));
    }
    Ok(max_output)
}

/// The WebSocket URL of the agent gateway for a server base URL, checked against the
/// plain-text rule: `ws://`/`http://` only to loopback unless `allow_insecure`.
pub fn server_url(server: &str, allow_insecure: bool) -> Result<String, ConfigError> {
    let invalid = |m: String| ConfigError::Invalid(m);
    let uri: Uri = server
        .parse()
        .map_err(|_| invalid(format!("server `{server}` is not a URL")))?;
    let scheme = uri.scheme_str().unwrap_or_default().to_ascii_lowercase();
    let secure = match scheme.as_str() {
        "wss" | "https" => true,
        "ws" | "http" => false,
        _ => {
            return Err(invalid(format!(
                "server `{server}` must start with wss://, https://, ws:// or http://"
            )));
        }
    };
    let host = uri
        .host()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| invalid(format!("server `{server}` has no host")))?;
    if server.contains('@') {
        return Err(invalid(
            "server URL must not hold credentials; the token goes in the token file".into(),
        ));
    }
    if uri.query().is_some() {
        return Err(invalid(format!("server `{server}` must not have a query")));
    }
    if !secure && !allow_insecure && !is_loopback(host) {
        return Err(invalid(format!(
            "server `{server}` is plain text to a non-loopback host; use wss:// (or set allow_insecure = true in the config)"
        )));
    }
    let ws_scheme = if secure { "wss" } else { "ws" };
    let authority = uri.authority().map(|a| a.as_str()).unwrap_or(host);
    let base = uri.path().trim_end_matches('/');
    Ok(format!(
        "{ws_scheme}://{authority}{base}{}",
        squadron_proto::CONNECT_PATH
    ))
}

/// Whether a URL host is the loopback interface.
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.eq_ignore_ascii_case("localhost") || host.to_ascii_lowercase().ends_with(".localhost") {
        return true;
    }
    host.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_map_to_the_gateway() {
        assert_eq!(
            server_url("https://sq.example.com", false).expect("ok"),
            "wss://sq.example.com/v1/agent/connect"
        );
        assert_eq!(
            server_url("http://127.0.0.1:8080/", false).expect("ok"),
            "ws://127.0.0.1:8080/v1/agent/connect"
        );
        assert_eq!(
            server_url("wss://sq.example.com:8443/squadron/", false).expect("ok"),
            "wss://sq.example.com:8443/squadron/v1/agent/connect"
        );
        assert!(server_url("ws://[::1]:9000", false).is_ok());
        assert!(server_url("http://localhost:8080", false).is_ok());
    }

    #[test]
    fn plain_text_to_remote_hosts_needs_allow_insecure() {
        let e = server_url("ws://10.0.0.5:8080", false).expect_err("refused");
        assert!(e.to_string().contains("allow_insecure"), "{e}");
        assert!(server_url("http://sq.example.com", false).is_err());
        assert!(server_url("ws://10.0.0.5:8080", true).is_ok());
        assert!(server_url("ftp://sq.example.com", false).is_err());
        assert!(server_url("https://user:pw@sq.example.com", false).is_err());
        assert!(server_url("not a url", false).is_err());
    }

    #[test]
    fn urls_are_redacted_for_messages() {
        assert_eq!(
            redact_url("postgres://app:hunter2@db:5432/app"),
            "postgres://app:***@db:5432/app"
        );
        assert_eq!(
            redact_url("mysql://root@127.0.0.1/x"),
            "mysql://root@127.0.0.1/x"
        );
        assert_eq!(redact_url("postgres://db/app"), "postgres://db/app");
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("tok_very_secret");
        assert!(!format!("{s:?}").contains("very_secret"));
    }
}
