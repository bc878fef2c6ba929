//! `squadron-agent install`: writes the config (0600) and the token file beside it (0600),
//! with the default policy SPEC section 3 promises: every linked squad, read-only,
//! `/var/log` as the only file root.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::config::{self, AgentConfig, ConfigError, PolicyConfig, Secret};

/// The token file's name, next to the config.
pub const TOKEN_FILE_NAME: &str = "token";

/// What `install` was asked to write.
#[derive(Debug, Clone)]
pub struct InstallOptions {
    pub node_id: String,
    pub token: Secret,
    pub server: String,
    pub config_path: PathBuf,
    pub allow_insecure: bool,
    /// Replace an existing config (its policy is reset to the defaults).
    pub force: bool,
}

/// What `install` wrote.
#[derive(Debug, Clone)]
pub struct Installed {
    pub config_path: PathBuf,
    pub token_path: PathBuf,
}

/// Why `install` failed; one line each, never the token.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0} already exists; pass --force to replace it (its policy is reset to the defaults)")]
    Exists(PathBuf),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Writes the token file and the config, then loads the config back to prove it works.
pub fn install(opts: &InstallOptions) -> Result<Installed, InstallError> {
    config::check_token(opts.token.expose())?;
    let config_path = &opts.config_path;
    if config_path.exists() && !opts.force {
        return Err(InstallError::Exists(config_path.clone()));
    }
    let dir = config_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_owned();
    let token_path = dir.join(TOKEN_FILE_NAME);
    let token_path = if token_path.is_absolute() {
        token_path
    } else {
        std::env::current_dir()
            .map(|cwd| cwd.join(&token_path))
            .unwrap_or(token_path)
    };
    let cfg = AgentConfig {
        server: opts.server.trim().to_owned(),
        node_id: opts.node_id.trim().to_owned(),
        token_file: Some(token_path.clone()),
        token: None,
        allow_insecure: opts.allow_insecure,
        ca_file: None,
        state_dir: None,
        squads_dir: None,
        site_url: None,
        wordpress_path: None,
        policy: PolicyConfig::default(),
        databases: Vec::new(),
    };
    config::check(&cfg)?;

    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|source| InstallError::Write {
                path: dir.clone(),
                source,
            })?;
    }
    write_private(&token_path, format!("{}\n", opts.token.expose()).as_bytes())?;
    write_private(config_path, render(&cfg).as_bytes())?;
    config::load(config_path)?;
    Ok(Installed {
        config_path: config_path.clone(),
        token_path,
    })
}

/// The config text: the keys `install` sets, then the optional ones, commented.
pub fn render(cfg: &AgentConfig) -> String {
    let q = |s: &str| toml::Value::String(s.to_owned()).to_string();
    let token_line = match (&cfg.token_file, &cfg.token) {
        (Some(f), _) => format!("token_file = {}\n", q(&f.to_string_lossy())),
        (None, Some(t)) => format!("token = {}\n", q(t)),
        (None, None) => String::new(),
    };
    let insecure = if cfg.allow_insecure {
        "# Plain ws:// to a host that is not loopback: the token crosses the network unencrypted.\nallow_insecure = true\n"
    } else {
        ""
    };
    let p = &cfg.policy;
    let list = |items: &[String]| items.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ");
    let roots: Vec<String> = p
        .file_roots
        .iter()
        .map(|r| r.to_string_lossy().into_owned())
        .collect();
    format!(
        r#"# squadron-agent config, written by `squadron-agent install`.
server = {server}
node_id = {node}
{token_line}{insecure}
# Optional:
# ca_file = "/etc/squadron-agent/ca.pem"        # trust this CA for the server instead of the public roots
# state_dir = "/var/lib/squadron-agent"         # request journal (default: this file's directory)
# squads_dir = "/etc/squadron-agent/squads"     # extra squads on top of the built-ins
# site_url = "https://www.example.com"          # inventory: the site this node serves
# wordpress_path = "/var/www/html"              # inventory: where WordPress lives

# The local policy: a ceiling the control plane cannot raise.
[policy]
# "*" serves every squad the control plane links to this node; list ids to serve only those.
squads = [{squads}]
# Write tools (killing a query, changing a plugin) are refused unless this is true.
allow_write = {allow_write}
max_concurrency = {conc}
# Cap on each of stdout and stderr, whatever a tool declares.
max_output = {max_output}
# read_file tools may read only under these directories (symlinks are resolved first).
file_roots = [{roots}]

# Databases sql tools may query; give the agent a read-only role.
# [[databases]]
# name = "main"
# url = "postgres://readonly@127.0.0.1/app"
"#,
        server = q(&cfg.server),
        node = q(&cfg.node_id),
        squads = list(&p.squads),
        allow_write = p.allow_write,
        conc = p.max_concurrency,
        max_output = q(&p.max_output),
        roots = list(&roots),
    )
}

/// Writes a file only its owner can read, atomically (temp file, fsync, rename).
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), InstallError> {
    let err = |source| InstallError::Write {
        path: path.to_owned(),
        source,
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp.{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let _ = std::fs::remove_file(&tmp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(err)?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.set_permissions(std::fs::Permissions::from_mode(0o600)))
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(err(e));
    }
    Ok(())
}
