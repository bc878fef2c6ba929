//! The agent's own validation: refusals answer `denied` with one line and never run
//! anything; what passes runs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Fixture, answer, policy};
use squadron_agent::policy::Plan;
use squadron_core::InvocationKind;
use squadron_core::output::RunStatus;

fn assert_denied(out: &squadron_core::ToolOutput, needle: &str) {
    assert_eq!(out.status, RunStatus::Denied, "{out:?}");
    assert_eq!(out.exit_code, None);
    assert!(
        out.stderr.contains(needle),
        "`{}` lacks `{needle}`",
        out.stderr
    );
    assert!(!out.stderr.contains('\n'), "not one line: {}", out.stderr);
}

#[tokio::test]
async fn squads_outside_the_ceiling_are_refused_and_never_run() {
    let fx = Fixture::new();
    let marker = fx.path().join("marker");
    let mut p = policy(&[fx.path()]);
    p.squads = vec!["k8s".into(), "security".into()];
    let runner = fx.runner(p);
    let inv = fx.invocation("testsq", "touch", &[("path", marker.to_str().unwrap())]);
    let out = answer(&runner, "c1", "testsq", &inv).await;
    assert_denied(
        &out,
        "squad `testsq` is outside this agent's policy (serves: k8s, security)",
    );
    assert!(!marker.exists(), "a refused request ran");

    // The same request with the ceiling "*" runs.
    let runner = fx.runner_with_state(policy(&[fx.path()]), &fx.path().join("state2"));
    let out = answer(&runner, "c2", "testsq", &inv).await;
    assert_eq!(out.status, RunStatus::Ok, "{out:?}");
    assert!(marker.exists());
}

#[tokio::test]
async fn unknown_squads_and_tools_are_refused() {
    let fx = Fixture::new();
    let v = fx.validator(policy(&[fx.path()]));
    let inv = fx.invocation("testsq", "echo", &[("word", "x")]);
    let e = v.check("nosuchsquad", &inv).unwrap_err();
    assert_eq!(e.status, RunStatus::Denied);
    assert!(
        e.reason.contains("not in this agent's catalogue"),
        "{}",
        e.reason
    );
    // A tool of another squad is not a tool of this one.
    let e = v.check("k8s", &inv).unwrap_err();
    assert!(
        e.reason
            .contains("tool `echo` is not a tool of squad `k8s`"),
        "{}",
        e.reason
    );
    let mut renamed = inv.clone();
    renamed.tool = "rm_rf".into();
    let e = v.check("testsq", &renamed).unwrap_err();
    assert!(e.reason.contains("tool `rm_rf`"), "{}", e.reason);
}

#[tokio::test]
async fn write_tools_need_allow_write() {
    let fx = Fixture::new();
    let marker = fx.path().join("written");
    let inv = fx.invocation(
        "testsq",
        "touch_write",
        &[("path", marker.to_str().unwrap())],
    );
    let runner = fx.runner(policy(&[fx.path()]));
    let out = answer(&runner, "w1", "testsq", &inv).await;
    assert_denied(
        &out,
        "tool `touch_write` writes, and this agent's policy has allow_write = false",
    );
    assert!(!marker.exists());

    // Claiming the tool reads does not help: the agent's catalogue says it writes.
    let mut lying = inv.clone();
    lying.access = squadron_core::squad::Access::Read;
    let out = answer(&runner, "w2", "testsq", &lying).await;
    assert_eq!(out.status, RunStatus::Denied);
    assert!(!marker.exists());

    let mut p = policy(&[fx.path()]);
    p.allow_write = true;
    let runner = fx.runner_with_state(p, &fx.path().join("state2"));
    let out = answer(&runner, "w3", "testsq", &inv).await;
    assert_eq!(out.status, RunStatus::Ok, "{out:?}");
    assert!(marker.exists());
}

