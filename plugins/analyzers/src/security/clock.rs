//! Times as security tools print them: `date -u` (`Thu Nov 21 08:00:12 UTC 2024`), openssl
//! (`Nov 26 09:14:07 2024 GMT`), certbot (`2024-11-26 09:14:07+00:00`), syslog line prefixes
//! without a year (`Nov 21 03:12:08`) and ISO 8601 stamps. All read as UTC Unix seconds.

use chrono::{DateTime, NaiveDate, NaiveDateTime};

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// The month number of an English month name or abbreviation (`Nov`, `november`).
pub fn month(name: &str) -> Option<u32> {
    const NAMES: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let lower = name.to_ascii_lowercase();
    if lower.len() < 3 || !lower.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let i = NAMES.iter().position(|m| lower.starts_with(m))?;
    let full = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ][i];
    (lower.len() == 3 || lower == full || (i == 8 && lower == "sept")).then(|| i as u32 + 1)
}

/// `HH:MM:SS` or `HH:MM` (fractions of a second dropped).
fn hms(token: &str) -> Option<(u32, u32, u32)> {
    let mut parts = token.split(':');
    let h = parts.next()?.parse().ok()?;
    let m = parts.next()?.parse().ok()?;
    let s = match parts.next() {
        Some(s) => s.split('.').next()?.parse().ok()?,
        None => 0,
    };
    (h < 24 && m < 60 && s < 61).then_some((h, m, s))
}

fn to_unix(year: i32, month: u32, day: u32, (h, m, s): (u32, u32, u32)) -> Option<i64> {
    Some(
        NaiveDate::from_ymd_opt(year, month, day)?
            .and_hms_opt(h, m, s.min(59))?
            .and_utc()
            .timestamp(),
    )
}

/// ISO 8601 / RFC 3339, with `T` or a space, with or without an offset (UTC assumed).
pub fn parse_iso(text: &str) -> Option<i64> {
    let t = text.trim();
    let t = if t.len() > 10 && t.as_bytes().get(10) == Some(&b' ') {
        format!("{}T{}", &t[..10], &t[11..])
    } else {
        t.to_owned()
    };
    if let Ok(dt) = DateTime::parse_from_rfc3339(&t) {
        return Some(dt.timestamp());
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f%z"] {
        if let Ok(dt) = DateTime::parse_from_str(&t, fmt) {
            return Some(dt.timestamp());
        }
        if let Ok(dt) = NaiveDateTime::parse_from_str(&t, fmt) {
            return Some(dt.and_utc().timestamp());
        }
    }
    None
}

/// A date written with an English month name in any common order, with a 4-digit year:
/// `Thu Nov 21 08:00:12 UTC 2024`, `Nov 26 09:14:07 2024 GMT`, `Thu 21 Nov 2024 08:00:12 AM UTC`.
/// ISO stamps are read too. Zone names are taken as UTC.
pub fn parse_loose(text: &str) -> Option<i64> {
    if let Some(ts) = parse_iso(text) {
        return Some(ts);
    }
    let (mut mon, mut day, mut year, mut time, mut pm) = (None, None, None, None, None);
    for token in text.split(|c: char| c.is_whitespace() || c == ',') {
        if token.is_empty() {
            continue;
        }
        if token.contains(':') {
            time = time.or_else(|| hms(token));
        } else if token.chars().all(|c| c.is_ascii_digit()) {
            match token.len() {
                4 => year = year.or(token.parse::<i32>().ok()),
                1 | 2 => day = day.or(token.parse::<u32>().ok()),
                _ => {}
            }
        } else if token.eq_ignore_ascii_case("pm") || token.eq_ignore_ascii_case("am") {
            pm = Some(token.eq_ignore_ascii_case("pm"));
        } else if mon.is_none() {
            mon = month(token);
        }
    }
    let (mut h, m, s) = time.unwrap_or((0, 0, 0));
    match pm {
        Some(true) if h < 12 => h += 12,
        Some(false) if h == 12 => h = 0,
        _ => {}
    }
    to_unix(year?, mon?, day?, (h, m, s))
}

