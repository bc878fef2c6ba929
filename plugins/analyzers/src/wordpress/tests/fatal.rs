//! Site down: fatal errors attributed to the plugin or theme that threw them, and the
//! answers the site gives when the logs are silent.

use crate::wordpress::testkit::Kit;

const CRITICAL_500: &str = "HTTP/1.1 500 Internal Server Error\nServer: Apache/2.4.58 (Ubuntu)\nX-Powered-By: PHP/8.3.6\n\n<html><body id=\"error-page\"><div class=\"wp-die-message\"><p>There has been a critical error on this website.</p></div></body></html>\n";

const THEME_DEBUG: &str = "[03-Mar-2025 14:02:10 UTC] PHP Notice:  Function wp_enqueue_script was called incorrectly in /srv/www/wp-includes/functions.php on line 6114\n[03-Mar-2025 14:05:31 UTC] PHP Fatal error:  Uncaught Error: Call to undefined function acf_get_field() in /srv/www/wp-content/themes/harbor-child/functions.php:88\nStack trace:\n#0 /srv/www/wp-includes/class-wp-hook.php(324): harbor_setup('')\n#1 {main}\n  thrown in /srv/www/wp-content/themes/harbor-child/functions.php on line 88\n[03-Mar-2025 14:07:02 UTC] PHP Fatal error:  Uncaught Error: Call to undefined function acf_get_field() in /srv/www/wp-content/themes/harbor-child/functions.php:88\n";

const THEMES: &str = "name\tstatus\tupdate\tversion\nharbor\tparent\tnone\t2.0.1\nharbor-child\tactive\tnone\t1.4.0\ntwentytwentythree\tinactive\tnone\t1.5\ntwentytwentyfive\tinactive\tnone\t1.1\n";

#[test]
fn a_theme_fatal_is_fixed_by_switching_to_an_installed_default_theme() {
    let mut k = Kit::new();
    k.entities.set("wordpress_path", "/srv/www");
    k.ok("site_home", &[], CRITICAL_500)
        .ok(
            "debug_log",
            &[("path", "/srv/www/wp-content/debug.log")],
            THEME_DEBUG,
        )
        .ok("wp_theme_list", &[], THEMES);
    assert_eq!(k.entities.get("culprit_theme"), Some("harbor-child"));
    assert_eq!(k.entities.get("culprit_plugin"), None);
    assert_eq!(k.entities.get("web_server"), Some("apache"));
    assert_eq!(k.entities.get("php_version"), Some("8.3"));
    let a = k.answer("site_down");
    assert!(
        a.starts_with("Problem: Theme harbor-child crashes the site"),
        "{a}"
    );
    assert!(
        a.contains("2 fatal errors between 03-Mar-2025 14:05:31 UTC and 03-Mar-2025 14:07:02 UTC"),
        "{a}"
    );
    assert!(
        a.contains("Call to undefined function acf_get_field()"),
        "{a}"
    );
    assert!(
        a.contains(
            "wp theme activate twentytwentyfive --skip-plugins --skip-themes --path=/srv/www"
        ),
        "{a}"
    );
    assert!(a.contains("1 PHP Notice line from WordPress core"), "{a}");
}

const NOISY_DEBUG: &str = "[10-Jan-2025 06:00:01 UTC] PHP Deprecated:  Optional parameter $x declared before required parameter in /var/www/html/wp-content/plugins/photo-grid/grid.php on line 12\n[10-Jan-2025 06:00:01 UTC] PHP Warning:  Undefined variable $ref in /var/www/html/wp-content/plugins/ref-tracker/tracker.php on line 40\n[10-Jan-2025 06:00:02 UTC] PHP Warning:  Undefined variable $ref in /var/www/html/wp-content/plugins/ref-tracker/tracker.php on line 40\n[10-Jan-2025 06:03:19 UTC] PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted (tried to allocate 4096 bytes) in /var/www/html/wp-content/plugins/bulk-importer/src/Parser.php on line 77\n";

const PLUGINS: &str = "name\tstatus\tupdate\tversion\tupdate_version\tauto_update\nbulk-importer\tactive\tavailable\t4.2.0\t4.2.1\toff\nphoto-grid\tactive\tnone\t1.0.3\t\toff\nref-tracker\tactive\tnone\t0.9\t\toff\n";

#[test]
fn warnings_from_other_plugins_are_noise_and_memory_exhaustion_names_the_limit() {
    let mut k = Kit::new();
    k.ok(
        "debug_log",
        &[("path", "/var/www/html/wp-content/debug.log")],
        NOISY_DEBUG,
    )
    .ok("wp_plugin_list", &[], PLUGINS);
    assert_eq!(k.entities.get("culprit_plugin"), Some("bulk-importer"));
    let findings = k.diagnose("site_down");
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let a = crate::wordpress::testkit::text(&findings);
    assert!(
        a.contains("Plugin bulk-importer throws PHP fatal errors"),
        "{a}"
    );
    assert!(a.contains("128 MiB memory limit"), "{a}");
    assert!(a.contains("define( 'WP_MEMORY_LIMIT', '256M' );"), "{a}");
    assert!(a.contains("version 4.2.1 is available"), "{a}");
    assert!(a.contains("wp plugin update bulk-importer"), "{a}");
    assert!(
        a.contains("1 PHP Deprecated line and 2 PHP Warning lines"),
        "{a}"
    );
    assert!(
        !a.contains("deactivate photo-grid") && !a.contains("deactivate ref-tracker"),
        "{a}"
    );
}

