//! Who holds the connections: client connections grouped by application, user and client
//! address, with their states (idle, active, Sleep, Query...). Read from grouped counts when
//! a query made them, else counted from the session list.

use std::collections::BTreeMap;

use crate::parse::csv_rows;

use super::sessions::Session;
use super::sqltext::plural;

/// One holder of connections.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holder {
    pub application: String,
    pub user: String,
    /// Client addresses; several once holders are merged across clients.
    pub clients: Vec<String>,
    pub total: u64,
    /// Connections by state (PostgreSQL `state`, MySQL `COMMAND`).
    pub by_state: BTreeMap<String, u64>,
}

impl Holder {
    /// `invoice-exporter (user billing_batch from 10.30.2.41)`.
    pub fn label(&self) -> String {
        let mut who = Vec::new();
        if !self.user.is_empty() {
            who.push(format!("user {}", self.user));
        }
        match self.clients.as_slice() {
            [] => {}
            [one] if one.is_empty() => {}
            [one] => who.push(format!("from {one}")),
            many => who.push(format!(
                "from {} clients: {}",
                many.len(),
                many.iter().take(4).cloned().collect::<Vec<_>>().join(", ")
            )),
        }
        match (self.application.is_empty(), who.is_empty()) {
            (false, false) => format!("{} ({})", self.application, who.join(" ")),
            (false, true) => self.application.clone(),
            (true, false) => who.join(" "),
            (true, true) => "(unnamed clients)".to_owned(),
        }
    }

    /// The shortest name for titles: the application, else the user.
    pub fn name(&self) -> &str {
        if self.application.is_empty() {
            &self.user
        } else {
            &self.application
        }
    }

    pub fn count(&self, state: &str) -> u64 {
        self.by_state.get(state).copied().unwrap_or(0)
    }

    /// `94 idle, 3 active`, largest first.
    pub fn states(&self) -> String {
        let mut states: Vec<(&String, &u64)> = self.by_state.iter().collect();
        states.sort_by(|a, b| b.1.cmp(a.1));
        states
            .iter()
            .map(|(s, n)| format!("{n} {}", if s.is_empty() { "unknown" } else { s.as_str() }))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn matches(&self, s: &Session) -> bool {
        s.application == self.application && s.user == self.user && self.clients.contains(&s.client)
    }

    /// The sessions of this holder in a state.
    pub fn sessions<'s>(&self, all: &'s [Session], state: &str) -> Vec<&'s Session> {
        all.iter()
            .filter(|s| self.matches(s) && s.state == state)
            .collect()
    }
}

fn add(holders: &mut Vec<Holder>, app: &str, user: &str, client: &str, state: &str, n: u64) {
    let same = |h: &Holder| {
        h.application == app
            && h.user == user
            && h.clients.first().map(String::as_str) == Some(client)
    };
    if !holders.iter().any(same) {
        holders.push(Holder {
            application: app.to_owned(),
            user: user.to_owned(),
            clients: vec![client.to_owned()],
            ..Holder::default()
        });
    }
    if let Some(holder) = holders.iter_mut().find(|h| same(h)) {
        holder.total += n;
        *holder.by_state.entry(state.to_owned()).or_default() += n;
    }
}

fn sorted(mut holders: Vec<Holder>) -> Vec<Holder> {
    holders.sort_by(|a, b| b.total.cmp(&a.total).then(a.label().cmp(&b.label())));
    holders
}

/// Reads grouped counts (`usename,application_name,client_addr,state,count` or MySQL's
/// `user,client_host,command,count`). Rows with no state and no user are background
/// workers and are left out.
pub fn from_groups(output: &str) -> Vec<Holder> {
    let mut holders = Vec::new();
    for row in csv_rows(output) {
        let Some(n) = row.number(&["count", "connections", "count(*)", "total"]) else {
            continue;
        };
        let state = row.get(&["state", "command"]).unwrap_or_default().trim();
        let user = row.get(&["usename", "user"]).unwrap_or_default().trim();
        let system = matches!(user, "system user" | "event_scheduler")
            || matches!(state, "Daemon" | "Binlog Dump" | "Binlog Dump GTID");
        if state.is_empty() || system {
            continue;
        }
        let app = row
            .get(&["application_name", "application"])
            .unwrap_or_default()
            .trim();
        let client = row
            .get(&["client_addr", "client_host", "host"])
            .unwrap_or_default()
            .trim();
        let client = client.split(':').next().unwrap_or_default();
        add(&mut holders, app, user, client, state, n as u64);
    }
    sorted(holders)
}

