//! Lock queues: the root blocker, never its victims; deadlocks only from the log.

use squadron_core::Severity;

use super::{all_text, diagnose, failed, learned, log, sql, text};

const BLOCKING: &str = "pid,usename,application_name,state,wait_event_type,wait_event,blocked_by,xact_age,query\n\
48377,shop_app,checkout-api,active,Lock,transactionid,{48211},00:14:17.47,\"UPDATE inventory SET reserved = reserved + $1 WHERE sku = $2\"\n\
48390,shop_app,checkout-api,active,Lock,tuple,{48377},00:11:26.88,\"UPDATE inventory SET reserved = reserved + $1 WHERE sku = $2\"\n\
48433,inventory_sync,inventory-sync,active,Lock,tuple,{48377},00:02:27.98,\"UPDATE inventory SET stock = $1 WHERE sku = $2\"\n";

const ACTIVITY: &str = "pid,usename,datname,application_name,client_addr,xact_start,state_change,wait_event_type,wait_event,state,backend_type,xact_age,state_age,query\n\
48211,shop_app,shopdb,checkout-worker,10.20.4.17,2024-11-21 09:22:07+00,2024-11-21 09:22:07+00,Client,ClientRead,idle in transaction,client backend,00:40:22.88,00:40:22.59,\"UPDATE inventory SET reserved = reserved + $1 WHERE sku = $2\"\n\
48377,shop_app,shopdb,checkout-api,10.20.5.31,2024-11-21 09:48:12+00,2024-11-21 09:48:12+00,Lock,transactionid,active,client backend,00:14:17.47,00:14:17.45,\"UPDATE inventory SET reserved = reserved + $1 WHERE sku = $2\"\n\
48390,shop_app,shopdb,checkout-api,10.20.5.32,2024-11-21 09:51:03+00,2024-11-21 09:51:03+00,Lock,tuple,active,client backend,00:11:26.88,00:11:26.87,\"UPDATE inventory SET reserved = reserved + $1 WHERE sku = $2\"\n\
48433,inventory_sync,shopdb,inventory-sync,10.20.6.8,2024-11-21 10:00:02+00,2024-11-21 10:00:02+00,Lock,tuple,active,client backend,00:02:27.98,00:02:27.98,\"UPDATE inventory SET stock = $1 WHERE sku = $2\"\n\
1101,,,,,,,Activity,AutoVacuumMain,,autovacuum launcher,,,\n";

const SETTINGS: &str = "name,setting,unit,source\nidle_in_transaction_session_timeout,0,ms,default\nlock_timeout,0,ms,default\n";

const WAIT_LOG: &str = "\
2024-11-21 09:48:13.541 UTC [48377] shop_app@shopdb LOG:  process 48377 still waiting for ShareLock on transaction 918273645 after 1000.012 ms
2024-11-21 09:48:13.541 UTC [48377] shop_app@shopdb DETAIL:  Process holding the lock: 48211. Wait queue: 48377.
2024-11-21 09:51:04.122 UTC [48390] shop_app@shopdb LOG:  process 48390 still waiting for ExclusiveLock on tuple (1207,14) of relation 16421 of database 16384 after 1000.107 ms
2024-11-21 09:51:04.122 UTC [48390] shop_app@shopdb DETAIL:  Process holding the lock: 48377. Wait queue: 48390.
";

#[test]
fn root_blocker_is_the_idle_in_transaction_session_nobody_waits_for() {
    let runs = [
        sql("pg_blocking", "SELECT pg_blocking_pids(pid)", BLOCKING),
        sql("pg_activity", "SELECT * FROM pg_stat_activity", ACTIVITY),
        sql("pg_settings", "SELECT * FROM pg_settings", SETTINGS),
    ];
    let findings = diagnose("locks", &runs);
    let root = &findings[0];
    assert_eq!(root.severity, Severity::Critical);
    assert!(
        root.title.contains("48211") && root.title.contains("idle in transaction for 40m"),
        "{}",
        root.title
    );
    assert!(root.title.contains("blocks 3 sessions"), "{}", root.title);
    let all = all_text(&findings);
    assert!(all.contains("pg_terminate_backend(48211)"), "{all}");
    assert!(
        all.contains("idle_in_transaction_session_timeout = '5min'"),
        "{all}"
    );
    assert!(all.contains("48377 is itself blocked"), "{all}");
    assert!(!all.contains("pg_terminate_backend(48377)"), "{all}");
    assert!(!all.to_lowercase().contains("deadlock"), "{all}");
}

#[test]
fn the_root_blocker_is_learned_for_the_terminate_proposal_and_forgotten_when_nobody_waits() {
    let mut e = learned(&[sql("pg_blocking", "q", BLOCKING)]);
    assert_eq!(e.get("root_blocker_pid"), Some("48211"));
    crate::database::learn::learn(&sql("pg_blocking", "q", "pid,blocked_by\n"), &mut e);
    assert_eq!(e.get("root_blocker_pid"), None);
}

#[test]
fn without_the_blocking_query_the_chain_comes_from_the_log() {
    let runs = [
        failed("pg_blocking", "q", "permission denied"),
        sql("pg_activity", "q", ACTIVITY),
        log("pg_log", WAIT_LOG),
    ];
    let findings = diagnose("locks", &runs);
    assert!(
        findings[0].title.contains("pid 48211"),
        "{}",
        findings[0].title
    );
    assert!(text(&findings[0]).contains("server log's lock-wait messages"));
}

#[test]
fn without_any_graph_the_oldest_idle_transaction_is_the_likely_holder() {
    let findings = diagnose("locks", &[sql("pg_activity", "q", ACTIVITY)]);
    let f = &findings[0];
    assert_eq!(f.severity, Severity::Warning);
    assert!(
        f.title.contains("3 sessions waiting on locks"),
        "{}",
        f.title
    );
    assert!(
        text(f).contains("likely holder is pid 48211"),
        "{}",
        text(f)
    );
}

