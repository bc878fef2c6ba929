//! sshd's lines in an auth log or the journal, as events: failed and accepted
//! authentications, invalid users, connections closed before login, PAM failures, and
//! scanners that never tried to log in. Also `lastb` lines.

use std::sync::LazyLock;

use regex::Regex;

use super::clock;

/// The year syslog stamps are placed in (they carry none); only differences are used.
pub const LOG_YEAR: i32 = 2001;

/// What a line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// `Failed password for ...`: one authentication attempt.
    Failed(String),
    /// `Accepted publickey for ...`: a login.
    Accepted(String),
    /// `Invalid user x from ...`: a connection for a user that does not exist.
    InvalidUser,
    /// `Connection closed by authenticating user ...` / `Disconnected from invalid user ...`.
    Closed,
    /// `pam_unix(sshd:auth): authentication failure; ... rhost=...`.
    Pam,
    /// `maximum authentication attempts exceeded`.
    MaxTries,
    /// No login attempted: banner grabbing, key-exchange probing.
    Probe,
}

/// One sshd event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub ts: Option<i64>,
    /// The stamp as printed (`Nov 21 03:12:08`).
    pub stamp: String,
    /// The sshd process (one per connection).
    pub pid: Option<String>,
    pub kind: Kind,
    pub user: Option<String>,
    pub ip: String,
    /// Whether the user name does not exist on the host.
    pub invalid: bool,
    /// How many times syslog saw it (`message repeated 5 times: [ ... ]`).
    pub count: usize,
    pub line: String,
}

static TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bsshd(?:-session)?(?:\[(\d+)\])?:\s").expect("static regex"));
static REPEATED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^message repeated (\d+) times: \[\s*(.*?)\s*\]\s*$").expect("static regex")
});
static FAILED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"Failed (\S+) for (invalid user )?(.*?) from (\S+) port \d+").expect("static regex")
});
static ACCEPTED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"Accepted (\S+) for (\S+) from (\S+) port \d+").expect("static regex")
});
static INVALID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"Invalid user (.*?) from (\S+)(?: port \d+)?\s*$").expect("static regex")
});
static CLOSED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:Connection closed by|Disconnected from) (authenticating|invalid) user (\S*) (\S+) port \d+")
        .expect("static regex")
});
static PAM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"authentication failure;.*\brhost=(\S+)(?:\s+user=(\S+))?").expect("static regex")
});
static MAXTRIES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"maximum authentication attempts exceeded for (invalid user )?(\S+) from (\S+) port",
    )
    .expect("static regex")
});
static PROBE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:Did not receive identification string from|Unable to negotiate with|banner exchange: Connection from) (\S+)")
        .expect("static regex")
});

/// Reads every sshd event of a text; other lines are skipped.
pub fn parse(text: &str) -> Vec<Event> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<Event> {
    let tag = TAG.captures(line)?;
    let pid = tag.get(1).map(|m| m.as_str().to_owned());
    let (ts, stamp) = match clock::log_prefix(line, LOG_YEAR) {
        Some((ts, rest)) => {
            let prefix = line.get(..line.len() - rest.len()).unwrap_or("");
            (
                Some(ts),
                prefix.split_whitespace().collect::<Vec<_>>().join(" "),
            )
        }
        None => (None, String::new()),
    };
    let mut msg = line.get(tag.get(0)?.end()..)?;
    let mut count = 1;
    if let Some(c) = REPEATED.captures(msg) {
        count = c[1].parse().unwrap_or(1);
        msg = c.get(2).map_or(msg, |m| m.as_str());
    }
    let ev = |kind, user: Option<&str>, ip: &str, invalid| Event {
        ts,
        stamp: stamp.clone(),
        pid: pid.clone(),
        kind,
        user: user.filter(|u| !u.is_empty()).map(str::to_owned),
        ip: ip.to_owned(),
        invalid,
        count,
        line: line.trim_end().to_owned(),
    };
    if let Some(c) = FAILED.captures(msg) {
        return Some(ev(
            Kind::Failed(c[1].to_owned()),
            c.get(3).map(|m| m.as_str()),
            &c[4],
            c.get(2).is_some(),
        ));
    }
    if let Some(c) = ACCEPTED.captures(msg) {
        return Some(ev(
            Kind::Accepted(c[1].to_owned()),
            Some(&c[2]),
            &c[3],
            false,
        ));
    }
    if let Some(c) = MAXTRIES.captures(msg) {
        return Some(ev(Kind::MaxTries, Some(&c[2]), &c[3], c.get(1).is_some()));
    }
    if let Some(c) = INVALID.captures(msg) {
        return Some(ev(Kind::InvalidUser, Some(&c[1]), &c[2], true));
    }
    if let Some(c) = CLOSED.captures(msg) {
        return Some(ev(Kind::Closed, Some(&c[2]), &c[3], &c[1] == "invalid"));
    }
    if let Some(c) = PAM.captures(msg) {
        return Some(ev(Kind::Pam, c.get(2).map(|m| m.as_str()), &c[1], false));
    }
    PROBE
        .captures(msg)
        .map(|c| ev(Kind::Probe, None, &c[1], false))
}

