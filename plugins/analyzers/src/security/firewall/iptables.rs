//! `iptables -L -n [-v]`: chains with their policies and rules, and what the INPUT chain does
//! with a new connection from the internet to a port (jumps into user chains are followed;
//! loopback-only, established-only and source-restricted rules do not decide).

use std::collections::BTreeMap;

use super::{Decision, ports_cover};

/// One rule as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub target: String,
    pub prot: String,
    /// The input interface (`-v` only); `*` or `None` for any.
    pub in_iface: Option<String>,
    pub source: String,
    pub destination: String,
    /// Match options after the addresses (`tcp dpt:22`, `ctstate RELATED,ESTABLISHED`).
    pub extra: String,
    pub line: String,
}

/// One chain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chain {
    /// `ACCEPT`/`DROP` for built-in chains; `None` for user chains.
    pub policy: Option<String>,
    pub header: String,
    pub rules: Vec<Rule>,
}

/// Every chain of the listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chains(pub BTreeMap<String, Chain>);

const PROTOCOLS: &[&str] = &[
    "all",
    "tcp",
    "udp",
    "icmp",
    "ipv6-icmp",
    "0",
    "6",
    "17",
    "1",
    "58",
];

/// Reads an iptables listing; `None` when there is no INPUT chain in it.
pub fn parse(text: &str) -> Option<Chains> {
    let mut chains = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut verbose = false;
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.first() {
            None => continue,
            Some(&"Chain") => {
                let name = words.get(1).map(|s| (*s).to_owned()).unwrap_or_default();
                let policy = (words.get(2) == Some(&"(policy"))
                    .then(|| words.get(3).map(|p| p.trim_end_matches(')').to_owned()))
                    .flatten();
                chains.insert(
                    name.clone(),
                    Chain {
                        policy,
                        header: line.trim().to_owned(),
                        rules: Vec::new(),
                    },
                );
                current = Some(name);
            }
            Some(&"target") | Some(&"num") => verbose = false,
            Some(&"pkts") => verbose = true,
            Some(_) => {
                let Some(chain) = current.as_ref().and_then(|c| chains.get_mut(c)) else {
                    continue;
                };
                if let Some(rule) = parse_rule(&words, verbose, line) {
                    chain.rules.push(rule);
                }
            }
        }
    }
    chains.contains_key("INPUT").then_some(Chains(chains))
}

fn parse_rule(words: &[&str], verbose: bool, line: &str) -> Option<Rule> {
    // verbose: pkts bytes target prot opt in out source destination [extra]
    // plain:   target prot opt source destination [extra]
    let w = if verbose { words.get(2..)? } else { words };
    if PROTOCOLS.contains(&w.first()?.to_ascii_lowercase().as_str()) {
        return None; // no target: a counting rule, decides nothing
    }
    let (target, prot) = (w.first()?, w.get(1)?);
    let (in_iface, rest) = if verbose {
        (Some((*w.get(3)?).to_owned()), w.get(5..)?)
    } else {
        (None, w.get(3..)?)
    };
    Some(Rule {
        target: (*target).to_owned(),
        prot: prot.to_ascii_lowercase(),
        in_iface,
        source: (*rest.first()?).to_owned(),
        destination: (*rest.get(1)?).to_owned(),
        extra: rest.get(2..).unwrap_or_default().join(" "),
        line: line.trim().to_owned(),
    })
}

fn any_address(a: &str) -> bool {
    matches!(a, "0.0.0.0/0" | "::/0" | "anywhere")
}

/// The ports a rule's matches name; `None` when it names none (every port).
fn rule_ports(extra: &str) -> Option<Vec<(u16, u16)>> {
    let mut ranges = Vec::new();
    let words: Vec<&str> = extra.split_whitespace().collect();
    for (i, word) in words.iter().enumerate() {
        if let Some(p) = word.strip_prefix("dpt:") {
            let p: u16 = p.parse().ok()?;
            ranges.push((p, p));
        } else if let Some(r) = word.strip_prefix("dpts:") {
            let (a, b) = r.split_once(':')?;
            ranges.push((a.parse().ok()?, b.parse().ok()?));
        } else if *word == "dports" {
            for item in words.get(i + 1)?.split(',') {
                let (a, b) = item.split_once(':').unwrap_or((item, item));
                ranges.push((a.parse().ok()?, b.parse().ok()?));
            }
        }
    }
    (!ranges.is_empty()).then_some(ranges)
}

impl Rule {
    /// Whether this rule sees a new connection from an arbitrary internet address.
    fn applies(&self, port: u16, proto: &str) -> bool {
        let e = &self.extra;
        let state_only =
            (e.contains("ESTABLISHED") || e.contains("RELATED") || e.contains("INVALID"))
                && !e.contains("NEW");
        let unknowable = [
            "match-set",
            "recent:",
            "MAC ",
            "spt:",
            "spts:",
            "sports",
            "owner",
        ]
        .iter()
        .any(|m| e.contains(m));
        let prot_ok = match self.prot.as_str() {
            "all" | "0" => true,
            "tcp" | "6" => proto == "tcp",
            "udp" | "17" => proto == "udp",
            _ => false,
        };
        let dest_ok = any_address(&self.destination)
            || !(self.destination.starts_with("224.")
                || self.destination.starts_with("255.")
                || self.destination.starts_with("ff0"));
        !state_only
            && !unknowable
            && prot_ok
            && dest_ok
            && self.in_iface.as_deref() != Some("lo")
            && rule_ports(e).is_none_or(|p| ports_cover(&p, port))
    }
}

