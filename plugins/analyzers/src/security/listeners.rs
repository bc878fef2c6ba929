//! Listening sockets as `ss -tulpn` (with or without the Netid column) and `netstat -tulpn`
//! print them, with the scope of each local address: every interface, loopback only, a
//! private network, or one public address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

use regex::Regex;

/// Who can reach an address a socket is bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    Loopback,
    Private,
    Public,
    /// `0.0.0.0`, `[::]`, `*`: every interface.
    All,
}

impl Scope {
    /// Whether the internet may reach the socket (before any firewall).
    pub fn outside(self) -> bool {
        matches!(self, Scope::All | Scope::Public)
    }
}

/// One listening socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    /// `tcp` or `udp`.
    pub proto: &'static str,
    /// The local address as printed, without the port (`0.0.0.0`, `[::]`, `127.0.0.53%lo`).
    pub addr: String,
    pub port: u16,
    pub scope: Scope,
    pub process: Option<String>,
    /// The output line, for evidence.
    pub line: String,
}

impl Listener {
    /// `0.0.0.0:6379`, `[::]:6379`.
    pub fn endpoint(&self) -> String {
        format!("{}:{}", self.addr, self.port)
    }
}

static SS_USERS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"\(\("([^"]+)",pid=(\d+)"#).expect("static regex"));

const STATES: &[&str] = &["LISTEN", "UNCONN", "ESTAB", "OPEN"];

fn proto_of(word: &str) -> Option<&'static str> {
    let w = word.to_ascii_lowercase();
    if w.starts_with("tcp") {
        Some("tcp")
    } else if w.starts_with("udp") {
        Some("udp")
    } else {
        None
    }
}

/// Reads `ss` or `netstat` output; lines of other states and unreadable lines are skipped.
pub fn parse(text: &str) -> Vec<Listener> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<Listener> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let first = *words.first()?;
    // netstat: Proto Recv-Q Send-Q Local Foreign [State] PID/Program
    if let (Some(proto), Some(q)) = (proto_of(first), words.get(1))
        && q.chars().all(|c| c.is_ascii_digit())
    {
        let state = words.get(5).copied().unwrap_or("");
        if proto == "tcp" && state != "LISTEN" {
            return None;
        }
        let process = words[4.min(words.len())..]
            .iter()
            .find_map(|w| w.split_once('/').map(|(_, p)| p.trim_end_matches(':')))
            .filter(|p| !p.is_empty())
            .map(str::to_owned);
        return build(proto, words.get(3)?, process, line);
    }
    // ss: [Netid] State Recv-Q Send-Q Local Peer [Process]
    let (proto, rest) = match proto_of(first) {
        Some(p) => (Some(p), &words[1..]),
        None => (None, &words[..]),
    };
    let state = *rest.first()?;
    if !STATES.contains(&state) || (state != "LISTEN" && state != "UNCONN") {
        return None;
    }
    let proto = proto.unwrap_or(if state == "LISTEN" { "tcp" } else { "udp" });
    let process = SS_USERS
        .captures(line)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_owned());
    build(proto, rest.get(3)?, process, line)
}

fn build(
    proto: &'static str,
    local: &str,
    process: Option<String>,
    line: &str,
) -> Option<Listener> {
    let (addr, port) = local.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    Some(Listener {
        proto,
        addr: addr.to_owned(),
        port,
        scope: scope(addr),
        process,
        line: line.trim_end().to_owned(),
    })
}

/// The scope of a bound address as ss/netstat print it.
pub fn scope(addr: &str) -> Scope {
    let (host, iface) = match addr.split_once('%') {
        Some((h, i)) => (h, Some(i)),
        None => (addr, None),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if iface.is_some_and(|i| i.trim_end_matches(']') == "lo") {
        return Scope::Loopback;
    }
    if matches!(host, "" | "*" | "0.0.0.0" | "::" | "::0") {
        return Scope::All;
    }
    if host.eq_ignore_ascii_case("localhost") {
        return Scope::Loopback;
    }
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => scope_v4(v4),
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => scope_v4(v4),
            None => scope_v6(v6),
        },
        Err(_) => Scope::Public,
    }
}

