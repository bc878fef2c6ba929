//! Shared test fixtures: a test squad written to a temp squads directory, and runners
//! and validators over it with a chosen policy.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use squadron_agent::config::DatabaseConfig;
use squadron_agent::exec::ExecEnv;
use squadron_agent::journal::Journal;
use squadron_agent::policy::{Catalog, Policy, Validator};
use squadron_agent::runner::{Outcome, Runner};
use squadron_agent::sql::Databases;
use squadron_core::squad::DbEngine;
use squadron_core::{Invocation, ToolOutput};

pub const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
pub const MY_URL: &str = "mysql://root@127.0.0.1:3306/test";

/// The test squad `testsq`: one tool of each kind and shape the tests need.
pub const TEST_SQUAD: &str = r#"
id = "testsq"
name = "Agent test squad"

[[tools]]
id = "echo"
kind = "exec"
argv = ["echo", "{word}"]
[tools.params]
word = { type = "string", required = true }

[[tools]]
id = "touch"
kind = "exec"
argv = ["touch", "{path}"]
[tools.params]
path = { type = "path", roots = ["/"], required = true }

[[tools]]
id = "touch_write"
kind = "exec"
access = "write"
argv = ["touch", "{path}"]
[tools.params]
path = { type = "path", roots = ["/"], required = true }

[[tools]]
id = "mktemp"
kind = "exec"
argv = ["mktemp", "-p", "{dir}"]
[tools.params]
dir = { type = "path", roots = ["/"], required = true }

[[tools]]
id = "nap"
kind = "exec"
timeout = "5s"
argv = ["sleep", "{secs}"]
[tools.params]
secs = { type = "int", min = 0, max = 10, default = 1 }

[[tools]]
id = "quick_nap"
kind = "exec"
timeout = "300ms"
argv = ["sleep", "{secs}"]
[tools.params]
secs = { type = "int", min = 0, max = 10, default = 5 }

[[tools]]
id = "seq"
kind = "exec"
max_output = "1KiB"
argv = ["seq", "1", "{n}"]
[tools.params]
n = { type = "int", min = 1, max = 1000000, required = true }

[[tools]]
id = "logtail"
kind = "read_file"
[tools.params]
path = { type = "path", roots = ["/"], required = true }
tail = { type = "int", min = 1, max = 1000, default = 3 }

[[tools]]
id = "pg_probe"
kind = "sql"
engine = "postgres"
query = """
SELECT 1 AS n, NULL::text AS nothing, '' AS empty, 'a,b' AS quoted, true AS flag,
       'say "hi"' AS q, $1::int + 1 AS next, interval '5 minutes' AS age
"""
binds = ["n"]
[tools.params]
n = { type = "int", min = 0, max = 1000, required = true }

[[tools]]
id = "pg_zero"
kind = "sql"
engine = "postgres"
query = "SELECT relname, relpages FROM pg_class WHERE false"

[[tools]]
id = "pg_echo"
kind = "sql"
engine = "postgres"
query = "SELECT $1::text AS v, length($1) AS len"
binds = ["v"]
[tools.params]
v = { type = "string", pattern = ".*", max_len = 200, required = true }

[[tools]]
id = "pg_insert"
kind = "sql"
engine = "postgres"
access = "write"
query = "INSERT INTO squadron_agent_probe VALUES (1)"

[[tools]]
id = "pg_create"
kind = "sql"
engine = "postgres"
access = "write"
query = "CREATE TABLE squadron_agent_created (x int)"

[[tools]]
id = "pg_sleep"
kind = "sql"
engine = "postgres"
timeout = "500ms"
query = "SELECT pg_sleep(5)"

[[tools]]
id = "my_probe"
kind = "sql"
engine = "mysql"
query = "SELECT 1 AS n, NULL AS nothing, '' AS empty, 'a,b' AS quoted, 'say \"hi\"' AS q, ? + 1 AS next"
binds = ["n"]
[tools.params]
n = { type = "int", min = 0, max = 1000, required = true }

[[tools]]
id = "my_zero"
kind = "sql"
engine = "mysql"
query = "SELECT table_name AS t FROM information_schema.tables WHERE 1 = 0"

