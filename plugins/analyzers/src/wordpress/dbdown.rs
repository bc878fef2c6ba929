//! The database server is not there: connections are refused or its socket is missing.
//! Says whether the unit is down and why (OOM killer, crash, gave up restarting), whether
//! anything listens on the port, and how to start it and keep it from dying again.

use squadron_core::{Finding, Investigation, Severity};

use super::db::Facts;
use super::dbcause::{self, Cause};
use super::dberror::Failure;

/// The finding for a refused connection or a missing socket.
pub fn finding(_inv: &Investigation<'_>, facts: &Facts) -> Finding {
    let engine = facts.engine_name();
    let unit = facts.unit_name();
    let hit = facts
        .first_hit(Failure::Refused)
        .or_else(|| facts.first_hit(Failure::NoSocket));
    let refused = facts.count(Failure::Refused) >= facts.count(Failure::NoSocket);
    let symptom = if refused {
        let target = facts
            .target(Failure::Refused)
            .or_else(|| facts.db_host.as_ref().map(|(h, _)| h.text()))
            .unwrap_or_else(|| "the database address".to_owned());
        format!("WordPress's connections to {target} are refused")
    } else {
        let socket = facts
            .target(Failure::NoSocket)
            .or_else(|| facts.db_host.as_ref().and_then(|(h, _)| h.socket.clone()));
        match socket {
            Some(s) => format!("the socket WordPress connects through ({s}) is gone"),
            None => "the local socket WordPress connects through (DB_HOST = localhost) is gone"
                .to_owned(),
        }
    };
    let status = facts.unit.as_ref().map(|(u, _)| u);
    let down = status.is_some_and(|u| u.is_down());
    let running = status.is_some_and(|u| u.is_running());
    let kill = facts.kills.as_ref().and_then(|(k, _)| k.last());
    let cause = dbcause::cause(facts);
    let oom = cause == Some(Cause::Oom);
    let title = match (&cause, down, running) {
        (Some(c), _, false) => format!("{engine} is down: {}; {symptom}", c.clause()),
        (None, true, false) => format!("{engine} is not running: {symptom}"),
        (_, _, true) => format!("{engine} runs, but {symptom}"),
        _ => format!("{engine} does not accept connections: {symptom}"),
    };
    let mut f = Finding::new(Severity::Critical, title);
    if let Some((src, h)) = hit {
        let n = facts.count(if refused {
            Failure::Refused
        } else {
            Failure::NoSocket
        });
        f = f
            .detail(format!(
                "{n} failed connection attempt{} logged. {} means no server process accepted \
                 the connection; the login was never checked, so wp-config.php's credentials are \
                 not the problem.",
                if n == 1 { " is" } else { "s are" },
                if refused {
                    "A refused connection"
                } else {
                    "A missing socket"
                }
            ))
            .evidence(src, [h.line.clone()]);
    }
    if let Some((src, lines)) = &facts.error_page {
        f = f.evidence(src, lines.clone());
    }
    if let Some((u, src)) = &facts.unit {
        let mut d = format!(
            "systemd reports the {} unit {}",
            unit,
            u.active.as_deref().unwrap_or("in an unknown state")
        );
        if let Some(sub) = &u.sub {
            d.push_str(&format!(" ({sub})"));
        }
        if let Some(since) = &u.since {
            d.push_str(&format!(" since {since}"));
        }
        d.push('.');
        f = f.detail(d);
        let mut lines: Vec<String> = u.active_line.iter().cloned().collect();
        lines.extend(u.telling_lines.iter().rev().take(3).rev().cloned());
        f = f.evidence(src, lines);
    }
    if let Some((lines, restarts, src)) = &facts.journal {
        if let Some(n) = restarts {
            let gave_up = lines
                .iter()
                .any(|l| l.contains("repeated too quickly") || l.contains("Failed to start"));
            f = f.detail(format!(
                "systemd restarted it {n} time{}{}.",
                if *n == 1 { "" } else { "s" },
                if gave_up { " and then gave up" } else { "" }
            ));
        }
        f = f.evidence(src, lines.iter().rev().take(4).rev().cloned());
    }
    if let (Some(k), Some((_, src))) = (kill, &facts.kills) {
        let size = k.rss_kib.map_or(String::new(), |kib| {
            format!(", {} MiB resident", kib / 1024)
        });
        let by = k.invoked_by.as_ref().map_or(String::new(), |p| {
            format!("; a memory request from {p} triggered it")
        });
        f = f
            .detail(format!(
                "The kernel's OOM killer killed {} (pid {}{size}){by}.",
                k.process, k.pid
            ))
            .evidence(src, [k.line.clone()]);
    }
    f = listening(f, facts);
    if let Some((m, src)) = facts.memory.as_ref().filter(|_| oom) {
        let swap = if m.swap_total == 0 {
            "no".to_owned()
        } else {
            format!("{} MiB of", m.swap_total)
        };
        f = f
            .detail(format!(
                "The host has {} MiB of RAM and {swap} swap.",
                m.total
            ))
            .evidence(
                src,
                [format!(
                    "Mem: {} MiB total; Swap: {} MiB total",
                    m.total, m.swap_total
                )],
            );
    }
    if let (Some(Cause::DiskFull { mount: Some(m), .. }), Some((disks, src))) =
        (&cause, &facts.disks)
        && let Some(d) = disks.iter().find(|d| &d.mount == m)
    {
        f = f
            .detail(format!("The filesystem {m} is {}% full.", d.use_percent))
            .evidence(src, [d.line.clone()]);
    }
    if let Some((lines, src)) = &facts.error_log {
        f = f.evidence(src, lines.iter().rev().take(3).rev().cloned());
    }
    fixes(
        f,
        facts,
        &unit,
        engine,
        running,
        cause.as_ref(),
        kill.and_then(|k| k.invoked_by.clone()),
    )
}

