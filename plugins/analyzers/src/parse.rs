//! Readers for the shapes tools print: whitespace-aligned tables (kubectl, ss, systemctl),
//! CSV with a header (the sql tools, as `psql --csv` prints), and `key: value` lines.
//! All are lenient: a missing column is `None`, never a panic.

use std::collections::BTreeMap;

/// One row of a table or CSV, read by header name (case-insensitive).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row(BTreeMap<String, String>);

impl Row {
    /// The value under a header, trying each name in turn (`get(&["usename", "user"])`).
    pub fn get(&self, names: &[&str]) -> Option<&str> {
        names
            .iter()
            .find_map(|n| self.0.get(&n.to_ascii_lowercase()))
            .map(String::as_str)
    }

    /// The value under a header, when it is there and not empty.
    pub fn value(&self, names: &[&str]) -> Option<&str> {
        self.get(names).filter(|v| !v.trim().is_empty())
    }

    /// The value parsed as a number.
    pub fn number(&self, names: &[&str]) -> Option<f64> {
        self.value(names)?.trim().parse().ok()
    }

    pub fn insert(&mut self, name: &str, value: &str) {
        self.0.insert(name.to_ascii_lowercase(), value.to_owned());
    }

    pub fn headers(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

/// Reads CSV with a header line. Rows that do not parse are skipped.
pub fn csv_rows(text: &str) -> Vec<Row> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::None)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|s| s.trim().to_ascii_lowercase()).collect(),
        Err(_) => return Vec::new(),
    };
    reader
        .records()
        .filter_map(Result::ok)
        .map(|rec| {
            let mut row = Row::default();
            for (h, v) in headers.iter().zip(rec.iter()) {
                row.insert(h, v);
            }
            row
        })
        .collect()
}

/// Reads a whitespace-aligned table whose first non-empty line is the header
/// (`NAME   READY   STATUS ...`). Columns are cut at the header's column starts, so values
/// with single spaces (`8 (3m10s ago)`) stay whole; a header line is detected as the first
/// line whose words are mostly upper-case.
pub fn table(text: &str) -> Vec<Row> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let starts = column_starts(header);
    let names: Vec<String> = starts
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            let end = starts.get(i + 1).copied().unwrap_or(header.len());
            header
                .get(s..end)
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .collect();
    lines
        .map(|line| {
            let mut row = Row::default();
            let cells = cut(line, &starts);
            for (name, cell) in names.iter().zip(cells) {
                row.insert(name, cell.trim());
            }
            row
        })
        .collect()
}

/// Where each header column starts: a word after two or more spaces (or the line start).
fn column_starts(header: &str) -> Vec<usize> {
    let bytes = header.as_bytes();
    let mut starts = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b' '
            && (i == 0
                || (i >= 2 && bytes[i - 1] == b' ' && bytes[i - 2] == b' ')
                || (i == 1 && bytes[0] == b' '))
        {
            starts.push(i);
        }
        i += 1;
    }
    if starts.is_empty() {
        starts.push(0);
    }
    starts
}

/// Cuts a data line at the header's column starts, moving each cut to a word boundary so
/// values longer than their header do not split.
fn cut<'a>(line: &'a str, starts: &[usize]) -> Vec<&'a str> {
    let mut cells = Vec::with_capacity(starts.len());
    let mut from = 0;
    for (i, _) in starts.iter().enumerate() {
        if from >= line.len() {
            cells.push("");
            continue;
        }
        let end = match starts.get(i + 1) {
            None => line.len(),
            Some(&next) => boundary(line, next.max(from)),
        };
        cells.push(line.get(from..end).unwrap_or_default());
        from = end;
    }
    cells
}

/// The first position at or after `at` where a new word starts after whitespace; if `at`
/// falls inside a word, the cut moves forward past that word.
fn boundary(line: &str, at: usize) -> usize {
    let bytes = line.as_bytes();
    if at >= bytes.len() {
        return bytes.len();
    }
    let mut i = at;
    if bytes[i] != b' ' && i > 0 && bytes[i - 1] != b' ' {
        while i < bytes.len() && bytes[i] != b' ' {
            i += 1;
        }
    }
    while i < bytes.len() && bytes[i] == b' ' {
        i += 1;
    }
    i
}

/// Splits a line on runs of whitespace.
pub fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

/// Reads `key: value` or `key=value` lines into a map (keys lower-cased, first wins).
pub fn key_values(text: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        let split = line.find([':', '=']);
        if let Some(i) = split {
            let (k, v) = (line[..i].trim(), line[i + 1..].trim());
            if !k.is_empty() && !k.contains(' ') {
                map.entry(k.to_ascii_lowercase())
                    .or_insert_with(|| v.to_owned());
            }
        }
    }
    map
}

/// Kubernetes quantities: CPU (`250m`, `4`, `1.5`) in millicores.
pub fn cpu_millis(q: &str) -> Option<u64> {
    let q = q.trim();
    if let Some(m) = q.strip_suffix('m') {
        return m.parse().ok();
    }
    let cores: f64 = q.parse().ok()?;
    (cores >= 0.0).then(|| (cores * 1000.0).round() as u64)
}

/// Kubernetes quantities: memory (`256Mi`, `1Gi`, `6925172Ki`, `512M`, bytes) in bytes.
pub fn memory_bytes(q: &str) -> Option<u64> {
    let q = q.trim();
    let split = q.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(q.len());
    let (num, unit) = q.split_at(split);
    let n: f64 = num.parse().ok()?;
    let factor: f64 = match unit {
        "" => 1.0,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024f64.powi(4),
        "k" | "K" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        _ => return None,
    };
    Some((n * factor).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_tables_keep_values_with_spaces() {
        let text = "NAMESPACE     NAME                     READY   STATUS             RESTARTS        AGE\nproduction    payment-service-7d8f9c   0/1     CrashLoopBackOff   8 (3m10s ago)   18m\n";
        let rows = table(text);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].get(&["restarts"]), Some("8 (3m10s ago)"));
        assert_eq!(rows[0].get(&["status"]), Some("CrashLoopBackOff"));
        assert_eq!(rows[0].get(&["namespace"]), Some("production"));
    }

    #[test]
    fn ss_tables_with_long_values_do_not_split() {
        let text = "State  Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess\nLISTEN 0      511          0.0.0.0:6379       0.0.0.0:*    users:((\"redis-server\",pid=1187,fd=6))\n";
        let rows = table(text);
        assert_eq!(rows[0].get(&["state"]), Some("LISTEN"));
    }

    #[test]
    fn csv_reads_by_header_and_tolerates_missing_columns() {
        let rows = csv_rows("pid,usename,state\n48211,shop_app,idle in transaction\n");
        assert_eq!(rows[0].get(&["usename", "user"]), Some("shop_app"));
        assert_eq!(rows[0].number(&["pid"]), Some(48211.0));
        assert_eq!(rows[0].get(&["query"]), None);
    }

    #[test]
    fn quantities() {
        assert_eq!(cpu_millis("4"), Some(4000));
        assert_eq!(cpu_millis("3920m"), Some(3920));
        assert_eq!(cpu_millis("1.5"), Some(1500));
        assert_eq!(memory_bytes("256Mi"), Some(268_435_456));
        assert_eq!(memory_bytes("6925172Ki"), Some(6_925_172 * 1024));
    }
}
