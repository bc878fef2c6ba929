//! Server settings and counters as name/value pairs, whatever shape printed them:
//! `pg_settings` rows (`name,setting,unit`), `SHOW GLOBAL VARIABLES` / `STATUS` rows
//! (`Variable_name,Value`), or a one-row answer whose columns are the names (`SHOW x`).

use std::collections::BTreeMap;

use crate::parse::csv_rows;

/// One setting's value, its unit when the server gave one, and the output line it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub value: String,
    pub unit: String,
    pub line: String,
}

/// Settings by lower-case name.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    values: BTreeMap<String, Setting>,
}

impl Settings {
    /// Reads one output; later reads add to (and override) earlier ones.
    pub fn read(&mut self, text: &str) {
        let lines: Vec<&str> = text.lines().skip(1).collect();
        let rows = csv_rows(text);
        for (i, row) in rows.iter().enumerate() {
            let line = lines.get(i).copied().unwrap_or_default().to_owned();
            let name = row.value(&["name", "variable_name"]);
            let value = row.get(&["setting", "value"]);
            if let (Some(name), Some(value)) = (name, value) {
                let unit = row.get(&["unit"]).unwrap_or_default().to_owned();
                self.values.insert(
                    name.trim().to_ascii_lowercase(),
                    Setting {
                        value: value.trim().to_owned(),
                        unit,
                        line,
                    },
                );
            } else if rows.len() == 1 {
                for header in row.headers() {
                    if let Some(v) = row.get(&[header]) {
                        self.values.insert(
                            header.to_owned(),
                            Setting {
                                value: v.trim().to_owned(),
                                unit: String::new(),
                                line: format!("{header} = {}", v.trim()),
                            },
                        );
                    }
                }
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<&Setting> {
        self.values.get(&name.to_ascii_lowercase())
    }

    /// The value as text.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.get(name).map(|s| s.value.as_str())
    }

    /// The value as a number.
    pub fn number(&self, name: &str) -> Option<f64> {
        self.text(name)?.parse().ok()
    }

    /// Whether a timeout setting is present and 0 (disabled).
    pub fn is_disabled(&self, name: &str) -> bool {
        self.number(name) == Some(0.0)
    }

    /// The output line a setting came from, for evidence.
    pub fn line(&self, name: &str) -> Option<String> {
        self.get(name).map(|s| s.line.clone())
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pg_settings_rows_and_mysql_variables_read_alike() {
        let mut s = Settings::default();
        s.read("name,setting,unit,source\nidle_session_timeout,0,ms,default\nmax_connections,100,,configuration file\n");
        s.read("Variable_name,Value\nmax_user_connections,0\n");
        assert!(s.is_disabled("idle_session_timeout"));
        assert_eq!(s.number("max_connections"), Some(100.0));
        assert_eq!(
            s.get("idle_session_timeout").map(|x| x.unit.as_str()),
            Some("ms")
        );
        assert_eq!(s.number("MAX_USER_CONNECTIONS"), Some(0.0));
        assert_eq!(
            s.line("max_connections").as_deref(),
            Some("max_connections,100,,configuration file")
        );
    }

    #[test]
    fn a_show_answer_is_one_setting() {
        let mut s = Settings::default();
        s.read("idle_in_transaction_session_timeout\n0\n");
        assert!(s.is_disabled("idle_in_transaction_session_timeout"));
    }
}
