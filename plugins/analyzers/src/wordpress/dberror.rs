//! Why a MySQL/MariaDB connection failed, read from the error text wherever it appears:
//! WordPress's mysqli warnings in debug.log, the sql tool's error, wp-cli, mysqladmin.
//! Refused, missing socket, access denied, unknown host, timeout, too many connections and
//! unknown database each point somewhere else, so they are never lumped together.

use std::sync::LazyLock;

use regex::Regex;

/// The kind of a connection failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Failure {
    /// Nothing accepts TCP connections on the address (errno 111).
    Refused,
    /// The Unix socket does not exist (server down, or a different socket path).
    NoSocket,
    /// The server answered and rejected the login.
    AccessDenied,
    /// DB_HOST does not resolve.
    UnknownHost,
    /// No answer in time (errno 110), or the host is unreachable (113).
    Timeout,
    TooManyConnections,
    UnknownDatabase,
    /// The server closed the connection during a query.
    GoneAway,
}

struct Rule {
    failure: Failure,
    re: Regex,
}

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    let rule = |failure, pattern: &str| Rule {
        failure,
        re: Regex::new(pattern).expect("static regex"),
    };
    vec![
        rule(
            Failure::AccessDenied,
            r"(?i)access denied for user|HY000/1045|ERROR 1045\b|\b1045\b.*denied",
        ),
        rule(
            Failure::UnknownHost,
            r"(?i)unknown mysql server host|HY000/2005|ERROR 2005\b|getaddrinfo.*failed|name or service not known|temporary failure in name resolution",
        ),
        rule(
            Failure::TooManyConnections,
            r"(?i)too many connections|HY000/1040|ERROR 1040\b",
        ),
        rule(
            Failure::UnknownDatabase,
            r"(?i)unknown database|HY000/1049|ERROR 1049\b",
        ),
        rule(
            Failure::NoSocket,
            r"(?i)HY000/2002\): No such file or directory|can't connect to local (?:mysql |mariadb )?server through socket|mysqld?\.sock.*\(2\)",
        ),
        rule(
            Failure::Refused,
            r"(?i)connection refused|can't connect to (mysql|mariadb) server on .*\(111|errno:? 111|\(111\)",
        ),
        rule(
            Failure::Timeout,
            r"(?i)connection timed out|operation timed out|\((110|113)\)|no route to host|errno:? 11[03]",
        ),
        rule(
            Failure::GoneAway,
            r"(?i)mysql server has gone away|HY000/2006|lost connection to mysql server",
        ),
    ]
});

static TARGET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:server on|server at|host) '([^']+)'|through socket '([^']+)'|getaddrinfo for (\S+) failed")
        .expect("static regex")
});

/// One line that shows a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub failure: Failure,
    pub line: String,
    /// `127.0.0.1:3306`, a host name or a socket path, when the line names it.
    pub target: Option<String>,
}

/// Whether a line is about the database at all (so "connection refused" from an HTTP client
/// in some plugin's warning does not count).
fn about_database(line: &str) -> bool {
    let l = line.to_ascii_lowercase();
    [
        "mysql", "mariadb", "mysqli", "hy000", "error 1", "error 2", "database", "wpdb", "pdo",
    ]
    .iter()
    .any(|k| l.contains(k))
}

/// Classifies one line.
pub fn classify(line: &str) -> Option<Hit> {
    if !about_database(line) {
        return None;
    }
    let rule = RULES.iter().find(|r| r.re.is_match(line))?;
    let target = TARGET
        .captures(line)
        .and_then(|c| c.get(1).or(c.get(2)).or(c.get(3)))
        .map(|m| m.as_str().to_owned());
    Some(Hit {
        failure: rule.failure,
        line: line.trim().to_owned(),
        target,
    })
}

/// Every failure line of a text.
pub fn scan(text: &str) -> Vec<Hit> {
    text.lines().filter_map(classify).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(line: &str) -> Option<Failure> {
        classify(line).map(|h| h.failure)
    }

    #[test]
    fn refused_is_not_access_denied() {
        assert_eq!(
            kind(
                "[21-Nov-2024 02:18:04 UTC] PHP Warning:  mysqli_real_connect(): (HY000/2002): Connection refused in /var/www/html/wp-includes/class-wpdb.php on line 1987"
            ),
            Some(Failure::Refused)
        );
        let hit =
            classify("ERROR 2003 (HY000): Can't connect to MySQL server on '10.0.0.5:3306' (111)")
                .expect("hit");
        assert_eq!(hit.failure, Failure::Refused);
        assert_eq!(hit.target.as_deref(), Some("10.0.0.5:3306"));
        assert_eq!(
            kind(
                "PHP Warning:  mysqli_real_connect(): (HY000/1045): Access denied for user 'blog'@'localhost' (using password: YES) in /x/wp-includes/class-wpdb.php on line 1987"
            ),
            Some(Failure::AccessDenied)
        );
    }

    #[test]
    fn host_socket_timeout_and_limits_are_told_apart() {
        assert_eq!(
            kind(
                "mysqli_real_connect(): php_network_getaddresses: getaddrinfo for db.internal failed: Name or service not known"
            ),
            Some(Failure::UnknownHost)
        );
        assert_eq!(
            kind(
                "mysqli_real_connect(): (HY000/2002): No such file or directory in /x/wp-includes/class-wpdb.php"
            ),
            Some(Failure::NoSocket)
        );
        assert_eq!(
            kind(
                "ERROR 2002 (HY000): Can't connect to local MySQL server through socket '/var/run/mysqld/mysqld.sock' (2)"
            ),
            Some(Failure::NoSocket)
        );
        assert_eq!(
            kind("ERROR 2003 (HY000): Can't connect to MySQL server on 'db:3306' (110)"),
            Some(Failure::Timeout)
        );
        assert_eq!(
            kind("mysqli_real_connect(): (HY000/1040): Too many connections"),
            Some(Failure::TooManyConnections)
        );
        assert_eq!(
            kind("ERROR 1049 (42000): Unknown database 'shop'"),
            Some(Failure::UnknownDatabase)
        );
    }

    #[test]
    fn unrelated_refusals_are_ignored() {
        assert_eq!(
            kind(
                "PHP Warning: file_get_contents(https://api.example): Failed to open stream: Connection refused in /x/plugins/a/a.php on line 3"
            ),
            None
        );
    }
}
