//! Text helpers for answers: SQL literals and identifiers that are safe to paste (names come
//! from tool output, which is untrusted), short forms of long statements, and evidence
//! lines picked out of CSV output.

/// A SQL string literal: `'it''s'`.
pub fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// A PostgreSQL identifier, quoted only when it needs it.
pub fn pg_ident(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// A MySQL account: `'user'@'host'`.
pub fn mysql_account(user: &str, host: &str) -> String {
    format!(
        "{}@{}",
        literal(user),
        literal(if host.is_empty() { "%" } else { host })
    )
}

/// A MySQL identifier in backticks.
pub fn mysql_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// A statement on one line, cut to `max` characters.
pub fn short(query: &str, max: usize) -> String {
    let one_line = query.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        let head: String = one_line.chars().take(max).collect();
        format!("{head}…")
    }
}

/// The header line of CSV output.
pub fn header(text: &str) -> Option<&str> {
    text.lines().find(|l| !l.trim().is_empty())
}

/// The lines of CSV output whose first field is `key` (a pid, an id, a name).
pub fn lines_keyed<'a>(text: &'a str, key: &str) -> Vec<&'a str> {
    text.lines()
        .skip(1)
        .filter(|l| first_field(l) == key)
        .collect()
}

/// The first CSV field of a line, unquoted.
fn first_field(line: &str) -> &str {
    let field = line.split(',').next().unwrap_or_default().trim();
    field.trim_matches('"')
}

/// The header plus the lines whose first field is one of `keys`, in output order.
pub fn rows_evidence(text: &str, keys: &[String]) -> Vec<String> {
    let rows: Vec<String> = text
        .lines()
        .skip(1)
        .filter(|l| keys.iter().any(|k| first_field(l) == k))
        .map(str::to_owned)
        .collect();
    if rows.is_empty() {
        return rows;
    }
    header(text)
        .map(str::to_owned)
        .into_iter()
        .chain(rows)
        .collect()
}

/// The header plus the lines that contain `needle` (case-insensitive).
pub fn lines_containing(text: &str, needle: &str) -> Vec<String> {
    let needle = needle.to_ascii_lowercase();
    let rows: Vec<String> = text
        .lines()
        .skip(1)
        .filter(|l| l.to_ascii_lowercase().contains(&needle))
        .map(str::to_owned)
        .collect();
    if rows.is_empty() {
        return rows;
    }
    header(text)
        .map(str::to_owned)
        .into_iter()
        .chain(rows)
        .collect()
}

/// Every whole number in a text such as `{48377,48211}`.
pub fn numbers(text: &str) -> Vec<u64> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect()
}

/// A list for prose: `a`, `a and b`, `a, b and c`.
pub fn and_list<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_owned(),
        [init @ .., last] => format!(
            "{} and {}",
            init.iter()
                .map(|s| s.as_ref())
                .collect::<Vec<_>>()
                .join(", "),
            last.as_ref()
        ),
    }
}

/// `1 session`, `5 sessions`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_output_are_quoted_for_pasting() {
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(pg_ident("shop_app"), "shop_app");
        assert_eq!(pg_ident("Shop App"), "\"Shop App\"");
        assert_eq!(mysql_account("app", ""), "'app'@'%'");
        assert_eq!(mysql_ident("a`b"), "`a``b`");
    }

    #[test]
    fn csv_lines_are_found_by_their_first_field() {
        let text = "pid,state\n48211,idle\n\"48377\",active\n";
        assert_eq!(lines_keyed(text, "48377"), vec!["\"48377\",active"]);
        assert_eq!(
            rows_evidence(text, &["48211".into()]),
            vec!["pid,state", "48211,idle"]
        );
        assert!(rows_evidence(text, &["1".into()]).is_empty());
    }

    #[test]
    fn prose_helpers() {
        assert_eq!(numbers("{48377,48211}"), vec![48377, 48211]);
        assert_eq!(and_list(&["a", "b", "c"]), "a, b and c");
        assert_eq!(plural(1, "session"), "1 session");
        assert_eq!(short("SELECT  1\n FROM t", 8), "SELECT 1…");
    }
}
