//! What the server logs say: refused connections, lock waits (with who held the lock),
//! deadlocks the server itself detected, timeouts that ended sessions, replication errors.
//! Only the log may establish a deadlock: a queue of waiters is not one.

use std::sync::LazyLock;

use regex::Regex;

use super::sqltext::numbers;

static WAITING: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"process (\d+) (still waiting|acquired) ").expect("static regex"));
static HOLDING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"Process(?:es)? holding the lock: ([0-9, ]+)").expect("static regex")
});
static FATAL_USER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\]\s+(?:\[\d+\]\s+)?([^\s@\[\]]+)@\S*\s+FATAL").expect("static regex")
});

/// Facts read from a server log's tail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogFacts {
    /// `sorry, too many clients already` (PostgreSQL) or `Too many connections` (MySQL).
    pub too_many: Vec<String>,
    /// `remaining connection slots are reserved for ...`.
    pub reserved_slots: Vec<String>,
    /// Lines of deadlocks the server detected, with their DETAIL lines.
    pub deadlocks: Vec<String>,
    /// `still waiting for` lines and the `holding the lock` lines after them.
    pub lock_waits: Vec<String>,
    /// (waiter, holder) pairs from `log_lock_waits` messages.
    pub lock_edges: Vec<(u64, u64)>,
    /// Sessions or statements ended by a timeout.
    pub timeouts: Vec<String>,
    /// Replication and WAL streaming errors.
    pub replication: Vec<String>,
}

impl LogFacts {
    /// Reads a PostgreSQL or MySQL/MariaDB log tail.
    pub fn read(text: &str) -> Self {
        let mut facts = LogFacts::default();
        let mut waiter: Option<u64> = None;
        let mut in_deadlock = false;
        for line in text.lines() {
            let lower = line.to_ascii_lowercase();
            if lower.contains("deadlock detected") {
                facts.deadlocks.push(line.to_owned());
                in_deadlock = true;
                continue;
            }
            if in_deadlock
                && (line.contains("DETAIL:")
                    || line.contains("HINT:")
                    || line.contains("blocked by process"))
            {
                facts.deadlocks.push(line.to_owned());
                continue;
            }
            in_deadlock = false;
            if lower.contains("too many clients") || lower.contains("too many connections") {
                facts.too_many.push(line.to_owned());
            } else if lower.contains("remaining connection slots are reserved") {
                facts.reserved_slots.push(line.to_owned());
            } else if let Some(c) = WAITING.captures(line) {
                waiter = (&c[2] == "still waiting")
                    .then(|| c[1].parse().ok())
                    .flatten();
                if waiter.is_some() {
                    facts.lock_waits.push(line.to_owned());
                }
            } else if let Some(c) = HOLDING.captures(line) {
                if let Some(w) = waiter.take() {
                    for holder in numbers(&c[1]) {
                        facts.lock_edges.push((w, holder));
                    }
                    facts.lock_waits.push(line.to_owned());
                }
            } else if lower.contains("idle-in-transaction timeout")
                || lower.contains("idle-session timeout")
                || lower.contains("due to lock timeout")
                || lower.contains("due to statement timeout")
                || lower.contains("lock wait timeout exceeded")
            {
                facts.timeouts.push(line.to_owned());
            } else if lower.contains("wal stream")
                || lower.contains("has already been removed")
                || lower.contains("replication terminated")
                || lower.contains("replica i/o")
                || lower.contains("slave i/o")
                || lower.contains("replica sql")
                || lower.contains("slave sql")
            {
                facts.replication.push(line.to_owned());
            }
        }
        facts
    }

    /// Lines that refused a connection, in log order.
    pub fn refusals(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .too_many
            .iter()
            .chain(&self.reserved_slots)
            .cloned()
            .collect();
        all.sort();
        all
    }
}

/// The `YYYY-MM-DD HH:MM:SS` a log line starts with.
pub fn line_time(line: &str) -> Option<String> {
    let mut words = line.split_whitespace();
    let first = words.next()?;
    if first.len() >= 19 && first.as_bytes().get(10) == Some(&b'T') {
        return first.get(..19).map(|t| t.replace('T', " "));
    }
    let second = words.next()?;
    let looks_like = first.len() == 10 && first.as_bytes().get(4) == Some(&b'-');
    looks_like.then(|| format!("{first} {}", second.split('.').next().unwrap_or(second)))
}

/// The user a PostgreSQL `user@db FATAL:` line names.
pub fn fatal_user(line: &str) -> Option<String> {
    FATAL_USER.captures(line).map(|c| c[1].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PG: &str = "\
2024-11-21 09:48:13.541 UTC [48377] shop_app@shopdb LOG:  process 48377 still waiting for ShareLock on transaction 918273645 after 1000.012 ms
2024-11-21 09:48:13.541 UTC [48377] shop_app@shopdb DETAIL:  Process holding the lock: 48211. Wait queue: 48377.
2024-11-21 09:51:04.122 UTC [48390] shop_app@shopdb LOG:  process 48390 still waiting for ExclusiveLock on tuple (1207,14) of relation 16421 of database 16384 after 1000.107 ms
2024-11-21 09:51:04.122 UTC [48390] shop_app@shopdb DETAIL:  Process holding the lock: 48377. Wait queue: 48390.
2024-11-21 10:01:58.340 UTC [73311] orders_web@ordersdb FATAL:  remaining connection slots are reserved for non-replication superuser connections
2024-11-21 02:31:05.118 UTC [64811] orders_web@ordersdb FATAL:  sorry, too many clients already
";

    #[test]
    fn lock_wait_messages_give_waiter_and_holder() {
        let f = LogFacts::read(PG);
        assert_eq!(f.lock_edges, vec![(48377, 48211), (48390, 48377)]);
        assert_eq!(f.lock_waits.len(), 4);
        assert!(f.deadlocks.is_empty());
    }

    #[test]
    fn refused_connections_are_counted_in_order() {
        let f = LogFacts::read(PG);
        assert_eq!(f.too_many.len(), 1);
        assert_eq!(f.reserved_slots.len(), 1);
        let r = f.refusals();
        assert!(r[0].contains("02:31:05"));
        assert_eq!(line_time(&r[0]).as_deref(), Some("2024-11-21 02:31:05"));
        assert_eq!(fatal_user(&r[1]).as_deref(), Some("orders_web"));
    }

    #[test]
    fn only_a_detected_deadlock_counts_as_one() {
        let log = "2024-11-21 10:00:00 UTC [1] a@b ERROR:  deadlock detected\n2024-11-21 10:00:00 UTC [1] a@b DETAIL:  Process 1 waits for ShareLock on transaction 5; blocked by process 2.\n";
        let f = LogFacts::read(log);
        assert_eq!(f.deadlocks.len(), 2);
        let mysql = "2024-11-21T10:00:00.000000Z 12 [Note] [MY-012468] [InnoDB] Transactions deadlock detected, dumping detailed information.\n";
        assert_eq!(LogFacts::read(mysql).deadlocks.len(), 1);
        assert_eq!(
            line_time("2024-11-21T10:00:00.000000Z 12 [Note] x").as_deref(),
            Some("2024-11-21 10:00:00")
        );
    }
}
