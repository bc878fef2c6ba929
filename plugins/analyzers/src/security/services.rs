//! What a listening socket is and how much it matters when the internet can reach it: named
//! by the process first (sshd on 2222 is still SSH), then by the well-known port.

use super::listeners::Listener;

/// How a service should be exposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Risk {
    /// Datastores, caches, admin and control APIs: never reachable from the internet.
    Critical,
    /// Worth a look when public (monitoring, alternate HTTP ports, unknown programs).
    Review,
    /// Meant to be public on a server (SSH, HTTP(S), mail, VPN).
    Expected,
}

/// A kind of service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Service {
    pub name: &'static str,
    /// Short key for entities and config readers (`redis`, `mysql`).
    pub key: &'static str,
    pub risk: Risk,
    pub ports: &'static [u16],
    pub processes: &'static [&'static str],
    /// Why exposure is dangerous, one sentence.
    pub why: &'static str,
}

mod catalog;

pub use catalog::SERVICES;

/// The service of a listener: by its process when known, else by its port. Container
/// proxies (`docker-proxy`) and runtimes (`java`) name no service, so the port decides.
pub fn identify(l: &Listener) -> Option<&'static Service> {
    let by_process = l.process.as_deref().and_then(|p| {
        SERVICES.iter().find(|s| {
            s.processes.iter().any(|name| {
                p == *name
                    || (p.starts_with(name)
                        && p.len() > name.len()
                        && !p.as_bytes()[name.len()].is_ascii_alphanumeric())
            })
        })
    });
    by_process.or_else(|| SERVICES.iter().find(|s| s.ports.contains(&l.port)))
}

/// Whether the listener is a port Docker publishes for a container (Docker's NAT rules are
/// evaluated before ufw and the INPUT chain).
pub fn via_docker(l: &Listener) -> bool {
    l.process
        .as_deref()
        .is_some_and(|p| p.starts_with("docker-proxy") || p == "rootlessport")
}

/// The service's label with its port: `Redis (6379/tcp)`.
pub fn label(service: Option<&Service>, l: &Listener) -> String {
    match (service, l.process.as_deref()) {
        (Some(s), _) => format!("{} ({}/{})", s.name, l.port, l.proto),
        (None, Some(p)) => format!("{p} ({}/{})", l.port, l.proto),
        (None, None) => format!("an unknown program ({}/{})", l.port, l.proto),
    }
}

#[cfg(test)]
mod tests {
    use super::super::listeners::{Listener, Scope};
    use super::*;

    fn listener(port: u16, process: Option<&str>) -> Listener {
        Listener {
            proto: "tcp",
            addr: "0.0.0.0".into(),
            port,
            scope: Scope::All,
            process: process.map(str::to_owned),
            line: String::new(),
        }
    }

    #[test]
    fn the_process_names_the_service_before_the_port() {
        let ssh_on_6379 = listener(6379, Some("sshd"));
        assert_eq!(identify(&ssh_on_6379).map(|s| s.key), Some("ssh"));
        let redis_elsewhere = listener(7777, Some("redis-server"));
        assert_eq!(identify(&redis_elsewhere).map(|s| s.key), Some("redis"));
        let mariadb = listener(3307, Some("mariadbd"));
        assert_eq!(identify(&mariadb).map(|s| s.risk), Some(Risk::Critical));
    }

    #[test]
    fn containers_and_unknown_processes_fall_back_to_the_port() {
        let proxied = listener(27017, Some("docker-proxy"));
        assert_eq!(identify(&proxied).map(|s| s.key), Some("mongodb"));
        assert!(via_docker(&proxied));
        let es = listener(9200, Some("java"));
        assert_eq!(identify(&es).map(|s| s.key), Some("elasticsearch"));
        assert_eq!(identify(&listener(4444, Some("weird"))), None);
        assert_eq!(
            label(None, &listener(4444, Some("weird"))),
            "weird (4444/tcp)"
        );
    }
}
