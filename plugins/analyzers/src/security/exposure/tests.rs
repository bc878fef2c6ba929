//! Exposure, end to end: listeners, firewall and configuration in, findings out.

use squadron_core::{Entities, Severity};

use super::super::testkit::{diagnose, run, run_with, text};
use super::super::tool;

const SS_HEAD: &str = "Netid State  Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess\n";
const UFW_OFF: &str = "Status: inactive\n";
const IPT_EMPTY: &str = "Chain INPUT (policy ACCEPT 0 packets, 0 bytes)\n pkts bytes target     prot opt in     out     source               destination\n\nChain FORWARD (policy ACCEPT 0 packets, 0 bytes)\n pkts bytes target     prot opt in     out     source               destination\n";
const UFW_DENY: &str = "Status: active\nLogging: on (low)\nDefault: deny (incoming), allow (outgoing), disabled (routed)\nNew profiles: skip\n\nTo                         Action      From\n--                         ------      ----\n22/tcp                     ALLOW IN    Anywhere\n443/tcp                    ALLOW IN    Anywhere\n3306/tcp                   ALLOW IN    10.20.0.0/16\n";

fn ss(lines: &[&str]) -> String {
    let mut s = SS_HEAD.to_owned();
    for l in lines {
        s.push_str(l);
        s.push('\n');
    }
    s
}

fn firewall(ufw: &str) -> Vec<squadron_core::ToolRun> {
    vec![
        run(tool::UFW, "ufw status verbose", 0, ufw, ""),
        run(tool::IPTABLES, "iptables -L -n -v", 0, IPT_EMPTY, ""),
        run(tool::NFT, "nft list ruleset", 0, "", ""),
    ]
}

#[test]
fn redis_on_every_interface_without_firewall_or_password_is_critical() {
    let mut runs = vec![run(
        tool::SOCKETS,
        "ss -tulpn",
        0,
        &ss(&[
            "tcp   LISTEN 0      80         127.0.0.1:3306       0.0.0.0:*    users:((\"mysqld\",pid=901,fd=21))",
            "tcp   LISTEN 0      511          0.0.0.0:6380       0.0.0.0:*    users:((\"redis-server\",pid=1190,fd=6))",
            "tcp   LISTEN 0      128          0.0.0.0:2222       0.0.0.0:*    users:((\"sshd\",pid=700,fd=3))",
        ]),
        "",
    )];
    runs.extend(firewall(UFW_OFF));
    runs.push(run_with(
        tool::SERVICE_CONFIG,
        "read_file /etc/redis/redis.conf --tail=2000",
        &[("path", "/etc/redis/redis.conf")],
        0,
        "bind 0.0.0.0\nprotected-mode no\nport 6380\n",
        "",
    ));
    let mut e = Entities::new();
    let f = diagnose("exposure", &runs, &mut e, 0);
    assert_eq!(f[0].severity, Severity::Critical, "{f:#?}");
    assert!(f[0].title.contains("Redis (6380/tcp)"), "{}", f[0].title);
    assert!(f[0].title.contains("0.0.0.0:6380"), "{}", f[0].title);
    assert!(f[0].title.contains("without a password"), "{}", f[0].title);
    let all = text(&f);
    assert!(all.contains("bind 127.0.0.1 -::1"), "{all}");
    assert!(all.contains("sudo ufw deny 6380/tcp"), "{all}");
    assert!(all.contains("no host firewall"), "{all}");
    assert!(all.contains("mysqld on 127.0.0.1:3306"), "{all}");
    assert!(!all.contains("mysql/mariadb (3306"), "{all}");
}

#[test]
fn default_deny_firewall_turns_an_exposed_database_into_a_warning() {
    let mut runs = vec![run(
        tool::SOCKETS,
        "ss -tulpn",
        0,
        &ss(&[
            "tcp   LISTEN 0      4096         0.0.0.0:27017      0.0.0.0:*    users:((\"mongod\",pid=812,fd=11))",
        ]),
        "",
    )];
    runs.extend(firewall(UFW_DENY));
    let f = diagnose("exposure", &runs, &mut Entities::new(), 0);
    assert_eq!(f[0].severity, Severity::Warning, "{f:#?}");
    assert!(
        f[0].title.contains("only the firewall keeps it private"),
        "{}",
        f[0].title
    );
    assert!(
        f[0].evidence
            .iter()
            .any(|e| e.lines.iter().any(|l| l.starts_with("Default: deny"))),
        "{f:#?}"
    );
}

