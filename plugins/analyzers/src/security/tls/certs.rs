//! Certificates as the tools print them: the leaf of `openssl s_client` (`v:NotBefore: ...;
//! NotAfter: ...`), `openssl x509 -subject -issuer -dates` (`notAfter=...`) or `-text`
//! (`Not After : ...`), `certbot certificates` blocks, and `openssl x509 -checkend`.

use squadron_core::ToolRun;

use super::super::clock;

/// One view of a certificate: what some command said about it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertView {
    /// The command it comes from.
    pub source: String,
    pub subject: Option<String>,
    pub issuer: Option<String>,
    /// Unix seconds and the text as printed.
    pub not_after: Option<(i64, String)>,
    pub not_before: Option<(i64, String)>,
    /// Names it covers, when the output lists them (certbot).
    pub domains: Vec<String>,
    /// certbot's certificate name and path.
    pub name: Option<String>,
    pub path: Option<String>,
    /// The lines to quote.
    pub lines: Vec<String>,
}

impl CertView {
    /// Whether a short-lived ACME certificate (Let's Encrypt, ZeroSSL, ...).
    pub fn acme(&self) -> bool {
        let i = self.issuer.as_deref().unwrap_or("").to_ascii_lowercase();
        i.contains("let's encrypt")
            || i.contains("lets encrypt")
            || i.contains("zerossl")
            || i.contains("buypass")
            || self.name.is_some()
    }

    /// Whether the certificate names `domain` (subject CN or a listed name, wildcards too).
    pub fn covers(&self, domain: &str) -> bool {
        let d = domain.to_ascii_lowercase();
        let matches = |n: &str| {
            let n = n.trim().trim_end_matches(',').to_ascii_lowercase();
            n == d
                || n.strip_prefix("*.")
                    .is_some_and(|base| d.split_once('.').is_some_and(|(_, rest)| rest == base))
        };
        self.domains.iter().any(|n| matches(n))
            || self
                .subject
                .as_deref()
                .is_some_and(|s| s.split(['=', ',', '/']).any(matches))
    }
}

fn stamp(text: &str) -> Option<(i64, String)> {
    let t = text.trim();
    clock::parse_loose(t).map(|ts| (ts, t.to_owned()))
}

/// The leaf certificate an `openssl s_client` run printed.
pub fn served(run: &ToolRun) -> Option<CertView> {
    let text = &run.output.stdout;
    let mut view = CertView {
        source: run.command().to_owned(),
        ..CertView::default()
    };
    let mut in_leaf = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("0 s:") {
            in_leaf = true;
            view.subject
                .get_or_insert_with(|| t.trim_start_matches("0 s:").trim().to_owned());
            view.lines.push(t.to_owned());
        } else if in_leaf && t.starts_with("v:NotBefore:") {
            let body = t.trim_start_matches("v:");
            for part in body.split(';') {
                if let Some((k, v)) = part.split_once(':') {
                    match k.trim() {
                        "NotBefore" => view.not_before = stamp(v),
                        "NotAfter" => view.not_after = stamp(v),
                        _ => {}
                    }
                }
            }
            view.lines.push(t.to_owned());
            in_leaf = false;
        } else if in_leaf && t.starts_with("i:") {
            view.issuer
                .get_or_insert_with(|| t.trim_start_matches("i:").trim().to_owned());
        } else if t.starts_with("1 s:") || t == "---" {
            in_leaf = false;
        } else if let Some(s) = t.strip_prefix("subject=") {
            view.subject = Some(s.trim().to_owned());
        } else if let Some(i) = t.strip_prefix("issuer=") {
            view.issuer = Some(i.trim().to_owned());
        } else if t.starts_with("Verify return code:") && !t.contains("0 (ok)") {
            view.lines.push(t.to_owned());
        }
    }
    (view.subject.is_some() || view.not_after.is_some()).then_some(view)
}

/// Why an `openssl s_client` run got no certificate (refused, unknown name, timeout).
pub fn probe_error(run: &ToolRun) -> Option<String> {
    if served(run).is_some() {
        return None;
    }
    let text = run.output.text();
    text.lines()
        .map(str::trim)
        .find(|l| {
            let l = l.to_ascii_lowercase();
            l.contains("errno")
                || l.contains("refused")
                || l.contains("not known")
                || l.contains("timed out")
                || l.contains("error")
        })
        .or_else(|| text.lines().map(str::trim).find(|l| !l.is_empty()))
        .map(str::to_owned)
}

/// `openssl x509 -noout -subject -issuer -dates` or `-text` output.
pub fn file(run: &ToolRun) -> Option<CertView> {
    if !run.output.ok() {
        return None;
    }
    let mut view = CertView {
        source: run.command().to_owned(),
        path: run.arg("cert").map(str::to_owned),
        ..CertView::default()
    };
    for line in run.output.stdout.lines() {
        let t = line.trim();
        if let Some(v) = t
            .strip_prefix("notAfter=")
            .or_else(|| t.strip_prefix("Not After :"))
        {
            view.not_after = stamp(v);
            view.lines.push(t.to_owned());
        } else if let Some(v) = t
            .strip_prefix("notBefore=")
            .or_else(|| t.strip_prefix("Not Before:"))
        {
            view.not_before = stamp(v);
        } else if let Some(v) = t
            .strip_prefix("subject=")
            .or_else(|| t.strip_prefix("Subject:"))
        {
            view.subject = Some(v.trim().to_owned());
            view.lines.insert(0, t.to_owned());
        } else if let Some(v) = t
            .strip_prefix("issuer=")
            .or_else(|| t.strip_prefix("Issuer:"))
        {
            view.issuer = Some(v.trim().to_owned());
        } else if let Some(v) = t.strip_prefix("DNS:") {
            view.domains = v.split(", DNS:").map(|d| d.trim().to_owned()).collect();
        }
    }
    view.not_after.is_some().then_some(view)
}

/// Every certificate `certbot certificates` lists.
pub fn certbot(run: &ToolRun) -> Vec<CertView> {
    let mut out: Vec<CertView> = Vec::new();
    for line in run.output.stdout.lines() {
        let t = line.trim();
        let Some((key, value)) = t.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if key == "Certificate Name" {
            out.push(CertView {
                source: run.command().to_owned(),
                name: Some(value.to_owned()),
                ..CertView::default()
            });
            continue;
        }
        let Some(view) = out.last_mut() else { continue };
        match key {
            "Domains" => view.domains = value.split_whitespace().map(str::to_owned).collect(),
            "Expiry Date" => {
                let date = value.split(" (").next().unwrap_or(value);
                view.not_after = stamp(date);
                view.lines.push(t.to_owned());
            }
            "Certificate Path" => view.path = Some(value.to_owned()),
            _ => {}
        }
    }
    out
}

/// `openssl x509 -checkend N`: whether the certificate expires within N seconds.
pub fn checkend(run: &ToolRun) -> Option<(bool, i64, String)> {
    let seconds: i64 = run.arg("seconds")?.parse().ok()?;
    let text = run.output.text();
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| l.contains("will expire") || l.contains("will not expire"))?;
    Some((!line.contains("not expire"), seconds, line.to_owned()))
}

#[cfg(test)]
mod tests;
