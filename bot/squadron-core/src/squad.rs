//! A validated squad: the only way to get one is [`Squad::build`], which checks a
//! [`SquadManifest`] completely and reports every problem with its file and field.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::hatch;
use crate::manifest::{SquadManifest, StepManifest, ToolManifest};
use crate::param::{Param, ParamType};
use crate::template::{self, ArgPart};
use crate::units::{parse_duration, parse_size};

/// Default per-tool timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default per-tool output cap.
pub const DEFAULT_MAX_OUTPUT: u64 = 256 * 1024;
/// Longest timeout a tool may declare.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(600);
/// Output filters a tool may name, applied where the tool runs.
pub const FILTERS: &[&str] = &["k8s_data_keys"];

/// Read tools run on request; write tools only after approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    Read,
    Write,
}

/// The database engines sql tools are written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DbEngine {
    Postgres,
    Mysql,
}

impl DbEngine {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "postgres" | "postgresql" => Some(DbEngine::Postgres),
            "mysql" | "mariadb" => Some(DbEngine::Mysql),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DbEngine::Postgres => "postgres",
            DbEngine::Mysql => "mysql",
        }
    }
}

/// What a tool does when it runs.
#[derive(Debug, Clone)]
pub enum ToolKind {
    Exec {
        argv: Vec<ArgPart>,
    },
    Sql {
        engine: DbEngine,
        query: String,
        binds: Vec<String>,
    },
    ReadFile,
    Http {
        url: String,
    },
}

impl ToolKind {
    pub fn name(&self) -> &'static str {
        match self {
            ToolKind::Exec { .. } => "exec",
            ToolKind::Sql { .. } => "sql",
            ToolKind::ReadFile => "read_file",
            ToolKind::Http { .. } => "http",
        }
    }
}

/// A whitelisted tool, valid by construction.
#[derive(Debug, Clone)]
pub struct Tool {
    pub id: String,
    pub description: String,
    pub kind: ToolKind,
    pub access: Access,
    pub timeout: Duration,
    pub max_output: u64,
    pub filter: Option<String>,
    pub params: Vec<Param>,
}

impl Tool {
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// A squad specialist: its prompt file and the tools it may call.
#[derive(Debug, Clone)]
pub struct Agent {
    pub id: String,
    pub name: String,
    pub prompt: String,
    pub tools: Vec<String>,
}

/// A rule that pulls a named value out of a message.
#[derive(Debug, Clone)]
pub struct EntityRule {
    pub name: String,
    pub patterns: Vec<Regex>,
    pub stopwords: BTreeSet<String>,
}

/// A kind of request, recognised by patterns.
#[derive(Debug, Clone)]
pub struct Intent {
    pub id: String,
    pub description: String,
    pub patterns: Vec<Regex>,
    pub playbook: String,
    pub requires: Vec<String>,
}

/// One step of a playbook.
#[derive(Debug, Clone)]
pub struct Step {
    pub tool: String,
    pub args: BTreeMap<String, String>,
    pub when: Vec<String>,
}

/// What the offline engine runs for an intent.
#[derive(Debug, Clone)]
pub struct Playbook {
    pub id: String,
    pub steps: Vec<Step>,
}

/// A validated squad.
#[derive(Debug, Clone)]
pub struct Squad {
    pub id: String,
    pub name: String,
    pub description: String,
    pub analyzers: Vec<String>,
    pub default_intent: Option<String>,
    pub agents: Vec<Agent>,
    pub entities: Vec<EntityRule>,
    pub intents: Vec<Intent>,
    pub playbooks: BTreeMap<String, Playbook>,
    pub tools: BTreeMap<String, Arc<Tool>>,
}

/// One problem in a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: String,
    pub message: String,
}

/// Everything wrong with one manifest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SquadError {
    pub file: String,
    pub problems: Vec<Problem>,
}

