//! Failed logins, end to end: auth log lines in, attack, compromise or calm out.

use squadron_core::{Entities, Severity, ToolRun};

use super::super::authlog;
use super::super::testkit::{diagnose, run, text};
use super::super::tool;
use super::by_source;

const GREP: &str = "grep -E 'Failed|Invalid user' /var/log/secure";

/// `n` password guesses from `ip`, one connection per three, one user name per connection.
fn guesses(ip: &str, n: usize, users: &[&str], start_min: usize) -> String {
    let mut out = String::new();
    for i in 0..n {
        let pid = 20_000 + i / 3;
        let user = users[(i / 3) % users.len()];
        let (min, sec) = (start_min + i / 6, (i * 9) % 60);
        let invalid = if user == "root" { "" } else { "invalid user " };
        out.push_str(&format!(
            "Mar  4 02:{min:02}:{sec:02} bastion sshd[{pid}]: Failed password for {invalid}{user} from {ip} port {} ssh2\n",
            40_000 + i
        ));
    }
    out
}

fn sshd_t(passwords: &str) -> ToolRun {
    run(
        tool::SSHD_T,
        "sshd -T",
        0,
        &format!(
            "port 22\nmaxauthtries 6\npermitrootlogin prohibit-password\npasswordauthentication {passwords}\nkbdinteractiveauthentication no\nusepam yes\npermitemptypasswords no\n"
        ),
        "",
    )
}

#[test]
fn one_address_trying_many_names_is_a_brute_force_attack() {
    let runs = vec![
        run(
            tool::AUTH_FAILURES,
            GREP,
            0,
            &guesses(
                "192.0.2.44",
                60,
                &["root", "admin", "oracle", "git", "test"],
                10,
            ),
            "",
        ),
        run(
            tool::AUTH_ACCEPTED,
            "grep Accepted /var/log/secure",
            0,
            "Mar  4 08:00:01 bastion sshd[999]: Accepted publickey for alice from 198.51.100.9 port 5000 ssh2: ED25519 SHA256:abc\n",
            "",
        ),
        sshd_t("yes"),
        run(
            tool::FAIL2BAN,
            "fail2ban-client status sshd",
            127,
            "",
            "fail2ban-client: command not found\n",
        ),
        run(tool::UFW, "ufw status verbose", 0, "Status: inactive\n", ""),
    ];
    let f = diagnose("ssh_bruteforce", &runs, &mut Entities::new(), 0);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].severity, Severity::Critical);
    assert!(
        f[0].title.starts_with(
            "SSH brute-force attack from 192.0.2.44: 60 failed logins for 5 user names"
        ),
        "{}",
        f[0].title
    );
    assert!(f[0].title.ends_with("none succeeded"), "{}", f[0].title);
    let all = text(&f);
    assert!(
        all.contains("successful logins came from 198.51.100.9 (alice by publickey)"),
        "{all}"
    );
    assert!(
        all.contains("sudo iptables -i input -s 192.0.2.44 -j drop"),
        "{all}"
    );
    assert!(all.contains("passwordauthentication no"), "{all}");
    assert!(all.contains("apt install fail2ban"), "{all}");
    assert!(!all.contains("accepted publickey"), "{all}");
}

#[test]
fn an_attacker_that_gets_in_is_a_compromise() {
    let mut log = guesses("203.0.113.200", 15, &["deploy"], 30);
    log.push_str("Mar  4 02:40:10 bastion sshd[31000]: Accepted password for deploy from 203.0.113.200 port 51000 ssh2\n");
    let runs = vec![
        run(
            tool::SSH_JOURNAL,
            "journalctl --unit=ssh --unit=sshd --no-pager --lines=5000",
            0,
            &log,
            "",
        ),
        sshd_t("yes"),
    ];
    let f = diagnose("ssh_bruteforce", &runs, &mut Entities::new(), 0);
    assert_eq!(f[0].severity, Severity::Critical);
    assert!(f[0].title.starts_with("Possible compromise: 203.0.113.200 logged in as deploy (password) after 15 failed attempts"), "{}", f[0].title);
    assert!(
        f[0].evidence[0].lines[0].contains("Accepted password for deploy"),
        "{f:#?}"
    );
    assert!(text(&f).contains("passwd -l"));
    assert!(
        !f.iter().any(|x| x.title.contains("none succeeded")),
        "{f:#?}"
    );
}

#[test]
fn a_keys_only_host_counts_one_attempt_per_connection_and_only_warns() {
    let mut log = String::new();
    for i in 0..14 {
        log.push_str(&format!("Mar  4 05:{i:02}:01 web sshd[{p}]: Invalid user u{i} from 198.18.0.7 port {q}\nMar  4 05:{i:02}:02 web sshd[{p}]: Connection closed by invalid user u{i} 198.18.0.7 port {q} [preauth]\n", p = 500 + i, q = 30000 + i));
    }
    let runs = vec![run(tool::AUTH_FAILURES, GREP, 0, &log, ""), sshd_t("no")];
    let f = diagnose("ssh_bruteforce", &runs, &mut Entities::new(), 0);
    assert_eq!(f[0].severity, Severity::Warning, "{f:#?}");
    assert!(
        f[0].title
            .contains("198.18.0.7: 14 failed logins for 14 user names"),
        "{}",
        f[0].title
    );
    assert!(text(&f).contains("keys only"), "{}", text(&f));
}

