//! The rest of an exposure answer: services worth a look, a host with no firewall at all,
//! the port or service the user asked about, and what listens where.

use squadron_core::{Finding, Investigation, Severity};

use super::super::firewall::{Decision, Firewall};
use super::super::listeners::Scope;
use super::super::services::{self, Risk};
use super::fixes::allow_ssh;
use super::{exposed, listeners, ssh_ports};

fn reachable(fw: &Firewall, port: u16, proto: &str) -> bool {
    !matches!(
        fw.decide(port, proto).map(|v| v.decision),
        Some(Decision::Drop(_) | Decision::Sources(..))
    )
}

/// Services that are neither expected nor known-dangerous but reachable: one finding.
pub fn review(inv: &Investigation<'_>, fw: &Firewall) -> Option<Finding> {
    let (cmd, all) = listeners(inv)?;
    let groups: Vec<_> = exposed(&all)
        .into_iter()
        .filter(|g| g.risk() == Risk::Review && g.reachable(fw))
        .collect();
    if groups.is_empty() {
        return None;
    }
    let labels: Vec<String> = groups
        .iter()
        .map(|g| format!("{} on {}", g.label(), g.endpoints()))
        .collect();
    let mut f = Finding::new(
        Severity::Warning,
        format!("Also reachable from outside: {}", labels.join(", ")),
    );
    for g in &groups {
        if let Some(s) = g.service.filter(|s| !s.why.is_empty()) {
            f = f.detail(format!("{}: {}.", s.name, s.why));
        }
    }
    f = f.detail("If nothing outside this host needs these ports, bind them to 127.0.0.1 or close them in the firewall.");
    let lines: Vec<String> = groups.iter().flat_map(|g| g.lines()).collect();
    Some(f.evidence(&cmd, lines))
}

/// A host whose listeners face the internet with no firewall layer filtering anything.
pub fn firewall_missing(inv: &Investigation<'_>, fw: &Firewall) -> Option<Finding> {
    if fw.filtering() != Some(false) {
        return None;
    }
    let (_, all) = listeners(inv)?;
    let groups = exposed(&all);
    if groups.is_empty() {
        return None;
    }
    let ssh = ssh_ports(&groups);
    let mut allow = vec![allow_ssh(&ssh)];
    for g in groups
        .iter()
        .filter(|g| g.risk() == Risk::Expected && !ssh.contains(&g.port))
    {
        let line = match g.protos.as_slice() {
            [one] => format!("sudo ufw allow {}/{one}", g.port),
            _ => format!("sudo ufw allow {}", g.port),
        };
        if !allow.contains(&line) {
            allow.push(line);
        }
    }
    let mut f = Finding::new(Severity::Warning, "No host firewall filters inbound traffic")
        .detail(format!("{}.", fw.summary().join("; ")))
        .detail(format!(
            "All {} services listening on public interfaces are reachable from anywhere; a firewall with a default deny is the safety net when a service is bound to the wrong address.",
            groups.len()
        ));
    for (cmd, lines) in fw.evidence() {
        f = f.evidence(&cmd, lines);
    }
    Some(f.fix_with_code(
        "Allow what must be public (SSH first), deny the rest, then enable ufw:",
        "sh",
        format!(
            "{}\nsudo ufw default deny incoming\nsudo ufw default allow outgoing\nsudo ufw enable",
            allow.join("\n")
        ),
    ))
}

/// The port or service the user asked about, when no other finding covers it.
pub fn focus(inv: &Investigation<'_>, fw: &Firewall, covered: &[Finding]) -> Option<Finding> {
    let (cmd, all) = listeners(inv)?;
    let port: Option<u16> = inv.entities.get("port").and_then(|p| p.parse().ok());
    let key = inv.entities.get("service").map(service_key);
    if port.is_none() && key.is_none() {
        return None;
    }
    let matching: Vec<_> = all
        .iter()
        .filter(|l| {
            port.is_some_and(|p| p == l.port)
                || key.is_some_and(|k| services::identify(l).is_some_and(|s| s.key == k))
        })
        .collect();
    let asked = port
        .map(|p| format!("port {p}"))
        .or(inv.entities.get("service").map(str::to_owned))
        .unwrap_or_default();
    if matching.is_empty() {
        return Some(
            Finding::new(Severity::Info, format!("Nothing listens on {asked}"))
                .detail("No listening socket in the output matches it, so it is not reachable on this host."),
        );
    }
    if matching.iter().any(|l| {
        covered
            .iter()
            .any(|f| f.title.contains(&format!(":{}", l.port)))
    }) {
        return None;
    }
    let first = matching.first()?;
    let label = services::label(services::identify(first), first);
    let endpoints: Vec<String> = matching.iter().map(|l| l.endpoint()).collect();
    let outside = matching.iter().any(|l| l.scope.outside());
    let title = if !outside {
        let scope = if matching.iter().all(|l| l.scope == Scope::Loopback) {
            "loopback"
        } else {
            "a private network"
        };
        format!(
            "{label} listens on {} only ({scope}): not reachable from the internet",
            endpoints.join(", ")
        )
    } else if reachable(fw, first.port, first.proto) {
        format!(
            "{label} listens on {} and is reachable from outside",
            endpoints.join(", ")
        )
    } else {
        format!(
            "{label} listens on {} but the firewall blocks it from outside",
            endpoints.join(", ")
        )
    };
    let lines: Vec<String> = matching.iter().map(|l| l.line.clone()).collect();
    Some(Finding::new(Severity::Info, title).evidence(&cmd, lines))
}

fn service_key(name: &str) -> &'static str {
    match name.to_ascii_lowercase().as_str() {
        "redis" => "redis",
        "memcached" => "memcached",
        "mongo" | "mongodb" => "mongodb",
        "mysql" | "mariadb" => "mysql",
        "postgres" | "postgresql" => "postgres",
        "elasticsearch" | "opensearch" => "elasticsearch",
        "docker" => "docker",
        "etcd" => "etcd",
        "rabbitmq" => "rabbitmq",
        "kafka" => "kafka",
        "nginx" | "apache" => "http",
        _ => "ssh",
    }
}

/// What listens where, in one note: the expected public services and the private ones.
pub fn summary(inv: &Investigation<'_>) -> Option<Finding> {
    let (_, all) = listeners(inv)?;
    let public: Vec<String> = exposed(&all)
        .iter()
        .filter(|g| g.risk() == Risk::Expected)
        .map(|g| g.label())
        .collect();
    let local: Vec<String> = all
        .iter()
        .filter(|l| !l.scope.outside())
        .map(|l| {
            format!(
                "{} on {}/{}",
                l.process.as_deref().unwrap_or("?"),
                l.endpoint(),
                l.proto
            )
        })
        .collect();
    let mut f = Finding::new(
        Severity::Info,
        format!(
            "{} listening sockets: {} expected public service(s), {} bound to loopback or a private network",
            all.len(),
            public.len(),
            local.len()
        ),
    );
    if !public.is_empty() {
        f = f.detail(format!("Meant to be public: {}.", public.join(", ")));
    }
    if !local.is_empty() {
        f = f.detail(format!(
            "Not reachable from the internet: {}.",
            local.join(", ")
        ));
    }
    Some(f)
}
