//! Redirects: hops followed between steps, loops detected, and the address WordPress
//! believes in compared with the one it is served at.

use crate::wordpress::testkit::Kit;

fn redirect(to: &str, by: Option<&str>) -> String {
    let by = by.map_or(String::new(), |b| format!("X-Redirect-By: {b}\n"));
    format!("HTTP/1.1 301 Moved Permanently\nServer: nginx\n{by}Location: {to}\n\n")
}

#[test]
fn hops_are_learned_one_by_one_until_the_chain_comes_back() {
    let mut k = Kit::new();
    k.ok(
        "site_home",
        &[],
        &redirect("https://shop-legacy.example/", Some("WordPress")),
    );
    assert_eq!(
        k.entities.get("redirect_1"),
        Some("https://shop-legacy.example/")
    );
    k.ok(
        "http_get",
        &[("url", "https://shop-legacy.example/")],
        &redirect("https://shop.example/", None),
    );
    assert_eq!(
        k.entities.get("redirect_2"),
        None,
        "back at the start: a loop, nothing to fetch"
    );
    k.ok("site_home", &[], "HTTP/1.1 200 OK\n\n<html></html>\n");
    assert_eq!(
        k.entities.get("redirect_1"),
        None,
        "a new investigation forgets old hops"
    );
}

#[test]
fn wp_home_in_wp_config_overrides_correct_options_and_is_fixed_there() {
    let mut k = Kit::new();
    let config = "<?php\ndefine( 'DB_NAME', 'shop_wp' );\ndefine( 'WP_HOME', 'http://shop.example' );\ndefine( 'WP_SITEURL', 'http://shop.example' );\n$table_prefix = 'sx_';\n";
    k.ok(
        "site_home",
        &[],
        &redirect("http://shop.example/", Some("WordPress")),
    )
    .ok(
        "http_get",
        &[("url", "http://shop.example/")],
        &redirect("https://shop.example/", None),
    )
    .ok(
        "wp_config",
        &[("path", "/var/www/html/wp-config.php")],
        config,
    )
    .ok(
        "site_options",
        &[],
        "option_name,option_value\nhome,https://shop.example\nsiteurl,https://shop.example\n",
    );
    assert_eq!(k.entities.get("wp_home_defined"), Some("yes"));
    assert_eq!(
        k.entities.get("fix_home"),
        None,
        "the option is right; wp-config.php is not"
    );
    let a = k.answer("redirect");
    assert!(a.contains("Redirect loop"), "{a}");
    assert!(
        a.contains("WP_HOME and WP_SITEURL in wp-config.php still point to http://shop.example"),
        "{a}"
    );
    assert!(
        a.contains("define( 'WP_HOME', 'https://shop.example' );"),
        "{a}"
    );
    assert!(
        a.contains("In sx_options: home = https://shop.example"),
        "{a}"
    );
    assert!(!a.contains("wp option update"), "{a}");
}

#[test]
fn a_scheme_flip_loop_with_matching_options_points_at_the_proxy() {
    let mut k = Kit::new();
    k.ok(
        "site_home",
        &[],
        &redirect("http://shop.example/", Some("WordPress")),
    )
    .ok(
        "http_get",
        &[("url", "http://shop.example/")],
        &redirect("https://shop.example/", None),
    )
    .ok(
        "site_options",
        &[],
        "option_name,option_value\nhome,https://shop.example\nsiteurl,https://shop.example\n",
    );
    let a = k.answer("redirect");
    assert!(a.contains("although home and siteurl match it"), "{a}");
    assert!(a.contains("HTTP_X_FORWARDED_PROTO"), "{a}");
}

