//! `ufw status [verbose|numbered]`: whether ufw is active, its default incoming policy, and
//! its rules in order (the first rule that matches decides, as in ufw).

use std::sync::LazyLock;

use regex::Regex;

use super::{Decision, ports_cover};

/// What ufw says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ufw {
    pub active: bool,
    /// `deny`, `reject` or `allow`; `None` when the output does not say (plain `ufw status`).
    pub default_incoming: Option<String>,
    pub rules: Vec<UfwRule>,
    /// `Status: ...` and `Default: ...` lines, for evidence.
    pub head: Vec<String>,
}

/// One inbound rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UfwRule {
    /// Port ranges the rule covers; `None` means every port.
    pub ports: Option<Vec<(u16, u16)>>,
    /// `tcp`, `udp`, or `None` for both.
    pub proto: Option<String>,
    /// `allow`, `deny`, `reject` or `limit`.
    pub action: String,
    /// The source, `None` for Anywhere.
    pub from: Option<String>,
    pub line: String,
}

static COLUMNS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\s{2,}").expect("static regex"));
static NUMBERED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\[\s*\d+\]\s*").expect("static regex"));

/// Ports of the application profiles ufw ships with the usual packages.
fn app_ports(name: &str) -> Option<Vec<(u16, u16)>> {
    let ports: &[u16] = match name.to_ascii_lowercase().as_str() {
        "openssh" => &[22],
        "nginx full" | "apache full" | "www full" => &[80, 443],
        "nginx http" | "apache" | "www" => &[80],
        "nginx https" | "apache secure" | "www secure" => &[443],
        "postfix" | "smtp" => &[25],
        "postfix smtps" => &[465],
        "postfix submission" => &[587],
        "dovecot imap" => &[143],
        "dovecot secure imap" => &[993],
        _ => return None,
    };
    Some(ports.iter().map(|&p| (p, p)).collect())
}

/// Reads ufw's output; `None` when it is not ufw status output.
pub fn parse(text: &str) -> Option<Ufw> {
    let mut ufw = Ufw::default();
    let mut seen_status = false;
    let mut in_rules = false;
    for raw in text.lines() {
        let line = raw.trim();
        if let Some(state) = line.strip_prefix("Status:") {
            seen_status = true;
            ufw.active = state.trim().eq_ignore_ascii_case("active");
            ufw.head.push(line.to_owned());
        } else if let Some(defaults) = line.strip_prefix("Default:") {
            ufw.head.push(line.to_owned());
            ufw.default_incoming = defaults
                .split(',')
                .find(|p| p.contains("(incoming)"))
                .and_then(|p| p.split_whitespace().next())
                .map(str::to_ascii_lowercase);
        } else if line.starts_with("--") {
            in_rules = true;
        } else if in_rules
            && !line.is_empty()
            && let Some(rule) = parse_rule(line)
        {
            ufw.rules.push(rule);
        }
    }
    seen_status.then_some(ufw)
}

fn parse_rule(line: &str) -> Option<UfwRule> {
    let body = NUMBERED.replace(line, "");
    let cols: Vec<&str> = COLUMNS.split(&body).collect();
    let (to, action, from) = (
        cols.first()?,
        cols.get(1)?,
        cols.get(2).copied().unwrap_or(""),
    );
    let mut action_words = action.split_whitespace();
    let verb = action_words.next()?.to_ascii_lowercase();
    if !matches!(verb.as_str(), "allow" | "deny" | "reject" | "limit") {
        return None;
    }
    if action_words.any(|w| w.eq_ignore_ascii_case("out") || w.eq_ignore_ascii_case("fwd")) {
        return None;
    }
    let to = to.replace("(v6)", "");
    let to = to.trim();
    let (ports, proto) = if to.starts_with("Anywhere") {
        (None, None)
    } else if let Some(p) = app_ports(to) {
        (Some(p), Some("tcp".to_owned()))
    } else {
        // `22/tcp`, `80,443/tcp`, `6000:6007/udp`, `10.0.0.5 22/tcp`, `22`
        let spec = to.split_whitespace().last()?;
        let (list, proto) = match spec.split_once('/') {
            Some((l, p)) => (l, Some(p.to_ascii_lowercase())),
            None => (spec, None),
        };
        let mut ranges = Vec::new();
        for item in list.split(',') {
            let (a, b) = item.split_once(':').unwrap_or((item, item));
            ranges.push((a.parse().ok()?, b.parse().ok()?));
        }
        (Some(ranges), proto)
    };
    let from = from.replace("(v6)", "");
    let from = from.trim();
    let from = (!from.is_empty() && !from.starts_with("Anywhere")).then(|| from.to_owned());
    Some(UfwRule {
        ports,
        proto,
        action: verb,
        from,
        line: line.to_owned(),
    })
}

