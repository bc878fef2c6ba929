//! Secrets scrubbed from tool output before it reaches analyzers, the LLM, the chat or the
//! audit trail: passwords in config files and URLs, salts, tokens, private keys,
//! authorization headers.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::{Captures, Regex};

/// What a secret is replaced with.
pub const MASK: &str = "[REDACTED]";

struct Rule {
    re: Regex,
    /// Capture groups kept around the masked value: (before, after).
    keep: (usize, Option<usize>),
}

/// Names of keys whose values are secrets.
const SECRET_KEY: &str = "(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|client[_-]?secret|requirepass|masterauth)";

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    let rule = |pattern: &str, keep: (usize, Option<usize>)| Rule {
        re: Regex::new(pattern).expect("static regex"),
        keep,
    };
    vec![
        // PHP define('DB_PASSWORD', '...'), salts and keys
        rule(
            r#"(?i)(define\(\s*['"][A-Z0-9_]*(?:PASSWORD|PASS|KEY|SALT|SECRET|TOKEN)[A-Z0-9_]*['"]\s*,\s*')[^']*(')"#,
            (1, Some(2)),
        ),
        rule(
            r#"(?i)(define\(\s*['"][A-Z0-9_]*(?:PASSWORD|PASS|KEY|SALT|SECRET|TOKEN)[A-Z0-9_]*['"]\s*,\s*")[^"]*(")"#,
            (1, Some(2)),
        ),
        // key = value anywhere (config lines, URLs' query strings, logfmt)
        rule(
            &format!(
                r#"(?i)(\b[A-Za-z0-9_.\-]*{SECRET_KEY}[A-Za-z0-9_.\-]*\s*=\s*["']?)([^"'\s,;&{{}}\[<][^"'\s,;&}}]*)"#
            ),
            (1, None),
        ),
        // "key": "value" in JSON
        rule(
            &format!(r#"(?i)("[A-Za-z0-9_.\-]*{SECRET_KEY}[A-Za-z0-9_.\-]*"\s*:\s*")([^"]+)(")"#),
            (1, Some(3)),
        ),
        // key: value at the start of a YAML or config line
        rule(
            &format!(
                r#"(?im)^(\s*-?\s*[A-Za-z0-9_.\-]*{SECRET_KEY}[A-Za-z0-9_.\-]*\s*:\s*["']?)([^"'\s,;{{}}\[<][^"'\s,;}}]*)"#
            ),
            (1, None),
        ),
        // config directives: `requirepass secret`, `masterauth secret`
        rule(r"(?im)^(\s*(?:requirepass|masterauth)\s+)(\S+)", (1, None)),
        // credentials in URLs: scheme://user:password@host
        rule(
            r"([A-Za-z][A-Za-z0-9+.\-]*://[^:/\s@]+:)[^@\s/]+(@)",
            (1, Some(2)),
        ),
        // HTTP headers that carry credentials
        rule(
            r"(?im)^((?:authorization|proxy-authorization|cookie|set-cookie|x-api-key|x-auth-token)\s*:\s*)\S.*$",
            (1, None),
        ),
        // well-known token shapes
        rule(r"()\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", (1, None)),
        rule(r"()\bxox[abposr]-[0-9A-Za-z-]{10,}", (1, None)),
        rule(r"()\bgh[pousr]_[0-9A-Za-z]{30,}", (1, None)),
        rule(
            r"()\beyJ[0-9A-Za-z_-]{8,}\.eyJ[0-9A-Za-z_-]{8,}\.[0-9A-Za-z_-]{8,}",
            (1, None),
        ),
        rule(r"()\bsk-[0-9A-Za-z_-]{20,}", (1, None)),
    ]
});

static PRIVATE_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----")
        .expect("static regex")
});

/// Returns `text` with every secret it recognises replaced by [`MASK`].
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut out: Cow<'_, str> = Cow::Borrowed(text);
    if PRIVATE_KEY.is_match(&out) {
        out = Cow::Owned(
            PRIVATE_KEY
                .replace_all(&out, |c: &Captures| {
                    format!(
                        "-----BEGIN {0}PRIVATE KEY-----\n{MASK}\n-----END {0}PRIVATE KEY-----",
                        &c[1]
                    )
                })
                .into_owned(),
        );
    }
    for rule in RULES.iter() {
        if !rule.re.is_match(&out) {
            continue;
        }
        let replaced = rule
            .re
            .replace_all(&out, |c: &Captures| {
                let before = c.get(rule.keep.0).map_or("", |m| m.as_str());
                let after = rule
                    .keep
                    .1
                    .and_then(|i| c.get(i))
                    .map_or("", |m| m.as_str());
                format!("{before}{MASK}{after}")
            })
            .into_owned();
        out = Cow::Owned(replaced);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wordpress_config_secrets_are_masked() {
        let cfg = "define( 'DB_NAME', 'shop' );\ndefine( 'DB_PASSWORD', 'pT7#qLz2!vX9mWc4' );\ndefine('AUTH_KEY', \"k;e|y\");\ndefine( 'DB_HOST', '127.0.0.1' );";
        let out = redact(cfg);
        assert!(!out.contains("pT7#qLz2!vX9mWc4"), "{out}");
        assert!(!out.contains("k;e|y"), "{out}");
        assert!(out.contains("'DB_NAME', 'shop'"));
        assert!(out.contains("127.0.0.1"));
    }

    #[test]
    fn key_values_urls_and_headers_are_masked() {
        let text = "password=hunter2\n\"api_key\": \"abc123\"\nrequirepass foobared\npostgres://app:s3cret@db/app\nAuthorization: Bearer xyz\nDB_PASSWORD: <set to the key 'password' in secret 'db'>";
        let out = redact(text);
        for secret in ["hunter2", "abc123", "foobared", "s3cret", "Bearer xyz"] {
            assert!(!out.contains(secret), "{secret} left in {out}");
        }
        assert!(out.contains("postgres://app:[REDACTED]@db/app"));
    }

    #[test]
    fn prose_about_tokens_is_left_alone() {
        let line = "failed to fetch anonymous token: unexpected status from GET request to https://r.example:5000/token: 401 Unauthorized";
        assert_eq!(redact(line), line);
    }

    #[test]
    fn json_structure_survives() {
        let json = r#"{"serviceAccountToken": {"path": "token"}, "secretKeyRef": {"name": "db"}, "tokens": [1]}"#;
        assert_eq!(redact(json), json);
    }

    #[test]
    fn log_lines_about_passwords_are_left_alone() {
        let line = "Nov 21 03:12:01 web sshd[1]: Failed password for invalid user admin from 203.0.113.77 port 4242 ssh2";
        assert_eq!(redact(line), line);
        let sshd = "passwordauthentication yes\npermitrootlogin without-password";
        assert_eq!(redact(sshd), sshd);
        assert_eq!(redact("# requirepass foobared"), "# requirepass foobared");
    }

    #[test]
    fn private_keys_and_tokens_are_masked() {
        let text = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\nAKIAABCDEFGHIJKLMNOP xoxb-1234567890-abcdef";
        let out = redact(text);
        assert!(
            !out.contains("MIIEow")
                && !out.contains("AKIAABCDEFGHIJKLMNOP")
                && !out.contains("xoxb-1234567890"),
            "{out}"
        );
    }
}
