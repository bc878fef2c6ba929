//! Each parameter type's good and bad values, including the classic injection attempts.

use super::*;
use crate::manifest::ParamManifest;

fn ty(kind: &str) -> ParamType {
    ParamType::from_manifest(&manifest(kind)).expect("valid type")
}

fn manifest(kind: &str) -> ParamManifest {
    ParamManifest {
        kind: kind.into(),
        required: false,
        default: None,
        min: None,
        max: None,
        values: None,
        pattern: None,
        max_len: None,
        roots: None,
        allow_dash: false,
        description: String::new(),
    }
}

/// Values no parameter of any type may take.
const HOSTILE: &[&str] = &[
    "--server=http://x",
    "-n",
    "-",
    "--kubeconfig=/tmp/k",
    "\u{2014}server=http://x",
    "\u{2013}n",
    "\u{2212}n",
    "a\nb",
    "a\0b",
    "a\rb",
];

fn every_type() -> Vec<(&'static str, ParamType)> {
    let mut path = manifest("path");
    path.roots = Some(vec!["/var/log".into()]);
    let mut en = manifest("enum");
    en.values = Some(vec!["mysql".into(), "mariadb".into()]);
    let mut int = manifest("int");
    int.min = Some(1);
    int.max = Some(5000);
    vec![
        ("k8s_name", ty("k8s_name")),
        ("int", ParamType::from_manifest(&int).expect("int")),
        ("bool", ty("bool")),
        ("enum", ParamType::from_manifest(&en).expect("enum")),
        ("duration", ty("duration")),
        ("string", ty("string")),
        ("path", ParamType::from_manifest(&path).expect("path")),
        ("url", ty("url")),
        ("hostname", ty("hostname")),
        ("host_port", ty("host_port")),
        ("ident", ty("ident")),
    ]
}

#[test]
fn no_type_accepts_an_option_or_a_control_character() {
    for (name, t) in every_type() {
        for bad in HOSTILE {
            assert!(t.check(bad).is_err(), "{name} accepted {bad:?}");
        }
    }
}

#[test]
fn no_type_accepts_ten_kilobytes() {
    let long = "a".repeat(10 * 1024);
    for (name, t) in every_type() {
        let err = t.check(&long).expect_err(name);
        assert!(
            err.contains("bytes long") || err.contains("not"),
            "{name}: {err}"
        );
    }
}

#[test]
fn no_type_accepts_command_substitution() {
    for (name, t) in every_type() {
        for bad in ["$(id)", "`id`", "a;id", "a|id", "a && id", "${IFS}"] {
            assert!(t.check(bad).is_err(), "{name} accepted {bad:?}");
        }
    }
}

#[test]
fn k8s_names_follow_dns_1123() {
    let t = ty("k8s_name");
    assert_eq!(
        t.check("payment-service-7d8f9c").as_deref(),
        Ok("payment-service-7d8f9c")
    );
    assert!(t.check("kube-root-ca.crt").is_ok());
    for bad in [
        "Payment", "pod_name", "pod-", ".pod", "a b", "pod/x", "", "ρod",
    ] {
        assert!(t.check(bad).is_err(), "accepted {bad:?}");
    }
    assert!(t.check(&"a".repeat(254)).is_err());
}

#[test]
fn ints_stay_in_range_and_are_canonical() {
    let mut m = manifest("int");
    m.min = Some(1);
    m.max = Some(5000);
    let t = ParamType::from_manifest(&m).expect("int");
    assert_eq!(t.check("200").as_deref(), Ok("200"));
    assert_eq!(t.check("007").as_deref(), Ok("7"));
    for bad in [
        "0",
        "5001",
        "-1",
        "+5",
        "1e3",
        "12abc",
        " 5",
        "99999999999999999999",
    ] {
        assert!(t.check(bad).is_err(), "accepted {bad:?}");
    }
}

#[test]
fn negative_ints_are_allowed_only_when_min_is_negative() {
    let mut m = manifest("int");
    m.min = Some(-10);
    m.max = Some(10);
    let t = ParamType::from_manifest(&m).expect("int");
    assert_eq!(t.check("-3").as_deref(), Ok("-3"));
    assert!(t.allows_dash());
}

