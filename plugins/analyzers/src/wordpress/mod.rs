//! The WordPress squad's analyzer. It reads what the site answers (status, error page,
//! redirects), the PHP and web server logs (fatal errors, attributed to the plugin, theme or
//! core file that threw them), wp-cli's plugin, theme, option and cron lists, wp-config.php
//! (redacted), and the database host's state (unit, journal, OOM kills, listeners, memory),
//! and says what is wrong and how to fix it.
//!
//! Between playbook steps it records what later steps need as entities: the next redirect
//! hop (`redirect_1`..), the PHP version and web server (which logs to read), the plugin
//! whose fatals crash the site (`culprit_plugin`, proposed for deactivation), whether the
//! database is down (`db_down`, `db_unit`), and the home/siteurl values to propose.

mod blame;
mod common;
mod cron;
mod db;
mod dbcause;
mod dbdown;
mod dberror;
mod dblogin;
mod fatal;
mod fixes;
mod http;
mod learn;
mod phplog;
mod plugins;
mod redirect;
mod site;
mod siteurl;
mod slow;
mod system;
mod url;
mod urlfix;
mod urls;
mod wpconfig;
mod wplist;

#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;

use squadron_core::output::ToolRun;
use squadron_core::{Analyzer, Entities, Finding, Investigation};

/// Reads the wordpress squad's tool output.
#[derive(Debug, Clone, Copy, Default)]
pub struct WordpressAnalyzer;

impl Analyzer for WordpressAnalyzer {
    fn id(&self) -> &'static str {
        "wordpress"
    }

    fn learn(&self, run: &ToolRun, entities: &mut Entities, _message: &str) {
        learn::learn(run, entities);
    }

    fn diagnose(&self, inv: &mut Investigation<'_>) -> Vec<Finding> {
        if matches!(
            inv.intent,
            "plugins" | "plugin_deactivate" | "plugin_activate" | "plugin_rollback"
        ) {
            return plugins::findings(inv);
        }
        let mut out = Vec::new();
        let database = db::findings(inv);
        let fatals = fatal::findings(inv);
        let urls = urls::findings(inv, inv.intent == "redirect");
        let explained = !database.is_empty() || !fatals.is_empty() || !urls.is_empty();
        out.extend(database);
        out.extend(fatals);
        out.extend(urls);
        out.extend(site::findings(inv, explained));
        out.extend(slow::findings(inv));
        out.extend(cron::findings(inv, inv.intent == "cron"));
        out
    }
}
