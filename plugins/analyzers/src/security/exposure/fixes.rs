//! The fixes for an exposed service: its own configuration (bind to loopback, require
//! credentials), then a firewall rule in the tool the host already uses.

use squadron_core::Finding;

use super::super::firewall::Firewall;
use super::super::services::Service;

/// Adds the configuration fix for the service.
pub fn config_fix(
    f: Finding,
    service: Option<&Service>,
    port: u16,
    config_path: Option<&str>,
) -> Finding {
    let key = service.map_or("", |s| s.key);
    let name = service.map_or("the service", |s| s.name);
    match key {
        "redis" => {
            let path = config_path.unwrap_or("/etc/redis/redis.conf");
            f.fix_with_code(
                format!("Bind Redis to loopback, keep protected mode on and require a password in `{path}`, then restart it (`sudo systemctl restart redis-server`, or `redis` on RHEL) and give the clients the password:"),
                "ini",
                "bind 127.0.0.1 -::1\nprotected-mode yes\nrequirepass <long random secret, e.g. from: openssl rand -hex 32>\n# better on Redis 6+: ACL users instead of one shared password\nrename-command CONFIG \"\"",
            )
            .fix("Treat the data as exposed: check `redis-cli CONFIG GET dir` and `CONFIG GET dbfilename` for unexpected values, look for unknown keys, `~redis/.ssh/authorized_keys` and new cron entries, and rotate anything secret the cache held.")
        }
        "mysql" => f.fix_with_code(
            format!("Bind the server to loopback (or the private interface the application uses) under `[mysqld]` in {}, then `sudo systemctl restart mysql` (or `mariadb`):", config_path.map_or("its config file".to_owned(), |p| format!("`{p}`"))),
            "ini",
            "[mysqld]\nbind-address = 127.0.0.1",
        ),
        "postgres" => f.fix_with_code(
            "Listen on loopback (or the private interface) in postgresql.conf, allow only the application's network in pg_hba.conf with scram-sha-256, then `sudo systemctl restart postgresql`:",
            "ini",
            "listen_addresses = 'localhost'\n# pg_hba.conf\nhost  all  all  10.0.0.0/24  scram-sha-256   # the application's subnet, never 0.0.0.0/0",
        ),
        "mongodb" => f.fix_with_code(
            "Bind MongoDB to loopback and turn on authorization in /etc/mongod.conf (create an admin user first), then `sudo systemctl restart mongod`:",
            "yaml",
            "net:\n  bindIp: 127.0.0.1\nsecurity:\n  authorization: enabled",
        ),
        "memcached" => f.fix_with_code(
            "Listen on loopback only and turn UDP off in /etc/memcached.conf, then `sudo systemctl restart memcached`:",
            "ini",
            "-l 127.0.0.1\n-U 0",
        ),
        "elasticsearch" => f.fix_with_code(
            "Bind Elasticsearch to loopback and enable security in elasticsearch.yml, then restart it:",
            "yaml",
            "network.host: 127.0.0.1\nxpack.security.enabled: true",
        ),
        "docker" => f.fix(
            "Remove the `tcp://` host from the Docker daemon (daemon.json or the unit's `-H` flag) and reach it over SSH (`docker -H ssh://host`) or require TLS client certificates (`tlsverify`); then `sudo systemctl restart docker`.",
        ),
        _ => f.fix(format!(
            "Bind {name} to 127.0.0.1 (or the private interface its clients use) in its configuration, so port {port} is not offered on public interfaces."
        )),
    }
}

/// Adds the firewall fix, in the tool the host uses.
pub fn firewall_fix(
    f: Finding,
    fw: &Firewall,
    (port, protos): (u16, &[&str]),
    ssh_ports: &[u16],
    docker: bool,
) -> Finding {
    let each = |line: &dyn Fn(&str) -> String| {
        protos
            .iter()
            .map(|p| line(p))
            .collect::<Vec<_>>()
            .join("\n")
    };
    // ufw: `deny 11211` covers TCP and UDP at once
    let ufw_port = match protos {
        [one] => format!("{port}/{one}"),
        _ => port.to_string(),
    };
    if docker {
        return f.fix_with_code(
            "The port is published by Docker, whose NAT rules bypass ufw and the INPUT chain: publish it on loopback only, or filter it in the DOCKER-USER chain:",
            "sh",
            format!(
                "# docker run / compose: \"127.0.0.1:{port}:{port}\" instead of \"{port}:{port}\"\n{}",
                each(&|p| format!("sudo iptables -I DOCKER-USER -p {p} --dport {port} ! -s 10.0.0.0/8 -j DROP   # adjust the trusted range"))
            ),
        );
    }
    match &fw.ufw {
        Some(u) if u.active => f.fix_with_code(
            format!("Close {ufw_port} in ufw (allow only the hosts that need it):"),
            "sh",
            format!("sudo ufw deny {ufw_port}\n# or, for one application server:\n# sudo ufw insert 1 allow from 10.0.0.5 to any port {port}"),
        ),
        Some(_) => f.fix_with_code(
            "Turn the host firewall on with a default deny, keeping SSH open first so you do not lock yourself out:",
            "sh",
            format!(
                "{}\nsudo ufw deny {ufw_port}\nsudo ufw default deny incoming\nsudo ufw enable\nsudo ufw status verbose",
                allow_ssh(ssh_ports)
            ),
        ),
        None => f.fix_with_code(
            format!("Drop port {port} from anywhere but loopback (and save the rules, e.g. `sudo netfilter-persistent save`):"),
            "sh",
            format!(
                "{}\n{}",
                each(&|p| format!("sudo iptables -A INPUT -p {p} --dport {port} ! -s 127.0.0.1 -j DROP")),
                each(&|p| format!("sudo ip6tables -A INPUT -p {p} --dport {port} ! -s ::1 -j DROP"))
            ),
        ),
    }
}

/// `ufw allow` lines for the ports sshd listens on (OpenSSH's profile when none is known).
pub fn allow_ssh(ssh_ports: &[u16]) -> String {
    if ssh_ports.is_empty() {
        return "sudo ufw allow OpenSSH".to_owned();
    }
    let lines: Vec<String> = ssh_ports
        .iter()
        .map(|p| format!("sudo ufw allow {p}/tcp"))
        .collect();
    lines.join("\n")
}
