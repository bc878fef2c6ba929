//! Slow statements, replication and table health.

use squadron_core::Severity;

use super::{all_text, diagnose, failed, sql};

#[test]
fn the_costliest_statement_is_tied_to_a_table_read_by_sequential_scans() {
    let statements = "queryid,calls,total_exec_time_ms,mean_exec_time_ms,rows,query\n\
-88120,14200,11530400.5,812.0,14200,\"SELECT * FROM orders WHERE customer_email = $1\"\n\
51234,902113,180422.6,0.2,902113,\"SELECT id FROM products WHERE id = $1\"\n";
    let tables = "schemaname,relname,seq_scan,seq_tup_read,idx_scan,n_live_tup,n_dead_tup\npublic,orders,14388,26330040000,120,1830442,20331\n";
    let findings = diagnose(
        "slow_queries",
        &[
            sql(
                "pg_slow_queries",
                "SELECT * FROM pg_stat_statements",
                statements,
            ),
            sql("pg_table_stats", "q", tables),
        ],
    );
    let f = &findings[0];
    assert!(
        f.title.contains("812 ms on average over 14200 calls"),
        "{}",
        f.title
    );
    let all = all_text(&findings);
    assert!(
        all.contains("CREATE INDEX CONCURRENTLY ON orders (customer_email);"),
        "{all}"
    );
}

#[test]
fn a_missing_pg_stat_statements_says_how_to_enable_it() {
    let findings = diagnose(
        "slow_queries",
        &[failed(
            "pg_slow_queries",
            "q",
            "ERROR:  relation \"pg_stat_statements\" does not exist",
        )],
    );
    assert!(all_text(&findings).contains("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"));
}

#[test]
fn a_standby_that_received_but_did_not_replay_is_lagging() {
    let status =
        "in_recovery,replay_delay,receive_lsn,replay_lsn\nt,00:07:12.4,5A/1F000000,5A/0C000000\n";
    let findings = diagnose("replication", &[sql("pg_replica_status", "q", status)]);
    assert_eq!(findings[0].severity, Severity::Critical);
    assert!(
        findings[0].title.contains("7m 12s behind"),
        "{}",
        findings[0].title
    );
    let idle =
        "in_recovery,replay_delay,receive_lsn,replay_lsn\nt,00:40:00,5A/1F000000,5A/1F000000\n";
    let quiet = diagnose("replication", &[sql("pg_replica_status", "q", idle)]);
    assert_eq!(quiet[0].severity, Severity::Info);
}

#[test]
fn a_stopped_mysql_sql_thread_is_reported_with_its_error() {
    let status = "Replica_IO_Running,Replica_SQL_Running,Seconds_Behind_Source,Source_Host,Last_SQL_Error\n\
Yes,No,,10.1.1.5,\"Could not execute Write_rows event on table shop.orders; Duplicate entry '881' for key 'PRIMARY'\"\n";
    let findings = diagnose(
        "replication",
        &[sql("mysql_replica_status", "SHOW REPLICA STATUS", status)],
    );
    assert_eq!(findings[0].severity, Severity::Critical);
    assert!(findings[0].title.contains("SQL thread is not running"));
    assert!(all_text(&findings).contains("Duplicate entry"));
}

#[test]
fn dead_rows_over_a_fifth_of_a_table_are_bloat() {
    let tables = "schemaname,relname,seq_scan,idx_scan,n_live_tup,n_dead_tup,last_autovacuum\npublic,events,10,900000,400000,310000,2024-11-01 02:00:00+00\npublic,users,3,5000,90000,1200,\n";
    let findings = diagnose("bloat", &[sql("pg_table_stats", "q", tables)]);
    assert!(
        findings[0].title.contains("worst: events"),
        "{}",
        findings[0].title
    );
    assert!(all_text(&findings).contains("VACUUM (VERBOSE, ANALYZE) events;"));
}

#[test]
fn large_unused_indexes_are_listed_but_unique_ones_are_kept() {
    let idx = "schemaname,relname,indexrelname,idx_scan,index_bytes,indisunique,indisprimary\n\
public,orders,orders_legacy_status_idx,0,524288000,f,f\npublic,orders,orders_ref_key,0,104857600,t,f\n";
    let findings = diagnose("bloat", &[sql("pg_unused_indexes", "q", idx)]);
    let all = all_text(&findings);
    assert!(
        all.contains("DROP INDEX CONCURRENTLY public.orders_legacy_status_idx;"),
        "{all}"
    );
    assert!(
        !all.contains("DROP INDEX CONCURRENTLY public.orders_ref_key"),
        "{all}"
    );
}
