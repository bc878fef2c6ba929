//! `nft list ruleset`: the chains hooked on input (their policy and rules) and what they do
//! with a new connection from the internet to a port. Jumps and gotos into other chains of
//! the same table are followed; loopback, established-only and source-restricted rules do
//! not decide. An empty ruleset filters nothing.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use super::{Decision, ports_cover};

/// One chain of one table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NftChain {
    /// Whether the chain is a base chain on the input hook.
    pub input_hook: bool,
    pub policy: String,
    pub hook_line: String,
    pub rules: Vec<String>,
}

/// Every chain, keyed by `table chain`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Nft {
    pub chains: BTreeMap<String, NftChain>,
}

static DPORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(tcp|udp|th|sctp) dport (?:\{([^}]*)\}|(\S+))").expect("static regex")
});
static VERDICT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(accept|drop|reject|return|(?:jump|goto) (\S+))\b").expect("static regex")
});

/// Reads a ruleset; blank output is an empty ruleset.
pub fn parse(text: &str) -> Nft {
    let mut nft = Nft::default();
    let mut table = String::new();
    let mut chain: Option<String> = None;
    let mut depth = 0usize;
    let mut skip_depth: Option<usize> = None;
    for raw in text.lines() {
        let line = raw.trim();
        let opens = line.matches('{').count();
        let closes = line.matches('}').count();
        if skip_depth.is_none() {
            if depth == 0 && line.starts_with("table ") && line.ends_with('{') {
                table = line
                    .trim_end_matches('{')
                    .trim()
                    .trim_start_matches("table ")
                    .to_owned();
            } else if depth == 1 && line.starts_with("chain ") && line.ends_with('{') {
                let name = line
                    .trim_end_matches('{')
                    .trim()
                    .trim_start_matches("chain ");
                let key = format!("{table} {name}");
                nft.chains.insert(
                    key.clone(),
                    NftChain {
                        policy: "accept".into(),
                        ..Default::default()
                    },
                );
                chain = Some(key);
            } else if depth == 1 && opens > closes {
                skip_depth = Some(depth); // set, map, flowtable
            } else if depth == 2
                && !line.is_empty()
                && !line.starts_with('#')
                && line != "}"
                && let Some(c) = chain.as_ref().and_then(|k| nft.chains.get_mut(k))
            {
                if line.starts_with("type ") && line.contains("hook ") {
                    c.input_hook = line.contains("hook input");
                    c.hook_line = line.to_owned();
                    if let Some(p) = line.split("policy ").nth(1) {
                        c.policy = p.trim_end_matches(';').trim().to_owned();
                    }
                } else {
                    c.rules.push(line.to_owned());
                }
            }
        }
        depth = (depth + opens).saturating_sub(closes);
        if skip_depth.is_some_and(|d| depth <= d) {
            skip_depth = None;
        }
        if depth < 2 {
            chain = None;
        }
        if depth == 0 {
            table.clear();
        }
    }
    nft
}

/// Named ports nft prints instead of numbers.
fn port_number(word: &str) -> Option<u16> {
    match word {
        "ssh" => Some(22),
        "http" => Some(80),
        "https" => Some(443),
        "smtp" => Some(25),
        "domain" => Some(53),
        _ => word.parse().ok(),
    }
}

fn rule_ports(rule: &str) -> Option<(String, Vec<(u16, u16)>)> {
    let c = DPORT.captures(rule)?;
    let proto = c.get(1)?.as_str().to_owned();
    let list = c.get(2).or(c.get(3))?.as_str();
    let mut ranges = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (a, b) = item.split_once('-').unwrap_or((item, item));
        ranges.push((port_number(a.trim())?, port_number(b.trim())?));
    }
    Some((proto, ranges))
}

fn applies(rule: &str, port: u16, proto: &str) -> bool {
    let lo =
        rule.contains("iif \"lo\"") || rule.contains("iifname \"lo\"") || rule.contains("iif lo");
    let state_only = rule.contains("ct state") && !rule.contains("new");
    let icmp = rule.contains("icmp");
    let ports_ok = match rule_ports(rule) {
        Some((p, ranges)) => (p == "th" || p == proto) && ports_cover(&ranges, port),
        None => !(rule.contains("dport") || rule.contains("l4proto") && !rule.contains(proto)),
    };
    !lo && !state_only && !icmp && ports_ok
}

