//! The fixes for a fatal error, by where it comes from: deactivate, rename or roll back a
//! plugin; switch away from a theme; move a must-use plugin aside; raise a memory limit or
//! restore core files.

use std::sync::LazyLock;

use regex::Regex;
use squadron_core::Finding;

use super::blame::Blame;
use super::phplog::Component;
use super::wplist::Extension;

static MEMORY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"Allowed memory size of ([0-9]+) bytes exhausted").expect("static regex")
});
static TIME_LIMIT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"Maximum execution time of ([0-9]+) seconds? exceeded").expect("static regex")
});

/// Adds the fixes that fit the component to a finding.
pub fn for_component(
    f: Finding,
    b: &Blame,
    path: &str,
    row: Option<&Extension>,
    default_theme: Option<&str>,
) -> Finding {
    let f = limits(f, b);
    match &b.component {
        Component::Plugin(slug) => plugin(f, slug, path, row, b),
        Component::Theme(slug) => theme(f, slug, path, default_theme),
        Component::MuPlugin(name) => f.fix_with_code(
            "Must-use plugins cannot be deactivated; move the file out of mu-plugins to stop \
             WordPress from loading it:",
            "sh",
            format!(
                "mkdir -p {path}/wp-content/mu-plugins.disabled\nmv {path}/wp-content/mu-plugins/{name}* {path}/wp-content/mu-plugins.disabled/"
            ),
        ),
        Component::Core | Component::Unknown => core(f, b, path),
    }
}

fn plugin(f: Finding, slug: &str, path: &str, row: Option<&Extension>, b: &Blame) -> Finding {
    let mut f = f
        .fix_with_code(
            format!(
                "Deactivate {slug} now. --skip-plugins keeps wp-cli from loading the broken \
                 code, so the command works while the site is down:"
            ),
            "sh",
            format!("wp plugin deactivate {slug} --skip-plugins --skip-themes --path={path}"),
        )
        .fix_with_code(
            "Without wp-cli, rename the plugin's folder; WordPress deactivates a plugin whose \
             folder is gone:",
            "sh",
            format!(
                "mv {path}/wp-content/plugins/{slug} {path}/wp-content/plugins/{slug}.disabled"
            ),
        );
    if b.sample.label.contains("Parse") {
        let version = row.map_or("<installed-version>", |e| e.version.as_str());
        f = f.fix_with_code(
            "A parse error in a released plugin means its files are truncated or half-copied: \
             reinstall a clean copy of the same version:",
            "sh",
            format!(
                "wp plugin install {slug} --version={version} --force --skip-plugins --skip-themes --path={path}"
            ),
        );
    }
    let auto = row.is_some_and(Extension::auto_updates_on);
    let current = row.map_or(String::new(), |e| format!(" (installed: {})", e.version));
    let mut rollback = format!(
        "wp plugin install {slug} --version=<last-good-version> --force --skip-plugins --skip-themes --path={path}"
    );
    if auto {
        rollback.push_str(&format!(
            "\nwp plugin auto-updates disable {slug} --skip-plugins --skip-themes --path={path}"
        ));
    }
    f = f.fix_with_code(
        format!(
            "Or roll it back to the previous version that worked{current}{}:",
            if auto {
                " and turn its auto-updates off so it is not updated again"
            } else {
                ""
            }
        ),
        "sh",
        rollback,
    );
    if let Some(e) = row.filter(|e| e.update_available()) {
        f = f.fix_with_code(
            format!(
                "Or update to {} if its changelog fixes this error:",
                e.update_version
            ),
            "sh",
            format!("wp plugin update {slug} --skip-plugins --skip-themes --path={path}"),
        );
    }
    let location = b.locations.first().cloned().unwrap_or_default();
    f.fix(format!(
        "Report the error to the plugin's author with the fatal line above ({location}); \
         reactivate once a fixed version is out."
    ))
}

fn theme(f: Finding, slug: &str, path: &str, default_theme: Option<&str>) -> Finding {
    let fallback = default_theme.unwrap_or("twentytwentyfour");
    let install = if default_theme.is_some() {
        String::new()
    } else {
        format!("wp theme install {fallback} --skip-plugins --skip-themes --path={path}\n")
    };
    f.fix_with_code(
        format!("Switch to a default theme so the site renders again ({slug} stays installed):"),
        "sh",
        format!("{install}wp theme activate {fallback} --skip-plugins --skip-themes --path={path}"),
    )
    .fix_with_code(
        "Without wp-cli, rename the theme's folder; WordPress falls back to an installed \
         default theme:",
        "sh",
        format!("mv {path}/wp-content/themes/{slug} {path}/wp-content/themes/{slug}.disabled"),
    )
    .fix_with_code(
        format!("Then restore {slug} from a backup or reinstall the version that worked:"),
        "sh",
        format!(
            "wp theme install {slug} --version=<last-good-version> --force --skip-plugins --skip-themes --path={path}"
        ),
    )
}

fn core(f: Finding, b: &Blame, path: &str) -> Finding {
    if MEMORY.is_match(&b.sample.message) || TIME_LIMIT.is_match(&b.sample.message) {
        return f;
    }
    f.fix_with_code(
        "Check WordPress's own files against the official checksums, and restore them if they \
         were changed or half-updated:",
        "sh",
        format!(
            "wp core verify-checksums --skip-plugins --skip-themes --path={path}\nwp core download --skip-content --force --version=$(wp core version --path={path}) --path={path}"
        ),
    )
}

/// Memory and time limits: the message names the limit; the fix raises it.
fn limits(f: Finding, b: &Blame) -> Finding {
    if let Some(c) = MEMORY.captures(&b.sample.message) {
        let mib = c[1].parse::<u64>().unwrap_or(0) / (1024 * 1024);
        let next = (mib * 2).max(256);
        return f
            .detail(format!(
                "PHP ran out of its {mib} MiB memory limit while running {}.",
                b.component.label()
            ))
            .fix_with_code(
                format!("Raise the memory limit to {next}M in wp-config.php (and PHP's memory_limit if it is lower):"),
                "php",
                format!("define( 'WP_MEMORY_LIMIT', '{next}M' );"),
            );
    }
    if let Some(c) = TIME_LIMIT.captures(&b.sample.message) {
        return f.detail(format!(
            "The request ran longer than PHP's {} second limit inside {}: something it calls \
             (a remote API, a slow query) hangs.",
            &c[1],
            b.component.label()
        ));
    }
    f
}
