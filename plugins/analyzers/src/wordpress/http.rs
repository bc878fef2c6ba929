//! HTTP responses as the http tool prints them (`curl -i`: status line, headers, blank
//! line, body), and what kind of WordPress page a body is.

use std::sync::LazyLock;

use regex::Regex;

static STATUS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^HTTP/[0-9.]+\s+([0-9]{3})(?:\s+(.*))?$").expect("static regex"));
static PHP_VERSION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\bPHP/([0-9]+\.[0-9]+)").expect("static regex"));

/// One response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub status_line: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// What a page is, as far as WordPress troubleshooting cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// "There has been a critical error on this website." (wp_die after a fatal error).
    CriticalError,
    /// "Error establishing a database connection".
    DatabaseError,
    /// "Briefly unavailable for scheduled maintenance."
    Maintenance,
    /// A PHP error printed into the page (display_errors on).
    PhpError,
    /// An error status with an empty body: the white screen.
    Blank,
    Other,
}

impl Response {
    /// Every response in an output (one for the http tool, several for `curl -iL`).
    pub fn parse_all(text: &str) -> Vec<Response> {
        let mut out: Vec<Response> = Vec::new();
        let mut in_headers = false;
        let mut prev_blank = true;
        for raw in text.split('\n') {
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            if let Some(c) = STATUS.captures(line).filter(|_| prev_blank || in_headers) {
                out.push(Response {
                    status: c[1].parse().unwrap_or(0),
                    status_line: line.trim().to_owned(),
                    ..Response::default()
                });
                in_headers = true;
                prev_blank = false;
                continue;
            }
            prev_blank = line.trim().is_empty();
            let Some(current) = out.last_mut() else {
                continue;
            };
            if in_headers {
                if line.trim().is_empty() {
                    in_headers = false;
                } else if let Some((k, v)) = line.split_once(':') {
                    current
                        .headers
                        .push((k.trim().to_owned(), v.trim().to_owned()));
                }
            } else {
                current.body.push_str(line);
                current.body.push('\n');
            }
        }
        out
    }

    /// The first (or only) response of an output.
    pub fn parse(text: &str) -> Option<Response> {
        Response::parse_all(text).into_iter().next()
    }

    /// A header's value (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The header line as it was printed, for evidence.
    pub fn header_line(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(k, v)| format!("{k}: {v}"))
    }

    pub fn is_redirect(&self) -> bool {
        matches!(self.status, 301 | 302 | 303 | 307 | 308) && self.header("location").is_some()
    }

    /// Who sent a redirect: the X-Redirect-By header (WordPress, a plugin), else the server.
    pub fn redirected_by(&self) -> String {
        match (self.header("x-redirect-by"), self.header("server")) {
            (Some(by), _) => by.to_owned(),
            (None, Some(server)) => server.split(['/', ' ']).next().unwrap_or(server).to_owned(),
            (None, None) => "the web server".to_owned(),
        }
    }

    /// The PHP version the response names (`X-Powered-By: PHP/8.2.24`).
    pub fn php_version(&self) -> Option<String> {
        let powered = self.header("x-powered-by")?;
        PHP_VERSION.captures(powered).map(|c| c[1].to_owned())
    }

    /// `nginx`, `apache` or another server name, lower-case.
    pub fn server(&self) -> Option<String> {
        let server = self.header("server")?.to_ascii_lowercase();
        Some(if server.contains("apache") {
            "apache".to_owned()
        } else if server.contains("nginx") {
            "nginx".to_owned()
        } else {
            server
                .split(['/', ' '])
                .next()
                .unwrap_or_default()
                .to_owned()
        })
    }

    pub fn page(&self) -> Page {
        let body = self.body.to_ascii_lowercase();
        if body.contains("error establishing a database connection") {
            Page::DatabaseError
        } else if body.contains("there has been a critical error on")
            || body.contains("experiencing technical difficulties")
        {
            Page::CriticalError
        } else if body.contains("briefly unavailable for scheduled maintenance") {
            Page::Maintenance
        } else if body.contains("fatal error") && body.contains(".php") {
            Page::PhpError
        } else if self.status >= 500 && body.trim().is_empty() {
            Page::Blank
        } else {
            Page::Other
        }
    }

    /// The body line that carries the page's message, for evidence.
    pub fn message_line(&self) -> Option<String> {
        let needle = match self.page() {
            Page::DatabaseError => "error establishing",
            Page::CriticalError => "critical error",
            Page::Maintenance => "briefly unavailable",
            Page::PhpError => "fatal error",
            Page::Blank | Page::Other => return None,
        };
        self.body
            .lines()
            .flat_map(|l| {
                l.split('<')
                    .map(|seg| seg.split_once('>').map_or(seg, |(_, t)| t))
            })
            .map(str::trim)
            .find(|t| t.to_ascii_lowercase().contains(needle))
            .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CRITICAL: &str = "HTTP/1.1 500 Internal Server Error\nServer: nginx/1.24.0 (Ubuntu)\nX-Powered-By: PHP/8.2.24\n\n<html><body id=\"error-page\">\n\t<div class=\"wp-die-message\"><p>There has been a critical error on this website.</p></div></body>\n</html>\n";

    #[test]
    fn the_critical_error_page_is_recognised() {
        let r = Response::parse(CRITICAL).expect("response");
        assert_eq!(r.status, 500);
        assert_eq!(r.page(), Page::CriticalError);
        assert_eq!(r.php_version().as_deref(), Some("8.2"));
        assert_eq!(r.server().as_deref(), Some("nginx"));
        assert_eq!(
            r.message_line().as_deref(),
            Some("There has been a critical error on this website.")
        );
    }

    #[test]
    fn follow_output_holds_one_response_per_hop() {
        let text = "HTTP/1.1 301 Moved Permanently\r\nLocation: https://old.example/\r\nX-Redirect-By: WordPress\r\n\r\nHTTP/1.1 301 Moved Permanently\r\nServer: nginx\r\nLocation: https://www.example/\r\n\r\n";
        let all = Response::parse_all(text);
        assert_eq!(all.len(), 2);
        assert!(all[0].is_redirect());
        assert_eq!(all[0].redirected_by(), "WordPress");
        assert_eq!(all[1].redirected_by(), "nginx");
        assert_eq!(all[1].header("location"), Some("https://www.example/"));
    }

    #[test]
    fn database_error_and_blank_pages_are_told_apart() {
        let db = "HTTP/1.1 500 Internal Server Error\n\n<h1>Error establishing a database connection</h1>\n";
        assert_eq!(
            Response::parse(db).map(|r| r.page()),
            Some(Page::DatabaseError)
        );
        let blank = "HTTP/1.1 500 Internal Server Error\nContent-Length: 0\n\n";
        assert_eq!(Response::parse(blank).map(|r| r.page()), Some(Page::Blank));
    }
}
