//! sql tools against the real Postgres (127.0.0.1:5432, db `test`) and MariaDB
//! (127.0.0.1:3306, db `test`): CSV as `psql --csv` prints it, binds that stay values,
//! writes refused by the read-only transaction, statement timeouts.
//!
//! A database that is not listening fails its tests: `.ci/run` starts both.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Fixture, answer, policy};
use sqlx::Connection;
use squadron_core::output::RunStatus;

fn up(port: u16) -> bool {
    assert!(
        common::listening(port),
        "nothing listens on 127.0.0.1:{port}: start the database (`.ci/run` does) to run this test"
    );
    true
}

async fn pg_admin(sql: &'static str) -> Vec<sqlx::postgres::PgRow> {
    let mut conn = sqlx::PgConnection::connect(common::PG_URL).await.unwrap();
    sqlx::raw_sql(sql).fetch_all(&mut conn).await.unwrap()
}

async fn my_admin(sql: &'static str) -> Vec<sqlx::mysql::MySqlRow> {
    let mut conn = sqlx::MySqlConnection::connect(common::MY_URL)
        .await
        .unwrap();
    sqlx::raw_sql(sql).fetch_all(&mut conn).await.unwrap()
}

fn write_policy(fx: &Fixture) -> squadron_agent::policy::Policy {
    let mut p = policy(&[fx.path()]);
    p.allow_write = true;
    p
}

#[tokio::test]
async fn postgres_rows_print_as_psql_csv() {
    if !up(5432) {
        return;
    }
    let fx = Fixture::new();
    let runner = fx.runner(policy(&[fx.path()]));
    let inv = fx.invocation("testsq", "pg_probe", &[("database", "main"), ("n", "41")]);
    let out = answer(&runner, "pg1", "testsq", &inv).await;
    assert_eq!(out.status, RunStatus::Ok, "{out:?}");
    assert_eq!(out.exit_code, Some(0));
    assert_eq!(
        out.stdout,
        "n,nothing,empty,quoted,flag,q,next,age\n1,,,\"a,b\",t,\"say \"\"hi\"\"\",42,00:05:00\n"
    );
    assert!(
        inv.canonical.starts_with("sql main: SELECT 1 AS n"),
        "{}",
        inv.canonical
    );

    // No rows: the header alone, as psql prints it.
    let inv = fx.invocation("testsq", "pg_zero", &[("database", "main")]);
    let out = answer(&runner, "pg2", "testsq", &inv).await;
    assert_eq!(
        (out.status, out.stdout.as_str()),
        (RunStatus::Ok, "relname,relpages\n"),
        "{out:?}"
    );
}

#[tokio::test]
async fn postgres_binds_stay_values() {
    if !up(5432) {
        return;
    }
    let fx = Fixture::new();
    let runner = fx.runner(policy(&[fx.path()]));
    for (i, value) in [
        "plain",
        "it's",
        "$sq0$; DROP TABLE pg_class; --",
        "$$ $sq0 $sq1$",
        "back\\slash \\x27",
        "x'); SELECT pg_sleep(10); --",
    ]
    .iter()
    .enumerate()
    {
        let inv = fx.invocation("testsq", "pg_echo", &[("database", "main"), ("v", value)]);
        let out = answer(&runner, &format!("pgb{i}"), "testsq", &inv).await;
        assert_eq!(out.status, RunStatus::Ok, "{value}: {out:?}");
        let expected_cell = if value.contains([',', '"']) {
            format!("\"{}\"", value.replace('"', "\"\""))
        } else {
            (*value).to_owned()
        };
        assert_eq!(
            out.stdout,
            format!("v,len\n{expected_cell},{}\n", value.chars().count()),
            "{value}"
        );
    }
}

#[tokio::test]
async fn postgres_writes_fail_in_the_read_only_transaction() {
    if !up(5432) {
        return;
    }
    pg_admin(
        "CREATE TABLE IF NOT EXISTS squadron_agent_probe (x int); DELETE FROM squadron_agent_probe",
    )
    .await;
    let fx = Fixture::new();
    let runner = fx.runner(write_policy(&fx));
    let inv = fx.invocation("testsq", "pg_insert", &[("database", "main")]);
    let out = answer(&runner, "pgw1", "testsq", &inv).await;
    assert_eq!(out.status, RunStatus::Error, "{out:?}");
    assert!(
        out.stderr
            .contains("cannot execute INSERT in a read-only transaction"),
        "{}",
        out.stderr
    );
    let rows = pg_admin("SELECT count(*) FROM squadron_agent_probe").await;
    let count: i64 = sqlx::Row::get(&rows[0], 0);
    assert_eq!(count, 0);

    let inv = fx.invocation("testsq", "pg_create", &[("database", "main")]);
    let out = answer(&runner, "pgw2", "testsq", &inv).await;
    assert_eq!(out.status, RunStatus::Error, "{out:?}");
    assert!(
        out.stderr.contains("read-only transaction"),
        "{}",
        out.stderr
    );
    let rows = pg_admin("SELECT to_regclass('squadron_agent_created') IS NULL").await;
    let absent: bool = sqlx::Row::get(&rows[0], 0);
    assert!(absent, "CREATE TABLE got through");

    // The pool is still usable after the failures.
    let inv = fx.invocation("testsq", "pg_zero", &[("database", "main")]);
    assert_eq!(
        answer(&runner, "pgw3", "testsq", &inv).await.status,
        RunStatus::Ok
    );
}

