//! The main certificate finding: time left against the host clock, the served certificate
//! against the file on disk, the renewal state, and the fixes that follow.

use squadron_core::{Finding, Investigation, Severity};

use super::super::clock::DAY;
use super::super::tool;
use super::certs::{self, CertView};
use super::left_text;
use super::renewal::Renewal;

/// `5.1 days left` or `2.1 days ago`.
fn days(left: i64) -> String {
    let d = left.abs() as f64 / DAY as f64;
    if left < 0 {
        format!("expired {d:.1} days ago")
    } else {
        format!("{d:.1} days left")
    }
}

/// What the main finding is built from.
pub(super) struct Main<'a> {
    pub inv: &'a Investigation<'a>,
    pub now: i64,
    pub clock_line: &'a Option<(String, String)>,
    pub domain: Option<&'a str>,
    pub served: Option<&'a CertView>,
    pub file: Option<&'a CertView>,
    pub managed: Option<&'a CertView>,
    pub renewal: &'a Renewal,
}

impl Main<'_> {
    pub fn finding(&self, p: &CertView) -> Finding {
        let (ts, text) = p.not_after.clone().unwrap_or_default();
        let left = ts - self.now;
        let name = self
            .domain
            .map(str::to_owned)
            .or_else(|| p.subject.clone())
            .unwrap_or_else(|| "this host".into());
        let acme = p.acme() || self.managed.is_some();
        let renewal_off = acme && self.renewal.scheduled() == Some(false);
        let failing = acme && self.renewal.failing();
        let severity = if left < 14 * DAY {
            Severity::Critical
        } else if left < 30 * DAY || renewal_off || failing {
            Severity::Warning
        } else {
            Severity::Info
        };
        let state = if left <= 0 {
            format!("expired {} ago ({text})", left_text(left))
        } else if severity == Severity::Info {
            format!("is valid for {} more ({text})", left_text(left))
        } else {
            format!("expires in {} ({text})", left_text(left))
        };
        let why = if renewal_off {
            " and automatic renewal is off"
        } else if failing {
            " and its renewal is failing"
        } else {
            ""
        };
        let mut f = Finding::new(severity, format!("TLS certificate for {name} {state}{why}"));
        f = match self.clock_line {
            Some((_, line)) => f.detail(format!(
                "Counted against the host's clock ({line}): {}.",
                days(left)
            )),
            None => f.detail(format!(
                "The host's clock could not be read; counted against the engine's clock: {}.",
                days(left)
            )),
        };
        if let Some(issuer) = &p.issuer {
            f = f.detail(format!(
                "Issued by {issuer}{}.",
                p.not_before
                    .as_ref()
                    .map(|b| format!(" on {}", b.1))
                    .unwrap_or_default()
            ));
        }
        if acme && left < 30 * DAY {
            f = f.detail("ACME certificates such as Let's Encrypt's live 90 days and certbot renews them 30 days before they expire, so one this close to expiry means renewal has not been working.");
        }
        let stale = match (self.served, self.file.or(self.managed)) {
            (Some(s), Some(disk)) => match (&s.not_after, &disk.not_after) {
                (Some(a), Some(b)) if b.0 > a.0 + DAY => Some(b.1.clone()),
                _ => None,
            },
            _ => None,
        };
        if let Some(newer) = &stale {
            f = f.detail(format!("The certificate on disk is newer (valid until {newer}) than the one served: the web server has not been reloaded since it was renewed."));
        }
        if let Some((_, secs, line)) = self
            .inv
            .runs_of(tool::CHECKEND)
            .filter_map(certs::checkend)
            .last()
        {
            f = f.detail(format!(
                "`openssl x509 -checkend {secs}` ({} days) on the host: {line}.",
                secs / DAY
            ));
        }
        if acme {
            for d in self.renewal.describe(self.now) {
                f = f.detail(d);
            }
        }
        f = f.evidence(&p.source, p.lines.clone());
        for v in [self.file, self.managed]
            .into_iter()
            .flatten()
            .filter(|v| v.source != p.source)
        {
            f = f.evidence(&v.source, v.lines.clone());
        }
        if let Some((cmd, line)) = self.clock_line {
            f = f.evidence(cmd, [line.clone()]);
        }
        if let Some(run) = self.inv.runs_of(tool::CHECKEND).last() {
            f = f.evidence(
                run.command(),
                run.output
                    .text()
                    .lines()
                    .filter(|l| l.contains("expire"))
                    .map(str::to_owned),
            );
        }
        if let Some((cmd, _, line)) = self.renewal.unit_state.as_ref().filter(|_| acme) {
            f = f.evidence(cmd, [line.clone()]);
        }
        if let Some((cmd, _, errors)) = self.renewal.log.as_ref().filter(|_| acme) {
            f = f.evidence(cmd, errors.clone());
        }
        self.fixes(
            f,
            p,
            &name,
            acme,
            renewal_off,
            failing,
            stale.is_some(),
            left,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn fixes(
        &self,
        mut f: Finding,
        p: &CertView,
        name: &str,
        acme: bool,
        off: bool,
        failing: bool,
        stale: bool,
        left: i64,
    ) -> Finding {
        let server = self.web_server();
        if stale {
            f = f.fix_with_code(
                "Make the web server load the renewed certificate:",
                "sh",
                format!("sudo systemctl reload {server}"),
            );
        }
        if acme {
            let cert_name = self
                .managed
                .and_then(|m| m.name.clone())
                .unwrap_or_else(|| name.to_owned());
            if failing {
                f = f.fix("Fix the cause certbot logged first, or every renewal will keep failing: for http-01 challenges port 80 must reach this host from the internet and serve /.well-known/acme-challenge/; for dns-01 the DNS API credentials must be valid.");
            }
            if left < 30 * DAY || failing {
                f = f.fix_with_code(
                    "Renew now and reload the web server so it serves the new certificate:",
                    "sh",
                    format!(
                        "sudo certbot renew --cert-name {cert_name}\nsudo systemctl reload {server}"
                    ),
                );
            }
            if off {
                f = f.fix_with_code(
                    "Turn automatic renewal back on and check that it is scheduled:",
                    "sh",
                    "sudo systemctl enable --now certbot.timer\nsystemctl list-timers 'certbot*'",
                );
            }
            f = f.fix_with_code(
                "Prove that the next automatic renewal will work:",
                "sh",
                "sudo certbot renew --dry-run",
            );
        } else if left < 30 * DAY {
            let path = self
                .file
                .and_then(|v| v.path.clone())
                .unwrap_or_else(|| "the path the web server uses".into());
            f = f.fix(format!(
                "Renew the certificate with its issuer ({}), install it at {path} and reload {server}.",
                p.issuer.as_deref().unwrap_or("your CA")
            ));
        }
        f
    }

    /// The web server that serves the certificate, from its configuration path.
    fn web_server(&self) -> &'static str {
        let cmd = self
            .inv
            .last(tool::WEB_TLS)
            .map(|r| r.output.stdout.clone())
            .unwrap_or_default();
        if cmd.contains("/etc/apache2") {
            "apache2"
        } else if cmd.contains("/etc/httpd") {
            "httpd"
        } else {
            "nginx"
        }
    }
}
