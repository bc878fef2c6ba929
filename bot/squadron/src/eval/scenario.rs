//! The scenario format of `squadron eval` (SPEC section 5), read from `scenario.toml`.

use std::fs;
use std::path::{Path, PathBuf};

use regex::Regex;
use serde::Deserialize;
use squadron_core::{DatabaseRef, Inventory};

/// A scenario as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    pub squad: String,
    pub node: Option<String>,
    pub now: Option<String>,
    #[serde(default)]
    pub inventory: Option<InventoryFile>,
    pub turns: Vec<Turn>,
    #[serde(default)]
    pub replay: Vec<ReplayFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InventoryFile {
    #[serde(default)]
    pub databases: Vec<DatabaseRef>,
    pub site_url: Option<String>,
    pub wordpress_path: Option<String>,
}

/// One user message and what its answer must show.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Turn {
    pub message: String,
    #[serde(default)]
    pub expect: Expect,
}

/// Expectations on a turn's answer and commands.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    #[serde(default)]
    pub all: Vec<String>,
    #[serde(default)]
    pub any: AnyTerms,
    #[serde(default)]
    pub none: Vec<String>,
    #[serde(default)]
    pub tools_ran: Vec<String>,
}

/// `any`: a flat list (one group) or a list of groups.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum AnyTerms {
    Flat(Vec<String>),
    Groups(Vec<Vec<String>>),
}

impl Default for AnyTerms {
    fn default() -> Self {
        AnyTerms::Flat(Vec::new())
    }
}

impl AnyTerms {
    pub fn groups(&self) -> Vec<Vec<String>> {
        match self {
            AnyTerms::Flat(v) if v.is_empty() => Vec::new(),
            AnyTerms::Flat(v) => vec![v.clone()],
            AnyTerms::Groups(g) => g.clone(),
        }
    }
}

/// One `[[replay]]` rule as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayFile {
    pub command: String,
    pub stdout: Option<String>,
    pub stdout_file: Option<String>,
    pub stderr: Option<String>,
    pub stderr_file: Option<String>,
    #[serde(default)]
    pub exit: i32,
}

/// A replay rule, compiled and with its files read.
#[derive(Debug, Clone)]
pub struct ReplayRule {
    pub command: Regex,
    pub stdout: String,
    pub stderr: String,
    pub exit: i32,
}

/// A loaded scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub path: PathBuf,
    pub squad: String,
    pub node: String,
    /// Unix seconds, when the scenario sets a clock.
    pub now: Option<i64>,
    pub inventory: Inventory,
    pub turns: Vec<Turn>,
    pub replay: Vec<ReplayRule>,
}

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

fn read_text(path: &Path) -> Result<String, ScenarioError> {
    let bytes = fs::read(path).map_err(|source| ScenarioError::Io {
        path: path.to_owned(),
        source,
    })?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

impl Scenario {
    /// Loads `<dir>/scenario.toml` and the files its replay rules name.
    pub fn load(dir: &Path) -> Result<Scenario, ScenarioError> {
        let file = dir.join("scenario.toml");
        let invalid = |message: String| ScenarioError::Invalid {
            path: file.clone(),
            message,
        };
        let text = read_text(&file)?;
        let raw: ScenarioFile =
            toml::from_str(&text).map_err(|e| invalid(e.message().to_owned()))?;
        if raw.turns.is_empty() {
            return Err(invalid("a scenario needs at least one [[turns]]".into()));
        }
        let now = raw
            .now
            .as_deref()
            .map(|n| {
                chrono::DateTime::parse_from_rfc3339(n)
                    .map(|t| t.timestamp())
                    .map_err(|e| invalid(format!("now = {n:?} is not an RFC 3339 time: {e}")))
            })
            .transpose()?;
        let mut replay = Vec::new();
        for (i, r) in raw.replay.iter().enumerate() {
            let command =
                Regex::new(&r.command).map_err(|e| invalid(format!("replay[{i}].command: {e}")))?;
            let part =
                |inline: &Option<String>, file: &Option<String>| -> Result<String, ScenarioError> {
                    match (inline, file) {
                        (Some(_), Some(_)) => Err(invalid(format!(
                            "replay[{i}]: give the text or a file, not both"
                        ))),
                        (Some(t), None) => Ok(t.clone()),
                        (None, Some(f)) => read_text(&dir.join(f)),
                        (None, None) => Ok(String::new()),
                    }
                };
            replay.push(ReplayRule {
                command,
                stdout: part(&r.stdout, &r.stdout_file)?,
                stderr: part(&r.stderr, &r.stderr_file)?,
                exit: r.exit,
            });
        }
        let inventory = raw
            .inventory
            .map(|i| Inventory {
                databases: i.databases,
                site_url: i.site_url,
                wordpress_path: i.wordpress_path,
            })
            .unwrap_or_default();
        Ok(Scenario {
            name: dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            path: dir.to_owned(),
            squad: raw.squad,
            node: raw.node.unwrap_or_else(|| "replay".to_owned()),
            now,
            inventory,
            turns: raw.turns,
            replay,
        })
    }
}

/// The scenario folders under the given paths: a folder with `scenario.toml` is one;
/// any other folder is searched, in name order.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ScenarioError> {
    let mut found = Vec::new();
    for p in paths {
        walk(p, &mut found)?;
    }
    Ok(found)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), ScenarioError> {
    if dir.join("scenario.toml").is_file() {
        found.push(dir.to_owned());
        return Ok(());
    }
    let entries = fs::read_dir(dir).map_err(|source| ScenarioError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let mut subdirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    subdirs.sort();
    for s in subdirs {
        walk(&s, found)?;
    }
    Ok(())
}