/// One `lastb` line: user, address and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLogin {
    pub user: String,
    pub ip: String,
    pub line: String,
}

/// Reads `lastb -i` output (`root ssh:notty 203.0.113.77 Thu Nov 21 03:41 - 03:41 (00:00)`).
pub fn parse_lastb(text: &str) -> Vec<BadLogin> {
    text.lines()
        .filter_map(|line| {
            let w: Vec<&str> = line.split_whitespace().collect();
            let (user, ip) = (*w.first()?, *w.get(2)?);
            let looks_like_ip = ip.parse::<std::net::IpAddr>().is_ok();
            (looks_like_ip && ip != "0.0.0.0").then(|| BadLogin {
                user: user.to_owned(),
                ip: ip.to_owned(),
                line: line.trim_end().to_owned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_and_invalid_lines_carry_user_address_and_connection() {
        let e = parse(
            "Nov 21 03:12:41 web sshd[47707]: Failed password for invalid user oracle from 203.0.113.77 port 35739 ssh2\n",
        );
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].kind, Kind::Failed("password".into()));
        assert_eq!(e[0].user.as_deref(), Some("oracle"));
        assert!(e[0].invalid);
        assert_eq!(e[0].ip, "203.0.113.77");
        assert_eq!(e[0].pid.as_deref(), Some("47707"));
        assert_eq!(e[0].stamp, "Nov 21 03:12:41");
        let e = parse(
            "Nov 21 03:12:38 web sshd[47707]: Invalid user oracle from 203.0.113.77 port 35739\n",
        );
        assert_eq!(e[0].kind, Kind::InvalidUser);
    }

    #[test]
    fn accepted_closed_pam_maxtries_and_probes() {
        let text = "Nov 21 01:04:33 web sshd[47688]: Accepted publickey for ops from 198.51.100.23 port 52814 ssh2: ED25519 SHA256:x
Nov 21 03:12:19 web sshd[47696]: error: maximum authentication attempts exceeded for root from 203.0.113.77 port 47401 ssh2 [preauth]
Nov 21 03:13:50 web sshd[47777]: Disconnected from authenticating user ubuntu 203.0.113.77 port 54195 [preauth]
Nov 21 03:12:39 web sshd[47707]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.77  user=root
Nov 21 04:00:00 web sshd[5]: Did not receive identification string from 192.0.2.50 port 4000
Nov 21 04:00:00 web CRON[9]: pam_unix(cron:session): session opened for user root
";
        let kinds: Vec<Kind> = parse(text).into_iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            vec![
                Kind::Accepted("publickey".into()),
                Kind::MaxTries,
                Kind::Closed,
                Kind::Pam,
                Kind::Probe
            ]
        );
    }

    #[test]
    fn syslog_repeats_count_every_attempt() {
        let e = parse(
            "Nov 21 03:12:10 web sshd[47696]: message repeated 5 times: [ Failed password for root from 203.0.113.77 port 47401 ssh2]\n",
        );
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].count, 5);
        assert_eq!(e[0].kind, Kind::Failed("password".into()));
        assert_eq!(e[0].ip, "203.0.113.77");
    }

    #[test]
    fn journal_iso_stamps_and_sshd_session_tags_read() {
        let e = parse(
            "2024-11-21T03:12:08.000000+00:00 web sshd-session[81]: Failed publickey for root from 192.0.2.9 port 1 ssh2\n",
        );
        assert_eq!(e.len(), 1);
        assert!(e[0].ts.is_some());
        assert_eq!(e[0].stamp, "2024-11-21T03:12:08.000000+00:00");
    }

    #[test]
    fn lastb_lines_give_user_and_address() {
        let b = parse_lastb(
            "root     ssh:notty    203.0.113.77     Thu Nov 21 03:41 - 03:41  (00:00)\n\nbtmp begins Fri Nov  1 00:00:04 2024\n",
        );
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].user, "root");
        assert_eq!(b[0].ip, "203.0.113.77");
    }
}