#[tokio::test]
async fn postgres_statement_timeout_is_the_tools() {
    if !up(5432) {
        return;
    }
    let fx = Fixture::new();
    let runner = fx.runner(policy(&[fx.path()]));
    let inv = fx.invocation("testsq", "pg_sleep", &[("database", "main")]);
    let started = std::time::Instant::now();
    let out = answer(&runner, "pgt1", "testsq", &inv).await;
    assert_eq!(out.status, RunStatus::Timeout, "{out:?}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn builtin_postgres_tools_run() {
    if !up(5432) {
        return;
    }
    let fx = Fixture::new();
    let runner = fx.runner(policy(&[fx.path()]));
    for tool in ["pg_connection_usage", "pg_settings", "pg_activity"] {
        let inv = fx.invocation("database", tool, &[("database", "main")]);
        let out = answer(&runner, &format!("bi-{tool}"), "database", &inv).await;
        assert_eq!(out.status, RunStatus::Ok, "{tool}: {out:?}");
        assert!(out.stdout.lines().count() >= 2, "{tool}: {}", out.stdout);
    }
}

#[tokio::test]
async fn mysql_rows_print_as_csv() {
    if !up(3306) {
        return;
    }
    let fx = Fixture::new();
    let runner = fx.runner(policy(&[fx.path()]));
    let inv = fx.invocation("testsq", "my_probe", &[("database", "shop"), ("n", "41")]);
    let out = answer(&runner, "my1", "testsq", &inv).await;
    assert_eq!(out.status, RunStatus::Ok, "{out:?}");
    assert_eq!(
        out.stdout,
        "n,nothing,empty,quoted,q,next\n1,,,\"a,b\",\"say \"\"hi\"\"\",42\n"
    );

    let inv = fx.invocation("testsq", "my_zero", &[("database", "shop")]);
    let out = answer(&runner, "my2", "testsq", &inv).await;
    assert_eq!(
        (out.status, out.stdout.as_str()),
        (RunStatus::Ok, "t\n"),
        "{out:?}"
    );

    for (i, value) in ["it's", "a\\'b", "'); DROP TABLE x; --"].iter().enumerate() {
        let inv = fx.invocation("testsq", "my_echo", &[("database", "shop"), ("v", value)]);
        let out = answer(&runner, &format!("myb{i}"), "testsq", &inv).await;
        assert_eq!(out.status, RunStatus::Ok, "{value}: {out:?}");
        assert_eq!(out.stdout, format!("v\n{value}\n"));
    }
}

#[tokio::test]
async fn mysql_writes_fail_even_ddl_that_commits_implicitly() {
    if !up(3306) {
        return;
    }
    my_admin("CREATE TABLE IF NOT EXISTS squadron_agent_probe (x int)").await;
    my_admin("DELETE FROM squadron_agent_probe").await;
    my_admin("DROP TABLE IF EXISTS squadron_agent_created").await;
    let fx = Fixture::new();
    let runner = fx.runner(write_policy(&fx));
    let inv = fx.invocation("testsq", "my_insert", &[("database", "shop")]);
    let out = answer(&runner, "myw1", "testsq", &inv).await;
    assert_eq!(out.status, RunStatus::Error, "{out:?}");
    assert!(out.stderr.contains("READ ONLY"), "{}", out.stderr);
    let inv = fx.invocation("testsq", "my_create", &[("database", "shop")]);
    let out = answer(&runner, "myw2", "testsq", &inv).await;
    assert_eq!(out.status, RunStatus::Error, "{out:?}");
    let rows = my_admin("SELECT (SELECT count(*) FROM squadron_agent_probe), (SELECT count(*) FROM information_schema.tables WHERE table_schema = 'test' AND table_name = 'squadron_agent_created')").await;
    let (inserted, created): (i64, i64) =
        (sqlx::Row::get(&rows[0], 0), sqlx::Row::get(&rows[0], 1));
    assert_eq!((inserted, created), (0, 0), "a write got through");
}

#[tokio::test]
async fn mysql_statement_timeout_is_the_tools() {
    if !up(3306) {
        return;
    }
    let fx = Fixture::new();
    let runner = fx.runner(policy(&[fx.path()]));
    let inv = fx.invocation("testsq", "my_sleep", &[("database", "shop")]);
    let started = std::time::Instant::now();
    let out = answer(&runner, "myt1", "testsq", &inv).await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    // MariaDB interrupts SLEEP() at max_statement_time.
    assert_eq!(out.status, RunStatus::Timeout, "{out:?}");
}

#[tokio::test]
async fn builtin_mysql_tools_run() {
    if !up(3306) {
        return;
    }
    let fx = Fixture::new();
    let runner = fx.runner(policy(&[fx.path()]));
    for tool in ["mysql_variables", "mysql_status", "mysql_processlist"] {
        let inv = fx.invocation("database", tool, &[("database", "shop")]);
        let out = answer(&runner, &format!("bi-{tool}"), "database", &inv).await;
        assert_eq!(out.status, RunStatus::Ok, "{tool}: {out:?}");
        assert!(out.stdout.lines().count() >= 2, "{tool}: {}", out.stdout);
    }
}

#[tokio::test]
async fn an_unreachable_database_is_an_error() {
    let fx = Fixture::new();
    let databases =
        squadron_agent::sql::Databases::new(&[squadron_agent::config::DatabaseConfig {
            name: "gone".into(),
            url: "postgres://postgres@127.0.0.1:1/test".into(),
        }]);
    let out = databases
        .run(
            "gone",
            "SELECT 1",
            &[],
            std::time::Duration::from_secs(2),
            1024,
        )
        .await;
    assert_eq!(out.status, RunStatus::Error, "{out:?}");
    assert!(out.stderr.starts_with("gone: "), "{}", out.stderr);
    drop(fx);
}
