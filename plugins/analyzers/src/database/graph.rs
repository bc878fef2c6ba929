//! The lock graph: which session waits on which. A root blocker is a session others wait on
//! (directly or down a chain) that itself waits on nobody; ending it frees the whole queue,
//! while ending a blocked blocker in the middle of a chain frees nothing.

use std::collections::{BTreeMap, BTreeSet};

use crate::parse::csv_rows;

use super::sqltext::numbers;

/// Edges from a waiting session to the sessions it waits on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LockGraph {
    waits_on: BTreeMap<u64, BTreeSet<u64>>,
}

/// A root blocker and everyone queued behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    pub pid: u64,
    /// Sessions that wait on it directly.
    pub direct: Vec<u64>,
    /// Every session that waits on it, directly or through others.
    pub all: Vec<u64>,
}

impl LockGraph {
    pub fn add(&mut self, waiter: u64, blocker: u64) {
        if waiter != blocker && waiter != 0 && blocker != 0 {
            self.waits_on.entry(waiter).or_default().insert(blocker);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.waits_on.is_empty()
    }

    /// Adds the edges of a lock query's CSV output, in any of the usual shapes:
    /// `pid` + `blocked_by` (`{48211}`, from `pg_blocking_pids`), `blocked_pid` +
    /// `blocking_pid` (the pg_locks self-join), `waiting_pid` + `blocking_pid` (MySQL's
    /// `sys.innodb_lock_waits`). Returns how many edges it read.
    pub fn read_csv(&mut self, output: &str) -> usize {
        let mut added = 0;
        for row in csv_rows(output) {
            let waiter = row
                .number(&[
                    "blocked_pid",
                    "waiting_pid",
                    "waiting_thread_id",
                    "waiting_thread",
                    "requesting_thread_id",
                    "pid",
                ])
                .map(|n| n as u64);
            let blockers = row
                .value(&[
                    "blocked_by",
                    "blocking_pids",
                    "pg_blocking_pids",
                    "blocking_pid",
                    "blocking_thread_id",
                    "blocking_thread",
                ])
                .map(numbers)
                .unwrap_or_default();
            if let Some(waiter) = waiter {
                for blocker in blockers {
                    self.add(waiter, blocker);
                    added += 1;
                }
            }
        }
        added
    }

    /// Whether a session waits on anyone.
    pub fn is_waiting(&self, pid: u64) -> bool {
        self.waits_on.get(&pid).is_some_and(|b| !b.is_empty())
    }

    /// Sessions that wait on `pid` directly.
    pub fn direct_waiters(&self, pid: u64) -> Vec<u64> {
        self.waits_on
            .iter()
            .filter(|(_, blockers)| blockers.contains(&pid))
            .map(|(w, _)| *w)
            .collect()
    }

    /// Every session that waits on `pid`, directly or down a chain.
    pub fn all_waiters(&self, pid: u64) -> Vec<u64> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![pid];
        while let Some(p) = todo.pop() {
            for w in self.direct_waiters(p) {
                if w != pid && seen.insert(w) {
                    todo.push(w);
                }
            }
        }
        seen.into_iter().collect()
    }

    /// Blocked blockers: sessions that wait and are waited on (the middle of a chain).
    pub fn intermediates(&self) -> Vec<u64> {
        self.blockers()
            .into_iter()
            .filter(|b| self.is_waiting(*b))
            .collect()
    }

    fn blockers(&self) -> BTreeSet<u64> {
        self.waits_on.values().flatten().copied().collect()
    }

    /// Root blockers, the one with the most sessions behind it first.
    pub fn roots(&self) -> Vec<Root> {
        let mut roots: Vec<Root> = self
            .blockers()
            .into_iter()
            .filter(|b| !self.is_waiting(*b))
            .map(|pid| Root {
                pid,
                direct: self.direct_waiters(pid),
                all: self.all_waiters(pid),
            })
            .collect();
        roots.sort_by(|a, b| b.all.len().cmp(&a.all.len()).then(a.pid.cmp(&b.pid)));
        roots
    }