impl fmt::Display for SquadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "{} has {n} problem{}:",
            self.file,
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            write!(f, "\n  {}: {}: {}", self.file, p.field, p.message)?;
        }
        Ok(())
    }
}

/// What the builder needs to know about the world outside the manifest.
pub struct BuildContext<'a> {
    /// The manifest's file name, for error messages.
    pub file: &'a str,
    /// Whether a prompt file (relative to the prompts directory) exists.
    pub prompt_exists: &'a dyn Fn(&str) -> bool,
    /// Whether an analyzer plugin with this id is registered.
    pub analyzer_exists: &'a dyn Fn(&str) -> bool,
}

impl fmt::Debug for BuildContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BuildContext")
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

struct Problems(Vec<Problem>);

impl Problems {
    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            field: field.into(),
            message: message.into(),
        });
    }
}

/// Checks that ids in a list are unique.
fn unique<'a>(problems: &mut Problems, what: &str, ids: impl Iterator<Item = &'a str>) {
    let mut seen = BTreeSet::new();
    for id in ids {
        if !seen.insert(id) {
            problems.add(
                format!("{what}.{id}"),
                format!("duplicate {what} id `{id}`"),
            );
        }
    }
}

fn compile(problems: &mut Problems, field: &str, pattern: &str) -> Option<Regex> {
    match Regex::new(&format!("(?i){pattern}")) {
        Ok(re) => Some(re),
        Err(e) => {
            let first = e
                .to_string()
                .lines()
                .last()
                .unwrap_or_default()
                .trim()
                .to_owned();
            problems.add(field, format!("bad regex `{pattern}`: {first}"));
            None
        }
    }
}

impl Squad {
    /// Parses a `squad.toml` text and builds it.
    pub fn from_toml(text: &str, cx: &BuildContext<'_>) -> Result<Squad, SquadError> {
        let manifest: SquadManifest = toml::from_str(text).map_err(|e| SquadError {
            file: cx.file.to_owned(),
            problems: vec![Problem {
                field: "(toml)".into(),
                message: e.message().to_owned() + &span_hint(text, e.span()),
            }],
        })?;
        Squad::build(manifest, cx)
    }

