//! At most once: an id runs once whatever arrives after it, across restarts; an id that
//! started and never finished is `lost`, never run again; the journal stays bounded.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::{Fixture, answer, policy};
use squadron_agent::journal::{self, Claim, Journal};
use squadron_agent::runner::Outcome;
use squadron_core::ToolOutput;
use squadron_core::output::RunStatus;

fn files_in(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).unwrap().count()
}

#[tokio::test]
async fn the_same_id_runs_once() {
    let fx = Fixture::new();
    let made = fx.path().join("made");
    std::fs::create_dir(&made).unwrap();
    let inv = fx.invocation("testsq", "mktemp", &[("dir", made.to_str().unwrap())]);
    let runner = fx.runner(policy(&[fx.path()]));
    let first = answer(&runner, "req-1", "testsq", &inv).await;
    assert_eq!(first.status, RunStatus::Ok, "{first:?}");
    let again = answer(&runner, "req-1", "testsq", &inv).await;
    assert_eq!(again, first, "a repeat is answered from the record");
    assert_eq!(files_in(&made), 1, "the request ran twice");

    // After a restart (a new runner over the same state dir) it is still known.
    drop(runner);
    let runner = fx.runner(policy(&[fx.path()]));
    let after = answer(&runner, "req-1", "testsq", &inv).await;
    assert_eq!(after, first);
    assert_eq!(files_in(&made), 1);
    // A new id runs.
    answer(&runner, "req-2", "testsq", &inv).await;
    assert_eq!(files_in(&made), 2);
}

#[tokio::test]
async fn concurrent_repeats_run_once() {
    let fx = Fixture::new();
    let made = fx.path().join("made");
    std::fs::create_dir(&made).unwrap();
    let inv = fx.invocation("testsq", "mktemp", &[("dir", made.to_str().unwrap())]);
    let runner = Arc::new(fx.runner(policy(&[fx.path()])));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let runner = Arc::clone(&runner);
        let inv = inv.clone();
        tasks.push(tokio::spawn(async move {
            runner.handle("same", "testsq", &inv).await
        }));
    }
    let mut answered = 0;
    for t in tasks {
        if let Outcome::Answer(out) = t.await.unwrap() {
            assert_eq!(out.status, RunStatus::Ok);
            answered += 1;
        }
    }
    assert!(answered >= 1);
    assert_eq!(files_in(&made), 1);
}

#[tokio::test]
async fn an_id_that_started_without_a_result_is_lost_and_not_rerun() {
    let fx = Fixture::new();
    let marker = fx.path().join("marker");
    let state = fx.path().join("state");
    // The agent journaled the start, then died before the result.
    {
        let j = Journal::open(&state).unwrap();
        assert_eq!(j.claim("req-9"), Claim::New);
        j.start("req-9").unwrap();
    }
    let runner = fx.runner_with_state(policy(&[fx.path()]), &state);
    let inv = fx.invocation("testsq", "touch", &[("path", marker.to_str().unwrap())]);
    let out = answer(&runner, "req-9", "testsq", &inv).await;
    assert_eq!(out.status, RunStatus::Lost, "{out:?}");
    assert_eq!(out.stderr, journal::LOST_REASON);
    assert!(!marker.exists(), "a lost request was run again");
    let out = answer(&runner, "req-9", "testsq", &inv).await;
    assert_eq!(out.status, RunStatus::Lost);
    assert!(!marker.exists());
}

#[tokio::test]
async fn refusals_are_remembered_too() {
    let fx = Fixture::new();
    let marker = fx.path().join("marker");
    let inv = fx.invocation(
        "testsq",
        "touch_write",
        &[("path", marker.to_str().unwrap())],
    );
    let runner = fx.runner(policy(&[fx.path()]));
    assert_eq!(
        answer(&runner, "d1", "testsq", &inv).await.status,
        RunStatus::Denied
    );
    // Even a runner that would allow it answers the id from the record.
    let mut p = policy(&[fx.path()]);
    p.allow_write = true;
    drop(runner);
    let runner = fx.runner(p);
    assert_eq!(
        answer(&runner, "d1", "testsq", &inv).await.status,
        RunStatus::Denied
    );
    assert!(!marker.exists());
}

#[test]
fn the_journal_is_private_and_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(dir.path()).unwrap();
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(j.path()).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    let out = ToolOutput::finished(0, "x".repeat(10), String::new());
    let total = 2 * journal::MAX_IDS + 50;
    for i in 0..total {
        let id = format!("id-{i}");
        assert_eq!(j.claim(&id), Claim::New);
        j.finish(&id, &out).unwrap();
    }
    assert_eq!(j.len(), journal::MAX_IDS);
    // The oldest are forgotten, the newest remembered.
    assert_eq!(j.claim("id-0"), Claim::New);
    j.release("id-0");
    assert_eq!(
        j.claim(&format!("id-{}", total - 1)),
        Claim::Done(out.clone())
    );
    drop(j);
    // The file was compacted and reloads to the same bound.
    let lines = std::fs::read_to_string(dir.path().join(journal::FILE_NAME))
        .unwrap()
        .lines()
        .count();
    assert!(lines <= 2 * journal::MAX_IDS, "{lines} lines");
    let j = Journal::open(dir.path()).unwrap();
    assert_eq!(j.len(), journal::MAX_IDS);
    assert_eq!(j.claim(&format!("id-{}", total - 1)), Claim::Done(out));
}

#[test]
fn a_torn_last_line_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    {
        let j = Journal::open(dir.path()).unwrap();
        assert_eq!(j.claim("a"), Claim::New);
        j.start("a").unwrap();
        j.finish("a", &ToolOutput::finished(0, "ok".into(), String::new()))
            .unwrap();
    }
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.path().join(journal::FILE_NAME))
        .unwrap();
    f.write_all(b"{\"state\":\"done\",\"id\":\"b\",\"outp")
        .unwrap();
    drop(f);
    let j = Journal::open(dir.path()).unwrap();
    assert!(matches!(j.claim("a"), Claim::Done(_)));
    assert_eq!(j.claim("b"), Claim::New);
    // The next record is not glued to the torn line.
    assert_eq!(j.claim("c"), Claim::New);
    j.start("c").unwrap();
    drop(j);
    let j = Journal::open(dir.path()).unwrap();
    assert_eq!(j.claim("c"), Claim::Lost);
}