    /// Sessions that wait on each other in a loop with no root (every one also waits).
    pub fn cycle_members(&self) -> Vec<u64> {
        if !self.roots().is_empty() {
            return Vec::new();
        }
        self.intermediates()
    }

    /// The chain below `root` in prose parts, nearest waiters first, waiters with the same
    /// blockers together: `48377 waits on 48211`, `48390 and 48402 wait on 48377`.
    pub fn chain(&self, root: u64) -> Vec<String> {
        let mut order: Vec<u64> = Vec::new();
        let mut frontier = vec![root];
        while !frontier.is_empty() {
            let mut next = Vec::new();
            for b in frontier {
                for w in self.direct_waiters(b) {
                    if w != root && !order.contains(&w) {
                        order.push(w);
                        next.push(w);
                    }
                }
            }
            frontier = next;
        }
        let mut groups: Vec<(Vec<u64>, Vec<u64>)> = Vec::new();
        for w in order {
            let blockers = self.blockers_of(w);
            match groups.iter_mut().find(|(b, _)| *b == blockers) {
                Some((_, ws)) => ws.push(w),
                None => groups.push((blockers, vec![w])),
            }
        }
        groups
            .iter()
            .map(|(blockers, waiters)| {
                let ws: Vec<String> = waiters.iter().map(u64::to_string).collect();
                let bs: Vec<String> = blockers.iter().map(u64::to_string).collect();
                let verb = if ws.len() == 1 { "waits" } else { "wait" };
                format!("{} {verb} on {}", join_and(&ws), join_and(&bs))
            })
            .collect()
    }

    /// Every waiting session.
    pub fn waiters(&self) -> Vec<u64> {
        self.waits_on.keys().copied().collect()
    }

    /// The sessions a waiter waits on.
    pub fn blockers_of(&self, pid: u64) -> Vec<u64> {
        self.waits_on
            .get(&pid)
            .map(|b| b.iter().copied().collect())
            .unwrap_or_default()
    }
}

fn join_and(items: &[String]) -> String {
    super::sqltext::and_list(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOCKING: &str = "pid,state,blocked_by\n\
48377,active,{48211}\n\
48390,active,{48377}\n\
48402,active,{48377}\n\
48415,active,\"{48377,48211}\"\n";

    #[test]
    fn root_blocker_is_the_session_that_waits_on_nobody() {
        let mut g = LockGraph::default();
        assert_eq!(g.read_csv(BLOCKING), 5);
        let roots = g.roots();
        assert_eq!(roots.len(), 1);
        assert_eq!(roots[0].pid, 48211);
        assert_eq!(roots[0].all, vec![48377, 48390, 48402, 48415]);
        assert_eq!(roots[0].direct, vec![48377, 48415]);
        assert_eq!(g.intermediates(), vec![48377]);
        assert_eq!(
            g.chain(48211),
            vec![
                "48377 waits on 48211",
                "48415 waits on 48211 and 48377",
                "48390 and 48402 wait on 48377"
            ]
        );
    }

    #[test]
    fn pair_and_mysql_shapes_give_the_same_graph() {
        let mut pairs = LockGraph::default();
        pairs.read_csv("blocked_pid,blocking_pid\n2,1\n3,2\n");
        let mut mysql = LockGraph::default();
        mysql.read_csv("waiting_pid,blocking_pid,locked_table\n2,1,`shop`.`t`\n3,2,`shop`.`t`\n");
        assert_eq!(pairs, mysql);
        assert_eq!(pairs.roots()[0].pid, 1);
    }

    #[test]
    fn a_loop_has_no_root_and_names_its_members() {
        let mut g = LockGraph::default();
        g.add(1, 2);
        g.add(2, 1);
        assert!(g.roots().is_empty());
        assert_eq!(g.cycle_members(), vec![1, 2]);
    }

    #[test]
    fn output_without_lock_columns_adds_nothing() {
        let mut g = LockGraph::default();
        assert_eq!(g.read_csv("pid,state,query\n1,idle,SELECT 1\n"), 0);
        assert!(g.is_empty());
    }
}
