//! The agent's second validation of every request: its own squad catalogue, its own
//! rendering of the tool, and the local policy ceiling. A request that passes becomes a
//! [`Plan`]; one that does not becomes a [`Refusal`] and never runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use squadron_core::output::RunStatus;
use squadron_core::squad::{Access, DbEngine};
use squadron_core::{Invocation, InvocationKind, Squad};

use crate::config::{ALL_SQUADS, Loaded};

/// The agent's own squad catalogue, by squad id.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    squads: BTreeMap<String, Squad>,
}

impl Catalog {
    /// The built-in squads plus those under `squads_dir`; analyzer ids are not checked
    /// (the agent runs no analyzers).
    pub fn load(squads_dir: Option<&Path>) -> Result<Catalog, squadron_catalog::CatalogError> {
        let extra: Vec<PathBuf> = squads_dir.into_iter().map(Path::to_owned).collect();
        let squads = squadron_catalog::load(&extra, &|_| true)?;
        Ok(Catalog::from_squads(squads))
    }

    pub fn from_squads(squads: impl IntoIterator<Item = Squad>) -> Catalog {
        Catalog {
            squads: squads.into_iter().map(|s| (s.id.clone(), s)).collect(),
        }
    }

    pub fn squad(&self, id: &str) -> Option<&Squad> {
        self.squads.get(id)
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.squads.keys().map(String::as_str)
    }
}

/// The local policy, as the validator applies it.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Squad ids served, or `*` for every squad linked to the node.
    pub squads: Vec<String>,
    pub allow_write: bool,
    pub max_output: u64,
    pub file_roots: Vec<PathBuf>,
    pub databases: BTreeMap<String, DbEngine>,
}

impl Policy {
    pub fn from_config(loaded: &Loaded) -> Policy {
        let c = &loaded.config;
        Policy {
            squads: c.policy.squads.clone(),
            allow_write: c.policy.allow_write,
            max_output: loaded.max_output,
            file_roots: c.policy.file_roots.clone(),
            databases: c
                .databases
                .iter()
                .filter_map(|d| Some((d.name.clone(), d.engine()?)))
                .collect(),
        }
    }

    pub fn serves(&self, squad: &str) -> bool {
        self.squads.iter().any(|s| s == ALL_SQUADS || s == squad)
    }
}

/// What to run, after every check passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    Exec {
        argv: Vec<String>,
    },
    Sql {
        database: String,
        engine: DbEngine,
        query: String,
        binds: Vec<String>,
    },
    /// `path` is the canonical path (symlinks resolved) that was checked.
    ReadFile {
        path: PathBuf,
        tail: u64,
    },
    Http {
        url: String,
    },
}

/// Why a request does not run: status `denied` for policy, `error` for a file that is
/// not there; the reason is one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: RunStatus,
    pub reason: String,
}

impl Refusal {
    fn denied(reason: impl Into<String>) -> Refusal {
        Refusal {
            status: RunStatus::Denied,
            reason: reason.into(),
        }
    }
}

/// Checks requests against the catalogue and the policy.
#[derive(Debug, Clone)]
pub struct Validator {
    pub catalog: Catalog,
    pub policy: Policy,
}

impl Validator {
    pub fn new(catalog: Catalog, policy: Policy) -> Validator {
        Validator { catalog, policy }
    }

