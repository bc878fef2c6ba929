//! wp-cli list output (`wp plugin list`, `wp theme list`, `wp cron event list`, `wp option
//! list`) in whatever format it came: tab-separated (wp-cli's default when stdout is not a
//! terminal), CSV (`--format=csv`), JSON, or the ASCII table a terminal gets.

use crate::parse::{Row, csv_rows, table};

/// Reads a wp-cli list into rows keyed by lower-case column name.
pub fn rows(text: &str) -> Vec<Row> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        return json_rows(trimmed);
    }
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let Some(first) = lines.next() else {
        return Vec::new();
    };
    if first.contains('\t') {
        return tsv_rows(text);
    }
    if first.trim_start().starts_with('+') || first.trim_start().starts_with('|') {
        return ascii_rows(text);
    }
    if first.contains(',') {
        return csv_rows(text);
    }
    table(text)
}

fn tsv_rows(text: &str) -> Vec<Row> {
    let mut lines = text
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty());
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let names: Vec<String> = header.split('\t').map(|h| h.trim().to_owned()).collect();
    lines
        .map(|line| {
            let mut row = Row::default();
            for (name, cell) in names.iter().zip(line.split('\t')) {
                row.insert(name, cell.trim());
            }
            row
        })
        .collect()
}

fn ascii_rows(text: &str) -> Vec<Row> {
    let mut cells = text
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_owned())
                .collect::<Vec<_>>()
        });
    let Some(names) = cells.next() else {
        return Vec::new();
    };
    cells
        .map(|line| {
            let mut row = Row::default();
            for (name, cell) in names.iter().zip(&line) {
                row.insert(name, cell);
            }
            row
        })
        .collect()
}

fn json_rows(text: &str) -> Vec<Row> {
    let Ok(serde_json::Value::Array(items)) = serde_json::from_str::<serde_json::Value>(text)
    else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| item.as_object())
        .map(|obj| {
            let mut row = Row::default();
            for (k, v) in obj {
                let value = match v {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Null => String::new(),
                    other => other.to_string(),
                };
                row.insert(k, &value);
            }
            row
        })
        .collect()
}

/// A plugin or theme as `wp plugin list` / `wp theme list` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    pub name: String,
    pub status: String,
    pub version: String,
    /// `available`, `none`, `unavailable`.
    pub update: String,
    pub update_version: String,
    /// `on` or `off` (empty when the column is missing).
    pub auto_update: String,
}

impl Extension {
    pub fn is_active(&self) -> bool {
        self.status.starts_with("active") || self.status == "must-use" || self.status == "parent"
    }

    pub fn auto_updates_on(&self) -> bool {
        matches!(self.auto_update.as_str(), "on" | "enabled" | "true" | "1")
    }

    pub fn update_available(&self) -> bool {
        self.update == "available" && !self.update_version.is_empty()
    }

    /// The list's row, rebuilt for evidence: `name  status  version  update  auto_update`.
    pub fn evidence_line(&self) -> String {
        let mut line = format!("{}\t{}\t{}", self.name, self.status, self.version);
        if !self.update.is_empty() {
            line.push_str(&format!("\tupdate: {}", self.update));
            if !self.update_version.is_empty() {
                line.push_str(&format!(" ({})", self.update_version));
            }
        }
        if !self.auto_update.is_empty() {
            line.push_str(&format!("\tauto_update: {}", self.auto_update));
        }
        line
    }
}

/// Reads a plugin or theme list.
pub fn extensions(text: &str) -> Vec<Extension> {
    rows(text)
        .into_iter()
        .filter_map(|r| {
            let name = r.value(&["name", "slug"])?.trim().to_owned();
            let get = |k: &[&str]| r.get(k).unwrap_or_default().trim().to_ascii_lowercase();
            Some(Extension {
                name,
                status: get(&["status"]),
                version: r.get(&["version"]).unwrap_or_default().trim().to_owned(),
                update: get(&["update"]),
                update_version: r
                    .get(&["update_version"])
                    .unwrap_or_default()
                    .trim()
                    .to_owned(),
                auto_update: get(&["auto_update", "auto-update"]),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TSV: &str = "name\tstatus\tupdate\tversion\tupdate_version\tauto_update\nakismet\tactive\tnone\t5.3.5\t\toff\nacme-rates\tactive\tnone\t3.1.0\t\ton\nshop\tinactive\tavailable\t9.3.3\t9.4.2\toff\n";

    #[test]
    fn tab_separated_lists_are_read_by_column_name() {
        let list = extensions(TSV);
        assert_eq!(list.len(), 3);
        assert_eq!(list[1].name, "acme-rates");
        assert!(list[1].auto_updates_on());
        assert!(list[1].is_active());
        assert!(!list[2].is_active());
        assert!(list[2].update_available());
        assert_eq!(list[2].update_version, "9.4.2");
    }

    #[test]
    fn csv_json_and_terminal_tables_read_the_same() {
        let csv = "name,status,update,version\nacme-rates,active,none,3.1.0\n";
        assert_eq!(extensions(csv)[0].version, "3.1.0");
        let json = r#"[{"name":"acme-rates","status":"active","update":"none","version":"3.1.0","auto_update":"on"}]"#;
        assert!(extensions(json)[0].auto_updates_on());
        let ascii = "+------------+--------+\n| name       | status |\n+------------+--------+\n| acme-rates | active |\n+------------+--------+\n";
        assert_eq!(extensions(ascii)[0].status, "active");
    }

    #[test]
    fn errors_are_not_rows() {
        assert!(extensions("").is_empty());
        assert!(extensions("Error: This does not seem to be a WordPress installation.").is_empty());
    }
}
