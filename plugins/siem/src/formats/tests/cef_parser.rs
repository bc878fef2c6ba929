//! A strict CEF parser written from the ArcSight CEF implementation standard, for tests.
//!
//! Header: `CEF:Version|Device Vendor|Device Product|Device Version|Device Event Class
//! ID|Name|Severity|Extension`; in header fields `\|` is a pipe and `\\` a backslash.
//! Extension: space-separated `key=value` pairs; in values `\=` is `=`, `\\` is `\`, `\n`
//! and `\r` are line breaks; a value runs until the space before the next key (values may
//! contain spaces). Anything else (raw line breaks, other escapes, bad keys, duplicate
//! keys) is an error.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cef {
    pub version: String,
    pub vendor: String,
    pub product: String,
    pub device_version: String,
    pub class_id: String,
    pub name: String,
    pub severity: String,
    pub ext: BTreeMap<String, String>,
}

impl Cef {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.ext.get(key).map(String::as_str)
    }

    /// The value of a custom field by its label (`cs1Label=squad cs1=...`).
    pub fn labelled(&self, label: &str) -> Option<&str> {
        let key = self
            .ext
            .iter()
            .find(|(k, v)| k.ends_with("Label") && v.as_str() == label)?
            .0;
        self.get(key.trim_end_matches("Label"))
    }
}

pub fn parse(line: &str) -> Result<Cef, String> {
    if line.contains(['\n', '\r']) {
        return Err("raw line break".into());
    }
    let rest = line.strip_prefix("CEF:").ok_or("no CEF: prefix")?;
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = rest.char_indices();
    let mut ext_start = None;
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, '|')) => field.push('|'),
                Some((_, '\\')) => field.push('\\'),
                Some((_, other)) => {
                    field.push('\\');
                    field.push(other);
                }
                None => return Err("header ends in a backslash".into()),
            },
            '|' => {
                fields.push(std::mem::take(&mut field));
                if fields.len() == 7 {
                    ext_start = Some(i + 1);
                    break;
                }
            }
            c => field.push(c),
        }
    }
    let ext_start = ext_start.ok_or_else(|| format!("{} header fields, want 7", fields.len()))?;
    let [
        version,
        vendor,
        product,
        device_version,
        class_id,
        name,
        severity,
    ] = <[String; 7]>::try_from(fields).map_err(|_| "header")?;
    if version != "0" && version != "1" {
        return Err(format!("version {version}"));
    }
    match severity.parse::<u8>() {
        Ok(0..=10) => {}
        _ => return Err(format!("severity {severity}")),
    }
    Ok(Cef {
        version,
        vendor,
        product,
        device_version,
        class_id,
        name,
        severity,
        ext: parse_extension(&rest[ext_start..])?,
    })
}

fn valid_key(k: &[char]) -> bool {
    !k.is_empty() && k.iter().all(|c| c.is_ascii_alphanumeric() || *c == '_')
}

fn parse_extension(s: &str) -> Result<BTreeMap<String, String>, String> {
    let chars: Vec<char> = s.chars().collect();
    // Unescaped '=' separate keys from values.
    let mut eqs = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '=' => {
                eqs.push(i);
                i += 1;
            }
            _ => i += 1,
        }
    }
    let mut out = BTreeMap::new();
    if eqs.is_empty() {
        return if chars.is_empty() {
            Ok(out)
        } else {
            Err("extension without key=value".into())
        };
    }
    // Key k starts after the last space before its '=' (the first key at 0).
    let mut key_starts = Vec::with_capacity(eqs.len());
    for (n, &eq) in eqs.iter().enumerate() {
        let start = if n == 0 {
            0
        } else {
            let from = eqs[n - 1] + 1;
            let space = chars[from..eq]
                .iter()
                .rposition(|c| *c == ' ')
                .ok_or("no space before a key")?;
            from + space + 1
        };
        key_starts.push(start);
    }
    for (n, &eq) in eqs.iter().enumerate() {
        let key = &chars[key_starts[n]..eq];
        if !valid_key(key) {
            return Err(format!("bad key {:?}", key.iter().collect::<String>()));
        }
        let end = match key_starts.get(n + 1) {
            Some(next) => next - 1, // the separating space
            None => chars.len(),
        };
        let value = unescape(&chars[eq + 1..end])?;
        let key: String = key.iter().collect();
        if out.insert(key.clone(), value).is_some() {
            return Err(format!("duplicate key {key}"));
        }
    }
    Ok(out)
}

fn unescape(v: &[char]) -> Result<String, String> {
    let mut out = String::with_capacity(v.len());
    let mut it = v.iter();
    while let Some(&c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('\\') => out.push('\\'),
            Some('=') => out.push('='),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            other => return Err(format!("bad escape \\{other:?}")),
        }
    }
    Ok(out)
}

#[test]
fn parser_reads_the_spec_examples() {
    let c = parse(r"CEF:0|security|threatmanager|1.0|100|detected a \| in message|10|src=10.0.0.1 act=blocked a \\ dst=1.1.1.1").expect("parse");
    assert_eq!(c.name, "detected a | in message");
    assert_eq!(c.get("act"), Some(r"blocked a \"));
    assert_eq!(c.get("dst"), Some("1.1.1.1"));
    let c = parse(r"CEF:0|security|threatmanager|1.0|100|x|10|src=10.0.0.1 msg=detected a \= in message, with spaces\nand a line").expect("parse");
    assert_eq!(
        c.get("msg"),
        Some("detected a = in message, with spaces\nand a line")
    );
    assert!(parse("CEF:0|a|b|c|d|e|11|").is_err());
    assert!(parse("CEF:0|a|b|c|d|e|1|k=v=w").is_err());
    assert!(parse("CEF:0|a|b|c|d|e|1|k=v\\x").is_err());
    assert!(parse("CEF:0|a|b|c|d|e").is_err());
    assert!(parse("CEF:0|a|b|c|d|e|1|").is_ok_and(|c| c.ext.is_empty()));
}
