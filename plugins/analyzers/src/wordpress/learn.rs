//! What a step teaches the steps after it, as entities: the next hop of a redirect chain,
//! the PHP version and web server (which logs to read), the plugin or theme whose fatals
//! crash the site (what to propose deactivating), whether the database is down (what to
//! check and start), and the home/siteurl values to propose.

use squadron_core::Entities;
use squadron_core::output::ToolRun;

use super::blame;
use super::common;
use super::http::{Page, Response};
use super::phplog::Component;
use super::redirect::MAX_HOPS;
use super::system::UnitStatus;
use super::url::{self, Url};
use super::wpconfig::WpConfig;
use super::wplist;

/// Facts about one turn; cleared when a new investigation starts at the front page.
const TURN_FACTS: &[&str] = &[
    "culprit_plugin",
    "culprit_theme",
    "site_db_error",
    "php_fpm_down",
    "db_down",
    "db_disk_full",
    "fix_home",
    "fix_siteurl",
    "wp_home_defined",
    "wp_siteurl_defined",
];

/// Hop entities, `redirect_1` ..
fn hop_name(i: usize) -> String {
    format!("redirect_{i}")
}

pub fn learn(run: &ToolRun, e: &mut Entities) {
    match run.tool() {
        "site_home" => start(run, e),
        "site_login" => http(run, e),
        "http_get" => {
            let fetched = Url::parse(common::fetched_url(run));
            let index = (1..=MAX_HOPS).find(|i| {
                e.get(&hop_name(*i))
                    .and_then(Url::parse)
                    .zip(fetched.as_ref())
                    .is_some_and(|(a, b)| a.same_page(b))
            });
            let is_start = !e.has("site_url")
                && fetched.as_ref().is_some_and(|u| {
                    e.get("domain")
                        .is_some_and(|d| d.eq_ignore_ascii_case(&u.host))
                });
            match index {
                Some(i) => {
                    http(run, e);
                    next_hop(run, e, i);
                }
                None if is_start => start(run, e),
                None => http(run, e),
            }
        }
        "debug_log" | "php_log" | "web_error_log" => {
            versions_from_text(&run.output.stdout, e);
            if run.output.ok() {
                culprit(&run.output.stdout, e);
                if run.tool() == "web_error_log" && fpm_unreachable(&run.output.stdout) {
                    e.set("php_fpm_down", "yes");
                }
            }
        }
        "wp_plugin_list" => resolve_plugin(run, e),
        "systemctl_status" => unit(run, e),
        "wp_config" if run.output.ok() => config(&run.output.stdout, e),
        "site_options" | "wp_option_get" if run.output.ok() => url_fixes(run, e),
        "mysql_error_log" if run.output.ok() => {
            let t = run.output.stdout.to_ascii_lowercase();
            if t.contains("no space left") || t.contains("disk full") || t.contains("disk is full")
            {
                e.set("db_disk_full", "yes");
            }
        }
        _ if common::is_wp_cli(run) && !run.output.ok() => culprit(&run.output.stderr, e),
        _ => {}
    }
}

/// A new investigation starts at the front page: forget the last turn's facts and hops.
fn start(run: &ToolRun, e: &mut Entities) {
    for name in TURN_FACTS {
        e.remove(name);
    }
    for i in 1..=MAX_HOPS {
        e.remove(&hop_name(i));
    }
    match Url::parse(common::fetched_url(run)) {
        Some(u) => e.set("redirect_start", u.text()),
        None => {
            e.remove("redirect_start");
        }
    }
    http(run, e);
    next_hop(run, e, 0);
}

fn http(run: &ToolRun, e: &mut Entities) {
    let Some(r) = run
        .output
        .ok()
        .then(|| Response::parse(&run.output.stdout))
        .flatten()
    else {
        return;
    };
    if let Some(v) = r.php_version() {
        e.set("php_version", v);
    }
    if let Some(s) = r.server() {
        e.set("web_server", s);
    }
    if r.page() == Page::DatabaseError {
        e.set("site_db_error", "yes");
    }
}

/// Sets `redirect_{i+1}` to where this response points, unless the chain was there before.
fn next_hop(run: &ToolRun, e: &mut Entities, i: usize) {
    if i >= MAX_HOPS || !run.output.ok() {
        return;
    }
    let Some(r) = Response::parse(&run.output.stdout).filter(Response::is_redirect) else {
        return;
    };
    let Some(here) = Url::parse(common::fetched_url(run)) else {
        return;
    };
    let Some(next) = r.header("location").and_then(|l| url::resolve(&here, l)) else {
        return;
    };
    let start = e.get("redirect_start").and_then(Url::parse);
    let seen = start
        .iter()
        .cloned()
        .chain((1..=i).filter_map(|k| e.get(&hop_name(k)).and_then(Url::parse)));
    if seen.into_iter().any(|u| u.same_page(&next)) || next.same_page(&here) {
        return;
    }
    if fetchable(&next) {
        e.set(hop_name(i + 1), next.text());
    }
}