#[test]
fn a_deadlock_is_named_only_when_the_log_says_it_was_detected() {
    let log_text = "2024-11-21 10:00:00 UTC [7] a@b ERROR:  deadlock detected\n2024-11-21 10:00:00 UTC [7] a@b DETAIL:  Process 7 waits for ShareLock on transaction 5; blocked by process 8.\n";
    let findings = diagnose("locks", &[log("pg_log", log_text)]);
    assert!(
        findings
            .iter()
            .any(|f| f.title.contains("deadlock detected"))
    );
    let quiet = diagnose("locks", &[log("pg_log", WAIT_LOG)]);
    assert!(!all_text(&quiet).to_lowercase().contains("deadlock"));
}

#[test]
fn nobody_waiting_is_a_note_only_when_asked_about_locks() {
    let calm =
        "pid,state,wait_event_type,backend_type,state_age\n1,active,,client backend,00:00:01\n";
    let asked = diagnose("locks", &[sql("pg_activity", "q", calm)]);
    assert_eq!(asked[0].severity, Severity::Info);
    assert!(diagnose("health", &[sql("pg_activity", "q", calm)]).is_empty());
}

const MYSQL_WAITS: &str = "waiting_pid,waiting_query,blocking_pid,blocking_query,blocking_trx_age,locked_table\n\
9003,\"UPDATE cart_items SET qty = 2 WHERE id = 5\",8812,,00:31:02,`shop`.`cart_items`\n\
9010,\"UPDATE cart_items SET qty = 3 WHERE id = 5\",8812,,00:31:02,`shop`.`cart_items`\n\
9010,\"UPDATE cart_items SET qty = 3 WHERE id = 5\",9003,\"UPDATE cart_items SET qty = 2 WHERE id = 5\",00:01:37,`shop`.`cart_items`\n";

const MYSQL_TRX: &str = "trx_id,trx_state,trx_age_seconds,trx_rows_locked,thread_id,user,host,command,time,trx_query\n\
5521118,RUNNING,1862,3,8812,cart,10.0.0.4:5331,Sleep,1858,\n\
5521909,LOCK WAIT,97,1,9003,cart,10.0.0.5:4012,Query,97,\"UPDATE cart_items SET qty = 2 WHERE id = 5\"\n";

const PROCESSLIST: &str = "id,user,host,db,command,time,state,info\n\
8812,cart,10.0.0.4:5331,shop,Sleep,1858,,\n\
9003,cart,10.0.0.5:4012,shop,Query,97,updating,\"UPDATE cart_items SET qty = 2 WHERE id = 5\"\n\
9010,cart,10.0.0.6:4013,shop,Query,50,updating,\"UPDATE cart_items SET qty = 3 WHERE id = 5\"\n";

#[test]
fn mysql_root_blocker_is_the_sleeping_thread_with_an_open_transaction() {
    let runs = [
        sql(
            "mysql_lock_waits",
            "SELECT * FROM sys.innodb_lock_waits",
            MYSQL_WAITS,
        ),
        sql(
            "mysql_transactions",
            "SELECT * FROM information_schema.INNODB_TRX",
            MYSQL_TRX,
        ),
        sql(
            "mysql_processlist",
            "SELECT * FROM information_schema.PROCESSLIST",
            PROCESSLIST,
        ),
        sql(
            "mysql_variables",
            "SHOW GLOBAL VARIABLES",
            "Variable_name,Value\ninnodb_lock_wait_timeout,50\nwait_timeout,28800\n",
        ),
    ];
    let findings = diagnose("locks", &runs);
    let root = &findings[0];
    assert!(
        root.title.contains("thread 8812 (cart@10.0.0.4)"),
        "{}",
        root.title
    );
    assert!(
        root.title
            .contains("idle (Sleep) with an open transaction for 31m"),
        "{}",
        root.title
    );
    let all = all_text(&findings);
    assert!(
        all.contains("KILL 8812;") && !all.contains("KILL 9003;"),
        "{all}"
    );
    assert!(all.contains("wait_timeout = 600"), "{all}");
    assert!(
        !all.contains("running for over a minute"),
        "waiters are not slow queries: {all}"
    );
    assert_eq!(learned(&runs).get("root_blocker_pid"), Some("8812"));
}

#[test]
fn a_missing_sys_schema_switches_to_the_next_lock_source() {
    let e = learned(&[failed("mysql_lock_waits", "q", "Unknown database 'sys'")]);
    assert_eq!(e.get("mysql_sys_missing"), Some("true"));
    let e = learned(&[
        failed("mysql_lock_waits", "q", "Unknown database 'sys'"),
        failed("mysql_data_lock_waits", "q", "doesn't exist"),
        sql("mysql_innodb_lock_waits", "q", MYSQL_WAITS),
    ]);
    assert_eq!(e.get("mysql_ps_locks_missing"), Some("true"));
    assert_eq!(e.get("root_blocker_pid"), Some("8812"));
}

#[test]
fn the_pair_shape_reports_the_roots_state_when_activity_is_missing() {
    let pairs = "blocked_pid,blocked_user,blocking_pid,blocking_user,blocking_state\n\
48377,shop_app,48211,shop_app,idle in transaction\n48390,shop_app,48377,shop_app,active\n";
    let findings = diagnose("locks", &[sql("pg_blocking", "q", pairs)]);
    assert!(
        findings[0]
            .title
            .contains("pid 48211 is idle in transaction"),
        "{}",
        findings[0].title
    );
    assert!(all_text(&findings).contains("pg_terminate_backend(48211)"));
}
