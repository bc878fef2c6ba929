//! Redirect loops and wrong site URLs as findings: the chain of hops and who sent each,
//! what home and siteurl say, and the fix (wp option update, UPDATE wp_options, the
//! WP_HOME/WP_SITEURL defines, wp search-replace).

use squadron_core::{Finding, Investigation, Severity};

use super::common;
use super::http::Response;
use super::redirect::{self, Chain};
use super::siteurl::{Setting, SiteUrls};
use super::url::{self, Url};
use super::urlfix;

/// Findings about redirects and the site's configured address. `asked` is true when the
/// user asked about redirects or URLs, so a clean bill of health is worth saying.
pub fn findings(inv: &Investigation<'_>, asked: bool) -> Vec<Finding> {
    let chain = redirect::chain(inv);
    let urls = SiteUrls::gather(inv);
    let expected = inv
        .entities
        .get("site_url")
        .and_then(Url::parse)
        .or_else(|| {
            chain
                .as_ref()
                .and_then(|c| c.hops.first())
                .map(|h| h.url.clone())
        });
    let Some(mut expected) = expected else {
        return Vec::new();
    };
    // In a loop, the address the web server sends visitors to is where the site is meant to
    // be, even when the inventory still names the other one.
    if let Some(intended) = chain.as_ref().and_then(server_target)
        && urls.mismatches(&expected).is_empty()
        && !urls.mismatches(&intended).is_empty()
    {
        expected = intended;
    }
    let wrong = urls.mismatches(&expected);
    let looped = chain.as_ref().filter(|c| c.loops_to.is_some());
    let offsite = chain.as_ref().filter(|c| {
        c.loops_to.is_none()
            && c.redirects() > 0
            && c.hops
                .last()
                .is_some_and(|h| h.url.host != expected.host || h.error.is_some())
    });
    let mut f = match (looped, offsite, wrong.is_empty()) {
        (Some(c), _, false) => Finding::new(
            Severity::Critical,
            format!(
                "Redirect loop: WordPress sends visitors of {} to {} because {}",
                expected.host,
                target_host(&wrong),
                because(&wrong)
            ),
        )
        .detail(format!("The chain goes round: {}.", c.path_text())),
        (Some(c), _, true) => return vec![urlfix::loop_without_mismatch(inv, c, &urls, &expected)],
        (None, Some(c), false) => Finding::new(
            Severity::Critical,
            format!(
                "WordPress redirects {} to {} because {}",
                expected.host,
                target_host(&wrong),
                because(&wrong)
            ),
        )
        .detail(format!("The chain: {}.", c.path_text())),
        (None, _, false) => Finding::new(
            if login_offsite(inv, &expected).is_some() {
                Severity::Critical
            } else {
                Severity::Warning
            },
            format!(
                "{} {} to {}, not to the site's address {}",
                wrong
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(" and "),
                if wrong.len() == 1 { "points" } else { "point" },
                target_host(&wrong),
                expected.origin()
            ),
        ),
        (None, _, true) if asked && urls.any() => {
            return vec![urlfix::consistent(&urls, &expected, chain.as_ref())];
        }
        _ => return Vec::new(),
    };
    if let Some(c) = looped.or(offsite) {
        for hop in &c.hops {
            f = f
                .detail(format!("{}.", hop.describe()))
                .evidence(&hop.command, hop.evidence());
        }
    }
    if let Some((src, lines, location)) = login_offsite(inv, &expected) {
        f = f
            .detail(format!(
                "The login page sends visitors to {location}, so wp-admin is unreachable on {}.",
                expected.host
            ))
            .evidence(&src, lines);
    }
    f = describe_settings(f, &urls);
    vec![urlfix::fixes(f, inv, &urls, &wrong, &expected)]
}

/// wp-login.php redirecting to another host: the command, its evidence and the target.
fn login_offsite(inv: &Investigation<'_>, expected: &Url) -> Option<(String, Vec<String>, String)> {
    let run = inv.last("site_login")?;
    let r = Response::parse(&run.output.stdout).filter(Response::is_redirect)?;
    let here = Url::parse(common::fetched_url(run))?;
    let location = r.header("location")?;
    let to = url::resolve(&here, location)?;
    if to.host == expected.host {
        return None;
    }
    let mut lines = vec![r.status_line.clone()];
    lines.extend(r.header_line("location"));
    lines.extend(r.header_line("x-redirect-by"));
    Some((run.command().to_owned(), lines, to.origin()))
}

/// Where the web server (not WordPress) redirects to, inside a loop.
fn server_target(c: &Chain) -> Option<Url> {
    c.loops_to?;
    c.hops.iter().find_map(|h| {
        let r = h.response.as_ref().filter(|r| r.is_redirect())?;
        if r.header("x-redirect-by").is_some() {
            return None;
        }
        url::resolve(&h.url, r.header("location")?)
    })
}

fn target_host(wrong: &[(&str, &Setting)]) -> String {
    wrong
        .first()
        .and_then(|(_, s)| Url::parse(&s.value))
        .map_or_else(|| "another address".to_owned(), |u| u.origin())
}

fn because(wrong: &[(&str, &Setting)]) -> String {
    let named = |origin: &str, upper: bool| -> Vec<String> {
        wrong
            .iter()
            .filter(|(_, s)| s.origin == origin)
            .map(|(n, _)| {
                if upper {
                    format!("WP_{}", n.to_ascii_uppercase())
                } else {
                    (*n).to_owned()
                }
            })
            .collect()
    };
    let config = named("wp-config.php", true);
    let options = named("wp_options", false);
    let mut parts = Vec::new();
    if !config.is_empty() {
        parts.push(format!("{} in wp-config.php", config.join(" and ")));
    }
    if !options.is_empty() {
        parts.push(options.join(" and "));
    }
    let verb = if config.len() + options.len() == 1 {
        "points"
    } else {
        "point"
    };
    let value = wrong.first().map_or("", |(_, s)| s.value.as_str());
    format!("{} still {verb} to {value}", parts.join(" and "))
}

pub(super) fn describe_settings(mut f: Finding, urls: &SiteUrls) -> Finding {
    let settings = [
        &urls.home_option,
        &urls.siteurl_option,
        &urls.wp_home,
        &urls.wp_siteurl,
    ];
    let mut sources: Vec<&str> = Vec::new();
    for s in settings.iter().copied().flatten() {
        if !sources.contains(&s.source.as_str()) {
            sources.push(&s.source);
        }
    }
    for src in sources {
        let lines = settings
            .iter()
            .copied()
            .flatten()
            .filter(|s| s.source == src)
            .map(|s| s.line.clone());
        f = f.evidence(src, lines);
    }
    let (home, siteurl) = (urls.home_option.as_ref(), urls.siteurl_option.as_ref());
    if home.is_some() || siteurl.is_some() {
        f = f.detail(format!(
            "In {}: home = {}, siteurl = {}.",
            urls.options_table,
            home.map_or("(not read)", |s| s.value.as_str()),
            siteurl.map_or("(not read)", |s| s.value.as_str())
        ));
    }
    match (&urls.wp_home, &urls.wp_siteurl, urls.config_read) {
        (None, None, true) => f.detail(
            "wp-config.php defines neither WP_HOME nor WP_SITEURL, so the options above are what WordPress uses.",
        ),
        (Some(_), _, _) | (_, Some(_), _) => f.detail(
            "wp-config.php defines WP_HOME/WP_SITEURL; those override the options in the database.",
        ),
        _ => f,
    }
}
