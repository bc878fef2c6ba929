//! exec tools against real processes: output, the scrubbed environment, timeouts that
//! kill the whole process group, output caps, missing programs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use squadron_agent::exec::{self, ExecEnv};
use squadron_core::output::RunStatus;

fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

/// Pids whose command line contains `marker` (zombies have an empty one).
fn processes_with(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if text.contains(marker) {
                found.push(format!("{name}: {text}"));
            }
        }
    }
    found
}

async fn none_survive(marker: &str) {
    for _ in 0..40 {
        if processes_with(marker).is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("processes survived: {:?}", processes_with(marker));
}

#[tokio::test]
async fn echo_runs_without_a_shell() {
    let out = exec::run(
        &argv(&["/bin/echo", "hello", "$HOME; id"]),
        &ExecEnv::default(),
        Duration::from_secs(5),
        1024,
    )
    .await;
    assert_eq!(out.status, RunStatus::Ok, "{out:?}");
    assert_eq!(out.exit_code, Some(0));
    assert_eq!(out.stdout, "hello $HOME; id\n");
    assert!(!out.truncated);
}

#[tokio::test]
async fn the_environment_is_scrubbed() {
    // The test process has CARGO_* and more; the tool sees PATH, LANG and HOME only.
    assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some());
    let out = exec::run(
        &argv(&["env"]),
        &ExecEnv::default(),
        Duration::from_secs(5),
        65536,
    )
    .await;
    assert_eq!(out.status, RunStatus::Ok, "{out:?}");
    let keys: BTreeSet<&str> = out
        .stdout
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from(["HOME", "LANG", "PATH"]),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains(&format!("PATH={}\n", exec::SAFE_PATH)));
    assert!(out.stdout.contains("LANG=C.UTF-8\n"));
}

#[tokio::test]
async fn stdin_is_null_and_the_cwd_is_root() {
    let out = exec::run(
        &argv(&["cat"]),
        &ExecEnv::default(),
        Duration::from_secs(5),
        1024,
    )
    .await;
    assert_eq!(
        (out.status, out.stdout.as_str()),
        (RunStatus::Ok, ""),
        "{out:?}"
    );
    let out = exec::run(
        &argv(&["pwd"]),
        &ExecEnv::default(),
        Duration::from_secs(5),
        1024,
    )
    .await;
    assert_eq!(out.stdout, "/\n");
}

#[tokio::test]
async fn a_timeout_kills_the_whole_process_group() {
    let marker = "31.4159";
    let started = Instant::now();
    // A shell is never a tool (hatch refuses it); the low-level executor is called
    // directly to build a process tree: sh with a background and a foreground sleep.
    let script = format!("sleep {marker} & sleep {marker}");
    let out = exec::run(
        &argv(&["sh", "-c", &script]),
        &ExecEnv::default(),
        Duration::from_millis(300),
        1024,
    )
    .await;
    assert_eq!(out.status, RunStatus::Timeout, "{out:?}");
    assert_eq!(out.exit_code, None);
    assert!(
        out.stderr.contains("timed out after 300ms"),
        "{}",
        out.stderr
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "took {:?}",
        started.elapsed()
    );
    none_survive(marker).await;
}

#[tokio::test]
async fn processes_left_behind_by_a_finished_run_are_killed() {
    let marker = "32.7182";
    let script = format!("sleep {marker} & echo started");
    let started = Instant::now();
    let out = exec::run(
        &argv(&["sh", "-c", &script]),
        &ExecEnv::default(),
        Duration::from_secs(10),
        1024,
    )
    .await;
    assert_eq!(out.status, RunStatus::Ok, "{out:?}");
    assert_eq!(out.stdout, "started\n");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "waited for the straggler"
    );
    none_survive(marker).await;
}

#[tokio::test]
async fn output_past_the_cap_is_dropped_but_drained() {
    // seq writes ~1.2 MB; a reader that stopped would leave it dead of SIGPIPE (141).
    let out = exec::run(
        &argv(&["seq", "1", "200000"]),
        &ExecEnv::default(),
        Duration::from_secs(10),
        100,
    )
    .await;
    assert_eq!(out.status, RunStatus::Ok, "{:?}", out.stderr);
    assert_eq!(out.exit_code, Some(0));
    assert_eq!(out.stdout.len(), 100);
    assert!(out.stdout.starts_with("1\n2\n3\n"));
    assert!(out.truncated);
}

