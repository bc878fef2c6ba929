//! `squadron eval` and `squadron squad check` as a user runs them: the real binary, the
//! shared scenarios of every squad, our own variants, and broken manifests.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn squadron(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_squadron"))
        .args(args)
        .output()
        .expect("squadron runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs eval over `dir` and fails with every failing line when a scenario fails.
fn eval_all(dir: &Path) {
    assert!(
        dir.is_dir(),
        "{} is missing: the scenarios must be beside the project",
        dir.display()
    );
    let (ok, stdout, stderr) = squadron(&["eval", &dir.display().to_string()]);
    let last = stdout.lines().last().unwrap_or_default().to_owned();
    let failures: Vec<&str> = stdout.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert!(
        ok && failures.is_empty(),
        "{last}\n{}\n{stderr}",
        failures.join("\n")
    );
    assert!(last.ends_with(" passed, 0 failed"), "{last}");
    let passed: usize = last
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(passed > 0, "no scenario ran: {stdout}");
}

#[test]
fn every_shared_scenario_passes() {
    eval_all(&root().join("../shared/scenarios"));
}

#[test]
fn our_variant_scenarios_pass() {
    eval_all(&root().join("tests/scenarios"));
}

#[test]
fn eval_json_report_has_the_spec_shape() {
    let dir = root().join("../shared/scenarios/k8s/crashloop-missing-configmap-mount");
    let (ok, stdout, stderr) = squadron(&["eval", "--json", &dir.display().to_string()]);
    assert!(ok, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(v["passed"], 1);
    assert_eq!(v["failed"], 0);
    let s = &v["scenarios"][0];
    assert_eq!(s["name"], "crashloop-missing-configmap-mount");
    assert_eq!(s["passed"], true);
    assert!(
        s["path"]
            .as_str()
            .is_some_and(|p| p.ends_with("crashloop-missing-configmap-mount"))
    );
    assert_eq!(s["turns"].as_array().map(Vec::len), Some(3));
}

#[test]
fn a_failing_scenario_fails_the_run_and_says_why() {
    let tmp = tempdir("failing");
    let scen = tmp.join("bad-expectation");
    std::fs::create_dir_all(&scen).expect("mkdir");
    std::fs::write(
        scen.join("scenario.toml"),
        r#"squad = "k8s"
[[turns]]
message = "my pod web-1 keeps crashing"
[turns.expect]
all = ["this phrase will never appear"]
"#,
    )
    .expect("write");
    let (ok, stdout, _) = squadron(&["eval", &tmp.display().to_string()]);
    assert!(!ok);
    assert!(
        stdout.contains(
            "FAIL k8s/bad-expectation: turn 1: missing \"this phrase will never appear\""
        ),
        "{stdout}"
    );
    assert!(
        stdout.trim_end().ends_with("0 passed, 1 failed"),
        "{stdout}"
    );
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("squadron-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}

#[test]
fn a_broken_squad_is_refused_with_every_problem_listed() {
    let dir = tempdir("broken-squad");
    let squad = dir.join("broken");
    std::fs::create_dir_all(&squad).expect("mkdir");
    std::fs::write(
        squad.join("squad.toml"),
        r#"id = "broken"
name = "Broken"
analyzers = ["nope"]

[[agents]]
id = "a"
name = "A"
prompt = "missing.md"
tools = ["mysql_processlist"]

[[intents]]
id = "x"
patterns = ['(unclosed']

[[playbooks]]
id = "x"
[[playbooks.steps]]
tool = "mysql_processlist"

[[tools]]
id = "logs"
kind = "exec"
argv = ["kubectl", "logs", "pod/{pod}"]
[tools.params]
pod = { type = "podname" }
"#,
    )
    .expect("write");
    let (ok, _, stderr) = squadron(&["squad", "check", &dir.display().to_string()]);
    assert!(!ok);
    for needle in [
        "analyzer `nope` is not registered",
        "agents.a.prompt: prompt file `missing.md` is missing",
        "agents.a.tools: tool `mysql_processlist` is referenced but not defined",
        "intents.x.patterns: bad regex",
        "playbooks.x.steps[0].tool: tool `mysql_processlist` is referenced but not defined",
        "not a whole argv element or a --flag= value",
        "unknown parameter type `podname`",
    ] {
        assert!(stderr.contains(needle), "missing {needle:?} in:\n{stderr}");
    }
}

#[test]
fn built_in_squads_all_validate() {
    let (ok, stdout, stderr) = squadron(&["squad", "check"]);
    assert!(ok, "{stderr}");
    for id in ["k8s", "database", "security", "wordpress"] {
        assert!(
            stdout.contains(&format!("ok {id} (")),
            "{id} missing from {stdout}"
        );
    }
}

#[test]
fn eval_without_scenarios_is_one_clear_error() {
    let dir = tempdir("empty");
    let (ok, _, stderr) = squadron(&["eval", &dir.display().to_string()]);
    assert!(!ok);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: no scenario.toml found under"),
        "{stderr}"
    );
}
