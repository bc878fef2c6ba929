//! PHP fatal errors as findings: which plugin, theme or core file crashes the site, since
//! when and how often, what the plugin list says about it (version, auto-update), and the
//! fix (deactivate with --skip-plugins, rename, roll back).

use std::sync::LazyLock;

use regex::Regex;
use squadron_core::{Finding, Investigation, Severity};

use super::blame::{self, Blame};
use super::common;
use super::fixes;
use super::http::Page;
use super::phplog::Component;
use super::wplist::Extension;

static UNDEFINED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"Call to undefined (function|method) ([A-Za-z0-9_\\:>-]+)\(").expect("static regex")
});

/// Findings for the fatal errors in the turn's logs, the likeliest culprit first.
pub fn findings(inv: &Investigation<'_>) -> Vec<Finding> {
    let texts: Vec<(&str, &str)> = common::log_texts(inv)
        .into_iter()
        .map(|(r, t)| (r.command(), t))
        .collect();
    let blames = blame::fatals(texts.iter().copied());
    if blames.is_empty() {
        return Vec::new();
    }
    let plugins = common::extensions(inv, "wp_plugin_list");
    let themes = common::extensions(inv, "wp_theme_list");
    let path = common::wordpress_path(inv.entities);
    let crashed = crash_evidence(inv);
    let mut out = Vec::new();
    for (i, b) in blames.iter().take(3).enumerate() {
        if i > 0 && !b.component.is_extension() {
            continue;
        }
        let list = match &b.component {
            Component::Theme(_) => themes.as_ref(),
            _ => plugins.as_ref(),
        };
        let row = list.and_then(|(l, src)| {
            let name = match &b.component {
                Component::Plugin(s) | Component::Theme(s) | Component::MuPlugin(s) => s,
                _ => return None,
            };
            l.iter()
                .find(|e| &e.name == name)
                .map(|e| (e, src.as_str()))
        });
        let mut f = describe(b, i == 0, !crashed.is_empty(), row.map(|(e, _)| e));
        f = f.evidence(&b.source, sample_lines(b));
        for (src, line) in b.echoes.iter().take(2) {
            f = f.evidence(src, [line.clone()]);
        }
        if i == 0 {
            for (src, lines) in &crashed {
                f = f.evidence(src, lines.clone());
            }
        }
        if let Some((e, src)) = row {
            f = f.evidence(src, [e.evidence_line()]);
        }
        if i == 0 {
            let noise = blame::noise(texts.iter().copied(), &b.component);
            if !noise.is_empty() {
                f = f.detail(format!(
                    "Not the cause: the logs also hold {} from {}. Those do not stop a page \
                     from rendering.",
                    noise.summary(),
                    noise.components.join(", ")
                ));
            }
            if wp_cli_died(inv, &b.component) {
                f = f.detail(
                    "wp-cli dies on the same fatal error when it loads plugins; run it with \
                     --skip-plugins (and --skip-themes) until this is fixed.",
                );
            }
        }
        if i == 0 {
            let default_theme = themes.as_ref().and_then(|(l, _)| fallback_theme(l));
            f = fixes::for_component(f, b, &path, row.map(|(e, _)| e), default_theme.as_deref());
        } else {
            let top = blames.first().map_or(0, |t| t.count);
            f = f.fix(if b.count < top {
                format!(
                    "Look at {} once the site is back: it logged fewer fatal errors ({} against {top}), so it is not what takes every page down.",
                    b.component.label(),
                    b.count
                )
            } else {
                format!("Check {} after the first fix: it fails as well.", b.component.label())
            });
        }
        out.push(f);
    }
    out
}