/// The timestamp that starts a log line, and the rest of the line. Syslog stamps carry no
/// year, so they are placed in `year` (callers only compare stamps of one log).
pub fn log_prefix(line: &str, year: i32) -> Option<(i64, &str)> {
    let first = line.split_whitespace().next()?;
    if first.len() >= 19 && first.as_bytes().get(4) == Some(&b'-') {
        let ts = parse_iso(first)?;
        let rest = line.trim_start().get(first.len()..)?.trim_start();
        return Some((ts, rest));
    }
    let mut words = line.split_whitespace();
    let mon = month(words.next()?)?;
    let day: u32 = words.next()?.parse().ok()?;
    let time_word = words.next()?;
    let time = hms(time_word)?;
    let ts = to_unix(year, mon, day, time)?;
    let at = line.find(time_word)? + time_word.len();
    Some((ts, line.get(at..)?.trim_start()))
}

/// A span of seconds in words: `29 minutes`, `3.5 hours`, `4 days`.
pub fn span(seconds: i64) -> String {
    let s = seconds.max(0);
    if s < 120 {
        format!("{s} seconds")
    } else if s < 2 * 3600 {
        format!("{} minutes", s / 60)
    } else if s < 2 * DAY {
        format!("{:.1} hours", s as f64 / 3600.0)
    } else {
        format!("{} days", s / DAY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
        to_unix(y, mo, d, (h, mi, s)).unwrap_or_default()
    }

    #[test]
    fn date_u_and_openssl_dates_read_as_utc() {
        assert_eq!(
            parse_loose("Thu Nov 21 08:00:12 UTC 2024\n"),
            Some(at(2024, 11, 21, 8, 0, 12))
        );
        assert_eq!(
            parse_loose("Nov 26 09:14:07 2024 GMT"),
            Some(at(2024, 11, 26, 9, 14, 7))
        );
        assert_eq!(
            parse_loose("Mar  2 00:00:00 2025 GMT"),
            Some(at(2025, 3, 2, 0, 0, 0))
        );
        assert_eq!(
            parse_loose("Thu 21 Nov 2024 08:00:12 PM UTC"),
            Some(at(2024, 11, 21, 20, 0, 12))
        );
    }

    #[test]
    fn certbot_and_iso_stamps_read_with_their_offset() {
        assert_eq!(
            parse_loose("2024-11-26 09:14:07+00:00"),
            Some(at(2024, 11, 26, 9, 14, 7))
        );
        assert_eq!(
            parse_iso("2024-11-21T03:12:08.123456+01:00"),
            Some(at(2024, 11, 21, 2, 12, 8))
        );
        assert_eq!(parse_loose("no date here"), None);
    }

    #[test]
    fn log_prefixes_give_the_stamp_and_the_message() {
        let (ts, rest) = log_prefix(
            "Nov 21 03:12:08 web sshd[1]: Failed password for root from 1.2.3.4 port 2 ssh2",
            2001,
        )
        .unwrap_or_default();
        assert_eq!(ts, at(2001, 11, 21, 3, 12, 8));
        assert!(rest.starts_with("web sshd[1]:"), "{rest}");
        let (ts, rest) =
            log_prefix("2024-11-21T03:12:08.000001+00:00 web sshd[1]: x", 2001).unwrap_or_default();
        assert_eq!(ts, at(2024, 11, 21, 3, 12, 8));
        assert_eq!(rest, "web sshd[1]: x");
        assert!(log_prefix("root     ssh:notty    1.2.3.4", 2001).is_none());
    }

    #[test]
    fn month_names_are_strict() {
        assert_eq!(month("Nov"), Some(11));
        assert_eq!(month("September"), Some(9));
        assert_eq!(month("Mon"), None);
        assert_eq!(month("Thu"), None);
        assert_eq!(month("Decoy"), None);
    }
}
