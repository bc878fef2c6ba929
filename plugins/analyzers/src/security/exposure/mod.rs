//! Exposure: listeners bound to every interface (or a public address), named by service,
//! weighed by risk, and checked against the firewall and the service's own configuration.

mod fixes;
mod report;

use squadron_core::{Finding, Investigation, Severity};

use super::firewall::{Decision, Firewall, Verdict};
use super::listeners::{self, Listener};
use super::service_config::{self, ConfigFacts};
use super::services::{self, Risk, Service};
use super::tool;

pub use report::{firewall_missing, focus, review, summary};

/// Listeners of one service on one port (TCP and UDP), every address they are bound to.
#[derive(Debug)]
pub struct Group<'a> {
    pub service: Option<&'static Service>,
    pub port: u16,
    /// `tcp`, `udp`, in the order seen.
    pub protos: Vec<&'static str>,
    pub listeners: Vec<&'a Listener>,
}

impl Group<'_> {
    /// `Memcached (11211/tcp+udp)`.
    pub fn label(&self) -> String {
        let base = self
            .listeners
            .first()
            .map(|l| services::label(self.service, l))
            .unwrap_or_default();
        match self.listeners.first() {
            Some(l) if self.protos.len() > 1 => base.replace(
                &format!("{}/{})", self.port, l.proto),
                &format!("{}/{})", self.port, self.protos.join("+")),
            ),
            _ => base,
        }
    }

    pub fn endpoints(&self) -> String {
        let mut eps: Vec<String> = Vec::new();
        for e in self.listeners.iter().map(|l| l.endpoint()) {
            if !eps.contains(&e) {
                eps.push(e);
            }
        }
        eps.join(" and ")
    }

    /// What the firewall does with new connections to this port: the most open answer
    /// over the group's protocols.
    pub fn decide(&self, fw: &Firewall) -> Option<Verdict> {
        let rank = |v: &Option<Verdict>| match v.as_ref().map(|v| &v.decision) {
            Some(Decision::Drop(_)) => 0,
            Some(Decision::Sources(..)) => 1,
            _ => 2,
        };
        self.protos
            .iter()
            .map(|p| fw.decide(self.port, p))
            .max_by_key(rank)
            .flatten()
    }

    /// Whether the firewall lets the internet reach it.
    pub fn reachable(&self, fw: &Firewall) -> bool {
        self.docker()
            || !matches!(
                self.decide(fw).map(|v| v.decision),
                Some(Decision::Drop(_) | Decision::Sources(..))
            )
    }

    pub fn risk(&self) -> Risk {
        self.service.map_or(Risk::Review, |s| s.risk)
    }

    pub fn docker(&self) -> bool {
        self.listeners.iter().any(|l| services::via_docker(l))
    }

    pub fn lines(&self) -> Vec<String> {
        self.listeners.iter().map(|l| l.line.clone()).collect()
    }
}

/// The parsed listeners of this turn and the command that listed them.
pub fn listeners(inv: &Investigation<'_>) -> Option<(String, Vec<Listener>)> {
    let run = inv.last(tool::SOCKETS)?;
    let parsed = listeners::parse(&run.output.stdout);
    (!parsed.is_empty()).then(|| (run.command().to_owned(), parsed))
}

/// Groups listeners that the internet may reach by service and port.
pub fn exposed(all: &[Listener]) -> Vec<Group<'_>> {
    let mut groups: Vec<Group<'_>> = Vec::new();
    for l in all.iter().filter(|l| l.scope.outside()) {
        let service = services::identify(l);
        match groups
            .iter_mut()
            .find(|g| g.port == l.port && g.service == service)
        {
            Some(g) => {
                g.listeners.push(l);
                if !g.protos.contains(&l.proto) {
                    g.protos.push(l.proto);
                }
            }
            None => groups.push(Group {
                service,
                port: l.port,
                protos: vec![l.proto],
                listeners: vec![l],
            }),
        }
    }
    groups
}

/// The configuration the playbook read for a service: facts and the command they came from.
pub fn config_for(
    inv: &Investigation<'_>,
    key: &str,
) -> Option<(String, Option<String>, ConfigFacts)> {
    inv.runs.iter().rev().find_map(|run| {
        if !run.output.ok() || run.output.stdout.trim().is_empty() {
            return None;
        }
        let arg_path = run.arg("path").map(str::to_owned);
        let run_key = match run.tool() {
            tool::MYSQL_BIND => "mysql",
            tool::POSTGRES_LISTEN => "postgres",
            tool::SERVICE_CONFIG => config_key(arg_path.as_deref().unwrap_or(""))?,
            _ => return None,
        };
        if run_key != key {
            return None;
        }
        let facts = service_config::read(key, &run.output.stdout)?;
        let path = arg_path.or_else(|| facts.file.clone());
        Some((run.command().to_owned(), path, facts))
    })
}

