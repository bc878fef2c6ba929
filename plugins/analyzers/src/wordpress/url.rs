//! Just enough URL handling for redirect chains: split a URL into scheme, host, port and
//! path, resolve a `Location` against the URL that sent it, and compare two URLs the way a
//! browser would when it decides it is going round in circles.

/// An http(s) URL, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub scheme: String,
    pub host: String,
    pub port: Option<u16>,
    /// Path and query, always starting with `/`.
    pub path: String,
}

impl Url {
    /// Reads an absolute http(s) URL; `None` for anything else.
    pub fn parse(text: &str) -> Option<Url> {
        let text = text.trim();
        let (scheme, rest) = text.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return None;
        }
        let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(split);
        if authority.is_empty() || authority.contains('@') {
            return None;
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p.parse::<u16>().ok()?)),
            None => (authority, None),
        };
        let path = path.split('#').next().unwrap_or_default();
        let path = if path.starts_with('/') {
            path.to_owned()
        } else {
            format!("/{path}")
        };
        Some(Url {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
            path,
        })
    }

    /// `scheme://host[:port]`, without a default port.
    pub fn origin(&self) -> String {
        match self.port {
            Some(p) if p != self.effective_default() => {
                format!("{}://{}:{p}", self.scheme, self.host)
            }
            _ => format!("{}://{}", self.scheme, self.host),
        }
    }

    fn effective_default(&self) -> u16 {
        if self.scheme == "https" { 443 } else { 80 }
    }

    /// The path without a trailing slash (the root stays empty).
    pub fn base_path(&self) -> &str {
        let path = self.path.split('?').next().unwrap_or_default();
        path.trim_end_matches('/')
    }

    /// Whether two URLs name the same page: same origin, same path and query, a trailing
    /// slash aside.
    pub fn same_page(&self, other: &Url) -> bool {
        self.origin() == other.origin() && normalize(&self.path) == normalize(&other.path)
    }

    /// The URL as text: origin plus path.
    pub fn text(&self) -> String {
        format!("{}{}", self.origin(), self.path)
    }
}

fn normalize(path: &str) -> String {
    let (p, q) = path.split_once('?').unwrap_or((path, ""));
    let p = p.trim_end_matches('/');
    if q.is_empty() {
        p.to_owned()
    } else {
        format!("{p}?{q}")
    }
}

/// Resolves a `Location` header against the URL of the response that carried it.
pub fn resolve(base: &Url, location: &str) -> Option<Url> {
    let location = location.trim();
    if location.is_empty() {
        return None;
    }
    if let Some(rest) = location.strip_prefix("//") {
        return Url::parse(&format!("{}://{rest}", base.scheme));
    }
    if location.contains("://") {
        return Url::parse(location);
    }
    let path = if location.starts_with('/') {
        location.to_owned()
    } else {
        let dir = base
            .path
            .split('?')
            .next()
            .and_then(|p| p.rsplit_once('/'))
            .map_or("", |(d, _)| d);
        format!("{dir}/{location}")
    };
    Some(Url {
        path,
        ..base.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_origin_and_path() {
        let u = Url::parse("https://WWW.Example.com:443/shop/?a=1").expect("url");
        assert_eq!(u.host, "www.example.com");
        assert_eq!(u.origin(), "https://www.example.com");
        assert_eq!(u.path, "/shop/?a=1");
        assert_eq!(u.base_path(), "/shop");
        assert_eq!(
            Url::parse("http://example.com:8080").map(|u| u.origin()),
            Some("http://example.com:8080".to_owned())
        );
        assert!(Url::parse("ftp://example.com/").is_none());
        assert!(Url::parse("https://user:pw@example.com/").is_none());
    }

    #[test]
    fn locations_resolve_against_the_url_that_sent_them() {
        let base = Url::parse("https://a.example/blog/post").expect("url");
        let abs = resolve(&base, "https://b.example/").expect("abs");
        assert_eq!(abs.text(), "https://b.example/");
        assert_eq!(
            resolve(&base, "/wp-login.php").map(|u| u.text()),
            Some("https://a.example/wp-login.php".to_owned())
        );
        assert_eq!(
            resolve(&base, "other").map(|u| u.text()),
            Some("https://a.example/blog/other".to_owned())
        );
        assert_eq!(
            resolve(&base, "//c.example/x").map(|u| u.text()),
            Some("https://c.example/x".to_owned())
        );
    }

    #[test]
    fn a_trailing_slash_does_not_make_a_different_page() {
        let a = Url::parse("https://a.example").expect("a");
        let b = Url::parse("https://a.example/").expect("b");
        assert!(a.same_page(&b));
        let c = Url::parse("http://a.example/").expect("c");
        assert!(!a.same_page(&c));
    }
}