#[test]
fn bools_have_one_spelling() {
    let t = ty("bool");
    assert_eq!(t.check("yes").as_deref(), Ok("true"));
    assert_eq!(t.check("FALSE").as_deref(), Ok("false"));
    assert!(t.check("maybe").is_err());
}

#[test]
fn enums_accept_only_their_values() {
    let mut m = manifest("enum");
    m.values = Some(vec!["mysql".into(), "mariadb".into()]);
    let t = ParamType::from_manifest(&m).expect("enum");
    assert!(t.check("mysql").is_ok());
    assert!(t.check("MySQL").is_err());
    assert!(t.check("postgresql").is_err());
}

#[test]
fn durations_are_normalised() {
    let t = ty("duration");
    assert_eq!(t.check("300s").as_deref(), Ok("5m"));
    assert!(t.check("5 minutes").is_err());
    assert!(t.check("-5m").is_err());
}

#[test]
fn strings_match_their_whole_pattern() {
    let mut m = manifest("string");
    m.pattern = Some("[a-z]+".into());
    m.max_len = Some(8);
    let t = ParamType::from_manifest(&m).expect("string");
    assert!(t.check("abc").is_ok());
    assert!(t.check("abc1").is_err(), "the pattern is anchored");
    assert!(t.check("abcdefghi").is_err(), "max_len");
    let default = ty("string");
    assert!(default.check("user@example.com").is_ok());
    assert!(default.check("a b").is_err());
}

#[test]
fn strings_may_allow_a_leading_dash_only_when_declared() {
    let mut m = manifest("string");
    m.pattern = Some("-?[0-9]+h".into());
    m.allow_dash = true;
    let t = ParamType::from_manifest(&m).expect("string");
    assert!(t.check("-24h").is_ok());
}

#[test]
fn paths_stay_under_their_roots() {
    let mut m = manifest("path");
    m.roots = Some(vec!["/var/log".into(), "/var/www".into()]);
    let t = ParamType::from_manifest(&m).expect("path");
    assert!(t.check("/var/log/auth.log").is_ok());
    assert!(t.check("/var/www/html/wp-content/debug.log").is_ok());
    for bad in [
        "/var/logs/x",
        "/var/log/../../etc/shadow",
        "/var/log/./x",
        "var/log/x",
        "/etc/shadow",
        "/var//log/x",
    ] {
        assert!(t.check(bad).is_err(), "accepted {bad:?}");
    }
}

#[test]
fn urls_are_http_without_credentials() {
    let t = ty("url");
    assert!(t.check("https://shop.example.com/wp-admin/").is_ok());
    assert!(t.check("http://127.0.0.1:8080/healthz?x=1").is_ok());
    for bad in [
        "file:///etc/passwd",
        "https://user:pw@example.com/",
        "gopher://x",
        "https://exa mple.com",
        "javascript:alert(1)",
    ] {
        assert!(t.check(bad).is_err(), "accepted {bad:?}");
    }
}

#[test]
fn hosts_and_ports() {
    assert!(ty("hostname").check("shop.example.com").is_ok());
    assert!(ty("hostname").check("shop..example.com").is_err());
    assert!(ty("host_port").check("shop.example.com:443").is_ok());
    assert!(ty("host_port").check("shop.example.com:0").is_err());
    assert!(ty("host_port").check("shop.example.com").is_err());
    assert!(ty("ident").check("ordersdb").is_ok());
    assert!(ty("ident").check("orders db").is_err());
}

#[test]
fn unknown_types_and_bad_declarations_are_refused() {
    assert!(ParamType::from_manifest(&manifest("float")).is_err());
    assert!(ParamType::from_manifest(&manifest("enum")).is_err());
    assert!(ParamType::from_manifest(&manifest("path")).is_err());
    let mut m = manifest("string");
    m.pattern = Some("([a-z]".into());
    assert!(ParamType::from_manifest(&m).is_err());
    let mut m = manifest("int");
    m.min = Some(5);
    m.max = Some(1);
    assert!(ParamType::from_manifest(&m).is_err());
}