[[tools]]
id = "my_echo"
kind = "sql"
engine = "mysql"
query = "SELECT ? AS v"
binds = ["v"]
[tools.params]
v = { type = "string", pattern = ".*", max_len = 200, required = true }

[[tools]]
id = "my_insert"
kind = "sql"
engine = "mysql"
access = "write"
query = "INSERT INTO squadron_agent_probe VALUES (1)"

[[tools]]
id = "my_create"
kind = "sql"
engine = "mysql"
access = "write"
query = "CREATE TABLE squadron_agent_created (x int)"

[[tools]]
id = "my_sleep"
kind = "sql"
engine = "mysql"
timeout = "500ms"
query = "SELECT SLEEP(5) AS slept"

[[tools]]
id = "web"
kind = "http"
max_output = "1KiB"
timeout = "2s"
url = "{base}/{page}"
[tools.params]
base = { type = "url", required = true }
page = { type = "enum", values = ["health", "moved", "big", "slow"], required = true }
"#;

/// A temp dir holding `squads/testsq/squad.toml`.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    catalog: std::sync::OnceLock<Catalog>,
}

impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let squad = dir.path().join("squads/testsq");
        std::fs::create_dir_all(&squad).unwrap();
        std::fs::write(squad.join("squad.toml"), TEST_SQUAD).unwrap();
        Fixture {
            dir,
            catalog: std::sync::OnceLock::new(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn squads_dir(&self) -> PathBuf {
        self.dir.path().join("squads")
    }

    /// Built-ins plus the test squad (loaded once: building every squad is slow in debug).
    pub fn catalog(&self) -> Catalog {
        self.catalog
            .get_or_init(|| Catalog::load(Some(&self.squads_dir())).unwrap())
            .clone()
    }

    /// Renders a tool of `squad` from the agent's own catalogue, as the server would.
    pub fn invocation(&self, squad: &str, tool: &str, args: &[(&str, &str)]) -> Invocation {
        let catalog = self.catalog();
        let tool = catalog
            .squad(squad)
            .unwrap_or_else(|| panic!("no squad {squad}"))
            .tool(tool)
            .unwrap_or_else(|| panic!("no tool {tool}"))
            .clone();
        tool.render(&args_map(args)).unwrap()
    }

    pub fn validator(&self, policy: Policy) -> Validator {
        Validator::new(self.catalog(), policy)
    }

    /// A runner with its journal in `<fixture>/state`.
    pub fn runner(&self, policy: Policy) -> Runner {
        self.runner_with_state(policy, &self.path().join("state"))
    }

    pub fn runner_with_state(&self, policy: Policy, state: &Path) -> Runner {
        let databases = Databases::new(&databases());
        Runner::new(
            self.validator(policy),
            Journal::open(state).unwrap(),
            4,
            ExecEnv::default(),
            databases,
        )
    }
}

pub fn args_map(args: &[(&str, &str)]) -> BTreeMap<String, String> {
    args.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The databases of the test policy: `main` (Postgres) and `shop` (MariaDB).
pub fn databases() -> Vec<DatabaseConfig> {
    vec![
        DatabaseConfig {
            name: "main".into(),
            url: PG_URL.into(),
        },
        DatabaseConfig {
            name: "shop".into(),
            url: MY_URL.into(),
        },
    ]
}

/// Every squad, read-only, files under `roots`, the two test databases.
pub fn policy(roots: &[&Path]) -> Policy {
    Policy {
        squads: vec!["*".into()],
        allow_write: false,
        max_output: 1 << 20,
        file_roots: roots.iter().map(|p| p.to_path_buf()).collect(),
        databases: [
            ("main".to_owned(), DbEngine::Postgres),
            ("shop".to_owned(), DbEngine::Mysql),
        ]
        .into_iter()
        .collect(),
    }
}

pub async fn answer(runner: &Runner, id: &str, squad: &str, inv: &Invocation) -> ToolOutput {
    match runner.handle(id, squad, inv).await {
        Outcome::Answer(out) => out,
        Outcome::AlreadyRunning => panic!("{id} reported as already running"),
    }
}

/// Whether something listens on a local TCP port (the test databases).
pub fn listening(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        std::time::Duration::from_millis(500),
    )
    .is_ok()
}
