//! Typed tool parameters and the rules a value must pass before it may reach a command.
//!
//! Every value, whatever its type, is refused when it holds a control character, when it
//! is longer than its type allows, or when it starts with `-` (or a Unicode dash) unless
//! its type says otherwise: a parameter value can never become an option.

use std::sync::LazyLock;

use regex::Regex;

use crate::units::{format_duration, parse_duration};

/// Longest value any string-like parameter accepts unless its type says less.
pub const DEFAULT_MAX_LEN: usize = 256;

/// A validated parameter type.
#[derive(Debug, Clone)]
pub enum ParamType {
    /// A Kubernetes object name (DNS-1123 subdomain).
    K8sName,
    Int {
        min: i64,
        max: i64,
    },
    Bool,
    Enum(Vec<String>),
    Duration,
    String {
        pattern: Regex,
        max_len: usize,
        allow_dash: bool,
    },
    /// An absolute path under one of the roots.
    Path {
        roots: Vec<String>,
    },
    /// An `http://` or `https://` URL without credentials.
    Url,
    Hostname,
    /// `host:port`.
    HostPort,
    /// A SQL identifier (database, schema or table name).
    Ident,
}

/// The names manifests use for the types, in the order the docs list them.
pub const TYPE_NAMES: &[&str] = &[
    "k8s_name",
    "int",
    "bool",
    "enum",
    "duration",
    "string",
    "path",
    "url",
    "hostname",
    "host_port",
    "ident",
];

/// A parameter of a tool: its name, type, and default.
#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub ty: ParamType,
    pub required: bool,
    /// Already validated against `ty`.
    pub default: Option<String>,
    pub description: String,
}

/// A value that broke its parameter's rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("parameter `{param}`: {rule}")]
pub struct ParamError {
    pub param: String,
    pub rule: String,
}

static K8S_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
        .expect("static regex")
});
static HOSTNAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
        .expect("static regex")
});
static URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?(/[A-Za-z0-9\-._~%!$&'()*+,;=:@/?]*)?$")
        .expect("static regex")
});
static IDENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z_][A-Za-z0-9_$]{0,62}$").expect("static regex"));

/// Characters that render like a hyphen-minus and that some tools or readers take for one.
fn is_dash(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}'
            ..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}' | '\u{00AD}'
    )
}

impl ParamType {
    /// Reads a manifest's type declaration.
    pub fn from_manifest(m: &crate::manifest::ParamManifest) -> Result<Self, String> {
        Ok(match m.kind.as_str() {
            "k8s_name" => ParamType::K8sName,
            "int" => {
                let min = m.min.unwrap_or(i64::MIN);
                let max = m.max.unwrap_or(i64::MAX);
                if min > max {
                    return Err(format!("min {min} is greater than max {max}"));
                }
                ParamType::Int { min, max }
            }
            "bool" => ParamType::Bool,
            "enum" => match &m.values {
                Some(v) if !v.is_empty() => {
                    if let Some(bad) = v.iter().find(|s| s.is_empty() || s.starts_with(is_dash)) {
                        return Err(format!("enum value `{bad}` is empty or starts with a dash"));
                    }
                    ParamType::Enum(v.clone())
                }
                _ => return Err("type enum needs a non-empty `values` list".into()),
            },
            "duration" => ParamType::Duration,
            "string" => {
                let source = m.pattern.as_deref().unwrap_or(r"[A-Za-z0-9._:@/+=,-]*");
                let pattern = Regex::new(&format!("^(?:{source})$"))
                    .map_err(|e| format!("pattern is not a valid regex: {e}"))?;
                ParamType::String {
                    pattern,
                    max_len: m.max_len.unwrap_or(DEFAULT_MAX_LEN),
                    allow_dash: m.allow_dash,
                }
            }
            "path" => {
                let roots = m.roots.clone().unwrap_or_default();
                if roots.is_empty() {
                    return Err("type path needs `roots` (the directories it may name)".into());
                }
                for root in &roots {
                    check_path_shape(root).map_err(|e| format!("root `{root}`: {e}"))?;
                }
                ParamType::Path { roots }
            }
            "url" => ParamType::Url,
            "hostname" => ParamType::Hostname,
            "host_port" => ParamType::HostPort,
            "ident" => ParamType::Ident,
            other => {
                return Err(format!(
                    "unknown parameter type `{other}` (known: {})",
                    TYPE_NAMES.join(", ")
                ));
            }
        })
    }

    /// Whether a value of this type may ever start with a dash.
    pub fn allows_dash(&self) -> bool {
        match self {
            ParamType::String { allow_dash, .. } => *allow_dash,
            ParamType::Int { min, .. } => *min < 0,
            _ => false,
        }
    }