    /// Validates a manifest into a squad, or lists every problem in it.
    pub fn build(m: SquadManifest, cx: &BuildContext<'_>) -> Result<Squad, SquadError> {
        let mut p = Problems(Vec::new());
        if !is_id(&m.id) {
            p.add(
                "id",
                format!(
                    "`{}` is not a valid squad id (lowercase letters, digits, '-', '_')",
                    m.id
                ),
            );
        }
        unique(&mut p, "tools", m.tools.iter().map(|t| t.id.as_str()));
        unique(&mut p, "intents", m.intents.iter().map(|t| t.id.as_str()));
        unique(
            &mut p,
            "playbooks",
            m.playbooks.iter().map(|t| t.id.as_str()),
        );
        unique(&mut p, "agents", m.agents.iter().map(|t| t.id.as_str()));
        unique(
            &mut p,
            "entities",
            m.entities.iter().map(|t| t.name.as_str()),
        );

        for a in &m.analyzers {
            if !(cx.analyzer_exists)(a) {
                p.add("analyzers", format!("analyzer `{a}` is not registered"));
            }
        }

        let mut tools = BTreeMap::new();
        for t in &m.tools {
            if let Some(tool) = build_tool(&mut p, t) {
                tools.insert(tool.id.clone(), Arc::new(tool));
            }
        }
        let tool_known = |id: &str| m.tools.iter().any(|t| t.id == id);

        let mut agents = Vec::new();
        for a in &m.agents {
            let field = format!("agents.{}", a.id);
            if !(cx.prompt_exists)(&a.prompt) {
                p.add(
                    format!("{field}.prompt"),
                    format!("prompt file `{}` is missing", a.prompt),
                );
            }
            for t in &a.tools {
                if t != "*" && !tool_known(t) {
                    p.add(
                        format!("{field}.tools"),
                        format!("tool `{t}` is referenced but not defined"),
                    );
                }
            }
            agents.push(Agent {
                id: a.id.clone(),
                name: a.name.clone(),
                prompt: a.prompt.clone(),
                tools: a.tools.clone(),
            });
        }

        let mut entities = Vec::new();
        for e in &m.entities {
            let field = format!("entities.{}.patterns", e.name);
            let mut patterns = Vec::new();
            for pat in &e.patterns {
                if let Some(re) = compile(&mut p, &field, pat) {
                    if re.capture_names().flatten().any(|n| n == "v") {
                        patterns.push(re);
                    } else {
                        p.add(
                            &field,
                            format!("pattern `{pat}` has no capture group named `v`"),
                        );
                    }
                }
            }
            entities.push(EntityRule {
                name: e.name.clone(),
                patterns,
                stopwords: e.stopwords.iter().map(|s| s.to_lowercase()).collect(),
            });
        }

        let mut playbooks = BTreeMap::new();
        for pb in &m.playbooks {
            let mut steps = Vec::new();
            for (i, s) in pb.steps.iter().enumerate() {
                let field = format!("playbooks.{}.steps[{i}]", pb.id);
                check_step(
                    &mut p,
                    &field,
                    s,
                    tools.get(&s.tool).map(Arc::as_ref),
                    tool_known(&s.tool),
                );
                steps.push(Step {
                    tool: s.tool.clone(),
                    args: s.args.clone(),
                    when: s.when.clone(),
                });
            }
            playbooks.insert(
                pb.id.clone(),
                Playbook {
                    id: pb.id.clone(),
                    steps,
                },
            );
        }

        let mut intents = Vec::new();
        for i in &m.intents {
            let field = format!("intents.{}", i.id);
            let playbook = i.playbook.clone().unwrap_or_else(|| i.id.clone());
            if !m.playbooks.iter().any(|pb| pb.id == playbook) {
                p.add(
                    format!("{field}.playbook"),
                    format!("playbook `{playbook}` is referenced but not defined"),
                );
            }
            if i.patterns.is_empty() {
                p.add(
                    format!("{field}.patterns"),
                    "an intent needs at least one pattern",
                );
            }
            let patterns = i
                .patterns
                .iter()
                .filter_map(|pat| compile(&mut p, &format!("{field}.patterns"), pat))
                .collect();
            intents.push(Intent {
                id: i.id.clone(),
                description: i.description.clone(),
                patterns,
                playbook,
                requires: i.requires.clone(),
            });
        }
        if let Some(d) = &m.default_intent
            && !m.intents.iter().any(|i| &i.id == d)
        {
            p.add(
                "default_intent",
                format!("intent `{d}` is referenced but not defined"),
            );
        }

        if !p.0.is_empty() {
            return Err(SquadError {
                file: cx.file.to_owned(),
                problems: p.0,
            });
        }
        Ok(Squad {
            id: m.id,
            name: m.name,
            description: m.description,
            analyzers: m.analyzers,
            default_intent: m.default_intent,
            agents,
            entities,
            intents,
            playbooks,
            tools,
        })
    }

    pub fn tool(&self, id: &str) -> Option<&Arc<Tool>> {
        self.tools.get(id)
    }

    pub fn intent(&self, id: &str) -> Option<&Intent> {
        self.intents.iter().find(|i| i.id == id)
    }
}

fn is_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Line and column of a TOML error, for the message.
fn span_hint(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    let Some(span) = span else {
        return String::new();
    };
    let before = &text[..span.start.min(text.len())];
    let line = before.matches('\n').count() + 1;
    format!(" (line {line})")
}

