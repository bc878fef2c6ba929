//! sudo: sudoers rules and auth-log lines in, grants and refusals out.

use squadron_core::{Entities, Severity};

use super::super::testkit::{diagnose, run, text};
use super::super::tool;
use super::*;

#[test]
fn blanket_and_passwordless_rules_are_graded() {
    let sudoers = "Defaults\tenv_reset\nDefaults\tsecure_path=\"/usr/local/sbin:/usr/bin\"\nroot\tALL=(ALL:ALL) ALL\n%sudo\tALL=(ALL:ALL) ALL\nALL ALL=(ALL) ALL\n#includedir /etc/sudoers.d\n";
    let g = grants(sudoers);
    assert_eq!(g.len(), 1, "{g:#?}");
    assert_eq!(g[0].severity, Severity::Critical);
    let dropins = "/etc/sudoers.d/90-cloud-init-users:ubuntu ALL=(ALL) NOPASSWD:ALL\n/etc/sudoers.d/deploy:deploy ALL=(root) NOPASSWD: /usr/bin/systemctl restart app, /usr/bin/vim /etc/app.conf\n/etc/sudoers.d/backup:backup ALL=(root) NOPASSWD: /usr/bin/rsync -a /srv/ /backup/\n";
    let g = grants(dropins);
    assert_eq!(g.len(), 2, "{g:#?}");
    assert_eq!(g[0].who, "ubuntu");
    assert_eq!(g[0].severity, Severity::Warning);
    assert!(g[1].why.contains("/usr/bin/vim"), "{}", g[1].why);
    assert!(!g[1].why.contains("rsync"));
}

#[test]
fn defaults_that_disable_authentication_or_keep_ld_preload_are_critical() {
    let g = grants("Defaults !authenticate\nDefaults env_keep += \"LD_PRELOAD\"\n");
    assert_eq!(g.len(), 2);
    assert!(g.iter().all(|x| x.severity == Severity::Critical));
}

#[test]
fn auth_log_lines_give_commands_and_refusals() {
    let log = "Apr  2 10:01:02 db1 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl restart postgresql
Apr  2 10:05:00 db1 sudo[4121]:    mallory : user NOT in sudoers ; TTY=pts/1 ; PWD=/home/mallory ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow
Apr  2 10:05:30 db1 sudo:    mallory : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/home/mallory ; USER=root ; COMMAND=/bin/bash
Apr  2 10:06:00 db1 sudo: pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)
";
    let e = events(log);
    assert_eq!(e.len(), 3);
    assert_eq!(e[0].refusal, None);
    assert_eq!(e[1].user, "mallory");
    assert_eq!(e[1].refusal.as_deref(), Some("user NOT in sudoers"));
    assert_eq!(e[2].command.as_deref(), Some("/bin/bash"));
}

#[test]
fn refused_users_and_root_shells_are_reported() {
    let log = "Apr  2 10:01:02 db1 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/bash
Apr  2 10:05:00 db1 sudo:    mallory : user NOT in sudoers ; TTY=pts/1 ; PWD=/home/mallory ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow
";
    let runs = vec![run(
        tool::SUDO_LOG,
        "grep -E 'sudo(\\[[0-9]+\\])?:' /var/log/auth.log",
        0,
        log,
        "",
    )];
    let f = diagnose("hardening", &runs, &mut Entities::new(), 0);
    assert!(
        f.iter().any(
            |x| x.title == "mallory was refused by sudo 1 times (1 without permission)"
                && x.severity == Severity::Warning
        ),
        "{f:#?}"
    );
    let all = text(&f);
    assert!(
        all.contains("root shells opened through sudo: alice ×1"),
        "{all}"
    );
    assert!(all.contains("/usr/bin/cat /etc/shadow"), "{all}");
}