fn restricted(rule: &str) -> Option<String> {
    let words: Vec<&str> = rule.split_whitespace().collect();
    let i = words.iter().position(|w| *w == "saddr")?;
    Some(words.get(i + 1).copied().unwrap_or("?").to_owned())
}

impl Nft {
    /// Whether any input chain filters anything.
    pub fn filtering(&self) -> bool {
        self.chains
            .values()
            .any(|c| c.input_hook && (c.policy != "accept" || !c.rules.is_empty()))
    }

    /// What the input hook does with a new connection to `port`; `None` without input chains.
    pub fn decide(&self, port: u16, proto: &str) -> Option<Decision> {
        let mut verdicts = Vec::new();
        for (key, c) in self.chains.iter().filter(|(_, c)| c.input_hook) {
            let table = key.rsplit_once(' ').map_or("", |(t, _)| t);
            let mut sources = (Vec::new(), Vec::new());
            let d = self
                .walk(table, key, port, proto, 0, &mut sources)
                .unwrap_or_else(|| {
                    let line = Some(format!("{key}: {}", c.hook_line));
                    if c.policy == "accept" {
                        Decision::Accept(line)
                    } else if !sources.0.is_empty() {
                        Decision::Sources(sources.0.clone(), sources.1.clone())
                    } else {
                        Decision::Drop(line)
                    }
                });
            verdicts.push(d);
        }
        super::strictest(verdicts)
    }

    fn walk(
        &self,
        table: &str,
        key: &str,
        port: u16,
        proto: &str,
        depth: usize,
        sources: &mut (Vec<String>, Vec<String>),
    ) -> Option<Decision> {
        let c = self.chains.get(key)?;
        if depth > 16 {
            return None;
        }
        for rule in &c.rules {
            if !applies(rule, port, proto) {
                continue;
            }
            let Some(v) = VERDICT.captures(rule) else {
                continue;
            };
            let verdict = v.get(1).map_or("", |m| m.as_str());
            if let Some(src) = restricted(rule) {
                if verdict == "accept" {
                    sources.0.push(src);
                    sources.1.push(rule.clone());
                }
                continue;
            }
            match verdict {
                "accept" => return Some(Decision::Accept(Some(rule.clone()))),
                "drop" | "reject" => return Some(Decision::Drop(Some(rule.clone()))),
                "return" => return None,
                _ => {
                    let target = v.get(2).map_or("", |m| m.as_str());
                    let next = format!("{table} {target}");
                    if let Some(d) = self.walk(table, &next, port, proto, depth + 1, sources) {
                        return Some(d);
                    }
                    if verdict.starts_with("goto") {
                        return None;
                    }
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULESET: &str = "table inet filter {
\tset blocked {
\t\ttype ipv4_addr
\t\telements = { 198.51.100.7 }
\t}

\tchain input {
\t\ttype filter hook input priority filter; policy drop;
\t\tiif \"lo\" accept
\t\tct state established,related accept
\t\ttcp dport { 22, 80, 443 } accept
\t\tip saddr 10.0.0.0/8 tcp dport 6379 counter packets 0 bytes 0 accept
\t\tjump extra
\t}

\tchain extra {
\t\tudp dport 51820 accept
\t}
}
";

    #[test]
    fn empty_ruleset_filters_nothing() {
        let nft = parse("");
        assert!(!nft.filtering());
        assert_eq!(nft.decide(6379, "tcp"), None);
    }

    #[test]
    fn input_chain_policy_and_rules_decide() {
        let nft = parse(RULESET);
        assert!(nft.filtering());
        assert!(matches!(nft.decide(443, "tcp"), Some(Decision::Accept(_))));
        assert!(matches!(
            nft.decide(51820, "udp"),
            Some(Decision::Accept(_))
        ));
        assert!(matches!(nft.decide(3306, "tcp"), Some(Decision::Drop(_))));
        assert!(
            matches!(nft.decide(6379, "tcp"), Some(Decision::Sources(s, _)) if s == ["10.0.0.0/8"])
        );
    }

    #[test]
    fn accept_policy_without_rules_lets_everything_in() {
        let nft = parse(
            "table ip filter {\n\tchain INPUT {\n\t\ttype filter hook input priority filter; policy accept;\n\t}\n}\n",
        );
        assert!(!nft.filtering());
        assert!(matches!(nft.decide(6379, "tcp"), Some(Decision::Accept(_))));
    }
}
