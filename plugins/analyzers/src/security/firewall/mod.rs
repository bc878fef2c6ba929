//! The host firewall as ufw, iptables and nftables report it, and one answer per port: does a
//! new connection from the internet get through? A packet must pass every layer, so any layer
//! that drops it blocks it. When ufw is active it owns the iptables/nftables rules, so its own
//! view decides.

pub mod iptables;
pub mod nft;
pub mod ufw;

use squadron_core::Investigation;

use super::tool;

/// What one layer does with a new connection to a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Let in, by the rule or policy line given.
    Accept(Option<String>),
    /// Dropped or rejected, by the rule or policy line given.
    Drop(Option<String>),
    /// Only these sources are let in (rule lines as evidence).
    Sources(Vec<String>, Vec<String>),
}

/// A decision and the command whose output it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub decision: Decision,
    pub source: String,
}

/// Whether `port` lies in one of the ranges.
pub fn ports_cover(ranges: &[(u16, u16)], port: u16) -> bool {
    ranges.iter().any(|&(a, b)| a <= port && port <= b)
}

/// The strictest of several decisions: drop, then sources, then accept.
pub fn strictest(decisions: Vec<Decision>) -> Option<Decision> {
    let rank = |d: &Decision| match d {
        Decision::Drop(_) => 0,
        Decision::Sources(..) => 1,
        Decision::Accept(_) => 2,
    };
    decisions.into_iter().min_by_key(rank)
}

/// The firewall state read from this turn's runs.
#[derive(Debug, Clone, Default)]
pub struct Firewall {
    pub ufw: Option<ufw::Ufw>,
    pub iptables: Option<iptables::Chains>,
    pub nft: Option<nft::Nft>,
    /// Canonical command lines, by layer, for evidence.
    pub ufw_cmd: String,
    pub iptables_cmd: String,
    pub nft_cmd: String,
}

impl Firewall {
    /// Reads whatever firewall tools ran and printed something usable.
    pub fn read(inv: &Investigation<'_>) -> Self {
        let mut fw = Firewall::default();
        if let Some(run) = inv.last(tool::UFW) {
            fw.ufw = ufw::parse(&run.output.stdout);
            fw.ufw_cmd = run.command().to_owned();
        }
        if let Some(run) = inv.last(tool::IPTABLES) {
            fw.iptables = iptables::parse(&run.output.stdout);
            fw.iptables_cmd = run.command().to_owned();
        }
        if let Some(run) = inv.last(tool::NFT).filter(|r| r.output.ok()) {
            fw.nft = Some(nft::parse(&run.output.stdout));
            fw.nft_cmd = run.command().to_owned();
        }
        fw
    }

    /// Whether anything was read at all.
    pub fn known(&self) -> bool {
        self.ufw.is_some() || self.iptables.is_some() || self.nft.is_some()
    }

    fn ufw_active(&self) -> bool {
        self.ufw.as_ref().is_some_and(|u| u.active)
    }

    /// Whether any layer filters inbound traffic; `None` when nothing could be read.
    pub fn filtering(&self) -> Option<bool> {
        self.known().then(|| {
            self.ufw_active()
                || self
                    .iptables
                    .as_ref()
                    .is_some_and(iptables::Chains::filtering)
                || self.nft.as_ref().is_some_and(nft::Nft::filtering)
        })
    }

    /// What happens to a new connection from the internet to `port`, and the command whose
    /// output decided it; `None` when no layer could be read.
    pub fn decide(&self, port: u16, proto: &str) -> Option<Verdict> {
        if let Some(u) = self.ufw.as_ref().filter(|u| u.active) {
            return u.decide(port, proto).map(|decision| Verdict {
                decision,
                source: self.ufw_cmd.clone(),
            });
        }
        let mut all = Vec::new();
        if let Some(d) = self.iptables.as_ref().and_then(|c| c.decide(port, proto)) {
            all.push((d, self.iptables_cmd.clone()));
        }
        if let Some(d) = self.nft.as_ref().and_then(|n| n.decide(port, proto)) {
            all.push((d, self.nft_cmd.clone()));
        }
        if all.is_empty() && self.known() {
            // every layer read, none with an input chain: nothing filters
            return Some(Verdict {
                decision: Decision::Accept(None),
                source: String::new(),
            });
        }
        let strict = strictest(all.iter().map(|(d, _)| d.clone()).collect())?;
        let source = all
            .iter()
            .find(|(d, _)| *d == strict)
            .map(|(_, s)| s.clone())
            .unwrap_or_default();
        Some(Verdict {
            decision: strict,
            source,
        })
    }

    /// One line per layer saying what it does, for details.
    pub fn summary(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(u) = &self.ufw {
            out.push(if u.active {
                format!(
                    "ufw is active (default incoming: {}, {} rules)",
                    u.default_incoming.as_deref().unwrap_or("deny"),
                    u.rules.len()
                )
            } else {
                "ufw is inactive".to_owned()
            });
        }
        if let Some(input) = self.iptables.as_ref().and_then(|c| c.0.get("INPUT")) {
            out.push(format!(
                "iptables INPUT policy {} with {} rules",
                input.policy.as_deref().unwrap_or("ACCEPT"),
                input.rules.len()
            ));
        }
        if let Some(n) = &self.nft {
            let hooks: Vec<_> = n.chains.iter().filter(|(_, c)| c.input_hook).collect();
            out.push(if hooks.is_empty() {
                "nftables has no input chain".to_owned()
            } else {
                let desc: Vec<String> = hooks
                    .iter()
                    .map(|(k, c)| format!("{k} (policy {}, {} rules)", c.policy, c.rules.len()))
                    .collect();
                format!("nftables input: {}", desc.join(", "))
            });
        }
        out
    }

    /// Evidence: the lines that show the firewall's overall state, by command.
    pub fn evidence(&self) -> Vec<(String, Vec<String>)> {
        let mut out = Vec::new();
        if let Some(u) = &self.ufw {
            out.push((
                self.ufw_cmd.clone(),
                u.head.iter().take(2).cloned().collect(),
            ));
        }
        if let Some(h) = self.iptables.as_ref().and_then(|c| c.input_header()) {
            out.push((self.iptables_cmd.clone(), vec![h.to_owned()]));
        }
        if let Some(n) = &self.nft {
            let lines: Vec<String> = n
                .chains
                .iter()
                .filter(|(_, c)| c.input_hook)
                .map(|(k, c)| format!("{k}: {}", c.hook_line))
                .collect();
            out.push((self.nft_cmd.clone(), lines));
        }
        out
    }
}