impl Ufw {
    /// What ufw does with a new connection from the internet to `port`; `None` when ufw is
    /// not active.
    pub fn decide(&self, port: u16, proto: &str) -> Option<Decision> {
        if !self.active {
            return None;
        }
        let mut sources = Vec::new();
        let mut evidence = Vec::new();
        for r in &self.rules {
            let covers = r.ports.as_ref().is_none_or(|p| ports_cover(p, port))
                && r.proto.as_deref().is_none_or(|p| p == proto);
            if !covers {
                continue;
            }
            match (&r.from, r.action.as_str()) {
                (None, "allow" | "limit") => return Some(Decision::Accept(Some(r.line.clone()))),
                (None, _) => return Some(Decision::Drop(Some(r.line.clone()))),
                (Some(src), "allow" | "limit") => {
                    sources.push(src.clone());
                    evidence.push(r.line.clone());
                }
                _ => {}
            }
        }
        let default = self.default_incoming.as_deref().unwrap_or("deny");
        let default_line = self
            .head
            .iter()
            .find(|l| l.starts_with("Default:"))
            .cloned();
        if default == "allow" {
            Some(Decision::Accept(default_line))
        } else if !sources.is_empty() {
            Some(Decision::Sources(sources, evidence))
        } else {
            Some(Decision::Drop(default_line.or_else(|| {
                Some(format!("ufw default: {default} incoming"))
            })))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACTIVE: &str = "Status: active
Logging: on (low)
Default: deny (incoming), allow (outgoing), disabled (routed)
New profiles: skip

To                         Action      From
--                         ------      ----
22/tcp                     ALLOW IN    Anywhere
Nginx Full                 ALLOW IN    Anywhere
6379/tcp                   ALLOW IN    10.0.0.0/8
5432                       DENY IN     Anywhere
22/tcp (v6)                ALLOW IN    Anywhere (v6)
";

    #[test]
    fn inactive_ufw_decides_nothing() {
        let ufw = parse("Status: inactive\n").expect("ufw output");
        assert!(!ufw.active);
        assert_eq!(ufw.decide(6379, "tcp"), None);
        assert_eq!(parse("ufw: command not found"), None);
    }

    #[test]
    fn first_matching_rule_then_default_policy_decides() {
        let ufw = parse(ACTIVE).expect("ufw output");
        assert_eq!(ufw.default_incoming.as_deref(), Some("deny"));
        assert!(matches!(ufw.decide(22, "tcp"), Some(Decision::Accept(_))));
        assert!(matches!(ufw.decide(443, "tcp"), Some(Decision::Accept(_))));
        assert!(matches!(ufw.decide(5432, "tcp"), Some(Decision::Drop(_))));
        assert!(matches!(ufw.decide(11211, "udp"), Some(Decision::Drop(_))));
        assert!(
            matches!(ufw.decide(6379, "tcp"), Some(Decision::Sources(src, _)) if src == ["10.0.0.0/8"])
        );
    }

    #[test]
    fn numbered_output_and_ranges_read() {
        let text = "Status: active\n\n     To                         Action      From\n     --                         ------      ----\n[ 1] 6000:6007/tcp              ALLOW IN    Anywhere\n[ 2] 80,443/tcp                 ALLOW IN    Anywhere\n";
        let ufw = parse(text).expect("ufw output");
        assert_eq!(ufw.rules.len(), 2);
        assert!(matches!(ufw.decide(6003, "tcp"), Some(Decision::Accept(_))));
        assert!(matches!(ufw.decide(443, "tcp"), Some(Decision::Accept(_))));
        assert!(matches!(ufw.decide(8080, "tcp"), Some(Decision::Drop(_))));
    }
}