fn check_step(p: &mut Problems, field: &str, s: &StepManifest, tool: Option<&Tool>, known: bool) {
    if !known {
        p.add(
            format!("{field}.tool"),
            format!("tool `{}` is referenced but not defined", s.tool),
        );
        return;
    }
    let Some(tool) = tool else { return };
    for name in s.args.keys() {
        if tool.param(name).is_none() {
            p.add(
                format!("{field}.args.{name}"),
                format!("tool `{}` has no parameter `{name}`", tool.id),
            );
        }
    }
    for cond in &s.when {
        let name = cond
            .trim_start_matches('!')
            .split(['=', '!'])
            .next()
            .unwrap_or_default()
            .trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            p.add(
                format!("{field}.when"),
                format!("condition `{cond}` is not `name`, `!name`, `name=value` or `name!=value`"),
            );
        }
    }
}

fn build_tool(p: &mut Problems, t: &ToolManifest) -> Option<Tool> {
    let field = format!("tools.{}", t.id);
    let before = p.0.len();
    if !is_id(&t.id) {
        p.add(&field, format!("`{}` is not a valid tool id", t.id));
    }
    let access = match t.access.as_str() {
        "read" => Access::Read,
        "write" => Access::Write,
        other => {
            p.add(
                format!("{field}.access"),
                format!("`{other}` is not read or write"),
            );
            Access::Read
        }
    };
    let timeout = match t.timeout.as_deref().map(parse_duration) {
        None => DEFAULT_TIMEOUT,
        Some(Ok(d)) if d > Duration::ZERO && d <= MAX_TIMEOUT => d,
        Some(Ok(_)) => {
            p.add(
                format!("{field}.timeout"),
                "timeout must be between 1ms and 10m",
            );
            DEFAULT_TIMEOUT
        }
        Some(Err(e)) => {
            p.add(format!("{field}.timeout"), e);
            DEFAULT_TIMEOUT
        }
    };
    let max_output = match t.max_output.as_deref().map(parse_size) {
        None => DEFAULT_MAX_OUTPUT,
        Some(Ok(n)) if n > 0 && n <= 64 << 20 => n,
        Some(Ok(_)) => {
            p.add(
                format!("{field}.max_output"),
                "max_output must be between 1B and 64MiB",
            );
            DEFAULT_MAX_OUTPUT
        }
        Some(Err(e)) => {
            p.add(format!("{field}.max_output"), e);
            DEFAULT_MAX_OUTPUT
        }
    };
    if let Some(f) = &t.filter
        && !FILTERS.contains(&f.as_str())
    {
        p.add(
            format!("{field}.filter"),
            format!("unknown filter `{f}` (known: {})", FILTERS.join(", ")),
        );
    }

    let mut params = Vec::new();
    for (name, pm) in &t.params {
        let pfield = format!("{field}.params.{name}");
        if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            p.add(&pfield, format!("`{name}` is not a valid parameter name"));
        }
        match ParamType::from_manifest(pm) {
            Ok(ty) => {
                let default = pm.default.as_ref().and_then(|v| {
                    let raw = match v {
                        toml::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    ty.check(&raw)
                        .map_err(|e| {
                            p.add(
                                format!("{pfield}.default"),
                                format!("default does not validate: {e}"),
                            )
                        })
                        .ok()
                });
                params.push(Param {
                    name: name.clone(),
                    ty,
                    required: pm.required,
                    default,
                    description: pm.description.clone(),
                });
            }
            Err(e) => p.add(format!("{pfield}.type"), e),
        }
    }
    let declared: BTreeSet<&str> = t.params.keys().map(String::as_str).collect();
    let mut used: BTreeSet<String> = BTreeSet::new();

    let only = |p: &mut Problems, what: &str, present: bool| {
        if present {
            p.add(
                format!("{field}.{what}"),
                format!("`{what}` does not apply to kind `{}`", t.kind),
            );
        }
    };
    let kind = match t.kind.as_str() {
        "exec" => {
            only(p, "query", t.query.is_some());
            only(p, "url", t.url.is_some());
            only(p, "engine", t.engine.is_some());
            let Some(argv) = &t.argv else {
                p.add(format!("{field}.argv"), "an exec tool needs `argv`");
                return None;
            };
            if let Err(e) = hatch::check_argv(argv) {
                p.add(format!("{field}.argv"), e);
            }
            let mut parts = Vec::new();
            for el in argv {
                match ArgPart::parse(el) {
                    Ok(part) => {
                        if let Some(name) = part.param() {
                            used.insert(name.to_owned());
                        }
                        parts.push(part);
                    }
                    Err(e) => p.add(format!("{field}.argv"), e),
                }
            }
            ToolKind::Exec { argv: parts }
        }
        "sql" => {
            only(p, "argv", t.argv.is_some());
            only(p, "url", t.url.is_some());
            let engine = match t.engine.as_deref().map(DbEngine::parse) {
                Some(Some(e)) => e,
                _ => {
                    p.add(
                        format!("{field}.engine"),
                        "a sql tool needs `engine` = \"postgres\" or \"mysql\"",
                    );
                    DbEngine::Postgres
                }
            };
            let query = t.query.clone().unwrap_or_default();
            if query.trim().is_empty() {
                p.add(format!("{field}.query"), "a sql tool needs `query`");
            } else if let Err(e) = hatch::check_sql(&query, access == Access::Write) {
                p.add(format!("{field}.query"), e);
            }
            if declared.contains("database") {
                p.add(
                    format!("{field}.params.database"),
                    "`database` is implicit for sql tools; do not declare it",
                );
            }
            for b in &t.binds {
                used.insert(b.clone());
            }
            ToolKind::Sql {
                engine,
                query,
                binds: t.binds.clone(),
            }
        }
        "read_file" => {
            only(p, "argv", t.argv.is_some());
            only(p, "query", t.query.is_some());
            only(p, "url", t.url.is_some());
            match t.params.get("path") {
                Some(pm) if pm.kind == "path" => {}
                _ => p.add(
                    format!("{field}.params.path"),
                    "a read_file tool needs a `path` parameter of type path",
                ),
            }
            match t.params.get("tail") {
                Some(pm)
                    if pm.kind == "int" && pm.min.is_some_and(|m| m >= 1) && pm.max.is_some() => {}
                _ => p.add(
                    format!("{field}.params.tail"),
                    "a read_file tool needs a `tail` int parameter with min >= 1 and max",
                ),
            }
            used.extend(["path".to_owned(), "tail".to_owned()]);
            ToolKind::ReadFile
        }
        "http" => {
            only(p, "argv", t.argv.is_some());
            only(p, "query", t.query.is_some());
            let url = t.url.clone().unwrap_or_default();
            if url.is_empty() {
                p.add(format!("{field}.url"), "an http tool needs `url`");
            }
            for name in template::placeholders(&url) {
                used.insert(name.to_owned());
            }
            let starts_ok = url.starts_with("http://")
                || url.starts_with("https://")
                || template::placeholders(&url).first().is_some_and(|first| {
                    url.starts_with(&format!("{{{first}}}"))
                        && t.params.get(*first).is_some_and(|pm| pm.kind == "url")
                });
            if !url.is_empty() && !starts_ok {
                p.add(
                    format!("{field}.url"),
                    "the URL template must start with http(s):// or a url parameter",
                );
            }
            ToolKind::Http { url }
        }
        other => {
            p.add(
                format!("{field}.kind"),
                format!("unknown tool kind `{other}` (known: exec, sql, read_file, http)"),
            );
            return None;
        }
    };
    for name in &used {
        if !declared.contains(name.as_str()) {
            p.add(
                &field,
                format!("placeholder `{{{name}}}` names no declared parameter"),
            );
        }
    }
    for name in &declared {
        if !used.contains(*name) {
            p.add(
                format!("{field}.params.{name}"),
                "parameter is declared but never used",
            );
        }
    }
    if p.0.len() > before {
        return None;
    }
    Some(Tool {
        id: t.id.clone(),
        description: t.description.clone(),
        kind,
        access,
        timeout,
        max_output,
        filter: t.filter.clone(),
        params,
    })
}

#[cfg(test)]
mod tests;
