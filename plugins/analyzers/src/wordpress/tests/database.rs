//! Database connection errors: each kind of failure points at its own cause, and
//! credentials never appear in an answer.

use crate::wordpress::testkit::Kit;

const DB_PAGE: &str = "HTTP/1.1 500 Internal Server Error\nServer: nginx\n\n<html><head><title>Database Error</title></head><body><h1>Error establishing a database connection</h1></body></html>\n";
const CONFIG: &str = "<?php\ndefine( 'DB_NAME', 'shop_wp' );\ndefine( 'DB_USER', 'shopuser' );\ndefine( 'DB_PASSWORD', '[REDACTED]' );\ndefine( 'DB_HOST', 'localhost' );\n";

#[test]
fn access_denied_blames_the_login_not_the_server() {
    let mut k = Kit::new();
    let debug = "[02-Feb-2025 10:00:00 UTC] PHP Warning:  mysqli_real_connect(): (HY000/1045): Access denied for user 'shopuser'@'localhost' (using password: YES) in /var/www/html/wp-includes/class-wpdb.php on line 1987\n";
    let running = "● mysql.service - MySQL Community Server\n     Active: active (running) since Sat 2025-02-01 22:00:00 UTC; 12h ago\n";
    k.ok("site_home", &[], DB_PAGE)
        .ok("wp_config", &[("path", "/var/www/html/wp-config.php")], CONFIG)
        .ok("debug_log", &[("path", "/var/www/html/wp-content/debug.log")], debug)
        .run("db_ping", &[], 1, "", "ERROR 1045 (28000): Access denied for user 'squadron'@'localhost' (using password: YES)\n")
        .ok("systemctl_status", &[("service", "mysql")], running);
    assert_eq!(k.entities.get("site_db_error"), Some("yes"));
    assert_eq!(k.entities.get("db_unit"), Some("mysql"));
    assert_eq!(k.entities.get("db_down"), None);
    let a = k.answer("db_connection");
    assert!(
        a.starts_with("Problem: MySQL rejects WordPress's database login"),
        "{a}"
    );
    assert!(a.contains("ALTER USER"), "{a}");
    assert!(!a.contains("shopuser"), "the user name leaked: {a}");
    assert!(
        !a.to_lowercase().contains("oom") && !a.contains("systemctl start"),
        "{a}"
    );
}

#[test]
fn a_cleanly_stopped_mariadb_is_started_without_oom_advice() {
    let mut k = Kit::new();
    let debug = "[02-Feb-2025 10:00:00 UTC] PHP Warning:  mysqli_real_connect(): (HY000/2002): No such file or directory in /var/www/html/wp-includes/class-wpdb.php on line 1987\n";
    let stopped = "○ mariadb.service - MariaDB 10.11.6 database server\n     Loaded: loaded (/lib/systemd/system/mariadb.service; enabled; preset: enabled)\n     Active: inactive (dead) since Sun 2025-02-02 09:58:12 UTC; 4min ago\n";
    k.ok("site_home", &[], DB_PAGE)
        .ok(
            "wp_config",
            &[("path", "/var/www/html/wp-config.php")],
            CONFIG,
        )
        .ok(
            "debug_log",
            &[("path", "/var/www/html/wp-content/debug.log")],
            debug,
        )
        .run(
            "systemctl_status",
            &[("service", "mysql")],
            4,
            "",
            "Unit mysql.service could not be found.\n",
        );
    assert_eq!(
        k.entities.get("db_unit"),
        None,
        "a missing unit teaches nothing"
    );
    k.run("systemctl_status", &[("service", "mariadb")], 3, stopped, "")
        .ok("journal_kernel", &[], "Feb 02 09:00:00 web kernel: eth0: link up\n")
        .ok("ss_listen", &[], "State  Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess\nLISTEN 0      511          0.0.0.0:80         0.0.0.0:*    users:((\"nginx\",pid=1,fd=6))\n");
    assert_eq!(k.entities.get("db_unit"), Some("mariadb"));
    assert_eq!(k.entities.get("db_down"), Some("yes"));
    let a = k.answer("db_connection");
    assert!(a.starts_with("Problem: MariaDB is not running"), "{a}");
    assert!(a.contains("local socket WordPress connects through"), "{a}");
    assert!(a.contains("systemctl start mariadb"), "{a}");
    assert!(a.contains("Nothing listens on port 3306"), "{a}");
    assert!(!a.contains("innodb_buffer_pool_size"), "{a}");
}

