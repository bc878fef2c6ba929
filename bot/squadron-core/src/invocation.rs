//! A tool call rendered into the exact thing that runs, and its canonical command line.
//!
//! Rendering validates every argument against its parameter's type, fills the template,
//! and checks the result for escape hatches once more. The control plane renders before it
//! sends a request; the agent renders again from the same tool and arguments and refuses
//! anything that differs, so a request is validated twice.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::hatch;
use crate::param::ParamType;
use crate::squad::{Access, DbEngine, Tool, ToolKind};
use crate::template::{self, ArgPart};

/// What runs, by kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InvocationKind {
    Exec {
        argv: Vec<String>,
    },
    Sql {
        engine: DbEngine,
        database: String,
        query: String,
        binds: Vec<String>,
    },
    ReadFile {
        path: String,
        tail: u64,
    },
    Http {
        url: String,
    },
}

/// A rendered tool call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invocation {
    pub tool: String,
    pub access: Access,
    /// The validated arguments, by parameter name.
    pub args: BTreeMap<String, String>,
    pub kind: InvocationKind,
    /// The exact command, as the audit trail and scenario replay see it.
    pub canonical: String,
    #[serde(with = "millis")]
    pub timeout: Duration,
    pub max_output: u64,
    pub filter: Option<String>,
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

/// Why a call could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Param(#[from] crate::param::ParamError),
    #[error("tool `{tool}` has no parameter `{param}`")]
    UnknownParam { tool: String, param: String },
    #[error("tool `{tool}` needs parameter `{param}`")]
    Missing { tool: String, param: String },
    #[error("tool `{tool}`: {reason}")]
    Refused { tool: String, reason: String },
}

impl Tool {
    /// Validates `args` and renders the call. For sql tools `args` must name the `database`.
    pub fn render(&self, args: &BTreeMap<String, String>) -> Result<Invocation, RenderError> {
        let refused = |reason: String| RenderError::Refused {
            tool: self.id.clone(),
            reason,
        };
        let is_sql = matches!(self.kind, ToolKind::Sql { .. });
        for name in args.keys() {
            if self.param(name).is_none() && !(is_sql && name == "database") {
                return Err(RenderError::UnknownParam {
                    tool: self.id.clone(),
                    param: name.clone(),
                });
            }
        }
        let mut values = BTreeMap::new();
        for p in &self.params {
            let value = match args.get(&p.name) {
                Some(raw) => Some(p.check(raw)?),
                None => p.default.clone(),
            };
            match value {
                Some(v) => {
                    values.insert(p.name.clone(), v);
                }
                None if p.required => {
                    return Err(RenderError::Missing {
                        tool: self.id.clone(),
                        param: p.name.clone(),
                    });
                }
                None => {}
            }
        }
        let kind = match &self.kind {
            ToolKind::Exec { argv } => {
                let mut out = Vec::with_capacity(argv.len());
                for part in argv {
                    match part {
                        ArgPart::Literal(s) => out.push(s.clone()),
                        ArgPart::Whole(name) => {
                            if let Some(v) = values.get(name) {
                                if v.starts_with('-') {
                                    return Err(refused(format!(
                                        "parameter `{name}` would stand alone as `{v}`, which reads as an option"
                                    )));
                                }
                                out.push(v.clone());
                            }
                        }
                        ArgPart::Flag { prefix, param } => {
                            if let Some(v) = values.get(param) {
                                out.push(format!("{prefix}{v}"));
                            }
                        }
                    }
                }
                hatch::check_argv(&out).map_err(refused)?;
                InvocationKind::Exec { argv: out }
            }
            ToolKind::Sql {
                engine,
                query,
                binds,
            } => {
                let raw = args.get("database").ok_or_else(|| RenderError::Missing {
                    tool: self.id.clone(),
                    param: "database".into(),
                })?;
                let database =
                    ParamType::Ident
                        .check(raw)
                        .map_err(|rule| crate::param::ParamError {
                            param: "database".into(),
                            rule,
                        })?;
                hatch::check_sql(query, self.access == Access::Write).map_err(refused)?;
                let binds = binds
                    .iter()
                    .map(|b| values.get(b).cloned().unwrap_or_default())
                    .collect();
                values.insert("database".into(), database.clone());
                InvocationKind::Sql {
                    engine: *engine,
                    database,
                    query: query.clone(),
                    binds,
                }
            }
            ToolKind::ReadFile => {
                let path = values.get("path").cloned().unwrap_or_default();
                let tail = values
                    .get("tail")
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(200);
                InvocationKind::ReadFile { path, tail }
            }
            ToolKind::Http { url } => {
                let filled =
                    template::fill(url, |name| values.get(name).cloned()).ok_or_else(|| {
                        refused("the URL template names a parameter without a value".into())
                    })?;
                let url = ParamType::Url
                    .check(&filled)
                    .map_err(|rule| refused(format!("rendered URL: {rule}")))?;
                InvocationKind::Http { url }
            }
        };
        let canonical = canonical_line(&kind);
        Ok(Invocation {
            tool: self.id.clone(),
            access: self.access,
            args: values,
            kind,
            canonical,
            timeout: self.timeout,
            max_output: self.max_output,
            filter: self.filter.clone(),
        })
    }
}

/// The canonical command line of a rendered call (SPEC section 5, "Canonical lines").
pub fn canonical_line(kind: &InvocationKind) -> String {
    match kind {
        InvocationKind::Exec { argv } => {
            argv.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ")
        }
        InvocationKind::Sql {
            database,
            query,
            binds,
            ..
        } => {
            let query = query.split_whitespace().collect::<Vec<_>>().join(" ");
            let mut line = format!("sql {database}: {query}");
            if !binds.is_empty() {
                let listed: Vec<String> = binds
                    .iter()
                    .enumerate()
                    .map(|(i, v)| format!("${}={v}", i + 1))
                    .collect();
                line.push_str(" -- binds: ");
                line.push_str(&listed.join(", "));
            }
            line
        }
        InvocationKind::ReadFile { path, tail } => format!("read_file {path} --tail={tail}"),
        InvocationKind::Http { url } => format!("http GET {url}"),
    }
}

/// Quotes a word only where a POSIX shell needs it, in single quotes as `shell-words` does: `=`, `%`, `,`
/// and `:` stay bare, so `--namespace=production` reads as it was typed.
pub fn quote(word: &str) -> std::borrow::Cow<'_, str> {
    let needs = word.is_empty()
        || word.starts_with(['#', '~'])
        || word.chars().any(|c| {
            c.is_whitespace()
                || matches!(
                    c,
                    '|' | '&'
                        | ';'
                        | '<'
                        | '>'
                        | '('
                        | ')'
                        | '$'
                        | '`'
                        | '\\'
                        | '"'
                        | '\''
                        | '*'
                        | '?'
                        | '['
                        | ']'
                        | '{'
                        | '}'
                        | '!'
                )
        });
    if needs {
        std::borrow::Cow::Owned(format!("'{}'", word.replace('\'', "'\\''")))
    } else {
        std::borrow::Cow::Borrowed(word)
    }
}

#[cfg(test)]
mod tests;
