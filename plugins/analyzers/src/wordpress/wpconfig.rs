//! The constants of wp-config.php (`define( 'WP_HOME', '...' );`) and its table prefix.
//! The text arrives redacted: passwords, keys and salts read `[REDACTED]`, and nothing here
//! ever returns them.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

static DEFINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)^\s*define\s*\(\s*['"]([A-Z0-9_]+)['"]\s*,\s*(?:'([^']*)'|"([^"]*)"|([A-Za-z0-9_.+-]+))\s*\)"#)
        .expect("static regex")
});
static PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)^\s*\$table_prefix\s*=\s*['"]([A-Za-z0-9_]+)['"]"#).expect("static regex")
});

/// Constants that are never handed out, whatever their value looks like.
const SECRET: &[&str] = &["PASSWORD", "KEY", "SALT", "SECRET", "TOKEN", "DB_USER"];

/// The parsed constants of one wp-config.php.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WpConfig {
    defines: BTreeMap<String, (String, String)>,
    pub table_prefix: Option<String>,
}

impl WpConfig {
    pub fn parse(text: &str) -> WpConfig {
        let mut defines = BTreeMap::new();
        for line in text.lines() {
            let Some(c) = DEFINE.captures(line) else {
                continue;
            };
            let name = c[1].to_owned();
            if SECRET.iter().any(|s| name.contains(s)) {
                continue;
            }
            let value = c
                .get(2)
                .or(c.get(3))
                .or(c.get(4))
                .map_or("", |m| m.as_str())
                .to_owned();
            defines
                .entry(name)
                .or_insert((value, line.trim().to_owned()));
        }
        WpConfig {
            defines,
            table_prefix: PREFIX.captures(text).map(|c| c[1].to_owned()),
        }
    }

    /// A constant's value, when it is defined (never a secret).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.defines.get(name).map(|(v, _)| v.as_str())
    }

    /// The `define(...)` line, for evidence.
    pub fn line(&self, name: &str) -> Option<&str> {
        self.defines.get(name).map(|(_, l)| l.as_str())
    }

    /// Whether a boolean constant is defined true.
    pub fn is_true(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "1"))
    }

    /// The options table, `wp_options` unless the prefix says otherwise.
    pub fn options_table(&self) -> String {
        format!("{}options", self.table_prefix.as_deref().unwrap_or("wp_"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "<?php\ndefine( 'DB_NAME', 'shop_wp' );\ndefine( 'DB_USER', 'shop' );\ndefine( 'DB_PASSWORD', '[REDACTED]' );\ndefine( 'DB_HOST', '127.0.0.1:3307' );\ndefine( 'AUTH_KEY', '[REDACTED]' );\n$table_prefix = 'shp_';\ndefine( 'WP_DEBUG', true );\ndefine('WP_HOME', \"https://shop.example\");\n// define( 'WP_SITEURL', 'https://old.example' );\n";

    #[test]
    fn constants_are_read_and_secrets_are_never_kept() {
        let c = WpConfig::parse(CONFIG);
        assert_eq!(c.get("DB_HOST"), Some("127.0.0.1:3307"));
        assert_eq!(c.get("WP_HOME"), Some("https://shop.example"));
        assert!(c.is_true("WP_DEBUG"));
        assert_eq!(c.get("DB_PASSWORD"), None);
        assert_eq!(c.get("DB_USER"), None);
        assert_eq!(c.get("AUTH_KEY"), None);
        assert_eq!(c.options_table(), "shp_options");
    }

    #[test]
    fn commented_out_defines_do_not_count() {
        assert_eq!(WpConfig::parse(CONFIG).get("WP_SITEURL"), None);
    }
}
