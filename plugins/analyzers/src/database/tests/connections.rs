//! Connection exhaustion: used slots against what ordinary roles may open, attributed to the
//! biggest holder.

use squadron_core::Severity;

use super::{all_text, diagnose, learned, log, sql};

const USAGE: &str = "max_connections,used,superuser_reserved_connections\n100,98,3\n";

const GROUPS: &str = "usename,application_name,client_addr,state,count\n\
billing_batch,invoice-exporter,10.30.2.41,idle,94\n\
billing_batch,invoice-exporter,10.30.2.41,active,3\n\
postgres,squadron-agent,,active,1\n\
,\"\",,,4\n";

const ROLES: &str = "rolname,rolsuper,rolconnlimit\nbilling_batch,f,-1\npostgres,t,-1\n";

const REFUSALS: &str = "\
2024-11-21 02:31:05.118 UTC [64811] orders_web@ordersdb FATAL:  sorry, too many clients already
2024-11-21 10:02:17.412 UTC [73318] reporting@ordersdb FATAL:  remaining connection slots are reserved for non-replication superuser connections
";

fn exhausted() -> Vec<squadron_core::ToolRun> {
    vec![
        sql(
            "pg_connection_usage",
            "SELECT max_connections FROM pg_stat_activity",
            USAGE,
        ),
        sql(
            "pg_settings",
            "SELECT * FROM pg_settings",
            "name,setting,unit\nidle_session_timeout,0,ms\n",
        ),
        sql(
            "pg_connection_groups",
            "SELECT count(*) FROM pg_stat_activity",
            GROUPS,
        ),
        sql("pg_roles", "SELECT * FROM pg_roles", ROLES),
        log("pg_log", REFUSALS),
    ]
}

#[test]
fn exhausted_slots_are_attributed_to_the_biggest_holder() {
    let findings = diagnose("connections", &exhausted());
    let f = &findings[0];
    assert_eq!(f.severity, Severity::Critical);
    assert!(
        f.title.starts_with(
            "invoice-exporter (user billing_batch from 10.30.2.41) holds 97 of the 98"
        ),
        "{}",
        f.title
    );
    assert!(f.title.contains("all 97 slots"), "{}", f.title);
    let all = all_text(&findings);
    assert!(all.contains("94 idle, 3 active"), "{all}");
    assert!(all.contains("1 of them by superusers (postgres)"), "{all}");
    assert!(
        all.contains("turning away orders_web and reporting"),
        "{all}"
    );
    assert!(
        all.contains("ALTER ROLE billing_batch CONNECTION LIMIT"),
        "{all}"
    );
    assert!(all.contains("idle_session_timeout = '15min'"), "{all}");
    assert!(all.contains("pool_mode = transaction"), "{all}");
    assert!(
        all.contains("application_name = 'invoice-exporter' AND state LIKE 'idle%'"),
        "{all}"
    );
    assert!(!all.to_lowercase().contains("deadlock"), "{all}");
}

#[test]
fn saturation_and_the_leaking_application_are_learned_for_the_idle_clean_up() {
    let e = learned(&exhausted());
    assert_eq!(e.get("connections_saturated"), Some("true"));
    assert_eq!(e.get("top_application"), Some("invoice-exporter"));
    let calm = learned(&[sql(
        "pg_connection_usage",
        "q",
        "max_connections,used,superuser_reserved_connections\n100,20,3\n",
    )]);
    assert_eq!(calm.get("connections_saturated"), None);
}

#[test]
fn connections_well_below_the_limit_are_only_a_note_when_asked() {
    let runs = [
        sql(
            "pg_connection_usage",
            "q",
            "max_connections,used,superuser_reserved_connections\n100,21,3\n",
        ),
        sql(
            "pg_connection_groups",
            "q",
            "usename,application_name,client_addr,state,count\napp,web,10.0.0.1,idle,15\napp,web,10.0.0.1,active,6\n",
        ),
    ];
    let asked = diagnose("connections", &runs);
    assert_eq!(asked[0].severity, Severity::Info);
    assert!(asked[0].fixes.is_empty());
    assert!(diagnose("health", &runs).is_empty());
}

#[test]
fn refusals_in_the_log_warn_even_when_slots_are_free_now() {
    let runs = [
        sql(
            "pg_connection_usage",
            "q",
            "max_connections,used,superuser_reserved_connections\n100,40,3\n",
        ),
        log("pg_log", REFUSALS),
    ];
    let findings = diagnose("health", &runs);
    assert_eq!(findings[0].severity, Severity::Warning);
    assert!(all_text(&findings).contains("2024-11-21 02:31:05"));
}

const MYSQL_GROUPS: &str = "user,client_host,command,count,max_time\n\
crm_app,172.16.5.10,Sleep,462,14187\ncrm_app,172.16.5.10,Query,8,2\nreporter,10.0.0.9,Sleep,20,297\nevent_scheduler,localhost,Daemon,1,51233\n";

#[test]
fn mysql_threads_at_max_connections_are_attributed_to_the_sleeping_account() {
    let runs = [
        sql(
            "mysql_variables",
            "SHOW GLOBAL VARIABLES",
            "Variable_name,Value\nmax_connections,500\nwait_timeout,28800\n",
        ),
        sql(
            "mysql_status",
            "SHOW GLOBAL STATUS",
            "Variable_name,Value\nThreads_connected,501\nMax_used_connections,501\nConnection_errors_max_connections,2214\n",
        ),
        sql(
            "mysql_connection_groups",
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST",
            MYSQL_GROUPS,
        ),
        sql(
            "mysql_user_limits",
            "SELECT * FROM mysql.user",
            "user,host,max_user_connections\ncrm_app,%,0\n",
        ),
    ];
    let findings = diagnose("connections", &runs);
    let f = &findings[0];
    assert_eq!(f.severity, Severity::Critical);
    assert!(
        f.title
            .contains("crm_app from 172.16.5.10 holds 470 of the 501"),
        "{}",
        f.title
    );
    let all = all_text(&findings);
    assert!(all.contains("462 Sleep, 8 Query"), "{all}");
    assert!(all.contains("2214 connections were refused"), "{all}");
    assert!(
        all.contains("ALTER USER 'crm_app'@'%' WITH MAX_USER_CONNECTIONS 16;"),
        "{all}"
    );
    assert!(all.contains("SET GLOBAL wait_timeout = 600"), "{all}");
}
