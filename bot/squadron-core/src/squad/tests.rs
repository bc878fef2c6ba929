//! Manifests in, squads or the full list of their problems out.

use super::*;

fn cx<'a>(prompt: &'a dyn Fn(&str) -> bool) -> BuildContext<'a> {
    BuildContext {
        file: "squads/test/squad.toml",
        prompt_exists: prompt,
        analyzer_exists: &|id| id == "k8s",
    }
}

const GOOD: &str = r#"
id = "test"
name = "Test Squad"
analyzers = ["k8s"]
default_intent = "pods"

[[agents]]
id = "triage"
name = "Triage"
prompt = "test/triage.md"
tools = ["pod_logs"]

[[entities]]
name = "pod"
patterns = ['pod\s+(?P<v>[a-z0-9-]+)']

[[intents]]
id = "pods"
patterns = ['crashloop']

[[playbooks]]
id = "pods"
[[playbooks.steps]]
tool = "pod_logs"
args = { previous = "true" }
when = ["pod"]

[[tools]]
id = "pod_logs"
kind = "exec"
timeout = "20s"
max_output = "256KiB"
argv = ["kubectl", "logs", "{pod}", "--namespace={namespace}", "--tail={tail}", "--previous={previous}"]
[tools.params]
pod       = { type = "k8s_name", required = true }
namespace = { type = "k8s_name", default = "default" }
tail      = { type = "int", min = 1, max = 5000, default = 200 }
previous  = { type = "bool", default = false }
"#;

fn build(text: &str) -> Result<Squad, SquadError> {
    Squad::from_toml(text, &cx(&|p| p == "test/triage.md"))
}

fn problems(text: &str) -> Vec<String> {
    match build(text) {
        Ok(_) => Vec::new(),
        Err(e) => e
            .problems
            .iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect(),
    }
}

fn expect_problem(text: &str, needle: &str) {
    let all = problems(text);
    assert!(
        all.iter().any(|p| p.contains(needle)),
        "no problem mentions {needle:?}: {all:#?}"
    );
}

#[test]
fn a_good_manifest_builds() {
    let squad = build(GOOD).expect("builds");
    assert_eq!(squad.tools.len(), 1);
    assert_eq!(squad.intents[0].playbook, "pods");
    let tool = squad.tool("pod_logs").expect("tool");
    assert_eq!(tool.timeout, Duration::from_secs(20));
    assert_eq!(tool.max_output, 262_144);
}

