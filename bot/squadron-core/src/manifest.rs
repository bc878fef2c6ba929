//! The `squad.toml` format as written on disk. Nothing here is validated: a
//! [`SquadManifest`] becomes a usable [`crate::Squad`] only through [`crate::Squad::build`].

use std::collections::BTreeMap;

use serde::Deserialize;

/// One squad folder's `squad.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SquadManifest {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Analyzer plugins (by id) that read this squad's tool output.
    #[serde(default)]
    pub analyzers: Vec<String>,
    /// The intent used when a request names this squad but matches none of its intents.
    pub default_intent: Option<String>,
    #[serde(default)]
    pub agents: Vec<AgentManifest>,
    #[serde(default)]
    pub entities: Vec<EntityManifest>,
    #[serde(default)]
    pub intents: Vec<IntentManifest>,
    #[serde(default)]
    pub playbooks: Vec<PlaybookManifest>,
    #[serde(default)]
    pub tools: Vec<ToolManifest>,
}

/// A specialist of the squad: a prompt for the LLM engine and the tools it may call.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentManifest {
    pub id: String,
    pub name: String,
    /// Prompt file, relative to the prompts directory (`k8s/triage.md`).
    pub prompt: String,
    pub tools: Vec<String>,
}

/// A thing the router pulls out of a message (a pod name, a namespace, a domain...).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityManifest {
    pub name: String,
    /// Regexes with one capture group named `v`; the first that matches wins.
    pub patterns: Vec<String>,
    /// Words that look like a value but never are one (`the`, `pod`, ...).
    #[serde(default)]
    pub stopwords: Vec<String>,
}

/// A kind of request the squad recognises.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntentManifest {
    pub id: String,
    #[serde(default)]
    pub description: String,
    /// Case-insensitive regexes; each one that matches adds its weight to the intent's score.
    pub patterns: Vec<String>,
    /// Playbook to run; defaults to the intent's id.
    pub playbook: Option<String>,
    /// Entities the intent needs from the conversation before it can run.
    #[serde(default)]
    pub requires: Vec<String>,
}

/// An ordered list of tool runs for an intent, run by the offline engine.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaybookManifest {
    pub id: String,
    pub steps: Vec<StepManifest>,
}

/// One step of a playbook.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepManifest {
    pub tool: String,
    /// Argument templates: `"{namespace}"`, `"true"`, `"{wordpress_path}/wp-content/debug.log"`.
    /// A parameter without one takes the entity of the same name, then its default.
    #[serde(default)]
    pub args: BTreeMap<String, String>,
    /// Conditions on the conversation's entities: `name` (present), `!name` (absent),
    /// `name=value`, `name!=value`. All must hold for the step to run.
    #[serde(default)]
    pub when: Vec<String>,
}

/// A whitelisted tool.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolManifest {
    pub id: String,
    pub kind: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_access")]
    pub access: String,
    pub timeout: Option<String>,
    pub max_output: Option<String>,
    /// exec: the argv template.
    pub argv: Option<Vec<String>>,
    /// sql: the engine the query is written for (`postgres` or `mysql`).
    pub engine: Option<String>,
    /// sql: the fixed query; `$1`.. (postgres) or `?` (mysql) take `binds` in order.
    pub query: Option<String>,
    #[serde(default)]
    pub binds: Vec<String>,
    /// http: the URL template.
    pub url: Option<String>,
    /// A named filter applied to the output on the agent (`k8s_data_keys`).
    pub filter: Option<String>,
    #[serde(default)]
    pub params: BTreeMap<String, ParamManifest>,
}

fn default_access() -> String {
    "read".to_owned()
}

/// A typed tool parameter, as in `pod = { type = "k8s_name", required = true }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamManifest {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub required: bool,
    pub default: Option<toml::Value>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub values: Option<Vec<String>>,
    pub pattern: Option<String>,
    pub max_len: Option<usize>,
    /// path: allowed roots (`/var/log`); the agent's own file roots apply too.
    pub roots: Option<Vec<String>>,
    /// string: allow a leading `-` (the value can then never stand as a whole argv element).
    #[serde(default)]
    pub allow_dash: bool,
    #[serde(default)]
    pub description: String,
}