#[tokio::test]
async fn tampered_requests_do_not_match_the_agents_rendering() {
    let fx = Fixture::new();
    let marker = fx.path().join("tampered");
    let runner = fx.runner(policy(&[fx.path()]));
    let good = fx.invocation("testsq", "echo", &[("word", "hello")]);

    // The argv changed behind the args' back.
    let mut argv_swapped = good.clone();
    argv_swapped.kind = InvocationKind::Exec {
        argv: vec!["touch".into(), marker.display().to_string()],
    };
    let out = answer(&runner, "t1", "testsq", &argv_swapped).await;
    assert_denied(
        &out,
        "does not match the agent's own rendering of tool `echo` (command differs)",
    );

    // The args changed, argv and canonical line left as rendered.
    let mut args_swapped = good.clone();
    args_swapped.args.insert("word".into(), "other".into());
    let out = answer(&runner, "t2", "testsq", &args_swapped).await;
    assert_denied(&out, "(command differs)");

    // Only the canonical line (what the audit trail records) differs.
    let mut canonical = good.clone();
    canonical.canonical = "echo innocent".into();
    let out = answer(&runner, "t3", "testsq", &canonical).await;
    assert_denied(&out, "(canonical line differs)");

    // Limits raised.
    let mut longer = good.clone();
    longer.timeout = Duration::from_secs(3600);
    assert_denied(
        &answer(&runner, "t4", "testsq", &longer).await,
        "(timeout differs)",
    );
    let mut bigger = good.clone();
    bigger.max_output *= 64;
    assert_denied(
        &answer(&runner, "t5", "testsq", &bigger).await,
        "(max_output differs)",
    );
    let mut unfiltered = fx.invocation(
        "k8s",
        "configmap_get",
        &[("name", "app"), ("namespace", "default")],
    );
    unfiltered.filter = None;
    assert_denied(
        &answer(&runner, "t6", "k8s", &unfiltered).await,
        "(filter differs)",
    );
    assert!(!marker.exists());

    // The untouched request runs.
    let out = answer(&runner, "t7", "testsq", &good).await;
    assert_eq!(out.stdout, "hello\n");
}

#[tokio::test]
async fn option_injection_values_are_refused() {
    let fx = Fixture::new();
    let runner = fx.runner(policy(&[fx.path()]));
    let good = fx.invocation("testsq", "echo", &[("word", "hello")]);
    for (i, bad) in [
        "--help",
        "-n",
        "\u{2013}server=x",
        "a\nb",
        "$(id)",
        "`id`",
        "a b",
    ]
    .iter()
    .enumerate()
    {
        let mut inv = good.clone();
        inv.args.insert("word".into(), (*bad).to_owned());
        let out = answer(&runner, &format!("o{i}"), "testsq", &inv).await;
        assert_denied(&out, "arguments refused by the agent: parameter `word`");
    }
    // The kubectl advisories: a pod name that is a flag never reaches kubectl.
    let pod_logs = fx.invocation(
        "k8s",
        "pod_logs",
        &[("pod", "web-1"), ("namespace", "default")],
    );
    for (i, bad) in ["--server=https://attacker", "--kubeconfig=/tmp/k", "-s"]
        .iter()
        .enumerate()
    {
        let mut inv = pod_logs.clone();
        inv.args.insert("pod".into(), (*bad).to_owned());
        let out = answer(&runner, &format!("k{i}"), "k8s", &inv).await;
        assert_denied(&out, "parameter `pod`");
    }
    // Unknown parameters are refused too.
    let mut extra = good.clone();
    extra.args.insert("kubeconfig".into(), "/tmp/k".into());
    assert_denied(
        &answer(&runner, "x1", "testsq", &extra).await,
        "has no parameter `kubeconfig`",
    );
}