#[test]
fn wp_cli_dying_on_the_fatal_is_evidence_too() {
    let mut k = Kit::new();
    let stderr = "PHP Fatal error:  Uncaught Error: Class \"Vendor\\Lib\\Client\" not found in /var/www/html/wp-content/plugins/pay-gateway/init.php:15\nStack trace:\n#0 {main}\n  thrown in /var/www/html/wp-content/plugins/pay-gateway/init.php on line 15\nError: There has been a critical error on this website.\n";
    k.ok("site_home", &[], CRITICAL_500)
        .ok(
            "debug_log",
            &[("path", "/var/www/html/wp-content/debug.log")],
            "",
        )
        .run("wp_theme_list", &[], 255, "", stderr);
    assert_eq!(k.entities.get("culprit_plugin"), Some("pay-gateway"));
    let a = k.answer("site_down");
    assert!(a.contains("Plugin pay-gateway crashes the site"), "{a}");
    assert!(
        a.contains("wp plugin deactivate pay-gateway --skip-plugins"),
        "{a}"
    );
}

#[test]
fn a_500_with_no_logged_fatal_asks_for_the_debug_log() {
    let mut k = Kit::new();
    let config = "<?php\ndefine( 'DB_NAME', 'shop_wp' );\ndefine( 'WP_DEBUG', false );\n";
    k.ok(
        "site_home",
        &[],
        "HTTP/1.1 500 Internal Server Error\nServer: nginx\n\n",
    )
    .run(
        "debug_log",
        &[("path", "/var/www/html/wp-content/debug.log")],
        1,
        "",
        "No such file or directory",
    )
    .ok(
        "wp_config",
        &[("path", "/var/www/html/wp-config.php")],
        config,
    );
    let a = k.answer("site_down");
    assert!(
        a.contains("no log read here holds the PHP fatal error"),
        "{a}"
    );
    assert!(a.contains("white screen of death"), "{a}");
    assert!(a.contains("define( 'WP_DEBUG_LOG', true );"), "{a}");
}

#[test]
fn a_502_means_php_fpm_is_gone() {
    let mut k = Kit::new();
    let nginx = "2025/02/11 08:00:01 [crit] 911#911: *5 connect() to unix:/run/php/php8.1-fpm.sock failed (2: No such file or directory) while connecting to upstream, client: 203.0.113.9, server: shop.example, request: \"GET / HTTP/1.1\", upstream: \"fastcgi://unix:/run/php/php8.1-fpm.sock:\"\n";
    k.ok("site_home", &[], "HTTP/1.1 502 Bad Gateway\nServer: nginx/1.18.0\n\n<html><center><h1>502 Bad Gateway</h1></center></html>\n")
        .ok("web_error_log", &[], nginx);
    assert_eq!(k.entities.get("php_fpm_down"), Some("yes"));
    assert_eq!(k.entities.get("php_version"), Some("8.1"));
    let a = k.answer("site_down");
    assert!(
        a.contains("cannot reach PHP-FPM (HTTP 502 Bad Gateway)"),
        "{a}"
    );
    assert!(a.contains("No such file or directory"), "{a}");
    assert!(a.contains("systemctl start php8.1-fpm"), "{a}");
}

#[test]
fn a_leftover_maintenance_file_is_named() {
    let mut k = Kit::new();
    k.ok("site_home", &[], "HTTP/1.1 503 Service Unavailable\nRetry-After: 600\n\n<p>Briefly unavailable for scheduled maintenance. Check back in a minute.</p>\n");
    let a = k.answer("site_down");
    assert!(a.contains("stuck in maintenance mode"), "{a}");
    assert!(a.contains("rm /var/www/html/.maintenance"), "{a}");
}

#[test]
fn a_second_plugin_with_an_old_fatal_is_mentioned_but_not_proposed() {
    let mut k = Kit::new();
    let log = "[09-Jan-2025 22:00:00 UTC] PHP Fatal error:  Uncaught Error: Call to a member function format() on bool in /var/www/html/wp-content/plugins/event-cal/cal.php:90\n[10-Jan-2025 09:00:00 UTC] PHP Fatal error:  Uncaught TypeError: count(): Argument #1 ($value) must be of type Countable|array, null given in /var/www/html/wp-content/plugins/checkout-plus/cart.php:31\n[10-Jan-2025 09:00:05 UTC] PHP Fatal error:  Uncaught TypeError: count(): Argument #1 ($value) must be of type Countable|array, null given in /var/www/html/wp-content/plugins/checkout-plus/cart.php:31\n";
    k.ok("site_home", &[], CRITICAL_500).ok(
        "debug_log",
        &[("path", "/var/www/html/wp-content/debug.log")],
        log,
    );
    assert_eq!(k.entities.get("culprit_plugin"), Some("checkout-plus"));
    let a = k.answer("site_down");
    assert!(
        a.starts_with("Problem: Plugin checkout-plus crashes the site"),
        "{a}"
    );
    assert!(
        a.contains("Warning: Plugin event-cal throws PHP fatal errors"),
        "{a}"
    );
    assert!(!a.contains("deactivate event-cal"), "{a}");
    assert!(a.contains("fewer fatal errors (1 against 2)"), "{a}");
}