impl Chains {
    /// Whether INPUT filters anything: a policy other than ACCEPT, or any rule.
    pub fn filtering(&self) -> bool {
        self.0.get("INPUT").is_some_and(|c| {
            c.policy.as_deref().is_some_and(|p| p != "ACCEPT") || !c.rules.is_empty()
        })
    }

    /// The INPUT chain's header line (`Chain INPUT (policy ACCEPT)`).
    pub fn input_header(&self) -> Option<&str> {
        self.0.get("INPUT").map(|c| c.header.as_str())
    }

    /// What INPUT does with a new connection from the internet to `port`.
    pub fn decide(&self, port: u16, proto: &str) -> Option<Decision> {
        let input = self.0.get("INPUT")?;
        let mut sources = (Vec::new(), Vec::new());
        if let Some(d) = self.walk("INPUT", port, proto, 0, &mut sources) {
            return Some(d);
        }
        let policy = input.policy.as_deref().unwrap_or("ACCEPT");
        if policy == "ACCEPT" {
            Some(Decision::Accept(Some(input.header.clone())))
        } else if !sources.0.is_empty() {
            Some(Decision::Sources(sources.0, sources.1))
        } else {
            Some(Decision::Drop(Some(input.header.clone())))
        }
    }

    fn walk(
        &self,
        chain: &str,
        port: u16,
        proto: &str,
        depth: usize,
        sources: &mut (Vec<String>, Vec<String>),
    ) -> Option<Decision> {
        let c = self.0.get(chain)?;
        if depth > 16 {
            return None;
        }
        for r in &c.rules {
            if !r.applies(port, proto) {
                continue;
            }
            let world = any_address(&r.source);
            match r.target.as_str() {
                "ACCEPT" if world => return Some(Decision::Accept(Some(r.line.clone()))),
                "ACCEPT" => {
                    sources.0.push(r.source.clone());
                    sources.1.push(r.line.clone());
                }
                "DROP" | "REJECT" if world => return Some(Decision::Drop(Some(r.line.clone()))),
                "RETURN" if world => return None,
                other if world && self.0.contains_key(other) => {
                    if let Some(d) = self.walk(other, port, proto, depth + 1, sources) {
                        return Some(d);
                    }
                }
                _ => {}
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "Chain INPUT (policy ACCEPT)
target     prot opt source               destination

Chain FORWARD (policy ACCEPT)
target     prot opt source               destination

Chain OUTPUT (policy ACCEPT)
target     prot opt source               destination
";

    const VERBOSE: &str = "Chain INPUT (policy DROP 12 packets, 720 bytes)
 pkts bytes target     prot opt in     out     source               destination
  900 70000 ACCEPT     all  --  lo     *       0.0.0.0/0            0.0.0.0/0
 5000  900K ACCEPT     all  --  *      *       0.0.0.0/0            0.0.0.0/0            ctstate RELATED,ESTABLISHED
   40  2400 f2b-sshd   tcp  --  *      *       0.0.0.0/0            0.0.0.0/0            multiport dports 22
   31  1860 ACCEPT     tcp  --  *      *       0.0.0.0/0            0.0.0.0/0            tcp dpt:22
    2   120 ACCEPT     tcp  --  *      *       10.0.0.0/8           0.0.0.0/0            tcp dpt:6379

Chain f2b-sshd (1 references)
 pkts bytes target     prot opt in     out     source               destination
    9   540 REJECT     all  --  *      *       203.0.113.77         0.0.0.0/0            reject-with icmp-port-unreachable
   31  1860 RETURN     all  --  *      *       0.0.0.0/0            0.0.0.0/0
";

    #[test]
    fn an_empty_accept_chain_filters_nothing() {
        let c = parse(EMPTY).expect("chains");
        assert!(!c.filtering());
        assert!(matches!(c.decide(6379, "tcp"), Some(Decision::Accept(_))));
    }

    #[test]
    fn verbose_listing_skips_loopback_and_established_rules() {
        let c = parse(VERBOSE).expect("chains");
        assert!(c.filtering());
        assert!(
            matches!(c.decide(22, "tcp"), Some(Decision::Accept(Some(l))) if l.contains("dpt:22"))
        );
        assert!(matches!(c.decide(3306, "tcp"), Some(Decision::Drop(_))));
        assert!(
            matches!(c.decide(6379, "tcp"), Some(Decision::Sources(s, _)) if s == ["10.0.0.0/8"])
        );
    }

    #[test]
    fn plain_listing_reads_ports_and_targets() {
        let text = "Chain INPUT (policy ACCEPT)\ntarget     prot opt source               destination\nDROP       tcp  --  0.0.0.0/0            0.0.0.0/0            tcp dpt:11211\nDROP       udp  --  0.0.0.0/0            0.0.0.0/0            udp dpts:11000:12000\n";
        let c = parse(text).expect("chains");
        assert!(matches!(c.decide(11211, "tcp"), Some(Decision::Drop(_))));
        assert!(matches!(c.decide(11211, "udp"), Some(Decision::Drop(_))));
        assert!(matches!(c.decide(6379, "tcp"), Some(Decision::Accept(_))));
        assert_eq!(
            parse("iptables: Permission denied (you must be root)"),
            None
        );
    }
}
