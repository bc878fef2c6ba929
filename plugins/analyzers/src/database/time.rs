//! Ages as the databases print them: PostgreSQL intervals (`00:40:22.88`, `1 day 02:03:04`),
//! MySQL seconds (`2400`), timestamps (`2024-11-21 09:22:07.114902+00`), and a short human
//! form for answers (`40m 22s`).

use chrono::{DateTime, NaiveDateTime};

/// Seconds in a PostgreSQL interval or a plain number of seconds; `None` when empty or
/// unreadable. Months count as 30 days and years as 365, as `justify_interval` would.
pub fn parse_interval(text: &str) -> Option<f64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(seconds) = text.parse::<f64>() {
        return Some(seconds);
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut total = 0.0;
    let mut read_any = false;
    let mut i = 0;
    while i < words.len() {
        let word = words[i];
        if word.contains(':') {
            total += clock_seconds(word)?;
            read_any = true;
            i += 1;
            continue;
        }
        let amount: f64 = word.parse().ok()?;
        let unit = words.get(i + 1)?.to_ascii_lowercase();
        let factor = match unit.trim_end_matches('s') {
            "year" => 365.0 * 86_400.0,
            "mon" | "month" => 30.0 * 86_400.0,
            "week" => 7.0 * 86_400.0,
            "day" => 86_400.0,
            "hour" => 3_600.0,
            "min" | "minute" => 60.0,
            "sec" | "second" => 1.0,
            _ => return None,
        };
        total += amount * factor;
        read_any = true;
        i += 2;
    }
    read_any.then_some(total)
}

/// `HH:MM:SS(.ffffff)`, optionally negative.
fn clock_seconds(word: &str) -> Option<f64> {
    let (sign, body) = match word.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, word.strip_prefix('+').unwrap_or(word)),
    };
    let parts: Vec<&str> = body.split(':').collect();
    let [h, m, s] = parts.as_slice() else {
        return None;
    };
    let h: f64 = h.parse().ok()?;
    let m: f64 = m.parse().ok()?;
    let s: f64 = s.parse().ok()?;
    Some(sign * (h * 3_600.0 + m * 60.0 + s))
}

/// Unix seconds of a timestamp as psql or mysql print it; no zone means UTC.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(t) = DateTime::parse_from_str(text, format) {
            return Some(t.timestamp());
        }
    }
    let bare = text.trim_end_matches(" UTC").trim_end_matches('Z');
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(bare, format) {
            return Some(t.and_utc().timestamp());
        }
    }
    None
}

/// A duration for people: `8s`, `40m 22s`, `8h 0m`, `2d 3h`.
pub fn human(seconds: f64) -> String {
    let total = seconds.max(0.0).round() as u64;
    let (d, h, m, s) = (
        total / 86_400,
        total % 86_400 / 3_600,
        total % 3_600 / 60,
        total % 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

/// Bytes for people: `512 B`, `3.2 MiB`, `14.0 GiB`.
pub fn bytes(n: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n.max(0.0);
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_intervals_read_as_seconds() {
        assert_eq!(parse_interval("00:40:22.5"), Some(2_422.5));
        assert_eq!(parse_interval("08:00:08"), Some(28_808.0));
        assert_eq!(parse_interval("1 day 02:00:00"), Some(93_600.0));
        assert_eq!(parse_interval("3 days"), Some(259_200.0));
        assert_eq!(parse_interval("-00:00:01"), Some(-1.0));
        assert_eq!(parse_interval("2400"), Some(2_400.0));
        assert_eq!(parse_interval(""), None);
        assert_eq!(parse_interval("soon"), None);
    }

    #[test]
    fn timestamps_with_and_without_zone() {
        let with_zone = parse_timestamp("2024-11-21 09:22:07.114902+00");
        let bare = parse_timestamp("2024-11-21 09:22:07");
        assert_eq!(with_zone, bare);
        assert_eq!(
            parse_timestamp("2024-11-21 10:22:07+01:00"),
            parse_timestamp("2024-11-21 09:22:07")
        );
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn human_forms() {
        assert_eq!(human(8.2), "8s");
        assert_eq!(human(2_422.9), "40m 23s");
        assert_eq!(human(28_808.0), "8h 0m");
        assert_eq!(human(183_600.0), "2d 3h");
        assert_eq!(bytes(3.0 * 1024.0 * 1024.0), "3.0 MiB");
        assert_eq!(bytes(512.0), "512 B");
    }
}
