//! What an exposed service's own configuration says about who may connect: Redis `bind`,
//! `protected-mode`, `requirepass`/ACL users; MySQL `bind-address`/`skip-networking`;
//! PostgreSQL `listen_addresses` and `pg_hba.conf` host rules; MongoDB `bindIp` and
//! `authorization`; Memcached `-l`; Elasticsearch `network.host` and security; the Docker
//! daemon's `hosts` and TLS.

/// The settings that matter, as evidence lines and as problems in words.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigFacts {
    /// The configuration lines quoted.
    pub lines: Vec<String>,
    /// What is wrong, one sentence each.
    pub problems: Vec<String>,
    /// Whether anyone who reaches the port gets in without credentials (`None` when the
    /// configuration does not say).
    pub open: Option<bool>,
    /// The file the first problem was found in, for `grep -H` output.
    pub file: Option<String>,
}

/// Reads the configuration text of the service with `key` (see `services.rs`).
pub fn read(key: &str, text: &str) -> Option<ConfigFacts> {
    let facts = match key {
        "redis" => redis(text),
        "mysql" => mysql(text),
        "postgres" => postgres(text),
        "mongodb" => mongodb(text),
        "memcached" => memcached(text),
        "elasticsearch" => elasticsearch(text),
        "docker" => docker(text),
        _ => return None,
    };
    (!facts.lines.is_empty() || !facts.problems.is_empty()).then_some(facts)
}

/// Non-comment lines, trimmed, with the original for evidence.
fn settings(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';'))
}

/// The file of a `grep -H` line, when it has one.
fn file_of(line: &str) -> Option<String> {
    line.split_once(':')
        .map(|(f, _)| f)
        .filter(|f| f.starts_with('/') && !f.contains(' '))
        .map(str::to_owned)
}

/// The part after `file:` in `grep -H` output.
fn strip_file(line: &str) -> &str {
    match line.split_once(':') {
        Some((file, rest)) if file.starts_with('/') => rest.trim(),
        _ => line.trim(),
    }
}

fn all_interfaces(addr: &str) -> bool {
    let a = addr.trim_matches(|c| c == '\'' || c == '"' || c == '-');
    matches!(a, "*" | "0.0.0.0" | "::" | "::*" | "[::]" | "")
}

fn redis(text: &str) -> ConfigFacts {
    let mut f = ConfigFacts::default();
    let (mut bind, mut protected, mut password, mut nopass_user) = (None, None, false, false);
    for raw in text.lines() {
        let line = raw.trim();
        let lower = line.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix('#') {
            if rest.trim_start().starts_with("requirepass") {
                f.lines.push("# requirepass ... (commented out)".to_owned());
            }
            continue;
        }
        let mut words = line.split_whitespace();
        match words.next().map(str::to_ascii_lowercase).as_deref() {
            Some("bind") => {
                bind = Some(words.map(str::to_owned).collect::<Vec<_>>());
                f.lines.push(line.to_owned());
            }
            Some("protected-mode") => {
                protected = words.next().map(|v| v.eq_ignore_ascii_case("yes"));
                f.lines.push(line.to_owned());
            }
            Some("requirepass") => {
                password = words
                    .next()
                    .is_some_and(|v| !v.trim_matches('"').is_empty());
                f.lines.push("requirepass [set]".to_owned());
            }
            Some("user") if lower.contains("nopass") && lower.contains(" on") => {
                nopass_user = true;
                f.lines.push(line.to_owned());
            }
            Some("aclfile") => password = true,
            _ => {}
        }
    }
    let everywhere = bind
        .as_ref()
        .is_none_or(|b| b.iter().any(|a| all_interfaces(a)));
    if everywhere {
        f.problems.push(match &bind {
            Some(b) => format!("`bind {}` listens on every interface", b.join(" ")),
            None => "no `bind` line: Redis listens on every interface".to_owned(),
        });
    }
    if protected == Some(false) {
        f.problems.push(
            "`protected-mode no` lets clients on other hosts in without a password".to_owned(),
        );
    }
    let authenticated = password && !nopass_user;
    if !authenticated {
        f.problems.push(
            "no `requirepass` and no ACL user with a password: Redis asks for no password"
                .to_owned(),
        );
    }
    // protected-mode (on by default) refuses remote clients while no password is set
    f.open = Some(!authenticated && protected == Some(false));
    f
}

fn mysql(text: &str) -> ConfigFacts {
    let mut f = ConfigFacts::default();
    let mut bind_seen = false;
    for line in text.lines().map(strip_file).filter(|l| !l.starts_with('#')) {
        let lower = line.to_ascii_lowercase().replace('_', "-");
        if lower.starts_with("bind-address") {
            bind_seen = true;
            f.lines.push(line.to_owned());
            let value = lower.split('=').nth(1).unwrap_or("").trim().to_owned();
            if value.split(',').any(all_interfaces) {
                f.problems
                    .push(format!("`{line}` listens on every interface"));
            }
        } else if lower.starts_with("skip-networking") {
            f.lines.push(line.to_owned());
        }
    }
    if !bind_seen && !text.trim().is_empty() {
        f.problems.push("no `bind-address` in any config file: the server listens on every interface by default".to_owned());
    }
    f.file = text
        .lines()
        .find(|l| l.contains("bind") || l.contains("skip"))
        .and_then(file_of);
    f
}