#[test]
fn many_addresses_each_below_the_threshold_are_a_distributed_attack() {
    let mut log = String::new();
    for (n, ip) in [
        "192.0.2.1",
        "192.0.2.2",
        "192.0.2.3",
        "192.0.2.4",
        "192.0.2.5",
        "192.0.2.6",
    ]
    .iter()
    .enumerate()
    {
        log.push_str(&guesses(ip, 6, &["root"], n * 5));
    }
    let f = diagnose(
        "ssh_bruteforce",
        &[run(tool::AUTH_FAILURES, GREP, 0, &log, "")],
        &mut Entities::new(),
        0,
    );
    assert!(
        f[0].title
            .starts_with("Distributed SSH password guessing: 36 failed logins from 6 addresses"),
        "{}",
        f[0].title
    );
}

#[test]
fn a_few_typos_are_not_an_attack() {
    let log = "Mar  4 09:00:01 web sshd[7]: Failed password for alice from 10.1.2.3 port 5 ssh2\nMar  4 09:00:09 web sshd[7]: Accepted password for alice from 10.1.2.3 port 5 ssh2\n";
    let f = diagnose(
        "ssh_bruteforce",
        &[run(tool::AUTH_FAILURES, GREP, 0, log, "")],
        &mut Entities::new(),
        0,
    );
    assert_eq!(f[0].severity, Severity::Info);
    assert!(
        f[0].title
            .starts_with("No brute force: 1 failed SSH logins from 1 addresses, 1 successful"),
        "{}",
        f[0].title
    );
}

#[test]
fn a_banned_attacker_gets_no_block_command() {
    let runs = vec![
        run(
            tool::AUTH_FAILURES,
            GREP,
            0,
            &guesses("192.0.2.99", 30, &["root"], 0),
            "",
        ),
        run(
            tool::FAIL2BAN,
            "fail2ban-client status sshd",
            0,
            "Status for the jail: sshd\n`- Actions\n   |- Currently banned:\t1\n   `- Banned IP list:\t192.0.2.99\n",
            "",
        ),
    ];
    let f = diagnose("ssh_bruteforce", &runs, &mut Entities::new(), 0);
    let all = text(&f);
    assert!(all.contains("fail2ban has banned 192.0.2.99"), "{all}");
    assert!(!all.contains("iptables -i input -s 192.0.2.99"), "{all}");
}

#[test]
fn lastb_alone_still_names_the_attacker() {
    let mut btmp = String::new();
    for _ in 0..25 {
        btmp.push_str("admin    ssh:notty    198.51.100.77    Tue Mar  4 02:10 - 02:10  (00:00)\n");
    }
    btmp.push_str("\nbtmp begins Sat Mar  1 00:00:01 2025\n");
    let runs = vec![
        run(
            tool::AUTH_FAILURES,
            GREP,
            2,
            "",
            "grep: /var/log/secure: No such file or directory\n",
        ),
        run(tool::LASTB, "lastb -i -w -n 1000", 0, &btmp, ""),
    ];
    let f = diagnose("ssh_bruteforce", &runs, &mut Entities::new(), 0);
    assert!(
        f[0].title.contains("198.51.100.77: 25 failed logins"),
        "{f:#?}"
    );
}

#[test]
fn peak_rate_and_users_are_counted_per_address() {
    let events = authlog::parse(&guesses("192.0.2.8", 12, &["root", "pi"], 0));
    let s = &by_source(&events)[0];
    assert_eq!(s.attempts, 12);
    assert_eq!(s.users.get("root"), Some(&6));
    assert_eq!(s.invalid_users.len(), 1);
    assert_eq!(s.peak, 12);
    assert_eq!(s.top_users(1), "pi ×6 and 1 more");
}

#[test]
fn a_login_before_the_attack_started_is_not_a_compromise() {
    let mut log = "Mar  4 01:00:00 bastion sshd[100]: Accepted publickey for ops from 192.0.2.44 port 1000 ssh2: ED25519 SHA256:k\n".to_owned();
    log.push_str(&guesses("192.0.2.44", 20, &["root"], 10));
    let f = diagnose(
        "ssh_bruteforce",
        &[run(tool::AUTH_FAILURES, GREP, 0, &log, "")],
        &mut Entities::new(),
        0,
    );
    assert!(!f.iter().any(|x| x.title.contains("compromise")), "{f:#?}");
    assert!(f[0].title.ends_with("none succeeded"), "{}", f[0].title);
}

#[test]
fn weak_sshd_settings_get_their_own_finding_outside_an_attack() {
    let f = diagnose("hardening", &[sshd_t("yes")], &mut Entities::new(), 0);
    assert_eq!(f[0].severity, Severity::Warning);
    assert!(
        f[0].title.starts_with(
            "sshd allows password guessing or root logins: passwordauthentication yes"
        ),
        "{}",
        f[0].title
    );
    assert!(text(&f).contains("00-hardening.conf"));
}