#[test]
fn a_port_open_to_one_network_only_says_which() {
    let mut runs = vec![run(
        tool::SOCKETS,
        "ss -tulpn",
        0,
        &ss(&[
            "tcp   LISTEN 0      151          0.0.0.0:3306       0.0.0.0:*    users:((\"mariadbd\",pid=1044,fd=21))",
        ]),
        "",
    )];
    runs.extend(firewall(UFW_DENY));
    let f = diagnose("exposure", &runs, &mut Entities::new(), 0);
    assert!(
        f[0].title.contains("lets in 10.20.0.0/16 only"),
        "{}",
        f[0].title
    );
    assert!(
        f[0].evidence
            .iter()
            .any(|e| e.lines.iter().any(|l| l.contains("3306/tcp"))),
        "{f:#?}"
    );
}

#[test]
fn docker_published_ports_are_open_whatever_ufw_says() {
    let mut runs = vec![run(
        tool::SOCKETS,
        "ss -tulpn",
        0,
        &ss(&[
            "tcp   LISTEN 0      4096         0.0.0.0:9200       0.0.0.0:*    users:((\"docker-proxy\",pid=3321,fd=4))",
        ]),
        "",
    )];
    runs.extend(firewall(UFW_DENY));
    let f = diagnose("exposure", &runs, &mut Entities::new(), 0);
    assert_eq!(f[0].severity, Severity::Critical, "{f:#?}");
    assert!(
        f[0].title.contains("Elasticsearch (9200/tcp)"),
        "{}",
        f[0].title
    );
    assert!(text(&f).contains("docker-user"), "{}", text(&f));
}

#[test]
fn unknown_public_programs_are_listed_for_review_and_loopback_ones_are_not() {
    let mut runs = vec![run(
        tool::SOCKETS,
        "ss -tulpn",
        0,
        &ss(&[
            "tcp   LISTEN 0      4096               *:9100             *:*    users:((\"node_exporter\",pid=640,fd=3))",
            "tcp   LISTEN 0      4096         0.0.0.0:7443       0.0.0.0:*    users:((\"weird-agent\",pid=4410,fd=9))",
            "tcp   LISTEN 0      511        127.0.0.1:6379       0.0.0.0:*    users:((\"redis-server\",pid=990,fd=6))",
        ]),
        "",
    )];
    runs.extend(firewall(UFW_OFF));
    let f = diagnose("exposure", &runs, &mut Entities::new(), 0);
    assert!(f.iter().all(|x| x.severity != Severity::Critical), "{f:#?}");
    let review = f
        .iter()
        .find(|x| x.title.starts_with("Also reachable"))
        .expect("review finding");
    assert!(
        review.title.contains("node_exporter (9100/tcp)"),
        "{}",
        review.title
    );
    assert!(
        review.title.contains("weird-agent (7443/tcp)"),
        "{}",
        review.title
    );
}

#[test]
fn the_port_the_user_asked_about_is_answered_even_when_it_is_fine() {
    let mut runs = vec![run(
        tool::SOCKETS,
        "ss -tulpn",
        0,
        &ss(&[
            "tcp   LISTEN 0      244        127.0.0.1:5432       0.0.0.0:*    users:((\"postgres\",pid=777,fd=5))",
        ]),
        "",
    )];
    runs.extend(firewall(UFW_DENY));
    let mut e = Entities::new();
    e.set("port", "5432");
    let f = diagnose("exposure", &runs, &mut e, 0);
    assert!(
        f.iter()
            .any(|x| x.title.contains("127.0.0.1:5432 only (loopback)")),
        "{f:#?}"
    );
    let mut e = Entities::new();
    e.set("port", "8080");
    let f = diagnose("exposure", &runs, &mut e, 0);
    assert!(
        f.iter().any(|x| x.title == "Nothing listens on port 8080"),
        "{f:#?}"
    );
}

#[test]
fn postgres_trusting_every_address_is_reported_from_its_config() {
    let mut runs = vec![run(
        tool::SOCKETS,
        "ss -tulpn",
        0,
        &ss(&[
            "tcp   LISTEN 0      244          0.0.0.0:5432       0.0.0.0:*    users:((\"postgres\",pid=777,fd=5))",
        ]),
        "",
    )];
    runs.extend(firewall(UFW_OFF));
    runs.push(run(
        tool::POSTGRES_LISTEN,
        "grep -rHsE x /etc/postgresql /var/lib/pgsql/data",
        0,
        "/etc/postgresql/15/main/postgresql.conf:listen_addresses = '*'\n/etc/postgresql/15/main/pg_hba.conf:host all all 0.0.0.0/0 trust\n",
        "",
    ));
    let f = diagnose("exposure", &runs, &mut Entities::new(), 0);
    assert!(
        f[0].title
            .starts_with("PostgreSQL (5432/tcp) is reachable from outside"),
        "{}",
        f[0].title
    );
    assert!(f[0].title.contains("without a password"), "{}", f[0].title);
    assert!(text(&f).contains("listen_addresses = 'localhost'"));
}