fn postgres(text: &str) -> ConfigFacts {
    let mut f = ConfigFacts::default();
    for line in text.lines().map(strip_file).filter(|l| !l.starts_with('#')) {
        let words: Vec<&str> = line.split_whitespace().collect();
        if line.starts_with("listen_addresses") {
            f.lines.push(line.to_owned());
            let v = line
                .split('=')
                .nth(1)
                .unwrap_or("")
                .split('#')
                .next()
                .unwrap_or("");
            if v.split(',').any(|a| all_interfaces(a.trim())) {
                f.problems
                    .push(format!("`{}` listens on every interface", line.trim()));
            }
        } else if matches!(words.first(), Some(&("host" | "hostssl" | "hostnossl"))) {
            let addr = words.get(3).copied().unwrap_or("");
            let method = words.last().copied().unwrap_or("");
            let wide = matches!(addr, "0.0.0.0/0" | "::/0" | "all" | "*");
            if wide {
                f.lines.push(line.to_owned());
                if method == "trust" {
                    f.open = Some(true);
                    f.problems.push(format!(
                        "`{line}` lets anyone in without a password (trust)"
                    ));
                } else {
                    f.problems
                        .push(format!("`{line}` accepts logins from any address"));
                }
            }
        }
    }
    f.file = text
        .lines()
        .find(|l| l.contains("listen_addresses"))
        .and_then(file_of);
    f
}

fn mongodb(text: &str) -> ConfigFacts {
    let mut f = ConfigFacts::default();
    let mut auth = false;
    for line in settings(text) {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("bindip:") || lower.starts_with("bindipall:") {
            f.lines.push(line.to_owned());
            let v = lower.split(':').nth(1).unwrap_or("").trim().to_owned();
            if v == "true" || v.split(',').any(|a| all_interfaces(a.trim())) {
                f.problems
                    .push(format!("`{line}` listens on every interface"));
            }
        } else if lower.starts_with("authorization:") {
            f.lines.push(line.to_owned());
            auth = lower.contains("enabled");
        }
    }
    if !auth {
        f.problems.push(
            "`security.authorization` is not enabled: MongoDB asks for no credentials".to_owned(),
        );
    }
    f.open = Some(!auth);
    f
}

fn memcached(text: &str) -> ConfigFacts {
    let mut f = ConfigFacts::default();
    let mut listen = None;
    for line in settings(text) {
        if let Some(v) = line
            .strip_prefix("-l")
            .or_else(|| line.strip_prefix("--listen="))
        {
            listen = Some(v.trim().to_owned());
            f.lines.push(line.to_owned());
        } else if line.starts_with("-U") || line.starts_with("-S") {
            f.lines.push(line.to_owned());
        }
    }
    match listen {
        Some(v) if !v.split(',').any(all_interfaces) => {}
        Some(v) => f
            .problems
            .push(format!("`-l {v}` listens on every interface")),
        None => f
            .problems
            .push("no `-l` line: memcached listens on every interface".to_owned()),
    }
    f.open = Some(!f.lines.iter().any(|l| l.starts_with("-S")));
    f
}

fn elasticsearch(text: &str) -> ConfigFacts {
    let mut f = ConfigFacts::default();
    for line in settings(text) {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("network.host") || lower.starts_with("http.host") {
            f.lines.push(line.to_owned());
            let v = lower
                .split(':')
                .nth(1)
                .unwrap_or("")
                .trim()
                .trim_matches('"')
                .to_owned();
            if all_interfaces(&v) || v.contains("_site_") || v.contains("_global_") {
                f.problems.push(format!("`{line}` listens beyond loopback"));
            }
        } else if lower.starts_with("xpack.security.enabled") {
            f.lines.push(line.to_owned());
            if lower.contains("false") {
                f.open = Some(true);
                f.problems.push(
                    "`xpack.security.enabled: false`: the API asks for no credentials".to_owned(),
                );
            }
        }
    }
    f
}

fn docker(text: &str) -> ConfigFacts {
    let mut f = ConfigFacts::default();
    for line in text.lines().map(str::trim) {
        if line.contains("tcp://") || line.contains("\"tls") {
            f.lines.push(line.to_owned());
        }
    }
    let tls = text.contains("\"tlsverify\": true") || text.contains("\"tlsverify\":true");
    if text.contains("tcp://") && !tls {
        f.problems.push(
            "the daemon listens on TCP without `tlsverify`: no client authentication".to_owned(),
        );
    }
    f.open = Some(text.contains("tcp://") && !tls);
    f
}

#[cfg(test)]
mod tests;
