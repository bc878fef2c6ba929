//! Plugins, cron and speed.

use crate::wordpress::testkit::Kit;

const PLUGINS: &str = "name\tstatus\tupdate\tversion\tupdate_version\tauto_update\nakismet\tactive\tnone\t5.3.5\t\toff\nwoocommerce\tactive\tavailable\t9.3.3\t9.4.2\ton\nwp-mail-smtp\tinactive\tnone\t4.1.1\t\toff\n";

#[test]
fn a_plugin_named_loosely_is_matched_to_its_slug() {
    let mut k = Kit::new();
    k.entities.set("plugin", "WooCommerce");
    k.ok("wp_plugin_list", &[], PLUGINS);
    assert_eq!(k.entities.get("plugin"), Some("woocommerce"));
    let a = k.answer("plugin_deactivate");
    assert!(a.contains("Deactivating woocommerce is proposed"), "{a}");
    assert!(a.contains("woocommerce is active at version 9.3.3"), "{a}");
    let mut k = Kit::new();
    k.entities.set("plugin", "smtp");
    k.ok("wp_plugin_list", &[], PLUGINS);
    assert_eq!(k.entities.get("plugin"), Some("wp-mail-smtp"));
}

#[test]
fn an_unknown_plugin_is_never_proposed() {
    let mut k = Kit::new();
    k.entities.set("plugin", "jetpack");
    k.entities.set("culprit_plugin", "akismet");
    k.ok("wp_plugin_list", &[], PLUGINS);
    assert_eq!(k.entities.get("plugin"), None);
    assert_eq!(k.entities.get("plugin_unknown"), Some("jetpack"));
    let a = k.answer("plugin_deactivate");
    assert!(a.contains("No installed plugin is called jetpack"), "{a}");
    assert!(a.contains("akismet, woocommerce, wp-mail-smtp"), "{a}");
}

#[test]
fn the_plugin_list_names_updates_and_auto_updates() {
    let mut k = Kit::new();
    k.ok("wp_plugin_list", &[], PLUGINS);
    let a = k.answer("plugins");
    assert!(
        a.contains("Plugins: 3 installed, 2 active, 1 with updates available"),
        "{a}"
    );
    assert!(a.contains("woocommerce 9.3.3 -> 9.4.2"), "{a}");
    assert!(a.contains("Auto-updates on: woocommerce"), "{a}");
}

#[test]
fn overdue_events_with_wp_cron_disabled_need_a_system_cron_job() {
    let mut k = Kit::new();
    let events = "hook\tnext_run_gmt\tnext_run_relative\trecurrence\nwp_version_check\t2024-11-19 03:10:00\tnow\t12 hours\nwoocommerce_cleanup_sessions\t2024-11-19 04:00:00\tnow\t12 hours\nwp_scheduled_delete\t2024-11-22 01:00:00\t13 hours 2 minutes\t1 day\n";
    let config = "<?php\ndefine( 'DB_NAME', 'shop_wp' );\ndefine( 'DISABLE_WP_CRON', true );\n";
    k.ok("wp_cron_list", &[], events)
        .ok(
            "wp_config",
            &[("path", "/var/www/html/wp-config.php")],
            config,
        )
        .run(
            "wp_cron_test",
            &[],
            1,
            "",
            "Error: The DISABLE_WP_CRON constant is set to true. WP-Cron spawning is disabled.\n",
        );
    let a = k.answer("cron");
    assert!(
        a.contains("WP-Cron is not running: 2 of 3 scheduled events are overdue"),
        "{a}"
    );
    assert!(
        a.contains("oldest was due at 2024-11-19 03:10:00 GMT"),
        "{a}"
    );
    assert!(
        a.contains("*/5 * * * * wp cron event run --due-now --quiet --path=/var/www/html"),
        "{a}"
    );
    assert!(!a.contains("loopback"), "{a}");
}

#[test]
fn a_failing_loopback_explains_overdue_events() {
    let mut k = Kit::new();
    let events = "hook\tnext_run_gmt\tnext_run_relative\trecurrence\naction_scheduler_run_queue\t2024-11-21 11:00:00\tnow\t1 minute\n";
    k.ok("wp_cron_list", &[], events).run(
        "wp_cron_test",
        &[],
        1,
        "",
        "Error: WP-Cron spawn returned HTTP status code: 401 Unauthorized\n",
    );
    let a = k.answer("cron");
    assert!(a.contains("401 Unauthorized"), "{a}");
    assert!(a.contains("loopback request"), "{a}");
    let mut k = Kit::new();
    k.ok("wp_cron_list", &[], "hook\tnext_run_gmt\tnext_run_relative\trecurrence\nwp_version_check\t2024-11-21 20:00:00\t8 hours\t12 hours\n");
    assert!(k.answer("cron").contains("WP-Cron is keeping up"));
}

#[test]
fn php_fpm_out_of_workers_and_heavy_autoload_are_named_with_numbers() {
    let mut k = Kit::new();
    let fpm = "[21-Nov-2024 10:00:01] WARNING: [pool www] server reached pm.max_children setting (5), consider raising it\n[21-Nov-2024 10:05:12] WARNING: [pool www] child 4411, script '/var/www/html/index.php' (request: \"GET /index.php\") executing too slow (12.402 sec), logging\n[21-Nov-2024 10:09:44] WARNING: [pool www] server reached pm.max_children setting (5), consider raising it\n";
    let free = "               total        used        free      shared  buff/cache   available\nMem:            3931        1900         800          38        1200        1600\nSwap:           1023           0        1023\n";
    k.ok("php_log", &[("path", "/var/log/php8.3-fpm.log")], fpm)
        .ok(
            "autoload_size",
            &[],
            "autoloaded_options,autoload_bytes\n912,2483112\n",
        )
        .ok(
            "autoload_top",
            &[],
            "option_name,bytes\nrewrite_rules,410022\n_transient_feed_abc,380000\n",
        )
        .ok("free_mem", &[], free);
    let a = k.answer("slow");
    assert!(a.contains("pm.max_children = 5 is reached"), "{a}");
    assert!(a.contains("2 times in this log"), "{a}");
    assert!(a.contains("pm.max_children = 25"), "{a}");
    assert!(a.contains("executing too slow (12.402 sec)"), "{a}");
    assert!(a.contains("2.5 MB of autoloaded options"), "{a}");
    assert!(a.contains("'rewrite_rules', '_transient_feed_abc'"), "{a}");
}
