//! The Security squad's analyzer: what a host exposes (listeners against the firewall and
//! the service's own configuration), who tries to log in (failures per address and user,
//! brute force, compromise), how sshd, sudo and sensitive files are hardened, which security
//! updates are pending, and when TLS certificates expire against the host's clock.
//!
//! Between playbook steps it records what later steps need: which datastores are exposed
//! (`exposed_redis`, ...) so their configuration is read, which auth log exists
//! (`auth_log`, `auth_log_missing`), whether `sshd -T` could run, whether apt exists, and
//! where the domain's certificate file is (`cert`).

mod authlog;
mod bruteforce;
mod checklist;
mod clock;
mod exposure;
mod fail2ban;
mod firewall;
mod learn;
mod listeners;
mod perms;
mod service_config;
mod services;
mod sshd;
mod sudo;
mod tls;
mod updates;

#[cfg(test)]
mod testkit;

use squadron_core::output::ToolRun;
use squadron_core::{Analyzer, Entities, Finding, Investigation, Severity};

use firewall::Firewall;

/// The squad's tool ids, as `squads/security/squad.toml` declares them.
pub(crate) mod tool {
    pub const SOCKETS: &str = "listening_sockets";
    pub const UFW: &str = "ufw_status";
    pub const IPTABLES: &str = "iptables_rules";
    pub const NFT: &str = "nft_ruleset";
    pub const SERVICE_CONFIG: &str = "service_config";
    pub const MYSQL_BIND: &str = "mysql_bind_settings";
    pub const POSTGRES_LISTEN: &str = "postgres_listen_settings";
    pub const AUTH_FAILURES: &str = "auth_failures";
    pub const AUTH_ACCEPTED: &str = "auth_accepted";
    pub const SUDO_LOG: &str = "sudo_log";
    pub const SSH_JOURNAL: &str = "ssh_journal";
    pub const LASTB: &str = "failed_logins_btmp";
    pub const SSHD_T: &str = "sshd_effective_config";
    pub const SSHD_CONFIG: &str = "sshd_config_file";
    pub const FAIL2BAN: &str = "fail2ban_status";
    pub const SUDOERS: &str = "sudoers_file";
    pub const SUDOERS_D: &str = "sudoers_dropins";
    pub const ADMIN_GROUPS: &str = "admin_groups";
    pub const ACCOUNTS: &str = "accounts";
    pub const FILE_MODES: &str = "sensitive_file_modes";
    pub const APT: &str = "apt_upgradable";
    pub const DNF: &str = "dnf_security_updates";
    pub const UNIT_ENABLED: &str = "unit_enabled";
    pub const TIMERS: &str = "systemd_timers";
    pub const CLOCK: &str = "host_clock";
    pub const TLS_PROBE: &str = "tls_probe";
    pub const CERT_FILE: &str = "cert_file_info";
    pub const CHECKEND: &str = "cert_checkend";
    pub const CERTBOT: &str = "certbot_certificates";
    pub const WEB_TLS: &str = "web_tls_config";
    pub const CERTBOT_LOG: &str = "certbot_log";
}

/// Reads the security squad's tool output.
#[derive(Debug, Clone, Copy, Default)]
pub struct SecurityAnalyzer;

impl Analyzer for SecurityAnalyzer {
    fn id(&self) -> &'static str {
        "security"
    }

    fn learn(&self, run: &ToolRun, entities: &mut Entities, message: &str) {
        learn::learn(run, entities, message);
    }

    fn diagnose(&self, inv: &mut Investigation<'_>) -> Vec<Finding> {
        let inv: &Investigation<'_> = inv;
        let fw = Firewall::read(inv);
        let mut out = exposure::critical(inv, &fw);
        out.extend(exposure::review(inv, &fw));
        out.extend(exposure::firewall_missing(inv, &fw));
        let logins = bruteforce::findings(inv, &fw);
        let attacked = logins.iter().any(|f| f.severity >= Severity::Warning);
        out.extend(logins);
        if inv.intent != "ssh_bruteforce" || !attacked {
            out.extend(sshd::finding(inv));
        }
        out.extend(tls::findings(inv));
        out.extend(sudo::findings(inv));
        out.extend(perms::findings(inv));
        out.extend(updates::findings(inv));
        match inv.intent {
            "exposure" => {
                out.extend(exposure::focus(inv, &fw, &out));
                out.extend(exposure::summary(inv));
            }
            "compliance" => out.insert(0, checklist::finding(inv, &fw, &out)),
            _ => {}
        }
        out
    }
}