#[tokio::test]
async fn stderr_and_exit_codes_are_reported() {
    let out = exec::run(
        &argv(&["ls", "/definitely/not/here"]),
        &ExecEnv::default(),
        Duration::from_secs(5),
        1024,
    )
    .await;
    assert_eq!(out.status, RunStatus::Error);
    assert_eq!(out.exit_code, Some(2));
    assert!(out.stderr.contains("No such file"), "{}", out.stderr);
    let out = exec::run(
        &argv(&["false"]),
        &ExecEnv::default(),
        Duration::from_secs(5),
        1024,
    )
    .await;
    assert_eq!((out.status, out.exit_code), (RunStatus::Error, Some(1)));
}

#[tokio::test]
async fn a_missing_program_is_exit_127() {
    let out = exec::run(
        &argv(&["kubectl-not-installed", "get", "pods"]),
        &ExecEnv::default(),
        Duration::from_secs(5),
        1024,
    )
    .await;
    assert_eq!(out.status, RunStatus::Error);
    assert_eq!(out.exit_code, Some(127));
    assert_eq!(out.stderr, "command not found: kubectl-not-installed");
}

#[tokio::test]
async fn programs_are_found_on_the_scrubbed_path_only() {
    let dir = tempfile::tempdir().unwrap();
    let tool = dir.path().join("only-here");
    std::fs::write(&tool, "#!/bin/sh\necho found\n").unwrap();
    std::fs::set_permissions(&tool, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = exec::run(
        &argv(&["only-here"]),
        &ExecEnv::default(),
        Duration::from_secs(5),
        1024,
    )
    .await;
    assert_eq!(out.exit_code, Some(127), "{out:?}");
    let env = ExecEnv {
        path: dir.path().display().to_string(),
        home: "/".into(),
    };
    let out = exec::run(&argv(&["only-here"]), &env, Duration::from_secs(5), 1024).await;
    assert_eq!(out.stdout, "found\n", "{out:?}");
}

#[tokio::test]
async fn a_tool_runs_through_the_runner_with_its_caps() {
    let fx = common::Fixture::new();
    let runner = fx.runner(common::policy(&[fx.path()]));
    let inv = fx.invocation("testsq", "echo", &[("word", "hello")]);
    let out = common::answer(&runner, "r-echo", "testsq", &inv).await;
    assert_eq!(
        (out.status, out.stdout.as_str()),
        (RunStatus::Ok, "hello\n"),
        "{out:?}"
    );
    // The tool's 1KiB cap holds whatever the program writes.
    let inv = fx.invocation("testsq", "seq", &[("n", "100000")]);
    let out = common::answer(&runner, "r-seq", "testsq", &inv).await;
    assert_eq!(out.stdout.len(), 1024);
    assert!(out.truncated);
    // The tool's timeout is enforced.
    let inv = fx.invocation("testsq", "quick_nap", &[]);
    let out = common::answer(&runner, "r-nap", "testsq", &inv).await;
    assert_eq!(out.status, RunStatus::Timeout, "{out:?}");
    assert!(
        out.duration_ms >= 250 && out.duration_ms < 3000,
        "{}",
        out.duration_ms
    );
}

#[tokio::test]
async fn the_policy_cap_is_below_the_tools() {
    let fx = common::Fixture::new();
    let mut policy = common::policy(&[fx.path()]);
    policy.max_output = 10;
    let runner = fx.runner(policy);
    let inv = fx.invocation("testsq", "seq", &[("n", "1000")]);
    let out = common::answer(&runner, "r-cap", "testsq", &inv).await;
    assert_eq!(out.stdout, "1\n2\n3\n4\n5\n");
    assert!(out.truncated);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn runs_above_the_concurrency_limit_wait_for_a_slot() {
    use std::sync::Arc;
    let fx = common::Fixture::new();
    let runner = Arc::new(squadron_agent::runner::Runner::new(
        fx.validator(common::policy(&[fx.path()])),
        squadron_agent::journal::Journal::open(&fx.path().join("state")).unwrap(),
        2,
        ExecEnv::default(),
        squadron_agent::sql::Databases::default(),
    ));
    let inv = fx.invocation("testsq", "nap", &[("secs", "1")]);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..4 {
        let (runner, inv) = (Arc::clone(&runner), inv.clone());
        tasks.push(tokio::spawn(async move {
            common::answer(&runner, &format!("n{i}"), "testsq", &inv).await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().status, RunStatus::Ok);
    }
    // Four one-second runs, two at a time: two rounds.
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_millis(3500),
        "{took:?}"
    );
}