fn listening(mut f: Finding, facts: &Facts) -> Finding {
    let Some((listeners, src)) = &facts.listeners else {
        return f;
    };
    let port = facts.db_host.as_ref().map_or(3306, |(h, _)| h.port);
    let local = facts.db_host.as_ref().is_none_or(|(h, _)| h.is_local());
    if !local {
        return f;
    }
    let db: Vec<_> = listeners
        .iter()
        .filter(|l| {
            l.port == port
                || l.process
                    .as_deref()
                    .is_some_and(|p| p.starts_with("mysql") || p.starts_with("mariadb"))
        })
        .collect();
    if db.is_empty() {
        f = f.detail(format!("Nothing listens on port {port} (ss -tlnp)."));
        let ports: Vec<String> = listeners
            .iter()
            .map(|l| format!("{}:{}", l.address, l.port))
            .collect();
        f = f.evidence(src, [format!("listening: {}", ports.join(", "))]);
    } else {
        let on: Vec<String> = db
            .iter()
            .map(|l| {
                format!(
                    "{}:{} ({})",
                    l.address,
                    l.port,
                    l.process.as_deref().unwrap_or("?")
                )
            })
            .collect();
        f = f.detail(format!("Listening: {}.", on.join(", ")));
    }
    f
}

fn fixes(
    f: Finding,
    facts: &Facts,
    unit: &str,
    engine: &str,
    running: bool,
    cause: Option<&Cause>,
    invoker: Option<String>,
) -> Finding {
    let oom = cause == Some(&Cause::Oom);
    if running {
        return f.fix_with_code(
            format!("{engine} runs but not where WordPress connects: compare DB_HOST in wp-config.php with the server's bind-address and port, and align one with the other:"),
            "sh",
            format!("grep -E '^(bind-address|port|socket)' -r /etc/mysql/\nss -tlnp | grep -E 'mysqld|mariadbd'\nsystemctl restart {unit}"),
        );
    }
    let remote = facts.db_host.as_ref().filter(|(h, _)| !h.is_local());
    if let (Some((host, _)), None) = (remote, facts.unit.as_ref()) {
        return f.fix_with_code(
            format!(
                "The database runs on {}, not on this host: on that server, check that {engine} runs and listens on an address this host can reach (bind-address, port {}), and that no firewall drops the port:",
                host.host, host.port
            ),
            "sh",
            format!("systemctl status {unit} --no-pager\nss -tlnp | grep {}", host.port),
        );
    }
    let proposed = if facts.unit.as_ref().is_some_and(|(u, _)| u.is_down()) {
        " (proposed for approval below)"
    } else {
        ""
    };
    let mut f = f;
    if let Some((text, code)) = cause.and_then(|c| dbcause::first_step(c, engine)) {
        f = f.fix_with_code(text, "sh", code);
    }
    f = f.fix_with_code(
        format!("Start {engine}{proposed} and check that it stays up:"),
        "sh",
        format!("systemctl start {unit}\nsystemctl status {unit} --no-pager"),
    );
    if !oom {
        return f.fix_with_code(
            "If it does not start, its error log says why:",
            "sh",
            format!("journalctl --unit={unit} --since=yesterday --no-pager | tail -50\ntail -50 /var/log/mysql/error.log"),
        );
    }
    let total = facts.memory.as_ref().map(|(m, _)| m.total).unwrap_or(0);
    let pool = if total > 0 {
        ((total / 4) / 128).max(1) * 128
    } else {
        256
    };
    let cnf = if engine == "MariaDB" {
        "/etc/mysql/mariadb.conf.d/60-memory.cnf"
    } else {
        "/etc/mysql/mysql.conf.d/60-memory.cnf"
    };
    f = f.fix_with_code(
        format!("Keep {engine} from outgrowing the host: cap InnoDB's buffer pool (about a quarter of RAM here) in {cnf}, then restart it:"),
        "ini",
        format!("[mysqld]\ninnodb_buffer_pool_size = {pool}M\nmax_connections = 60"),
    );
    if facts
        .memory
        .as_ref()
        .is_some_and(|(m, _)| m.swap_total == 0)
    {
        f = f.fix_with_code(
            "Add swap so a memory spike slows the host down instead of killing the database:",
            "sh",
            "fallocate -l 2G /swapfile && chmod 600 /swapfile && mkswap /swapfile && swapon /swapfile\necho '/swapfile none swap sw 0 0' >> /etc/fstab",
        );
    }
    if let Some(p) = invoker.filter(|p| p.contains("php")) {
        f = f.fix(format!(
            "{p} asked for the memory that set off the OOM killer: lower pm.max_children in the PHP-FPM pool so PHP workers cannot use up the RAM {engine} needs."
        ));
    }
    f.fix_with_code(
        format!("Make the kernel pick another victim than {engine} next time (systemd drop-in, then daemon-reload):"),
        "ini",
        format!("# /etc/systemd/system/{unit}.service.d/oom.conf\n[Service]\nOOMScoreAdjust=-600"),
    )
}
