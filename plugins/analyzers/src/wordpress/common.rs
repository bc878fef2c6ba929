//! What several checks read from an investigation: the HTTP responses, the texts that can
//! hold PHP log entries, wp-config.php, the plugin and theme lists, the WordPress path.

use squadron_core::output::ToolRun;
use squadron_core::{Entities, Investigation};

use super::http::Response;
use super::wpconfig::WpConfig;
use super::wplist::{self, Extension};

/// Tools whose output is a PHP or web server log.
pub const LOG_TOOLS: &[&str] = &["debug_log", "php_log", "web_error_log"];

/// The HTTP responses of the turn, with the URL each came from.
pub fn responses<'a>(inv: &'a Investigation<'_>) -> Vec<(&'a ToolRun, Response)> {
    inv.runs
        .iter()
        .filter(|r| matches!(r.tool(), "site_home" | "site_login" | "http_get"))
        .filter(|r| r.output.ok())
        .filter_map(|r| Response::parse(&r.output.stdout).map(|resp| (r, resp)))
        .collect()
}

/// The URL an http run fetched.
pub fn fetched_url(run: &ToolRun) -> &str {
    run.command()
        .strip_prefix("http GET ")
        .unwrap_or(run.command())
}

/// Whether a run is a wp-cli command.
pub fn is_wp_cli(run: &ToolRun) -> bool {
    run.command().starts_with("wp ")
}

/// Texts that may hold PHP log entries: the log files, and wp-cli's stderr when it died.
pub fn log_texts<'a>(inv: &'a Investigation<'_>) -> Vec<(&'a ToolRun, &'a str)> {
    inv.runs
        .iter()
        .filter_map(|r| {
            if LOG_TOOLS.contains(&r.tool()) && r.output.ok() {
                Some((r, r.output.stdout.as_str()))
            } else if is_wp_cli(r) && !r.output.ok() {
                Some((r, r.output.stderr.as_str()))
            } else {
                None
            }
        })
        .collect()
}

/// wp-config.php, when the turn read it.
pub fn wp_config(inv: &Investigation<'_>) -> Option<(WpConfig, String)> {
    let run = inv.last("wp_config").filter(|r| r.output.ok())?;
    Some((
        WpConfig::parse(&run.output.stdout),
        run.command().to_owned(),
    ))
}

/// A wp-cli list (plugins or themes) with the command that printed it.
pub fn extensions(inv: &Investigation<'_>, tool: &str) -> Option<(Vec<Extension>, String)> {
    let run = inv.last(tool).filter(|r| r.output.ok())?;
    let list = wplist::extensions(&run.output.stdout);
    (!list.is_empty()).then(|| (list, run.command().to_owned()))
}

/// Where WordPress lives, for the commands the fixes print.
pub fn wordpress_path(entities: &Entities) -> String {
    entities
        .get("wordpress_path")
        .unwrap_or("/var/www/html")
        .to_owned()
}

/// The first non-empty line of stderr (or stdout), for evidence of a failure.
pub fn first_error_line(run: &ToolRun) -> Option<String> {
    run.output
        .stderr
        .lines()
        .chain(run.output.stdout.lines())
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_owned)
}