/// Whether the http tool's url parameter will take this URL (plain host, no exotic bytes).
fn fetchable(u: &Url) -> bool {
    let host_ok = u
        .host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'));
    let path_ok = u
        .path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-._~%!$&'()*+,;=:@/?".contains(c));
    host_ok && path_ok && u.text().len() <= 2048
}

fn versions_from_text(text: &str, e: &mut Entities) {
    static FPM: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"php([5-8]\.[0-9])-fpm").expect("static regex")
    });
    if e.has("php_version") {
        return;
    }
    if let Some(c) = FPM.captures(text) {
        e.set("php_version", c[1].to_owned());
    }
}

fn fpm_unreachable(text: &str) -> bool {
    text.lines().any(|l| {
        l.contains("connect() to")
            && l.contains("failed")
            && (l.contains("fpm") || l.contains("fastcgi"))
    })
}

fn culprit(text: &str, e: &mut Entities) {
    let Some(top) = blame::fatals([("", text)]).into_iter().next() else {
        return;
    };
    match top.component {
        Component::Plugin(slug) if is_slug(&slug) && !e.has("culprit_plugin") => {
            e.set("culprit_plugin", slug);
        }
        Component::Theme(slug) if is_slug(&slug) && !e.has("culprit_theme") => {
            e.set("culprit_theme", slug);
        }
        _ => {}
    }
}

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
}

/// Matches the plugin the user named against the installed ones: exact slug, else the one
/// slug that contains the name. Unknown names are set aside so nothing is proposed for them.
fn resolve_plugin(run: &ToolRun, e: &mut Entities) {
    e.remove("plugin_unknown");
    let Some(asked) = e.get("plugin").map(str::to_ascii_lowercase) else {
        return;
    };
    let list = if run.output.ok() {
        wplist::extensions(&run.output.stdout)
    } else {
        Vec::new()
    };
    if list.is_empty() {
        if is_slug(&asked) {
            e.set("plugin", asked);
        }
        return;
    }
    let exact = list.iter().find(|p| p.name.eq_ignore_ascii_case(&asked));
    let partial: Vec<_> = list
        .iter()
        .filter(|p| p.name.to_ascii_lowercase().contains(&asked))
        .collect();
    match (exact, partial.as_slice()) {
        (Some(p), _) => e.set("plugin", p.name.clone()),
        (None, [p]) => e.set("plugin", p.name.clone()),
        _ => {
            e.remove("plugin");
            e.set("plugin_unknown", asked);
        }
    }
}

fn unit(run: &ToolRun, e: &mut Entities) {
    let Some(service) = run
        .arg("service")
        .filter(|s| matches!(*s, "mysql" | "mariadb" | "mysqld"))
    else {
        return;
    };
    let status = UnitStatus::parse(&run.output.stdout);
    if status.not_found || status.active.is_none() {
        return;
    }
    e.set(
        "db_unit",
        status.unit.clone().unwrap_or_else(|| service.to_owned()),
    );
    if status.is_down() {
        e.set("db_down", "yes");
    }
}

fn config(text: &str, e: &mut Entities) {
    let c = WpConfig::parse(text);
    if c.get("WP_HOME").is_some() {
        e.set("wp_home_defined", "yes");
    }
    if c.get("WP_SITEURL").is_some() {
        e.set("wp_siteurl_defined", "yes");
    }
}

/// Proposes home/siteurl = the site's address when the option points elsewhere and
/// wp-config.php does not override it.
fn url_fixes(run: &ToolRun, e: &mut Entities) {
    let Some(site) = e.get("site_url").and_then(Url::parse) else {
        return;
    };
    let values: Vec<(String, String)> = match run.tool() {
        "wp_option_get" => run
            .arg("option")
            .map(|o| vec![(o.to_owned(), run.output.stdout.trim().to_owned())])
            .unwrap_or_default(),
        _ => wplist::rows(&run.output.stdout)
            .iter()
            .filter_map(|r| {
                Some((
                    r.value(&["option_name"])?.trim().to_owned(),
                    r.value(&["option_value"])?.trim().to_owned(),
                ))
            })
            .collect(),
    };
    for (name, value) in values {
        let (fix, defined) = match name.as_str() {
            "home" => ("fix_home", "wp_home_defined"),
            "siteurl" => ("fix_siteurl", "wp_siteurl_defined"),
            _ => continue,
        };
        let Some(current) = Url::parse(&value) else {
            continue;
        };
        if current.origin() != site.origin() && !e.has(defined) {
            e.set(fix, site.origin() + site.base_path());
        }
    }
}
