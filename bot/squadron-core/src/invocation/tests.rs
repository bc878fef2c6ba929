//! Rendering: values validated, templates filled, canonical lines as SPEC section 5 says.

use std::collections::BTreeMap;

use crate::squad::{BuildContext, Squad};

const SQUAD: &str = r#"
id = "t"
name = "T"

[[tools]]
id = "pod_logs"
kind = "exec"
argv = ["kubectl", "logs", "{pod}", "--namespace={namespace}", "--tail={tail}", "--previous={previous}"]
[tools.params]
pod       = { type = "k8s_name", required = true }
namespace = { type = "k8s_name", default = "default" }
tail      = { type = "int", min = 1, max = 5000, default = 200 }
previous  = { type = "bool", default = false }

[[tools]]
id = "grep_auth"
kind = "exec"
argv = ["grep", "-E", "Failed password|Invalid user", "{path}"]
[tools.params]
path = { type = "path", roots = ["/var/log"], default = "/var/log/auth.log" }

[[tools]]
id = "blocking"
kind = "sql"
engine = "postgres"
query = """
SELECT pid, state
  FROM pg_stat_activity
 WHERE usename = $1"""
binds = ["user"]
[tools.params]
user = { type = "ident", required = true }

[[tools]]
id = "debug_log"
kind = "read_file"
[tools.params]
path = { type = "path", roots = ["/var/www", "/var/log"], required = true }
tail = { type = "int", min = 1, max = 5000, default = 200 }

[[tools]]
id = "home"
kind = "http"
url = "{site}/wp-login.php"
[tools.params]
site = { type = "url", required = true }
"#;

fn squad() -> Squad {
    let cx = BuildContext {
        file: "t.toml",
        prompt_exists: &|_| true,
        analyzer_exists: &|_| true,
    };
    Squad::from_toml(SQUAD, &cx).expect("builds")
}

fn args(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn exec_canonical_line_matches_the_spec_example() {
    let s = squad();
    let inv = s.tool("pod_logs").expect("tool").render(&args(&[
        ("pod", "payment-service-7d8f9c"),
        ("namespace", "production"),
        ("previous", "true"),
    ]));
    let inv = inv.expect("renders");
    assert_eq!(
        inv.canonical,
        "kubectl logs payment-service-7d8f9c --namespace=production --tail=200 --previous=true"
    );
}

#[test]
fn exec_words_are_shell_quoted() {
    let s = squad();
    let inv = s
        .tool("grep_auth")
        .expect("tool")
        .render(&args(&[]))
        .expect("renders");
    assert_eq!(
        inv.canonical,
        "grep -E 'Failed password|Invalid user' /var/log/auth.log"
    );
}

#[test]
fn sql_canonical_line_collapses_whitespace_and_lists_binds() {
    let s = squad();
    let inv = s
        .tool("blocking")
        .expect("tool")
        .render(&args(&[("database", "shopdb"), ("user", "shop_app")]))
        .expect("renders");
    assert_eq!(
        inv.canonical,
        "sql shopdb: SELECT pid, state FROM pg_stat_activity WHERE usename = $1 -- binds: $1=shop_app"
    );
}

#[test]
fn read_file_and_http_canonical_lines() {
    let s = squad();
    let inv = s
        .tool("debug_log")
        .expect("tool")
        .render(&args(&[
            ("path", "/var/www/html/wp-content/debug.log"),
            ("tail", "300"),
        ]))
        .expect("renders");
    assert_eq!(
        inv.canonical,
        "read_file /var/www/html/wp-content/debug.log --tail=300"
    );
    let inv = s
        .tool("home")
        .expect("tool")
        .render(&args(&[("site", "https://shop.example.com")]))
        .expect("renders");
    assert_eq!(
        inv.canonical,
        "http GET https://shop.example.com/wp-login.php"
    );
}

#[test]
fn option_injection_through_a_value_is_refused() {
    let s = squad();
    let tool = s.tool("pod_logs").expect("tool");
    for bad in [
        "--server=http://x",
        "-n",
        "$(id)",
        "\u{2014}server",
        &"a".repeat(10240),
    ] {
        let err = tool.render(&args(&[("pod", bad)])).expect_err(bad);
        assert!(err.to_string().starts_with("parameter `pod`:"), "{err}");
    }
    let err = tool
        .render(&args(&[
            ("pod", "web"),
            ("namespace", "--kubeconfig=/tmp/x"),
        ]))
        .expect_err("namespace");
    assert!(err.to_string().contains("namespace"), "{err}");
}

#[test]
fn missing_unknown_and_out_of_root_arguments_are_refused() {
    let s = squad();
    let tool = s.tool("pod_logs").expect("tool");
    assert_eq!(
        tool.render(&args(&[])).expect_err("missing").to_string(),
        "tool `pod_logs` needs parameter `pod`"
    );
    assert_eq!(
        tool.render(&args(&[("pod", "web"), ("follow", "true")]))
            .expect_err("unknown")
            .to_string(),
        "tool `pod_logs` has no parameter `follow`"
    );
    let rf = s.tool("debug_log").expect("tool");
    assert!(rf.render(&args(&[("path", "/etc/shadow")])).is_err());
    assert!(
        rf.render(&args(&[("path", "/var/log/../../etc/shadow")]))
            .is_err()
    );
    let sql = s.tool("blocking").expect("tool");
    assert!(
        sql.render(&args(&[("user", "x")])).is_err(),
        "database is required"
    );
    assert!(
        sql.render(&args(&[("database", "db; drop"), ("user", "x")]))
            .is_err()
    );
}

#[test]
fn invocations_round_trip_through_json() {
    let s = squad();
    let inv = s
        .tool("pod_logs")
        .expect("tool")
        .render(&args(&[("pod", "web")]))
        .expect("renders");
    let json = serde_json::to_string(&inv).expect("serializes");
    let back: crate::Invocation = serde_json::from_str(&json).expect("parses");
    assert_eq!(back, inv);
}

#[test]
fn words_are_quoted_only_where_a_shell_needs_it() {
    use crate::invocation::quote;
    assert_eq!(quote("--namespace=production"), "--namespace=production");
    assert_eq!(quote("a b"), "'a b'");
    assert_eq!(quote("it's"), "'it'\\''s'");
    assert_eq!(quote(""), "''");
    assert_eq!(quote("{{.metadata.name}}"), "'{{.metadata.name}}'");
    assert_eq!(quote("~root"), "'~root'");
}
