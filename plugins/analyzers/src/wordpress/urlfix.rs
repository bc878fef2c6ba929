//! The fixes for a wrong site address (wp-config.php defines, wp option update, SQL,
//! search-replace), and the findings for a loop that home/siteurl do not explain and for
//! addresses that are all consistent.

use squadron_core::{Finding, Investigation, Severity};

use super::common;
use super::redirect::Chain;
use super::siteurl::{Setting, SiteUrls};
use super::url::Url;
use super::urls::describe_settings;

pub fn fixes(
    f: Finding,
    inv: &Investigation<'_>,
    urls: &SiteUrls,
    wrong: &[(&str, &Setting)],
    expected: &Url,
) -> Finding {
    let path = common::wordpress_path(inv.entities);
    let new = expected.origin() + expected.base_path();
    let old = wrong
        .first()
        .map(|(_, s)| s.value.trim_end_matches('/').to_owned());
    let in_config: Vec<&str> = wrong
        .iter()
        .filter(|(_, s)| s.origin == "wp-config.php")
        .map(|(n, _)| *n)
        .collect();
    let mut f = f;
    if !in_config.is_empty() {
        let defines: Vec<String> = in_config
            .iter()
            .map(|n| format!("define( 'WP_{}', '{new}' );", n.to_ascii_uppercase()))
            .collect();
        f = f.fix_with_code(
            format!("Correct the define in {path}/wp-config.php (it overrides the database):"),
            "php",
            defines.join("\n"),
        );
    }
    let in_db: Vec<&str> = wrong
        .iter()
        .filter(|(_, s)| s.origin == "wp_options")
        .map(|(n, _)| *n)
        .collect();
    let db_names: Vec<&str> = if in_db.is_empty() && in_config.is_empty() {
        vec!["home", "siteurl"]
    } else {
        in_db
    };
    if !db_names.is_empty() {
        let cmds: Vec<String> = db_names
            .iter()
            .map(|n| {
                format!("wp option update {n} '{new}' --skip-plugins --skip-themes --path={path}")
            })
            .collect();
        let list = db_names
            .iter()
            .map(|n| format!("'{n}'"))
            .collect::<Vec<_>>()
            .join(", ");
        f = f
            .fix_with_code(
                format!(
                    "Point {} at {new} (proposed for approval below):",
                    db_names.join(" and ")
                ),
                "sh",
                cmds.join("\n"),
            )
            .fix_with_code(
                "Or directly in SQL:",
                "sql",
                format!(
                    "UPDATE {} SET option_value = '{new}' WHERE option_name IN ({list});",
                    urls.options_table
                ),
            );
    }
    if let Some(old) = old.filter(|o| o != &new) {
        f = f.fix_with_code(
            "Then replace the old address stored in posts, menus and widgets (dry run first), and flush caches:",
            "sh",
            format!(
                "wp search-replace '{old}' '{new}' --all-tables-with-prefix --skip-columns=guid --skip-plugins --skip-themes --dry-run --path={path}\nwp search-replace '{old}' '{new}' --all-tables-with-prefix --skip-columns=guid --skip-plugins --skip-themes --path={path}\nwp cache flush --skip-plugins --skip-themes --path={path}"
            ),
        );
    }
    f.fix("Keep the web server's redirect from the old name to the new one: once WordPress stops sending visitors back, the loop ends. Browsers cache 301s, so test with curl -I or a private window.")
}

pub fn loop_without_mismatch(
    inv: &Investigation<'_>,
    c: &Chain,
    urls: &SiteUrls,
    expected: &Url,
) -> Finding {
    let path = common::wordpress_path(inv.entities);
    let schemes: Vec<&str> = c.hops.iter().map(|h| h.url.scheme.as_str()).collect();
    let flips = schemes.contains(&"http") && schemes.contains(&"https");
    let mut f = Finding::new(
        Severity::Critical,
        format!(
            "Redirect loop on {} although home and siteurl match it",
            expected.host
        ),
    )
    .detail(format!("The chain goes round: {}.", c.path_text()));
    for hop in &c.hops {
        f = f
            .detail(format!("{}.", hop.describe()))
            .evidence(&hop.command, hop.evidence());
    }
    f = describe_settings(f, urls);
    if flips {
        f = f
            .detail("The loop flips between http and https: WordPress does not see that the request arrived over HTTPS (TLS ends at a proxy or load balancer), so it redirects to https again and again.")
            .fix_with_code(
                format!("Tell WordPress about the proxy's HTTPS, at the top of {path}/wp-config.php:"),
                "php",
                "if ( isset( $_SERVER['HTTP_X_FORWARDED_PROTO'] ) && 'https' === $_SERVER['HTTP_X_FORWARDED_PROTO'] ) {\n\t$_SERVER['HTTPS'] = 'on';\n}",
            );
    }
    f.fix("Compare the web server's redirect rules (return 301 / RewriteRule) with the hops above: one of them sends visitors back where they came from.")
}

pub fn consistent(urls: &SiteUrls, expected: &Url, chain: Option<&Chain>) -> Finding {
    let mut f = Finding::new(
        Severity::Info,
        format!(
            "home and siteurl match {}; no redirect loop seen from here",
            expected.origin()
        ),
    );
    f = describe_settings(f, urls);
    if let Some(c) = chain {
        for hop in &c.hops {
            f = f
                .detail(format!("{}.", hop.describe()))
                .evidence(&hop.command, hop.evidence());
        }
    }
    f.fix("If browsers still loop, clear their cached 301s and check CDN or caching-plugin rules.")
}
