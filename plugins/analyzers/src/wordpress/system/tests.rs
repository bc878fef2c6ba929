//! Service state, journals, kernel OOM kills, listeners and memory, from real output.

use super::*;

const STATUS: &str = "× mariadb.service - MariaDB 10.11.6 database server\n     Loaded: loaded (/lib/systemd/system/mariadb.service; enabled; preset: enabled)\n     Active: failed (Result: oom-kill) since Mon 2025-03-03 04:10:09 UTC; 2h ago\n   Main PID: 812 (code=killed, signal=KILL)\n\nMar 03 04:10:09 db1 systemd[1]: mariadb.service: A process of this unit has been killed by the OOM killer.\nMar 03 04:10:09 db1 systemd[1]: mariadb.service: Failed with result 'oom-kill'.\n";

#[test]
fn a_unit_killed_by_the_oom_killer_is_down() {
    let s = UnitStatus::parse(STATUS);
    assert_eq!(s.unit.as_deref(), Some("mariadb"));
    assert_eq!(s.active.as_deref(), Some("failed"));
    assert_eq!(s.result.as_deref(), Some("oom-kill"));
    assert_eq!(s.since.as_deref(), Some("Mon 2025-03-03 04:10:09 UTC"));
    assert!(s.is_down() && s.oom_killed());
    assert_eq!(s.telling_lines.len(), 2);
}

#[test]
fn a_running_unit_and_a_missing_unit() {
    let running = "● mysql.service - MySQL Community Server\n     Active: active (running) since Thu 2024-11-21 02:19:12 UTC; 7h ago\n";
    let s = UnitStatus::parse(running);
    assert!(s.is_running() && !s.is_down());
    let missing = UnitStatus::parse("Unit mariadb.service could not be found.\n");
    assert!(missing.not_found && missing.active.is_none());
}

#[test]
fn kernel_oom_kills_name_the_process_its_size_and_who_asked() {
    let k = "Mar 03 04:10:08 db1 kernel: php-fpm8.3 invoked oom-killer: gfp_mask=0x140cca\nMar 03 04:10:08 db1 kernel: Out of memory: Killed process 812 (mariadbd) total-vm:2794212kB, anon-rss:1422148kB, file-rss:0kB\n";
    let kills = oom_kills(k);
    assert_eq!(kills.len(), 1);
    assert_eq!(kills[0].process, "mariadbd");
    assert_eq!(kills[0].rss_kib, Some(1_422_148));
    assert_eq!(kills[0].invoked_by.as_deref(), Some("php-fpm8.3"));
    assert!(is_db_process(&kills[0].process));
}

#[test]
fn journal_counts_restarts() {
    let j = "x systemd[1]: mysql.service: Scheduled restart job, restart counter is at 1.\nx systemd[1]: mysql.service: Scheduled restart job, restart counter is at 5.\nx systemd[1]: mysql.service: Start request repeated too quickly.\n";
    let (lines, restarts) = journal_summary(j);
    assert_eq!(restarts, Some(5));
    assert_eq!(lines.len(), 3);
}

#[test]
fn listeners_and_memory() {
    let ss = "State  Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess\nLISTEN 0      151        127.0.0.1:3306       0.0.0.0:*    users:((\"mysqld\",pid=901,fd=23))\nLISTEN 0      511          0.0.0.0:80         0.0.0.0:*    users:((\"nginx\",pid=1035,fd=6))\n";
    let l = listeners(ss);
    assert_eq!(l.len(), 2);
    assert_eq!(l[0].port, 3306);
    assert_eq!(l[0].process.as_deref(), Some("mysqld"));
    let free = "               total        used        free      shared  buff/cache   available\nMem:            3931        2612         341          38         977        1072\nSwap:           1023         880         143\n";
    let m = memory(free).expect("memory");
    assert_eq!(
        (m.total, m.available, m.swap_total, m.swap_used),
        (3931, Some(1072), 1023, 880)
    );
}

#[test]
fn full_filesystems_are_read_from_df() {
    let df = "Filesystem      Size  Used Avail Use% Mounted on\n/dev/vda1        25G   25G     0 100% /\ntmpfs           994M     0  994M   0% /dev/shm\n";
    let f = filesystems(df);
    assert_eq!(f.len(), 2);
    assert_eq!((f[0].mount.as_str(), f[0].use_percent), ("/", 100));
}