#[tokio::test]
async fn read_file_paths_must_stay_under_the_roots_after_symlinks() {
    let fx = Fixture::new();
    let logs = fx.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("app.log"), "one\ntwo\nthree\nfour\n").unwrap();
    std::fs::write(fx.path().join("secret.txt"), "s3cr3t\n").unwrap();
    std::os::unix::fs::symlink(fx.path().join("secret.txt"), logs.join("escape.log")).unwrap();
    std::os::unix::fs::symlink(logs.join("app.log"), logs.join("current.log")).unwrap();
    std::os::unix::fs::symlink("/etc", logs.join("etc")).unwrap();
    let runner = fx.runner(policy(&[&logs]));
    let path = |p: &std::path::Path| p.display().to_string();

    let inv = fx.invocation(
        "testsq",
        "logtail",
        &[("path", &path(&logs.join("app.log")))],
    );
    let out = answer(&runner, "f1", "testsq", &inv).await;
    assert_eq!(
        (out.status, out.stdout.as_str()),
        (RunStatus::Ok, "two\nthree\nfour\n"),
        "{out:?}"
    );

    let inv = fx.invocation("testsq", "logtail", &[("path", "/etc/passwd")]);
    let out = answer(&runner, "f2", "testsq", &inv).await;
    assert_denied(
        &out,
        "path `/etc/passwd` is outside this agent's file roots",
    );

    let inv = fx.invocation(
        "testsq",
        "logtail",
        &[("path", &path(&fx.path().join("secret.txt")))],
    );
    assert_denied(
        &answer(&runner, "f3", "testsq", &inv).await,
        "outside this agent's file roots",
    );

    // A symlink inside the root that points out of it.
    let inv = fx.invocation(
        "testsq",
        "logtail",
        &[("path", &path(&logs.join("escape.log")))],
    );
    let out = answer(&runner, "f4", "testsq", &inv).await;
    assert_denied(&out, "resolves to");
    assert!(!out.stdout.contains("s3cr3t"));
    let inv = fx.invocation(
        "testsq",
        "logtail",
        &[("path", &path(&logs.join("etc/passwd")))],
    );
    assert_denied(
        &answer(&runner, "f5", "testsq", &inv).await,
        "resolves to `/etc/passwd`",
    );

    // A symlink that stays inside is fine.
    let inv = fx.invocation(
        "testsq",
        "logtail",
        &[("path", &path(&logs.join("current.log"))), ("tail", "1")],
    );
    let out = answer(&runner, "f6", "testsq", &inv).await;
    assert_eq!(out.stdout, "four\n", "{out:?}");

    // A missing file is an error, not a denial.
    let inv = fx.invocation(
        "testsq",
        "logtail",
        &[("path", &path(&logs.join("gone.log")))],
    );
    let out = answer(&runner, "f7", "testsq", &inv).await;
    assert_eq!(out.status, RunStatus::Error, "{out:?}");
    assert!(out.stderr.contains("No such file or directory"));

    // A directory is not a file.
    let inv = fx.invocation("testsq", "logtail", &[("path", &path(&logs))]);
    let out = answer(&runner, "f8", "testsq", &inv).await;
    assert_eq!(out.status, RunStatus::Error, "{out:?}");
}

#[tokio::test]
async fn big_files_are_tailed_from_the_end_within_the_cap() {
    let fx = Fixture::new();
    let mut text = String::new();
    for i in 0..200_000 {
        text.push_str(&format!("line {i}\n"));
    }
    let file = fx.path().join("big.log");
    std::fs::write(&file, &text).unwrap();
    let runner = fx.runner(policy(&[fx.path()]));
    let inv = fx.invocation(
        "testsq",
        "logtail",
        &[("path", file.to_str().unwrap()), ("tail", "2")],
    );
    let out = answer(&runner, "b1", "testsq", &inv).await;
    assert_eq!(out.stdout, "line 199998\nline 199999\n");
    assert!(!out.truncated);

    // 1000 lines do not fit a 100-byte policy cap: the newest whole lines that fit.
    let mut p = policy(&[fx.path()]);
    p.max_output = 100;
    let runner = fx.runner_with_state(p, &fx.path().join("state2"));
    let inv = fx.invocation(
        "testsq",
        "logtail",
        &[("path", file.to_str().unwrap()), ("tail", "1000")],
    );
    let out = answer(&runner, "b2", "testsq", &inv).await;
    assert!(out.truncated);
    assert!(out.stdout.len() <= 100);
    assert!(
        out.stdout.starts_with("line ") && out.stdout.ends_with("line 199999\n"),
        "{}",
        out.stdout
    );
}

#[tokio::test]
async fn sql_databases_must_be_configured_with_the_right_engine() {
    let fx = Fixture::new();
    let v = fx.validator(policy(&[fx.path()]));
    let inv = fx.invocation("testsq", "pg_zero", &[("database", "billing")]);
    let e = v.check("testsq", &inv).unwrap_err();
    assert_eq!(e.status, RunStatus::Denied);
    assert_eq!(
        e.reason,
        "database `billing` is not configured on this agent"
    );
    let inv = fx.invocation("testsq", "pg_zero", &[("database", "shop")]);
    let e = v.check("testsq", &inv).unwrap_err();
    assert!(
        e.reason
            .contains("`shop` is mysql on this agent; tool `pg_zero` is written for postgres"),
        "{}",
        e.reason
    );
    let inv = fx.invocation("testsq", "pg_zero", &[("database", "main")]);
    assert!(matches!(v.check("testsq", &inv), Ok(Plan::Sql { .. })));
    // A database name that is not an identifier is refused by the re-render.
    let mut odd = inv.clone();
    odd.args.insert("database".into(), "main;drop".into());
    assert!(
        v.check("testsq", &odd)
            .unwrap_err()
            .reason
            .contains("parameter `database`")
    );
}
