//! Where the domain's certificate file is, learned between playbook steps so that the
//! `openssl x509` steps read the right file: certbot's record first, the web server's
//! `ssl_certificate` next. A path the user typed is never replaced.

use squadron_core::{Entities, ToolRun};

use super::super::tool;
use super::certs;

/// The entity that remembers which domain a learned `cert` belongs to.
const LEARNED_FOR: &str = "cert_learned_for";

/// Updates `cert` from a certbot listing or the web server's configuration.
pub fn learn(run: &ToolRun, entities: &mut Entities, message: &str) {
    let Some(domain) = entities.get("domain").map(str::to_owned) else {
        return;
    };
    let typed = entities.get("cert").is_some_and(|c| message.contains(c));
    if typed {
        return;
    }
    if entities.get(LEARNED_FOR).is_some_and(|d| d != domain) {
        entities.remove("cert");
        entities.remove(LEARNED_FOR);
    }
    let found = match run.tool() {
        tool::CERTBOT => certs::certbot(run)
            .into_iter()
            .find(|c| c.covers(&domain))
            .and_then(|c| c.path),
        tool::WEB_TLS if !entities.has("cert") => web_certificate(&run.output.stdout, &domain),
        _ => None,
    };
    if let Some(path) = found {
        entities.set("cert", path);
        entities.set(LEARNED_FOR, domain);
    }
}

/// The certificate path configured next to a `server_name`/`ServerName` naming `domain`,
/// in `grep -rH` output (`file:directive value`).
pub fn web_certificate(grep: &str, domain: &str) -> Option<String> {
    let mut current_file = "";
    let mut named = false;
    for line in grep.lines() {
        let Some((file, rest)) = line.split_once(':') else {
            continue;
        };
        if file != current_file {
            current_file = file;
            named = false;
        }
        let mut words = rest.split_whitespace();
        let directive = words.next().unwrap_or("").to_ascii_lowercase();
        let values: Vec<&str> = words.map(|w| w.trim_end_matches(';')).collect();
        match directive.as_str() {
            "server_name" | "servername" | "serveralias" => {
                named |= values.iter().any(|v| v.eq_ignore_ascii_case(domain));
            }
            "ssl_certificate" | "sslcertificatefile" if named => {
                return values.first().map(|v| v.trim_matches('"').to_owned());
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_certificate_next_to_the_server_name_is_chosen() {
        let grep = "/etc/nginx/sites-enabled/blog:    server_name blog.example.org;
/etc/nginx/sites-enabled/blog:    ssl_certificate /etc/ssl/blog.pem;
/etc/nginx/sites-enabled/shop:    server_name shop.example.net www.shop.example.net;
/etc/nginx/sites-enabled/shop:    ssl_certificate /etc/nginx/ssl/shop-fullchain.pem;
";
        assert_eq!(
            web_certificate(grep, "www.shop.example.net").as_deref(),
            Some("/etc/nginx/ssl/shop-fullchain.pem")
        );
        assert_eq!(web_certificate(grep, "other.example.com"), None);
    }
}