#[test]
fn unknown_parameter_type_is_named_with_its_field() {
    let text = GOOD.replace(r#"type = "bool""#, r#"type = "boolean""#);
    expect_problem(
        &text,
        "tools.pod_logs.params.previous.type: unknown parameter type `boolean`",
    );
}

#[test]
fn glued_placeholder_is_refused() {
    let text = GOOD.replace(r#""--tail={tail}""#, r#""--tail {tail}""#);
    expect_problem(&text, "not a whole argv element or a --flag= value");
    let text = GOOD.replace(r#""{pod}""#, r#""pod/{pod}""#);
    expect_problem(&text, "tools.pod_logs.argv");
}

#[test]
fn placeholder_without_a_parameter_is_refused() {
    let text = GOOD.replace(r#""{pod}""#, r#""{pod_name}""#);
    let all = problems(&text);
    assert!(
        all.iter()
            .any(|p| p.contains("`{pod_name}` names no declared parameter")),
        "{all:#?}"
    );
    assert!(
        all.iter()
            .any(|p| p.contains("params.pod: parameter is declared but never used")),
        "{all:#?}"
    );
}

#[test]
fn tool_referenced_but_not_defined_is_refused() {
    let text = GOOD.replace(r#"tool = "pod_logs""#, r#"tool = "pod_exec""#);
    expect_problem(
        &text,
        "playbooks.pods.steps[0].tool: tool `pod_exec` is referenced but not defined",
    );
    let text = GOOD.replace(r#"tools = ["pod_logs"]"#, r#"tools = ["mysql_query"]"#);
    expect_problem(
        &text,
        "agents.triage.tools: tool `mysql_query` is referenced but not defined",
    );
}

#[test]
fn missing_prompt_file_is_refused() {
    let text = GOOD.replace("test/triage.md", "test/missing.md");
    expect_problem(
        &text,
        "agents.triage.prompt: prompt file `test/missing.md` is missing",
    );
}

#[test]
fn duplicate_ids_are_refused() {
    let dup = GOOD.to_owned()
        + r#"
[[tools]]
id = "pod_logs"
kind = "exec"
argv = ["kubectl", "get", "pods"]
"#;
    expect_problem(&dup, "duplicate tools id `pod_logs`");
}

#[test]
fn bad_regex_is_refused() {
    let text = GOOD.replace("['crashloop']", "['crash(loop']");
    expect_problem(&text, "intents.pods.patterns: bad regex `crash(loop`");
    let text = GOOD.replace(r"(?P<v>[a-z0-9-]+)", r"([a-z0-9-]+)");
    expect_problem(&text, "no capture group named `v`");
}

#[test]
fn every_problem_is_listed_at_once() {
    let text = GOOD
        .replace(r#"type = "bool""#, r#"type = "boolean""#)
        .replace("test/triage.md", "test/missing.md")
        .replace("['crashloop']", "['crash(loop']");
    let err = build(&text).expect_err("broken");
    assert!(err.problems.len() >= 3, "{err}");
    let shown = err.to_string();
    assert!(shown.starts_with("squads/test/squad.toml has"), "{shown}");
    assert!(
        shown
            .lines()
            .skip(1)
            .all(|l| l.trim_start().starts_with("squads/test/squad.toml: ")),
        "{shown}"
    );
}

#[test]
fn escape_hatches_cannot_be_declared() {
    let text = GOOD.replace(r#""kubectl", "logs""#, r#""kubectl", "exec""#);
    expect_problem(&text, "`kubectl exec` escapes the whitelist");
    let text = GOOD.replace(r#"argv = ["kubectl", "logs""#, r#"argv = ["bash", "-c""#);
    expect_problem(&text, "`bash` runs arbitrary code");
    let text = GOOD.replace(r#""--tail={tail}""#, r#""--server={tail}""#);
    expect_problem(&text, "`kubectl --server` escapes the whitelist");
}

#[test]
fn sql_escape_hatches_cannot_be_declared() {
    let sql = GOOD.to_owned()
        + r#"
[[tools]]
id = "evil"
kind = "sql"
engine = "postgres"
query = "COPY (SELECT 1) TO PROGRAM 'id'"
"#;
    expect_problem(&sql, "tools.evil.query");
    let kill = GOOD.to_owned()
        + r#"
[[tools]]
id = "kill"
kind = "sql"
engine = "postgres"
query = "SELECT pg_terminate_backend($1)"
binds = ["pid"]
[tools.params]
pid = { type = "int", min = 1, max = 4194304, required = true }
"#;
    expect_problem(&kill, "declare the tool with access = \"write\"");
    assert!(
        build(&kill.replace(
            "id = \"kill\"\nkind",
            "id = \"kill\"\naccess = \"write\"\nkind"
        ))
        .is_ok()
    );
}

#[test]
fn step_arguments_must_name_tool_parameters() {
    let text = GOOD.replace(
        r#"args = { previous = "true" }"#,
        r#"args = { follow = "true" }"#,
    );
    expect_problem(
        &text,
        "playbooks.pods.steps[0].args.follow: tool `pod_logs` has no parameter `follow`",
    );
}

#[test]
fn intents_need_their_playbook_and_default_intent_must_exist() {
    let text = GOOD.replace(
        "id = \"pods\"\npatterns",
        "id = \"pods\"\nplaybook = \"nope\"\npatterns",
    );
    expect_problem(&text, "playbook `nope` is referenced but not defined");
    let text = GOOD.replace(r#"default_intent = "pods""#, r#"default_intent = "other""#);
    expect_problem(
        &text,
        "default_intent: intent `other` is referenced but not defined",
    );
}

#[test]
fn unknown_analyzer_and_unknown_fields_are_refused() {
    let text = GOOD.replace(r#"analyzers = ["k8s"]"#, r#"analyzers = ["k9s"]"#);
    expect_problem(&text, "analyzer `k9s` is not registered");
    let text = GOOD.replace("timeout = \"20s\"", "timeout = \"20s\"\nshell = true");
    expect_problem(&text, "unknown field `shell`");
}

#[test]
fn kind_specific_rules_are_enforced() {
    let rf = GOOD.to_owned()
        + r#"
[[tools]]
id = "log"
kind = "read_file"
[tools.params]
path = { type = "string" }
"#;
    let all = problems(&rf);
    assert!(
        all.iter()
            .any(|p| p.contains("needs a `path` parameter of type path")),
        "{all:#?}"
    );
    assert!(
        all.iter()
            .any(|p| p.contains("needs a `tail` int parameter")),
        "{all:#?}"
    );
    let http = GOOD.to_owned()
        + r#"
[[tools]]
id = "get"
kind = "http"
url = "{host}/x"
[tools.params]
host = { type = "hostname" }
"#;
    expect_problem(&http, "must start with http(s):// or a url parameter");
}
