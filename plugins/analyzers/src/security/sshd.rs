//! sshd's settings, from `sshd -T` (effective, lower-case keys) or, when that cannot run,
//! from sshd_config (first value wins, OpenSSH defaults for what is not set), and what they
//! mean for password guessing and root logins.

use std::collections::BTreeMap;

use squadron_core::{Finding, Investigation, Severity};

use super::tool;

/// The settings that matter, and where they come from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sshd {
    pub settings: BTreeMap<String, String>,
    /// The command or file read.
    pub source: String,
    /// Whether the values are sshd's effective ones (`sshd -T`).
    pub effective: bool,
}

/// What sshd allows that it should not, one entry per setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Weakness {
    pub key: &'static str,
    pub value: String,
    pub severity: Severity,
    pub why: &'static str,
}

const DEFAULTS: &[(&str, &str)] = &[
    ("passwordauthentication", "yes"),
    ("permitrootlogin", "prohibit-password"),
    ("maxauthtries", "6"),
    ("permitemptypasswords", "no"),
    ("kbdinteractiveauthentication", "yes"),
    ("usepam", "no"),
];

/// Reads `key value` lines (sshd -T output or a config file; comments skipped).
pub fn parse(text: &str, effective: bool, source: &str) -> Sshd {
    let mut settings = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let (Some(key), Some(value)) = (words.next(), words.next()) else {
            continue;
        };
        let key = key.to_ascii_lowercase();
        let key = if key == "challengeresponseauthentication" {
            "kbdinteractiveauthentication".to_owned()
        } else {
            key
        };
        if !effective && key == "match" {
            break; // Match blocks apply to some connections only
        }
        settings
            .entry(key)
            .or_insert_with(|| value.to_ascii_lowercase());
    }
    if !effective {
        for (k, v) in DEFAULTS {
            settings
                .entry((*k).to_owned())
                .or_insert_with(|| (*v).to_owned());
        }
    }
    Sshd {
        settings,
        source: source.to_owned(),
        effective,
    }
}

/// sshd's settings from this turn's runs: `sshd -T` first, the config file second.
pub fn read(inv: &Investigation<'_>) -> Option<Sshd> {
    if let Some(run) = inv
        .last(tool::SSHD_T)
        .filter(|r| r.output.ok() && r.output.stdout.contains("passwordauthentication"))
    {
        return Some(parse(&run.output.stdout, true, run.command()));
    }
    let run = inv
        .last(tool::SSHD_CONFIG)
        .filter(|r| r.output.ok() && !r.output.stdout.trim().is_empty())?;
    Some(parse(&run.output.stdout, false, run.command()))
}

impl Sshd {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.settings.get(key).map(String::as_str)
    }

    /// Whether a password can be guessed over SSH.
    pub fn passwords_allowed(&self) -> bool {
        self.get("passwordauthentication") == Some("yes")
            || (self.get("kbdinteractiveauthentication") == Some("yes")
                && self.get("usepam") == Some("yes"))
    }

    /// Every weak setting.
    pub fn weaknesses(&self) -> Vec<Weakness> {
        let mut out = Vec::new();
        let mut push = |key: &'static str, severity, why| {
            if let Some(v) = self.get(key) {
                out.push(Weakness {
                    key,
                    value: v.to_owned(),
                    severity,
                    why,
                });
            }
        };
        if self.get("permitemptypasswords") == Some("yes") {
            push(
                "permitemptypasswords",
                Severity::Critical,
                "accounts without a password can log in",
            );
        }
        if self.get("passwordauthentication") == Some("yes") {
            push(
                "passwordauthentication",
                Severity::Warning,
                "passwords can be guessed over SSH",
            );
        }
        if self.get("kbdinteractiveauthentication") == Some("yes")
            && self.get("usepam") == Some("yes")
        {
            push(
                "kbdinteractiveauthentication",
                Severity::Warning,
                "PAM keyboard-interactive logins accept passwords too",
            );
        }
        if self.get("permitrootlogin") == Some("yes") {
            push(
                "permitrootlogin",
                Severity::Warning,
                "root can log in over SSH directly, with a password while passwords are on",
            );
        }
        if self
            .get("maxauthtries")
            .and_then(|v| v.parse::<u32>().ok())
            .is_some_and(|n| n > 4)
        {
            push(
                "maxauthtries",
                Severity::Info,
                "each connection may try that many passwords",
            );
        }
        out
    }

    /// The setting lines as sshd prints them, for evidence.
    pub fn lines(&self, keys: &[&str]) -> Vec<String> {
        keys.iter()
            .filter_map(|k| self.get(k).map(|v| format!("{k} {v}")))
            .collect()
    }
}