/// Counts client sessions.
pub fn from_sessions(sessions: &[Session]) -> Vec<Holder> {
    let mut holders = Vec::new();
    for s in sessions.iter().filter(|s| s.client_backend) {
        add(
            &mut holders,
            &s.application,
            &s.user,
            &s.client,
            &s.state,
            1,
        );
    }
    sorted(holders)
}

/// Holders merged across client addresses (same application and user).
pub fn merge_clients(holders: &[Holder]) -> Vec<Holder> {
    let mut merged: Vec<Holder> = Vec::new();
    for h in holders {
        match merged
            .iter_mut()
            .find(|m| m.application == h.application && m.user == h.user)
        {
            Some(m) => {
                m.total += h.total;
                for (state, n) in &h.by_state {
                    *m.by_state.entry(state.clone()).or_default() += n;
                }
                for c in &h.clients {
                    if !m.clients.contains(c) {
                        m.clients.push(c.clone());
                    }
                }
            }
            None => merged.push(h.clone()),
        }
    }
    sorted(merged)
}

/// The holders at the finest grain where one of them holds at least half of `used`
/// (per client, else per application and user across clients); the per-client list when
/// none dominates.
pub fn dominant_view(holders: Vec<Holder>, used: f64) -> Vec<Holder> {
    let dominates = |hs: &[Holder]| hs.first().is_some_and(|h| h.total as f64 >= 0.5 * used);
    if dominates(&holders) {
        return holders;
    }
    let merged = merge_clients(&holders);
    if dominates(&merged) { merged } else { holders }
}

/// `Next: reporting (user reporting) 3, orders-web 2.` for the holders after the first.
pub fn others_sentence(holders: &[Holder]) -> Option<String> {
    let rest: Vec<String> = holders
        .iter()
        .skip(1)
        .take(4)
        .map(|h| format!("{} {}", h.label(), h.total))
        .collect();
    (!rest.is_empty()).then(|| {
        let more = holders.len().saturating_sub(5);
        let tail = if more > 0 {
            format!(" and {} more", plural(more, "holder"))
        } else {
            String::new()
        };
        format!("Everyone else: {}{tail}.", rest.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouped_counts_add_up_per_holder_and_skip_background_workers() {
        let text = "usename,application_name,client_addr,state,count\n\
billing,exporter,10.0.0.1,idle,94\nbilling,exporter,10.0.0.1,active,3\npostgres,agent,,active,1\n,\"\",,,4\n";
        let h = from_groups(text);
        assert_eq!(h.len(), 2);
        assert_eq!(h[0].total, 97);
        assert_eq!(h[0].count("idle"), 94);
        assert_eq!(h[0].states(), "94 idle, 3 active");
        assert_eq!(h[0].label(), "exporter (user billing from 10.0.0.1)");
        assert_eq!(
            others_sentence(&h).as_deref(),
            Some("Everyone else: agent (user postgres) 1.")
        );
    }

    #[test]
    fn one_application_on_many_hosts_is_one_holder_when_that_makes_it_dominant() {
        let text = "usename,application_name,client_addr,state,count\n\
jobs,worker,10.0.0.1,idle,40\njobs,worker,10.0.0.2,idle,38\njobs,worker,10.0.0.3,active,2\nweb,api,10.0.1.1,active,30\n";
        let view = dominant_view(from_groups(text), 110.0);
        assert_eq!(view[0].total, 80);
        assert_eq!(
            view[0].label(),
            "worker (user jobs from 3 clients: 10.0.0.1, 10.0.0.2, 10.0.0.3)"
        );
        assert_eq!(view[0].count("idle"), 78);
    }

    #[test]
    fn mysql_groups_use_command_and_strip_ports() {
        let text = "user,client_host,command,count,max_time\napp,10.0.0.5,Sleep,140,3600\nevent_scheduler,localhost,Daemon,1,99\n";
        let h = from_groups(text);
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].count("Sleep"), 140);
        assert_eq!(h[0].name(), "app");
    }
}