#[test]
fn unknown_host_timeout_limits_and_missing_databases_each_get_their_own_finding() {
    let cases = [
        (
            "PHP Warning:  mysqli_real_connect(): php_network_getaddresses: getaddrinfo for db-primary.internal failed: Name or service not known in /x/wp-includes/class-wpdb.php on line 1987",
            "does not resolve",
        ),
        (
            "PHP Warning:  mysqli_real_connect(): (HY000/2002): Connection timed out in /x/wp-includes/class-wpdb.php on line 1987",
            "does not answer in time",
        ),
        (
            "PHP Warning:  mysqli_real_connect(): (HY000/1040): Too many connections in /x/wp-includes/class-wpdb.php on line 1987",
            "max_connections is reached",
        ),
        (
            "PHP Warning:  mysqli_real_connect(): (HY000/1049): Unknown database 'shop_old' in /x/wp-includes/class-wpdb.php on line 1987",
            "The database shop_old does not exist",
        ),
    ];
    for (line, expected) in cases {
        let mut k = Kit::new();
        k.ok("site_home", &[], DB_PAGE).ok(
            "debug_log",
            &[("path", "/var/www/html/wp-content/debug.log")],
            &format!("[01-Jan-2025 00:00:00 UTC] {line}\n"),
        );
        let a = k.answer("db_connection");
        assert!(a.contains(expected), "{expected:?} not in {a}");
        assert!(!a.contains("refused"), "{a}");
    }
}

#[test]
fn the_error_page_alone_asks_for_the_mysqli_error() {
    let mut k = Kit::new();
    k.ok("site_home", &[], DB_PAGE).ok(
        "debug_log",
        &[("path", "/var/www/html/wp-content/debug.log")],
        "",
    );
    let a = k.answer("site_down");
    assert!(
        a.contains("cannot connect to its database, and no log read here says why"),
        "{a}"
    );
    assert!(!a.contains("critical error"), "{a}");
}

#[test]
fn a_refused_remote_database_is_checked_on_its_own_server() {
    let mut k = Kit::new();
    let config =
        "<?php\ndefine( 'DB_NAME', 'shop_wp' );\ndefine( 'DB_HOST', '10.20.0.15:3307' );\n";
    k.ok("site_home", &[], DB_PAGE)
        .ok("wp_config", &[("path", "/var/www/html/wp-config.php")], config)
        .ok("debug_log", &[("path", "/var/www/html/wp-content/debug.log")], "[01-Jan-2025 00:00:00 UTC] PHP Warning:  mysqli_real_connect(): (HY000/2002): Connection refused in /x/wp-includes/class-wpdb.php on line 1987\n")
        .run("systemctl_status", &[("service", "mysql")], 4, "", "Unit mysql.service could not be found.\n")
        .run("systemctl_status", &[("service", "mariadb")], 4, "", "Unit mariadb.service could not be found.\n");
    assert_eq!(k.entities.get("db_down"), None);
    let a = k.answer("db_connection");
    assert!(
        a.contains("connections to 10.20.0.15:3307 are refused"),
        "{a}"
    );
    assert!(
        a.contains("The database runs on 10.20.0.15, not on this host"),
        "{a}"
    );
    assert!(!a.contains("proposed for approval"), "{a}");
}

#[test]
fn a_full_disk_is_cleared_before_the_server_is_started() {
    let mut k = Kit::new();
    let failed = "× mysql.service - MySQL Community Server\n     Active: failed (Result: exit-code) since Wed 2025-03-05 03:00:10 UTC; 5h ago\n";
    let err = "2025-03-05T03:00:09.912Z 0 [ERROR] [MY-012592] [InnoDB] Operating system error number 28 in a file operation.\n2025-03-05T03:00:09.913Z 0 [ERROR] [MY-012596] [InnoDB] Error number 28 means 'No space left on device'\n";
    k.ok("site_home", &[], DB_PAGE)
        .ok("debug_log", &[("path", "/var/www/html/wp-content/debug.log")], "[05-Mar-2025 08:00:00 UTC] PHP Warning:  mysqli_real_connect(): (HY000/2002): Connection refused in /x/wp-includes/class-wpdb.php on line 1987\n")
        .run("systemctl_status", &[("service", "mysql")], 3, failed, "")
        .ok("journal_kernel", &[], "")
        .ok("mysql_error_log", &[], err);
    assert_eq!(k.entities.get("db_disk_full"), Some("yes"));
    k.ok("disk_usage", &[], "Filesystem      Size  Used Avail Use% Mounted on\n/dev/vda1        40G   40G     0 100% /\n");
    let a = k.answer("db_connection");
    assert!(
        a.starts_with("Problem: MySQL is down: its disk is full"),
        "{a}"
    );
    assert!(a.contains("The filesystem / is 100% full"), "{a}");
    let free = a.find("Free disk space").unwrap_or(usize::MAX);
    let start = a.find("systemctl start mysql").unwrap_or(0);
    assert!(free < start, "free space first: {a}");
    assert!(!a.contains("innodb_buffer_pool_size"), "{a}");
}