fn scope_v4(ip: Ipv4Addr) -> Scope {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Scope::Loopback
    } else if ip.is_unspecified() {
        Scope::All
    } else if ip.is_private() || ip.is_link_local() || (a == 100 && (64..128).contains(&b)) {
        Scope::Private
    } else {
        Scope::Public
    }
}

fn scope_v6(ip: Ipv6Addr) -> Scope {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        Scope::Loopback
    } else if (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80 {
        Scope::Private
    } else {
        Scope::Public
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SS_NETID: &str = "Netid State  Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess
tcp   LISTEN 0      80         127.0.0.1:3306       0.0.0.0:*    users:((\"mariadbd\",pid=1044,fd=21))
tcp   LISTEN 0      511          0.0.0.0:6379       0.0.0.0:*    users:((\"redis-server\",pid=1187,fd=6))
tcp   LISTEN 0      4096   127.0.0.53%lo:53         0.0.0.0:*    users:((\"systemd-resolve\",pid=598,fd=14))
tcp   LISTEN 0      511             [::]:6379          [::]:*    users:((\"redis-server\",pid=1187,fd=7))
udp   UNCONN 0      0      127.0.0.53%lo:53         0.0.0.0:*    users:((\"systemd-resolve\",pid=598,fd=13))
udp   UNCONN 0      0                  *:11211            *:*    users:((\"memcached\",pid=77,fd=3))
";

    #[test]
    fn ss_lines_give_address_scope_and_process() {
        let l = parse(SS_NETID);
        assert_eq!(l.len(), 6);
        assert_eq!(l[0].scope, Scope::Loopback);
        assert_eq!(l[0].process.as_deref(), Some("mariadbd"));
        assert_eq!(l[1].endpoint(), "0.0.0.0:6379");
        assert_eq!(l[1].scope, Scope::All);
        assert_eq!(l[2].scope, Scope::Loopback);
        assert_eq!(l[3].addr, "[::]");
        assert_eq!(l[3].scope, Scope::All);
        assert_eq!(l[4].proto, "udp");
        assert_eq!(l[5].scope, Scope::All);
        assert_eq!(l[5].port, 11211);
    }

    #[test]
    fn ss_without_netid_or_process_still_reads() {
        let text = "State  Recv-Q Send-Q Local Address:Port  Peer Address:Port Process
LISTEN 0      128          0.0.0.0:22         0.0.0.0:*
LISTEN 0      511      10.0.4.12:5432         0.0.0.0:*
LISTEN 0      511   203.0.113.9:9200          0.0.0.0:*
";
        let l = parse(text);
        assert_eq!(l.len(), 3);
        assert_eq!(l[0].proto, "tcp");
        assert_eq!(l[0].process, None);
        assert_eq!(l[1].scope, Scope::Private);
        assert_eq!(l[2].scope, Scope::Public);
    }

    #[test]
    fn netstat_lines_read_too() {
        let text = "Active Internet connections (only servers)
Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name
tcp        0      0 0.0.0.0:6379            0.0.0.0:*               LISTEN      1187/redis-server *
tcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN      911/sshd: /usr/sbin
tcp6       0      0 :::6379                 :::*                    LISTEN      1187/redis-server *
tcp        0      0 10.0.0.5:41822          10.0.0.9:5432           ESTABLISHED 2200/php-fpm
udp        0      0 0.0.0.0:68              0.0.0.0:*                           700/dhclient
";
        let l = parse(text);
        assert_eq!(l.len(), 4, "{l:#?}");
        assert_eq!(l[0].process.as_deref(), Some("redis-server"));
        assert_eq!(l[1].process.as_deref(), Some("sshd"));
        assert_eq!(l[2].scope, Scope::All);
        assert_eq!(l[3].proto, "udp");
        assert_eq!(l[3].process.as_deref(), Some("dhclient"));
    }

    #[test]
    fn scopes_of_odd_addresses() {
        assert_eq!(scope("[::1]"), Scope::Loopback);
        assert_eq!(scope("[::ffff:127.0.0.1]"), Scope::Loopback);
        assert_eq!(scope("[fe80::1%eth0]"), Scope::Private);
        assert_eq!(scope("100.72.1.9"), Scope::Private);
        assert_eq!(scope("[2001:db8::5]"), Scope::Public);
    }
}
