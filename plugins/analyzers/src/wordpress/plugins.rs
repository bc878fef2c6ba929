//! Plugin management: the plugin and theme lists (what is active, what has updates, what
//! updates itself), and what a deactivate, activate or roll-back request will do, checked
//! against the list before it is proposed for approval.

use squadron_core::{Finding, Investigation, Severity};

use super::common;
use super::wplist::Extension;

/// Findings for the plugin intents.
pub fn findings(inv: &Investigation<'_>) -> Vec<Finding> {
    let list = common::extensions(inv, "wp_plugin_list");
    let mut out = Vec::new();
    if let Some(unknown) = inv.entities.get("plugin_unknown") {
        let installed = list
            .as_ref()
            .map(|(l, _)| {
                l.iter()
                    .map(|e| e.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        out.push(
            Finding::new(
                Severity::Warning,
                format!("No installed plugin is called {unknown}"),
            )
            .detail(format!(
                "Installed plugins: {installed}. Name one of them (its folder name, the slug)."
            ))
            .evidence(
                list.as_ref().map_or("", |(_, s)| s.as_str()),
                list.as_ref()
                    .map(|(l, _)| l.iter().map(Extension::evidence_line).collect::<Vec<_>>())
                    .unwrap_or_default(),
            ),
        );
        return out;
    }
    if inv.intent == "plugins" {
        if let Some((l, src)) = &list {
            out.push(summary("Plugins", l, src));
        }
        if let Some((l, src)) = common::extensions(inv, "wp_theme_list") {
            out.push(summary("Themes", &l, &src));
        }
        return out;
    }
    let target = inv
        .entities
        .get("plugin")
        .or_else(|| inv.entities.get("culprit_plugin"));
    let Some(slug) = target else {
        out.push(Finding::new(
            Severity::Info,
            "Which plugin? Name it by its slug (the folder under wp-content/plugins).",
        ));
        return out;
    };
    let row = list
        .as_ref()
        .and_then(|(l, src)| l.iter().find(|e| e.name == slug).map(|e| (e, src)));
    let path = common::wordpress_path(inv.entities);
    let mut f = match inv.intent {
        "plugin_deactivate" => Finding::new(
            Severity::Info,
            format!("Deactivating {slug} is proposed and waits for an operator's approval"),
        )
        .detail("The command runs with --skip-plugins, so it works even while the plugin breaks every page; the plugin's files and settings stay, and `wp plugin activate` brings it back."),
        "plugin_activate" => Finding::new(
            Severity::Info,
            format!("Activating {slug} is proposed and waits for an operator's approval"),
        )
        .detail("If the site breaks after activation, deactivate it again with `wp plugin deactivate <slug> --skip-plugins`."),
        _ => rollback(inv, slug, row.map(|(e, _)| e)),
    };
    if let Some((e, src)) = row {
        f = f
            .detail(format!(
                "{} is {} at version {}.",
                e.name, e.status, e.version
            ))
            .evidence(src, [e.evidence_line()]);
        if inv.intent == "plugin_deactivate" && !e.is_active() {
            f = Finding::new(Severity::Info, format!("{slug} is already {}", e.status))
                .evidence(src, [e.evidence_line()]);
        }
    }
    if inv.intent == "plugin_deactivate" {
        f = f.fix_with_code(
            "To undo it later:",
            "sh",
            format!("wp plugin activate {slug} --path={path}"),
        );
    }
    out.push(f);
    out
}

fn rollback(inv: &Investigation<'_>, slug: &str, row: Option<&Extension>) -> Finding {
    let path = common::wordpress_path(inv.entities);
    match inv.entities.get("version") {
        Some(v) => Finding::new(
            Severity::Info,
            format!("Rolling {slug} back to {v} is proposed and waits for an operator's approval"),
        )
        .detail("wp-cli reinstalls that version from wordpress.org over the current files; settings in the database stay.")
        .fix_with_code(
            "Turn off its auto-updates afterwards, or the next update run reinstalls the broken version:",
            "sh",
            format!("wp plugin auto-updates disable {slug} --skip-plugins --skip-themes --path={path}"),
        ),
        None => Finding::new(Severity::Info, format!("Which version should {slug} go back to?"))
            .detail(format!(
                "Installed: {}. Name the version that worked (e.g. \"roll back {slug} to 1.2.3\"); the plugin's changelog lists them.",
                row.map_or("unknown", |e| e.version.as_str())
            )),
    }
}

fn summary(what: &str, list: &[Extension], source: &str) -> Finding {
    let active = list.iter().filter(|e| e.is_active()).count();
    let updates: Vec<String> = list
        .iter()
        .filter(|e| e.update_available())
        .map(|e| format!("{} {} -> {}", e.name, e.version, e.update_version))
        .collect();
    let auto: Vec<&str> = list
        .iter()
        .filter(|e| e.auto_updates_on())
        .map(|e| e.name.as_str())
        .collect();
    let mut f = Finding::new(
        if updates.is_empty() {
            Severity::Info
        } else {
            Severity::Warning
        },
        format!(
            "{what}: {} installed, {active} active, {} with updates available",
            list.len(),
            updates.len()
        ),
    );
    if !updates.is_empty() {
        f = f.detail(format!("Updates available: {}.", updates.join(", ")));
    }
    if !auto.is_empty() {
        f = f.detail(format!("Auto-updates on: {}.", auto.join(", ")));
    }
    f.evidence(source, list.iter().map(Extension::evidence_line))
}