/// The drop-in that turns password logins off (sshd keeps the first value it reads, so the
/// file must sort before any other drop-in such as 50-cloud-init.conf).
pub fn hardening_fix(f: Finding) -> Finding {
    f.fix_with_code(
        "Turn password logins off in a drop-in that sorts first (check you can log in with a key before you reload):",
        "sh",
        "sudo tee /etc/ssh/sshd_config.d/00-hardening.conf >/dev/null <<'EOF'\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin no\nMaxAuthTries 3\nEOF\nsudo sshd -t && sudo systemctl reload ssh   # the unit is sshd on RHEL",
    )
}

/// The hardening finding: weak sshd settings, most severe first.
pub fn finding(inv: &Investigation<'_>) -> Option<Finding> {
    let sshd = read(inv)?;
    let weak = sshd.weaknesses();
    let severity = weak.iter().map(|w| w.severity).max()?;
    let severity = severity.max(Severity::Warning);
    let keys: Vec<String> = weak
        .iter()
        .map(|w| format!("{} {}", w.key, w.value))
        .collect();
    let mut f = Finding::new(
        severity,
        format!(
            "sshd allows password guessing or root logins: {}",
            keys.join(", ")
        ),
    );
    for w in &weak {
        f = f.detail(format!("`{} {}`: {}.", w.key, w.value, w.why));
    }
    if !sshd.effective {
        f = f.detail("Read from sshd_config because `sshd -T` could not run: drop-ins under sshd_config.d and Match blocks may change these values.");
    }
    let keys: Vec<&str> = weak.iter().map(|w| w.key).collect();
    f = f.evidence(&sshd.source, sshd.lines(&keys));
    Some(hardening_fix(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effective_config_with_passwords_on_is_weak() {
        let s = parse(
            "port 22\nmaxauthtries 6\npermitrootlogin without-password\npasswordauthentication yes\nkbdinteractiveauthentication no\nusepam yes\npermitemptypasswords no\n",
            true,
            "sshd -T",
        );
        assert!(s.passwords_allowed());
        let keys: Vec<&str> = s.weaknesses().iter().map(|w| w.key).collect();
        assert_eq!(keys, vec!["passwordauthentication", "maxauthtries"]);
    }

    #[test]
    fn config_file_falls_back_to_openssh_defaults_and_first_value_wins() {
        let text = "Include /etc/ssh/sshd_config.d/*.conf\n#PermitRootLogin yes\nPasswordAuthentication no\nPasswordAuthentication yes\nMatch User backup\n  PasswordAuthentication yes\n";
        let s = parse(text, false, "read_file /etc/ssh/sshd_config --tail=1000");
        assert_eq!(s.get("passwordauthentication"), Some("no"));
        assert_eq!(s.get("permitrootlogin"), Some("prohibit-password"));
        assert_eq!(s.get("maxauthtries"), Some("6"));
        assert!(!s.passwords_allowed());
    }

    #[test]
    fn keys_only_root_and_empty_passwords() {
        let s = parse(
            "passwordauthentication no\npermitrootlogin yes\npermitemptypasswords yes\nmaxauthtries 3\n",
            true,
            "sshd -T",
        );
        let w = s.weaknesses();
        assert_eq!(w[0].severity, Severity::Critical);
        assert_eq!(w.len(), 2);
    }
}
