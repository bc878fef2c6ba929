//! Database failures where the server (or the way to it) answers but says no: rejected
//! login, unknown host, timeout, connection limit, missing database, dropped connections;
//! and the database error page with no error detail logged.

use std::sync::LazyLock;

use regex::Regex;
use squadron_core::{Finding, Investigation, Severity};

use super::common;
use super::db::Facts;
use super::dberror::{Failure, Hit};

static USER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"for user '[^']*'@").expect("static regex"));
static CLIENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"for user '[^']*'@'([^']+)'").expect("static regex"));
static DB_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"Unknown database '([^']+)'").expect("static regex"));

/// Database user names are credentials: evidence shows where, never who.
fn mask_user(line: &str) -> String {
    USER.replace_all(line, "for user '<DB_USER>'@").into_owned()
}

fn with_hit(mut f: Finding, facts: &Facts, failure: Failure) -> (Finding, Option<Hit>) {
    let hit = facts
        .first_hit(failure)
        .map(|(src, h)| (src.to_owned(), h.clone()));
    if let Some((src, h)) = &hit {
        f = f
            .detail(match facts.count(failure) {
                1 => "1 connection attempt failed this way.".to_owned(),
                n => format!("{n} connection attempts failed this way."),
            })
            .evidence(src, [mask_user(&h.line)]);
    }
    if let Some((src, lines)) = &facts.error_page {
        f = f.evidence(src, lines.clone());
    }
    if let Some((u, src)) = &facts.unit {
        f = f.evidence(src, u.active_line.iter().cloned());
    }
    (f, hit.map(|(_, h)| h))
}

/// The finding for a failure other than a refused connection.
pub fn finding(inv: &Investigation<'_>, facts: &Facts, failure: Failure) -> Finding {
    let path = common::wordpress_path(inv.entities);
    let engine = facts.engine_name();
    let host = facts
        .first_hit(failure)
        .and_then(|(_, h)| h.target.clone())
        .or_else(|| facts.db_host.as_ref().map(|(h, _)| h.text()))
        .unwrap_or_else(|| "DB_HOST".to_owned());
    match failure {
        Failure::AccessDenied => {
            let f = Finding::new(
                Severity::Critical,
                format!("{engine} rejects WordPress's database login (access denied for its user)"),
            )
            .detail(format!(
                "The server at {host} is up and answering; it refuses the user, password or \
                 client host that wp-config.php gives."
            ));
            let (f, hit) = with_hit(f, facts, failure);
            let client = hit
                .and_then(|h| CLIENT.captures(&h.line).map(|c| c[1].to_owned()))
                .unwrap_or_else(|| "localhost".to_owned());
            let db_name = common::wp_config(inv)
                .and_then(|(c, _)| c.get("DB_NAME").map(str::to_owned))
                .unwrap_or_else(|| "<DB_NAME>".to_owned());
            f.fix(format!(
                "Compare DB_USER, DB_PASSWORD and DB_HOST in {path}/wp-config.php with the account on the server: the account must exist for the client host '{client}' the server saw, with the same password."
            ))
            .fix_with_code(
                "Or reset the account's password on the server and put the same one in DB_PASSWORD:",
                "sql",
                format!("ALTER USER '<DB_USER>'@'{client}' IDENTIFIED BY '<new password>';\nGRANT ALL PRIVILEGES ON {db_name}.* TO '<DB_USER>'@'{client}';"),
            )
        }
        Failure::UnknownHost => {
            let f = Finding::new(
                Severity::Critical,
                format!("WordPress's database host {host} does not resolve"),
            );
            let (f, _) = with_hit(f, facts, failure);
            f.fix_with_code(
                format!("Check the name; fix DB_HOST in {path}/wp-config.php or the DNS record / /etc/hosts entry it relies on:"),
                "sh",
                "getent hosts <db-host>\ngrep DB_HOST wp-config.php",
            )
        }
        Failure::Timeout => {
            let f = Finding::new(Severity::Critical, format!("The database server at {host} does not answer in time"))
                .detail("A timeout means packets go unanswered: a firewall, a security group, a down host or an overloaded server.");
            let (f, _) = with_hit(f, facts, failure);
            f.fix_with_code(
                "Test the path to the database from the web server:",
                "sh",
                "nc -vz -w 5 <db-host> 3306\nip route get <db-host-ip>",
            )
        }
        Failure::TooManyConnections => {
            let f = Finding::new(
                Severity::Critical,
                format!("{engine} refuses new connections: max_connections is reached"),
            );
            let (f, _) = with_hit(f, facts, failure);
            f.fix_with_code(
                "See who holds the connections (long queries, sleeping connections), then raise the limit or lower PHP-FPM's pm.max_children:",
                "sql",
                "SHOW FULL PROCESSLIST;\nSHOW GLOBAL STATUS LIKE 'Max_used_connections';\nSET GLOBAL max_connections = 300;",
            )
        }
        Failure::UnknownDatabase => {
            let name = facts
                .first_hit(failure)
                .and_then(|(_, h)| DB_NAME.captures(&h.line).map(|c| c[1].to_owned()))
                .unwrap_or_else(|| "DB_NAME".to_owned());
            let f = Finding::new(
                Severity::Critical,
                format!("The database {name} does not exist on {host}"),
            );
            let (f, _) = with_hit(f, facts, failure);
            f.fix_with_code(
                format!("List the databases and fix DB_NAME in {path}/wp-config.php, or restore the database from a backup:"),
                "sql",
                "SHOW DATABASES;",
            )
        }
        Failure::GoneAway => {
            let f = Finding::new(Severity::Warning, format!("{engine} drops WordPress's connections mid-query (server has gone away)"))
                .detail("The server restarts, kills long queries, or receives packets over max_allowed_packet.");
            let (f, _) = with_hit(f, facts, failure);
            f.fix_with_code(
                "Check for restarts and raise the packet limit if large options or posts are saved:",
                "ini",
                "[mysqld]\nmax_allowed_packet = 64M\nwait_timeout = 600",
            )
        }
        Failure::Refused | Failure::NoSocket => unexplained(inv, facts),
    }
}

/// The site shows the database error page, but no log line says why.
pub fn unexplained(inv: &Investigation<'_>, facts: &Facts) -> Finding {
    let path = common::wordpress_path(inv.entities);
    let mut f = Finding::new(
        Severity::Critical,
        "WordPress cannot connect to its database, and no log read here says why",
    );
    if let Some((src, lines)) = &facts.error_page {
        f = f.evidence(src, lines.clone());
    }
    if let Some((u, src)) = &facts.unit {
        f = f
            .detail(format!(
                "The {} unit is {}.",
                facts.unit_name(),
                u.active.as_deref().unwrap_or("in an unknown state")
            ))
            .evidence(src, u.active_line.iter().cloned());
    }
    f.fix_with_code(
        format!("Turn on WordPress's debug log in {path}/wp-config.php; the next page load writes the exact mysqli error to wp-content/debug.log:"),
        "php",
        "define( 'WP_DEBUG', true );\ndefine( 'WP_DEBUG_LOG', true );\ndefine( 'WP_DEBUG_DISPLAY', false );",
    )
}
