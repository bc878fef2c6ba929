//! Configuration readers: each exposed service's file in, problems out.

use super::*;

#[test]
fn redis_bound_everywhere_without_protection_or_password_is_open() {
    let conf = "# bind 127.0.0.1 -::1\nbind * -::*\n\nprotected-mode no\nport 6379\n# requirepass foobared\nmaxmemory 512mb\n";
    let f = read("redis", conf).expect("facts");
    assert_eq!(f.open, Some(true));
    assert!(f.lines.contains(&"bind * -::*".to_owned()), "{f:?}");
    assert!(f.lines.contains(&"protected-mode no".to_owned()), "{f:?}");
    assert!(!f.lines.iter().any(|l| l.contains("foobared")), "{f:?}");
    assert_eq!(f.problems.len(), 3, "{f:?}");
}

#[test]
fn redis_with_a_password_on_loopback_has_no_problem() {
    let conf = "bind 127.0.0.1 -::1\nprotected-mode yes\nrequirepass [REDACTED]\n";
    let f = read("redis", conf).expect("facts");
    assert_eq!(f.open, Some(false));
    assert!(f.problems.is_empty(), "{f:?}");
    assert!(f.lines.contains(&"requirepass [set]".to_owned()));
}

#[test]
fn redis_protected_mode_keeps_remote_clients_out_without_password() {
    let f = read("redis", "bind 0.0.0.0\nprotected-mode yes\n").expect("facts");
    assert_eq!(f.open, Some(false));
    assert_eq!(f.problems.len(), 2, "{f:?}");
}

#[test]
fn mysql_bind_address_read_from_grep_output() {
    let out = "/etc/mysql/mariadb.conf.d/50-server.cnf:bind-address            = 0.0.0.0\n/etc/mysql/mariadb.conf.d/50-server.cnf:port = 3306\n";
    let f = read("mysql", out).expect("facts");
    assert_eq!(
        f.lines,
        vec!["bind-address            = 0.0.0.0".to_owned()]
    );
    assert_eq!(f.problems.len(), 1);
    let f = read("mysql", "/etc/mysql/my.cnf:port = 3306\n").expect("facts");
    assert!(f.problems[0].contains("no `bind-address`"), "{f:?}");
}

#[test]
fn postgres_listen_star_and_trust_from_anywhere() {
    let out = "/etc/postgresql/16/main/postgresql.conf:listen_addresses = '*'\t\t# what IP address(es) to listen on;\n/etc/postgresql/16/main/pg_hba.conf:host    all             all             0.0.0.0/0               trust\n/etc/postgresql/16/main/pg_hba.conf:host    all             all             127.0.0.1/32            scram-sha-256\n";
    let f = read("postgres", out).expect("facts");
    assert_eq!(f.open, Some(true));
    assert_eq!(f.problems.len(), 2, "{f:?}");
}

#[test]
fn mongodb_memcached_elasticsearch_and_docker() {
    let m = read("mongodb", "net:\n  port: 27017\n  bindIp: 0.0.0.0\n").expect("facts");
    assert_eq!(m.open, Some(true));
    let m = read(
        "mongodb",
        "net:\n  bindIp: 127.0.0.1\nsecurity:\n  authorization: enabled\n",
    )
    .expect("facts");
    assert_eq!(m.open, Some(false));
    assert!(m.problems.is_empty(), "{m:?}");
    let c = read("memcached", "-d\n-m 64\n-p 11211\n-u memcache\n").expect("facts");
    assert!(c.problems[0].contains("no `-l`"), "{c:?}");
    let c = read("memcached", "-m 64\n-l 127.0.0.1\n").expect("facts");
    assert!(c.problems.is_empty(), "{c:?}");
    let e = read(
        "elasticsearch",
        "network.host: 0.0.0.0\nxpack.security.enabled: false\n",
    )
    .expect("facts");
    assert_eq!(e.open, Some(true));
    let d = read(
        "docker",
        "{\n  \"hosts\": [\"unix:///var/run/docker.sock\", \"tcp://0.0.0.0:2375\"]\n}\n",
    )
    .expect("facts");
    assert_eq!(d.open, Some(true));
    assert_eq!(read("unknown", "x"), None);
}
