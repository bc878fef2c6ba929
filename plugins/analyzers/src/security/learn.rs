//! Facts recorded between playbook steps, for the steps' `when` conditions and arguments.

use squadron_core::{Entities, ToolRun};

use super::exposure::{config_key, exposed};
use super::listeners;
use super::services::Risk;
use super::{tls, tool};

/// Services whose configuration the playbooks can read when they are exposed.
const CONFIG_READERS: &[&str] = &[
    "redis",
    "mysql",
    "postgres",
    "mongodb",
    "memcached",
    "elasticsearch",
    "docker",
];

/// Whether a run failed because the program or file is not there.
pub fn missing(run: &ToolRun) -> bool {
    let err = run.output.stderr.to_ascii_lowercase();
    run.output.exit_code == Some(127)
        || (!run.output.ok() && (err.contains("not found") || err.contains("no such file")))
}

/// Records what `run` taught.
pub fn learn(run: &ToolRun, entities: &mut Entities, message: &str) {
    match run.tool() {
        tool::SOCKETS => {
            for key in CONFIG_READERS {
                entities.remove(&format!("exposed_{key}"));
            }
            let all = listeners::parse(&run.output.stdout);
            for g in exposed(&all) {
                if let Some(s) = g
                    .service
                    .filter(|s| s.risk == Risk::Critical && CONFIG_READERS.contains(&s.key))
                {
                    // MariaDB and MySQL keep their server settings in different files
                    let mariadb = g.listeners.iter().any(|l| {
                        l.process
                            .as_deref()
                            .is_some_and(|p| p.starts_with("mariadb"))
                    });
                    let value = match s.key {
                        "mysql" if mariadb => "mariadb",
                        "mysql" => "mysql",
                        _ => "yes",
                    };
                    entities.set(format!("exposed_{}", s.key), value);
                }
            }
        }
        tool::SERVICE_CONFIG => {
            let redis = run.arg("path").and_then(config_key) == Some("redis");
            if redis && (!run.output.ok() || run.output.stdout.trim().is_empty()) {
                entities.set("redis_conf_missing", "yes");
            } else if redis {
                entities.remove("redis_conf_missing");
            }
        }
        tool::AUTH_FAILURES => {
            let readable = run.output.ok()
                || (run.output.exit_code == Some(1) && run.output.stderr.trim().is_empty());
            if readable {
                if let Some(path) = run.arg("log") {
                    entities.set("auth_log", path);
                }
                entities.remove("auth_log_missing");
            } else {
                entities.remove("auth_log");
                entities.set("auth_log_missing", "yes");
            }
        }
        tool::SSHD_T => {
            if run.output.ok() && run.output.stdout.contains("passwordauthentication") {
                entities.remove("sshd_t_failed");
            } else {
                entities.set("sshd_t_failed", "yes");
            }
        }
        tool::APT => {
            if missing(run) {
                entities.set("apt_unavailable", "yes");
            } else {
                entities.remove("apt_unavailable");
            }
        }
        tool::CERTBOT | tool::WEB_TLS => tls::learn(run, entities, message),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{run, run_with};
    use super::*;

    #[test]
    fn exposed_datastores_are_recorded_and_stale_ones_cleared() {
        let mut e = Entities::new();
        e.set("exposed_mongodb", "yes");
        let ss = "State  Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess\nLISTEN 0 511 0.0.0.0:6379 0.0.0.0:* users:((\"redis-server\",pid=1,fd=6))\nLISTEN 0 80 127.0.0.1:3306 0.0.0.0:* users:((\"mysqld\",pid=2,fd=3))\n";
        learn(&run(tool::SOCKETS, "ss -tulpn", 0, ss, ""), &mut e, "");
        assert_eq!(e.get("exposed_redis"), Some("yes"));
        assert!(!e.has("exposed_mysql"));
        let ss = "State  Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess\nLISTEN 0 80 0.0.0.0:3306 0.0.0.0:* users:((\"mariadbd\",pid=2,fd=3))\n";
        learn(&run(tool::SOCKETS, "ss -tulpn", 0, ss, ""), &mut e, "");
        assert_eq!(e.get("exposed_mysql"), Some("mariadb"));
        assert!(!e.has("exposed_redis"));
        assert!(!e.has("exposed_mongodb"));
    }

    #[test]
    fn a_missing_auth_log_sends_the_playbook_to_the_fallbacks() {
        let mut e = Entities::new();
        let gone = run_with(
            tool::AUTH_FAILURES,
            "grep -E x /var/log/auth.log",
            &[("log", "/var/log/auth.log")],
            2,
            "",
            "grep: /var/log/auth.log: No such file or directory\n",
        );
        learn(&gone, &mut e, "");
        assert!(e.has("auth_log_missing"));
        let secure = run_with(
            tool::AUTH_FAILURES,
            "grep -E x /var/log/secure",
            &[("log", "/var/log/secure")],
            1,
            "",
            "",
        );
        learn(&secure, &mut e, "");
        assert!(!e.has("auth_log_missing"));
        assert_eq!(e.get("auth_log"), Some("/var/log/secure"));
    }

    #[test]
    fn sshd_t_and_apt_failures_are_recorded() {
        let mut e = Entities::new();
        learn(
            &run(
                tool::SSHD_T,
                "sshd -T",
                1,
                "",
                "sshd: no hostkeys available -- exiting.\n",
            ),
            &mut e,
            "",
        );
        assert!(e.has("sshd_t_failed"));
        learn(
            &run(
                tool::APT,
                "apt list --upgradable",
                127,
                "",
                "apt: command not found\n",
            ),
            &mut e,
            "",
        );
        assert!(e.has("apt_unavailable"));
    }
}