    /// The whole check, in order: ceiling, catalogue, access, re-render, then the kind's
    /// own rules (file roots after canonicalisation, configured databases).
    pub fn check(&self, squad: &str, invocation: &Invocation) -> Result<Plan, Refusal> {
        if !self.policy.serves(squad) {
            return Err(Refusal::denied(format!(
                "squad `{squad}` is outside this agent's policy (serves: {})",
                self.policy.squads.join(", ")
            )));
        }
        let Some(known) = self.catalog.squad(squad) else {
            return Err(Refusal::denied(format!(
                "squad `{squad}` is not in this agent's catalogue"
            )));
        };
        let Some(tool) = known.tool(&invocation.tool) else {
            return Err(Refusal::denied(format!(
                "tool `{}` is not a tool of squad `{squad}` in this agent's catalogue",
                invocation.tool
            )));
        };
        if tool.access == Access::Write && !self.policy.allow_write {
            return Err(Refusal::denied(format!(
                "tool `{}` writes, and this agent's policy has allow_write = false",
                tool.id
            )));
        }
        let rendered = tool.render(&invocation.args).map_err(|e| {
            Refusal::denied(format!(
                "arguments refused by the agent: {}",
                one_line(&e.to_string())
            ))
        })?;
        if let Some(field) = first_difference(&rendered, invocation) {
            return Err(Refusal::denied(format!(
                "request does not match the agent's own rendering of tool `{}` ({field} differs)",
                tool.id
            )));
        }
        match rendered.kind {
            InvocationKind::Exec { argv } => Ok(Plan::Exec { argv }),
            InvocationKind::Sql {
                engine,
                database,
                query,
                binds,
            } => match self.policy.databases.get(&database) {
                None => Err(Refusal::denied(format!(
                    "database `{database}` is not configured on this agent"
                ))),
                Some(have) if *have != engine => Err(Refusal::denied(format!(
                    "database `{database}` is {} on this agent; tool `{}` is written for {}",
                    have.as_str(),
                    tool.id,
                    engine.as_str()
                ))),
                Some(_) => Ok(Plan::Sql {
                    database,
                    engine,
                    query,
                    binds,
                }),
            },
            InvocationKind::ReadFile { path, tail } => {
                let path = self.check_file(&path)?;
                Ok(Plan::ReadFile { path, tail })
            }
            InvocationKind::Http { url } => Ok(Plan::Http { url }),
        }
    }

    /// A read_file path must be under a file root both as written and after every
    /// symlink is resolved; the canonical path is what gets opened.
    pub fn check_file(&self, path: &str) -> Result<PathBuf, Refusal> {
        let roots = self
            .policy
            .file_roots
            .iter()
            .map(|r| r.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let written = Path::new(path);
        if !self
            .policy
            .file_roots
            .iter()
            .any(|r| written.starts_with(r))
        {
            return Err(Refusal::denied(format!(
                "path `{path}` is outside this agent's file roots ({roots})"
            )));
        }
        let canonical = std::fs::canonicalize(written).map_err(|e| Refusal {
            status: RunStatus::Error,
            reason: format!("read_file: {path}: {}", io_reason(&e)),
        })?;
        let inside =
            self.policy.file_roots.iter().any(|root| {
                std::fs::canonicalize(root).is_ok_and(|root| canonical.starts_with(&root))
            });
        if !inside {
            return Err(Refusal::denied(format!(
                "path `{path}` resolves to `{}`, outside this agent's file roots ({roots})",
                canonical.display()
            )));
        }
        Ok(canonical)
    }
}

/// The first field where the agent's rendering and the received invocation differ.
fn first_difference(ours: &Invocation, theirs: &Invocation) -> Option<&'static str> {
    if ours.tool != theirs.tool {
        Some("tool")
    } else if ours.access != theirs.access {
        Some("access")
    } else if ours.args != theirs.args {
        Some("args")
    } else if ours.kind != theirs.kind {
        Some("command")
    } else if ours.canonical != theirs.canonical {
        Some("canonical line")
    } else if ours.timeout != theirs.timeout {
        Some("timeout")
    } else if ours.max_output != theirs.max_output {
        Some("max_output")
    } else if ours.filter != theirs.filter {
        Some("filter")
    } else {
        None
    }
}

/// An io error as `tail` or `cat` would word it.
pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "No such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "Permission denied".into(),
        _ => one_line(&e.to_string()),
    }
}

/// The first line of a message.
pub fn one_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().trim().to_owned()
}