/// Which service a configuration path belongs to.
pub fn config_key(path: &str) -> Option<&'static str> {
    [
        ("redis", "redis"),
        ("mongod", "mongodb"),
        ("memcached", "memcached"),
        ("elasticsearch", "elasticsearch"),
        ("opensearch", "elasticsearch"),
        ("docker", "docker"),
        ("mysql", "mysql"),
        ("my.cnf", "mysql"),
        ("postgresql", "postgres"),
    ]
    .iter()
    .find(|(needle, _)| path.contains(needle))
    .map(|(_, key)| *key)
}

/// One finding per datastore, cache or admin API the internet may reach.
pub fn critical(inv: &Investigation<'_>, fw: &Firewall) -> Vec<Finding> {
    let Some((ss_cmd, all)) = listeners(inv) else {
        return Vec::new();
    };
    let groups = exposed(&all);
    let ssh = ssh_ports(&groups);
    groups
        .iter()
        .filter(|g| g.risk() == Risk::Critical)
        .map(|g| critical_finding(inv, fw, &ss_cmd, g, &ssh))
        .collect()
}

/// The ports sshd offers to the outside.
pub fn ssh_ports(groups: &[Group<'_>]) -> Vec<u16> {
    let mut ports: Vec<u16> = groups
        .iter()
        .filter(|g| g.service.is_some_and(|s| s.key == "ssh") && g.protos.contains(&"tcp"))
        .map(|g| g.port)
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

fn critical_finding(
    inv: &Investigation<'_>,
    fw: &Firewall,
    ss_cmd: &str,
    g: &Group<'_>,
    ssh: &[u16],
) -> Finding {
    let label = g.label();
    let config = g.service.and_then(|s| config_for(inv, s.key));
    let decision = g.decide(fw);
    let docker = g.docker();
    let no_password = config.as_ref().and_then(|c| c.2.open) == Some(true);
    let (severity, title) = match (decision.as_ref().map(|v| &v.decision), docker) {
        (Some(Decision::Drop(_)), false) => (
            Severity::Warning,
            format!(
                "{label} listens on {}; only the firewall keeps it private",
                g.endpoints()
            ),
        ),
        (Some(Decision::Sources(src, _)), false) => (
            Severity::Warning,
            format!(
                "{label} listens on {}; the firewall lets in {} only",
                g.endpoints(),
                src.join(", ")
            ),
        ),
        _ => (
            Severity::Critical,
            format!(
                "{label} is reachable from outside{}: it listens on {}{}",
                if no_password {
                    " without a password"
                } else {
                    ""
                },
                g.endpoints(),
                if fw.known() {
                    " and no firewall rule blocks it"
                } else {
                    ""
                }
            ),
        ),
    };
    let mut f = Finding::new(severity, title);
    if let Some(s) = g.service {
        f = f.detail(format!("{}: {}.", s.name, s.why));
    }
    if fw.known() {
        f = f.detail(format!("Firewall: {}.", fw.summary().join("; ")));
    } else {
        f = f.detail(
            "The firewall state could not be read, so nothing shows that this port is filtered.",
        );
    }
    if docker {
        f = f.detail("The port is published by Docker (docker-proxy): Docker's own NAT rules let traffic in before ufw or the INPUT chain see it.");
    }
    if let Some((_, path, facts)) = &config {
        f = f.detail(format!(
            "Its configuration{}: {}.",
            path.as_deref()
                .map(|p| format!(" ({p})"))
                .unwrap_or_default(),
            facts.problems.join("; ")
        ));
    }
    f = f.evidence(ss_cmd, g.lines());
    if let Some((cmd, _, facts)) = &config {
        f = f.evidence(cmd, facts.lines.clone());
    }
    match decision.as_ref().map(|v| (&v.decision, v.source.as_str())) {
        Some((Decision::Drop(Some(line)), cmd)) if !cmd.is_empty() => {
            f = f.evidence(cmd, [line.clone()]);
        }
        Some((Decision::Sources(_, lines), cmd)) if !cmd.is_empty() => {
            f = f.evidence(cmd, lines.clone());
        }
        other => {
            let layers = fw.evidence();
            let quoted = |l: &String| layers.iter().any(|(_, ls)| ls.contains(l));
            if let Some((Decision::Accept(Some(line)), cmd)) = other
                && !cmd.is_empty()
                && !quoted(line)
            {
                f = f.evidence(cmd, [line.clone()]);
            }
            for (cmd, lines) in layers {
                f = f.evidence(&cmd, lines);
            }
        }
    }
    f = fixes::config_fix(
        f,
        g.service,
        g.port,
        config.as_ref().and_then(|c| c.1.as_deref()),
    );
    if severity == Severity::Critical || docker {
        f = fixes::firewall_fix(f, fw, (g.port, &g.protos), ssh, docker);
    }
    f
}

#[cfg(test)]
mod tests;
