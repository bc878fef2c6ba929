//! The squad manifest: it builds, its write tools are write tools, and its intents and
//! entities read the kinds of messages users send.

use crate::wordpress::testkit::squad;
use squadron_core::squad::Access;

fn intent(message: &str) -> String {
    let s = squad();
    let mut best: Option<(&str, usize)> = None;
    for i in &s.intents {
        let score = i.patterns.iter().filter(|p| p.is_match(message)).count();
        if score > 0 && best.is_none_or(|(_, b)| score > b) {
            best = Some((&i.id, score));
        }
    }
    best.map_or_else(
        || s.default_intent.clone().unwrap_or_default(),
        |(i, _)| i.to_owned(),
    )
}

fn entity(name: &str, message: &str) -> Option<String> {
    let s = squad();
    let rule = s.entities.iter().find(|e| e.name == name)?;
    rule.patterns.iter().find_map(|re| {
        re.captures_iter(message).find_map(|c| {
            let v = c
                .name("v")?
                .as_str()
                .trim_matches(['.', ',', '?', '!', '"', '\'', '`']);
            (!v.is_empty() && !rule.stopwords.contains(&v.to_lowercase())).then(|| v.to_owned())
        })
    })
}

#[test]
fn write_tools_are_declared_write_and_read_tools_read() {
    let s = squad();
    for id in [
        "wp_plugin_deactivate",
        "wp_plugin_activate",
        "wp_plugin_rollback",
        "wp_option_update",
        "service_start",
        "wp_plugin_auto_updates_disable",
    ] {
        assert_eq!(s.tool(id).map(|t| t.access), Some(Access::Write), "{id}");
    }
    for id in [
        "wp_plugin_list",
        "site_home",
        "debug_log",
        "db_ping",
        "systemctl_status",
    ] {
        assert_eq!(s.tool(id).map(|t| t.access), Some(Access::Read), "{id}");
    }
}

#[test]
fn messages_reach_the_right_intent() {
    assert_eq!(
        intent("The blog shows a blank white screen since the update, what happened?"),
        "site_down"
    );
    assert_eq!(
        intent("Site is down with Error establishing a database connection, what's wrong?"),
        "db_connection"
    );
    assert_eq!(
        intent("After migrating to the new domain we get too many redirects"),
        "redirect"
    );
    assert_eq!(
        intent("Please deactivate plugin contact-form-7"),
        "plugin_deactivate"
    );
    assert_eq!(
        intent("Roll back the plugin woocommerce to version 9.3.3"),
        "plugin_rollback"
    );
    assert_eq!(intent("which plugins have updates?"), "plugins");
    assert_eq!(intent("White screen after updating plugins"), "site_down");
    assert_eq!(
        intent("The site is down since the plugin update this morning"),
        "site_down"
    );
    assert_eq!(
        intent("Critical error since we activated the new plugin"),
        "site_down"
    );
    assert_eq!(
        intent("The shop is really slow, pages take 10 seconds"),
        "slow"
    );
    assert_eq!(
        intent("Scheduled posts are not published, is cron broken?"),
        "cron"
    );
}

#[test]
fn entities_ignore_filler_words_and_file_names() {
    assert_eq!(
        entity("plugin", "please deactivate the contact-form-7 plugin").as_deref(),
        Some("contact-form-7")
    );
    assert_eq!(entity("plugin", "deactivate it").as_deref(), None);
    assert_eq!(
        entity("plugin", "disable plugin Wordfence now").as_deref(),
        Some("Wordfence")
    );
    assert_eq!(
        entity(
            "domain",
            "wp-config.php looks fine but shop.example.org is down"
        )
        .as_deref(),
        Some("shop.example.org")
    );
    assert_eq!(
        entity("version", "roll back woocommerce to 9.3.3").as_deref(),
        Some("9.3.3")
    );
    assert_eq!(
        entity("url", "see https://shop.example/cart?x=1.").as_deref(),
        Some("https://shop.example/cart?x=1")
    );
}