    /// Checks `raw` and returns the value in its canonical form.
    pub fn check(&self, raw: &str) -> Result<String, String> {
        if let Some(c) = raw.chars().find(|c| c.is_control()) {
            return Err(format!(
                "must not contain control characters (found U+{:04X})",
                c as u32
            ));
        }
        let max_len = match self {
            ParamType::K8sName | ParamType::Hostname => 253,
            ParamType::String { max_len, .. } => *max_len,
            ParamType::Path { .. } => 4096,
            ParamType::Url => 2048,
            _ => DEFAULT_MAX_LEN,
        };
        if raw.len() > max_len {
            return Err(format!(
                "is {} bytes long; at most {max_len} allowed",
                raw.len()
            ));
        }
        if raw.starts_with(is_dash) && !self.allows_dash() {
            return Err("must not start with a dash (values can never be options)".into());
        }
        match self {
            ParamType::K8sName => {
                if K8S_NAME.is_match(raw) {
                    Ok(raw.to_owned())
                } else {
                    Err("must be a Kubernetes name: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit".into())
                }
            }
            ParamType::Int { min, max } => {
                let n: i64 = raw
                    .parse()
                    .ok()
                    .filter(|_| !raw.starts_with('+'))
                    .ok_or_else(|| format!("`{}` is not a whole number", preview(raw)))?;
                if n < *min || n > *max {
                    return Err(format!("{n} is outside {min}..={max}"));
                }
                Ok(n.to_string())
            }
            ParamType::Bool => match raw.to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" | "on" => Ok("true".into()),
                "false" | "no" | "0" | "off" => Ok("false".into()),
                _ => Err(format!("`{}` is not true or false", preview(raw))),
            },
            ParamType::Enum(values) => values
                .iter()
                .find(|v| v.as_str() == raw)
                .cloned()
                .ok_or_else(|| format!("`{}` is not one of {}", preview(raw), values.join(", "))),
            ParamType::Duration => parse_duration(raw).map(format_duration),
            ParamType::String { pattern, .. } => {
                if pattern.is_match(raw) {
                    Ok(raw.to_owned())
                } else {
                    Err(format!(
                        "`{}` does not match the pattern {}",
                        preview(raw),
                        pattern.as_str()
                    ))
                }
            }
            ParamType::Path { roots } => {
                check_path_shape(raw)?;
                if roots.iter().any(|root| path_is_under(raw, root)) {
                    Ok(raw.to_owned())
                } else {
                    Err(format!(
                        "`{}` is not under {}",
                        preview(raw),
                        roots.join(", ")
                    ))
                }
            }
            ParamType::Url => {
                if URL.is_match(raw) {
                    Ok(raw.to_owned())
                } else {
                    Err(format!(
                        "`{}` is not an http(s) URL without credentials",
                        preview(raw)
                    ))
                }
            }
            ParamType::Hostname => {
                if HOSTNAME.is_match(raw) {
                    Ok(raw.to_ascii_lowercase())
                } else {
                    Err(format!("`{}` is not a host name", preview(raw)))
                }
            }
            ParamType::HostPort => {
                let (host, port) = raw
                    .rsplit_once(':')
                    .ok_or_else(|| format!("`{}` is not host:port", preview(raw)))?;
                let port_ok = port.parse::<u16>().is_ok_and(|p| p > 0);
                if HOSTNAME.is_match(host) && port_ok {
                    Ok(raw.to_ascii_lowercase())
                } else {
                    Err(format!("`{}` is not host:port", preview(raw)))
                }
            }
            ParamType::Ident => {
                if IDENT.is_match(raw) {
                    Ok(raw.to_owned())
                } else {
                    Err(format!("`{}` is not a SQL identifier", preview(raw)))
                }
            }
        }
    }
}

impl Param {
    /// Checks a value for this parameter.
    pub fn check(&self, raw: &str) -> Result<String, ParamError> {
        self.ty.check(raw).map_err(|rule| ParamError {
            param: self.name.clone(),
            rule,
        })
    }
}

/// An absolute, normalised path: no `.` or `..` parts, no empty parts.
fn check_path_shape(path: &str) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err(format!("`{}` is not an absolute path", preview(path)));
    }
    if path.len() > 1 {
        for part in path[1..].trim_end_matches('/').split('/') {
            if part.is_empty() || part == "." || part == ".." {
                return Err(format!(
                    "`{}` has an empty, `.` or `..` part",
                    preview(path)
                ));
            }
        }
    }
    Ok(())
}

/// Whether `path` is `root` or lies below it, comparing whole components.
pub fn path_is_under(path: &str, root: &str) -> bool {
    let root = root.trim_end_matches('/');
    if root.is_empty() {
        return path.starts_with('/');
    }
    path == root
        || path
            .strip_prefix(root)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The start of a value, for error messages that must stay one short line.
pub fn preview(raw: &str) -> String {
    const MAX: usize = 40;
    if raw.chars().count() <= MAX {
        raw.to_owned()
    } else {
        let head: String = raw.chars().take(MAX).collect();
        format!("{head}... ({} bytes)", raw.len())
    }
}

#[cfg(test)]
mod tests;