#[test]
fn a_redirect_to_a_dead_old_domain_is_not_a_loop_but_still_the_options() {
    let mut k = Kit::new();
    k.ok(
        "site_home",
        &[],
        &redirect("https://old-shop.example/", Some("WordPress")),
    );
    k.run(
        "http_get",
        &[("url", "https://old-shop.example/")],
        1,
        "",
        "Could not resolve host: old-shop.example\n",
    )
    .ok(
        "wp_option_get",
        &[("option", "home")],
        "https://old-shop.example\n",
    )
    .ok(
        "wp_option_get",
        &[("option", "siteurl")],
        "https://shop.example\n",
    );
    assert_eq!(k.entities.get("fix_home"), Some("https://shop.example"));
    assert_eq!(k.entities.get("fix_siteurl"), None);
    let a = k.answer("redirect");
    assert!(
        a.contains(
            "WordPress redirects shop.example to https://old-shop.example because home still points"
        ),
        "{a}"
    );
    assert!(a.contains("Could not resolve host"), "{a}");
    assert!(
        a.contains("wp option update home 'https://shop.example'"),
        "{a}"
    );
    assert!(
        a.contains("wp search-replace 'https://old-shop.example' 'https://shop.example'"),
        "{a}"
    );
}

#[test]
fn matching_options_and_a_200_say_so_when_asked() {
    let mut k = Kit::new();
    k.ok(
        "site_home",
        &[],
        "HTTP/1.1 200 OK\nServer: nginx\n\n<html></html>\n",
    )
    .ok(
        "site_options",
        &[],
        "option_name,option_value\nhome,https://shop.example\nsiteurl,https://shop.example\n",
    );
    let a = k.answer("redirect");
    assert!(
        a.starts_with("Note: home and siteurl match https://shop.example"),
        "{a}"
    );
    assert!(k.answer("site_down").is_empty());
}

#[test]
fn a_stale_inventory_address_does_not_hide_the_mismatch() {
    let mut k = Kit::new();
    k.entities.set("site_url", "https://old-shop.example");
    k.ok("site_home", &[], &redirect("https://shop.example/", None))
        .ok("http_get", &[("url", "https://shop.example/")], &redirect("https://old-shop.example/", Some("WordPress")))
        .ok("site_options", &[], "option_name,option_value\nhome,https://old-shop.example\nsiteurl,https://old-shop.example\n");
    let a = k.answer("redirect");
    assert!(
        a.contains("WordPress sends visitors of shop.example to https://old-shop.example"),
        "{a}"
    );
    assert!(
        a.contains("wp option update home 'https://shop.example'"),
        "{a}"
    );
}

#[test]
fn without_a_site_url_the_chain_starts_at_the_domain_the_user_named() {
    let mut k = Kit::new();
    k.entities.remove("site_url");
    k.entities.set("domain", "blog.example.org");
    k.ok(
        "http_get",
        &[("url", "https://blog.example.org/")],
        &redirect("https://www.blog.example.org/", Some("WordPress")),
    );
    assert_eq!(
        k.entities.get("redirect_1"),
        Some("https://www.blog.example.org/")
    );
    k.ok(
        "http_get",
        &[("url", "https://www.blog.example.org/")],
        &redirect("https://blog.example.org/", None),
    );
    assert_eq!(k.entities.get("redirect_2"), None);
    k.ok("site_options", &[], "option_name,option_value\nhome,https://www.blog.example.org\nsiteurl,https://www.blog.example.org\n");
    let a = k.answer("redirect");
    assert!(a.contains("Redirect loop: WordPress sends visitors of blog.example.org to https://www.blog.example.org"), "{a}");
}

#[test]
fn an_old_siteurl_breaks_the_login_page_even_when_the_front_page_works() {
    let mut k = Kit::new();
    k.ok("site_home", &[], "HTTP/1.1 200 OK\nServer: nginx\n\n<html></html>\n")
        .ok("site_login", &[], "HTTP/1.1 302 Found\nX-Redirect-By: WordPress\nLocation: https://staging.shop.example/wp-login.php\n\n")
        .ok("site_options", &[], "option_name,option_value\nhome,https://shop.example\nsiteurl,https://staging.shop.example\n");
    assert_eq!(k.entities.get("fix_siteurl"), Some("https://shop.example"));
    assert_eq!(k.entities.get("fix_home"), None);
    let a = k.answer("redirect");
    assert!(a.starts_with("Problem: siteurl points to https://staging.shop.example, not to the site's address https://shop.example"), "{a}");
    assert!(
        a.contains("The login page sends visitors to https://staging.shop.example"),
        "{a}"
    );
    assert!(
        a.contains("wp option update siteurl 'https://shop.example'"),
        "{a}"
    );
    assert!(!a.contains("wp option update home"), "{a}");
}
