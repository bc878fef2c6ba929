//! What the site's own answer says when the logs do not explain it: a 500 without a logged
//! fatal (debug logging off), a 502 because PHP-FPM is gone, a stuck maintenance mode, a
//! site that does not answer at all.

use std::sync::LazyLock;

use regex::Regex;
use squadron_core::{Finding, Investigation, Severity};

use super::common;
use super::http::{Page, Response};
use super::wpconfig::WpConfig;

static FPM_UPSTREAM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"connect\(\) to (unix:\S+?|[0-9.]+:[0-9]+) failed \(([0-9]+): ([^)]+)\)")
        .expect("static regex")
});

/// Findings from the HTTP answers; `explained` is true when another check already named the
/// cause (a fatal error, the database), so a 500 needs no finding of its own.
pub fn findings(inv: &Investigation<'_>, explained: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    let path = common::wordpress_path(inv.entities);
    for run in inv.runs.iter().filter(|r| r.tool() == "site_home") {
        if !run.output.ok() {
            let why = common::first_error_line(run).unwrap_or_else(|| "no answer".into());
            out.push(
                Finding::new(Severity::Critical, "The site does not answer HTTP requests")
                    .detail(format!(
                        "The request to {} failed: {why}.",
                        common::fetched_url(run)
                    ))
                    .evidence(run.command(), [why])
                    .fix_with_code(
                        "Check that the web server runs and listens on 80/443:",
                        "sh",
                        "systemctl status nginx --no-pager\nss -tlnp",
                    ),
            );
        }
    }
    let responses = common::responses(inv);
    let Some((run, home)) = responses.iter().find(|(r, _)| r.tool() != "site_login") else {
        return out;
    };
    let source = run.command();
    match (home.status, home.page()) {
        (_, Page::Maintenance) => out.push(
            Finding::new(Severity::Critical, "WordPress is stuck in maintenance mode")
                .detail("An update left its .maintenance file behind (updates remove it when they finish).")
                .evidence(source, lines(home))
                .fix_with_code(
                    "Remove the file, then check that the interrupted update completed:",
                    "sh",
                    format!("rm {path}/.maintenance\nwp core verify-checksums --skip-plugins --skip-themes --path={path}"),
                ),
        ),
        (502, _) => out.push(bad_gateway(inv, home, source)),
        (500, page) if !explained && page != Page::DatabaseError => {
            out.push(unexplained_500(inv, home, source, &path));
        }
        _ => {}
    }
    out
}

fn lines(r: &Response) -> Vec<String> {
    let mut l = vec![r.status_line.clone()];
    l.extend(r.message_line());
    l
}

fn bad_gateway(inv: &Investigation<'_>, home: &Response, source: &str) -> Finding {
    let mut f = Finding::new(
        Severity::Critical,
        "The web server cannot reach PHP-FPM (HTTP 502 Bad Gateway)",
    )
    .evidence(source, lines(home));
    if let Some(run) = inv.last("web_error_log").filter(|r| r.output.ok()) {
        let hits: Vec<&str> = run
            .output
            .stdout
            .lines()
            .filter(|l| FPM_UPSTREAM.is_match(l))
            .collect();
        if let Some(c) = hits.last().and_then(|l| FPM_UPSTREAM.captures(l)) {
            f = f.detail(format!(
                "{} connection attempts to PHP-FPM at {} failed with \"{}\": PHP-FPM is not running.",
                hits.len(),
                &c[1],
                &c[3]
            ));
        }
        f = f.evidence(
            run.command(),
            hits.iter().rev().take(2).map(|l| (*l).to_owned()),
        );
    }
    let unit = inv
        .entities
        .get("php_version")
        .map_or("php-fpm".to_owned(), |v| format!("php{v}-fpm"));
    if let Some(run) = inv.last("systemctl_status") {
        let active: Vec<String> = run
            .output
            .stdout
            .lines()
            .filter(|l| l.trim_start().starts_with("Active:"))
            .map(|l| l.trim().to_owned())
            .collect();
        f = f.evidence(run.command(), active);
    }
    f.fix_with_code(
        "Start PHP-FPM and check why it stopped:",
        "sh",
        format!("systemctl start {unit}\njournalctl --unit={unit} --since=yesterday --no-pager | tail -50"),
    )
}

fn unexplained_500(inv: &Investigation<'_>, home: &Response, source: &str, path: &str) -> Finding {
    let config = common::wp_config(inv).map(|(c, _)| c);
    let logging = config.as_ref().is_some_and(|c: &WpConfig| {
        c.is_true("WP_DEBUG") && c.get("WP_DEBUG_LOG").is_some_and(|v| v != "false")
    });
    let kind = match home.page() {
        Page::CriticalError => "WordPress's \"critical error\" page (a PHP fatal error)",
        Page::Blank => "an empty page (the white screen of death)",
        _ => "an error",
    };
    let mut f = Finding::new(
        Severity::Critical,
        "The site answers HTTP 500, but no log read here holds the PHP fatal error",
    )
    .detail(format!("The front page returns {kind}."))
    .evidence(source, lines(home));
    if !logging {
        f = f
            .detail("WordPress's debug log is not enabled, so the fatal error was not written to wp-content/debug.log.")
            .fix_with_code(
                format!("Turn on logging (not display) in {path}/wp-config.php, load the page once, then read wp-content/debug.log:"),
                "php",
                "define( 'WP_DEBUG', true );\ndefine( 'WP_DEBUG_LOG', true );\ndefine( 'WP_DEBUG_DISPLAY', false );",
            );
    }
    f.fix_with_code(
        "Find the culprit by elimination without touching the site's visitors: list plugins, then \
         deactivate the most recently updated one with --skip-plugins and reload:",
        "sh",
        format!("wp plugin list --skip-plugins --skip-themes --path={path}\nwp plugin deactivate <slug> --skip-plugins --skip-themes --path={path}"),
    )
    .fix("WordPress also e-mails the admin address a recovery-mode link that names the plugin or theme at fault.")
}