fn describe(b: &Blame, top: bool, crashed: bool, row: Option<&Extension>) -> Finding {
    let severity = if top {
        Severity::Critical
    } else {
        Severity::Warning
    };
    let what = match &b.component {
        Component::Plugin(s) => format!("Plugin {s}"),
        Component::MuPlugin(s) => format!("Must-use plugin {s}"),
        Component::Theme(s) => format!("Theme {s}"),
        Component::Core => "A PHP fatal error in WordPress core files".to_owned(),
        Component::Unknown => "A PHP fatal error".to_owned(),
    };
    let title = match (&b.component, crashed && top) {
        (Component::Core | Component::Unknown, true) => {
            format!("{what} takes the site down (HTTP 500)")
        }
        (Component::Core | Component::Unknown, false) => what,
        (_, true) => format!("{what} crashes the site with a PHP fatal error (HTTP 500)"),
        (_, false) => format!("{what} throws PHP fatal errors"),
    };
    let mut f = Finding::new(severity, title);
    let span = match (&b.first, &b.last) {
        (Some(a), Some(z)) if a != z => format!(" between {a} and {z}"),
        (Some(a), _) => format!(" at {a}"),
        _ => String::new(),
    };
    let at = match b.locations.as_slice() {
        [] => String::new(),
        [one] => format!(", all at {one}"),
        many => format!(", at {}", many.join(", ")),
    };
    let times = if b.count == 1 {
        "1 fatal error".to_owned()
    } else {
        format!("{} fatal errors", b.count)
    };
    f = f.detail(format!(
        "{times}{span}{at}: {} ({}).",
        b.sample.message, b.sample.label
    ));
    if let Some(c) = UNDEFINED.captures(&b.sample.message) {
        f = f.detail(format!(
            "{}() is defined by no code WordPress loaded: a plugin this code depends on is \
             missing or inactive.",
            &c[2]
        ));
    }
    if let Some(e) = row {
        let mut s = format!("{} {} is {}", e.name, e.version, e.status);
        if e.auto_updates_on() {
            s.push_str(
                " with auto-updates on: an automatic update shortly before the first fatal is \
                 the likely trigger",
            );
        }
        if e.update_available() {
            s.push_str(&format!("; version {} is available", e.update_version));
        }
        s.push('.');
        f = f.detail(s);
    }
    f
}

fn sample_lines(b: &Blame) -> Vec<String> {
    let mut lines = vec![b.sample.raw.clone()];
    if let Some(t) = &b.sample.thrown {
        lines.push(t.clone());
    }
    if b.count > 1 {
        lines.push(format!(
            "({} fatal errors like this one in this log)",
            b.count
        ));
    }
    lines
}

/// Status lines and error-page lines of responses that show a crash.
fn crash_evidence(inv: &Investigation<'_>) -> Vec<(String, Vec<String>)> {
    common::responses(inv)
        .into_iter()
        .filter(|(_, r)| {
            matches!(r.page(), Page::CriticalError | Page::Blank | Page::PhpError)
                || r.status == 500
        })
        .filter(|(_, r)| r.page() != Page::DatabaseError)
        .map(|(run, r)| {
            let mut lines = vec![r.status_line.clone()];
            lines.extend(r.message_line());
            (run.command().to_owned(), lines)
        })
        .collect()
}

fn wp_cli_died(inv: &Investigation<'_>, component: &Component) -> bool {
    inv.runs
        .iter()
        .filter(|r| common::is_wp_cli(r) && !r.output.ok())
        .any(|r| {
            blame::fatals([(r.command(), r.output.stderr.as_str())])
                .iter()
                .any(|b| &b.component == component)
        })
}

/// WordPress's default themes, oldest first.
const DEFAULT_THEMES: &[&str] = &[
    "twentyten",
    "twentyeleven",
    "twentytwelve",
    "twentythirteen",
    "twentyfourteen",
    "twentyfifteen",
    "twentysixteen",
    "twentyseventeen",
    "twentynineteen",
    "twentytwenty",
    "twentytwentyone",
    "twentytwentytwo",
    "twentytwentythree",
    "twentytwentyfour",
    "twentytwentyfive",
];

/// A theme to fall back to: the newest installed default theme that is not active.
fn fallback_theme(themes: &[Extension]) -> Option<String> {
    let installed = |name: &str| themes.iter().any(|t| t.name == name && !t.is_active());
    DEFAULT_THEMES
        .iter()
        .rev()
        .find(|n| installed(n))
        .map(|n| (*n).to_owned())
        .or_else(|| {
            themes
                .iter()
                .find(|t| !t.is_active() && t.name.starts_with("twenty"))
                .map(|t| t.name.clone())
        })
}
