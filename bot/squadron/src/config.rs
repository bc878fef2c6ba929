//! The control plane's configuration: one TOML file (`--config`, `SQUADRON_CONFIG`, else
//! `./squadron.toml` when present) under `SQUADRON_` environment variables (nested keys
//! joined by `__`, e.g. `SQUADRON_SERVER__LISTEN`), over embedded defaults. With no file
//! and no variables, `squadron serve` runs on the defaults of SPEC section 8.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Everything `squadron.toml` may say.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub data_dir: PathBuf,
    /// `sqlite://...` (default: `<data_dir>/squadron.db`) or `postgres://...`.
    pub database_url: Option<String>,
    /// Extra squads; the built-in squads always load.
    pub squads_dir: Option<PathBuf>,
    pub server: ServerConfig,
    pub llm: Option<LlmConfig>,
    pub slack: Option<toml::Value>,
    pub discord: Option<toml::Value>,
    pub rbac: RbacConfig,
    #[serde(default)]
    pub channels: Vec<toml::Value>,
    pub audit: AuditConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    pub listen: String,
    /// What agents and chat links use.
    pub public_url: String,
    /// PEM paths; set both to serve HTTPS and WSS.
    pub tls_cert: String,
    pub tls_key: String,
    /// Seconds to wait for the audit store before a command is refused (fail closed).
    pub audit_timeout_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmConfig {
    pub base_url: String,
    pub model: String,
    pub api_key_env: String,
    pub max_steps: u32,
    pub timeout: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RbacConfig {
    pub default_role: String,
    #[serde(default)]
    pub users: Vec<toml::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// Where the audit chain's HMAC key lives (default `<data_dir>/audit.key`).
    pub key_file: Option<PathBuf>,
    /// Seconds between chain checkpoints (seq and head hash), recorded and sent to sinks.
    pub checkpoint_secs: u64,
    #[serde(default)]
    pub sinks: Vec<toml::Value>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./squadron-data"),
            database_url: None,
            squads_dir: None,
            server: ServerConfig {
                listen: "127.0.0.1:8080".into(),
                public_url: "http://127.0.0.1:8080".into(),
                tls_cert: String::new(),
                tls_key: String::new(),
                audit_timeout_secs: 5,
            },
            llm: None,
            slack: None,
            discord: None,
            rbac: RbacConfig {
                default_role: "viewer".into(),
                users: Vec::new(),
            },
            channels: Vec::new(),
            audit: AuditConfig {
                key_file: None,
                checkpoint_secs: 60,
                sinks: Vec::new(),
            },
        }
    }
}

/// Why the configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {0} does not exist")]
    Missing(PathBuf),
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Reads the configuration: defaults, then the file, then `SQUADRON_*` variables.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let file = match path {
            Some(p) if !p.is_file() => return Err(ConfigError::Missing(p.to_owned())),
            Some(p) => Some(p.to_owned()),
            None => Some(PathBuf::from("squadron.toml")).filter(|p| p.is_file()),
        };
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(f) = &file {
            fig = fig.merge(Toml::file_exact(f));
        }
        let env = Env::prefixed("SQUADRON_")
            .split("__")
            .ignore(&[
                "config",
                "token",
                "server_url",
                "ca_file",
                "log",
                "log_format",
            ])
            .map(|k| k.as_str().to_ascii_lowercase().into());
        fig = fig.merge(env);
        let config: Config = fig
            .extract()
            .map_err(|e| ConfigError::Invalid(describe(e)))?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        if self.server.listen.parse::<std::net::SocketAddr>().is_err() {
            return bad(format!(
                "server.listen = {:?} is not an address like 127.0.0.1:8080",
                self.server.listen
            ));
        }
        if self.server.tls_cert.is_empty() != self.server.tls_key.is_empty() {
            return bad("server.tls_cert and server.tls_key must be set together".into());
        }
        if let Some(url) = &self.database_url
            && !(url.starts_with("sqlite:")
                || url.starts_with("postgres://")
                || url.starts_with("postgresql://"))
        {
            return bad(format!(
                "database_url must start with sqlite: or postgres:// (got {:?})",
                redact_url(url)
            ));
        }
        if !matches!(
            self.rbac.default_role.as_str(),
            "viewer" | "operator" | "admin"
        ) {
            return bad(format!(
                "rbac.default_role = {:?} is not viewer, operator or admin",
                self.rbac.default_role
            ));
        }
        Ok(())
    }

    /// The database URL, defaulting to SQLite in the data directory.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("squadron.db").display()))
    }

    pub fn tls(&self) -> Option<(PathBuf, PathBuf)> {
        (!self.server.tls_cert.is_empty()).then(|| {
            (
                PathBuf::from(&self.server.tls_cert),
                PathBuf::from(&self.server.tls_key),
            )
        })
    }

    pub fn audit_key_file(&self) -> PathBuf {
        self.audit
            .key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("audit.key"))
    }
}

/// One line per problem, each naming where the value came from.
fn describe(e: figment::Error) -> String {
    e.into_iter()
        .map(|err| {
            let key = if err.path.is_empty() {
                String::new()
            } else {
                format!("{}: ", err.path.join("."))
            };
            let source = err.metadata.as_ref().map(|m| match &m.source {
                Some(src) => format!(" (in {src})"),
                None => format!(" (in {})", m.name),
            });
            format!("{key}{}{}", err.kind, source.unwrap_or_default())
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A URL with its password masked, for messages.
pub fn redact_url(url: &str) -> String {
    squadron_core::redact::redact(url).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_spec() {
        let c = Config::default();
        assert_eq!(c.server.listen, "127.0.0.1:8080");
        assert_eq!(c.database_url(), "sqlite://./squadron-data/squadron.db");
        assert!(c.tls().is_none());
    }
}
