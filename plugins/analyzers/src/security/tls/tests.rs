//! Certificate expiry, end to end: clock, certificate views and renewal state in, findings out.

use squadron_core::{Entities, Severity, ToolRun};

use super::super::clock::parse_loose;
use super::super::testkit::{diagnose, run, run_with, text};
use super::super::tool;

fn probe(not_after: &str) -> ToolRun {
    run(
        tool::TLS_PROBE,
        "openssl s_client -connect app.example.io:443 -servername app.example.io",
        0,
        &format!(
            "CONNECTED(00000003)\n---\nCertificate chain\n 0 s:CN = app.example.io\n   i:C = US, O = Let's Encrypt, CN = R10\n   v:NotBefore: Jan  1 00:00:00 2025 GMT; NotAfter: {not_after}\n---\nServer certificate\nsubject=CN = app.example.io\nissuer=C = US, O = Let's Encrypt, CN = R10\n---\n"
        ),
        "",
    )
}

fn date(line: &str) -> ToolRun {
    run(tool::CLOCK, "date -u", 0, &format!("{line}\n"), "")
}

fn certbot(expiry: &str) -> ToolRun {
    run(
        tool::CERTBOT,
        "certbot certificates",
        0,
        &format!(
            "Found the following certs:\n  Certificate Name: app.example.io\n    Domains: app.example.io\n    Expiry Date: {expiry}\n    Certificate Path: /etc/letsencrypt/live/app.example.io/fullchain.pem\n"
        ),
        "",
    )
}

fn timer(state: &str, listed: bool) -> Vec<ToolRun> {
    let timers = if listed {
        "NEXT                        LEFT     LAST PASSED UNIT          ACTIVATES\nMon 2025-03-31 12:00:00 UTC 3h left  n/a  n/a    certbot.timer certbot.service\n"
    } else {
        "NEXT                        LEFT     LAST PASSED UNIT            ACTIVATES\nMon 2025-03-31 00:00:00 UTC 15h left n/a  n/a    logrotate.timer logrotate.service\n"
    };
    vec![
        run_with(
            tool::UNIT_ENABLED,
            "systemctl is-enabled certbot.timer",
            &[("unit", "certbot.timer")],
            i32::from(state != "enabled"),
            &format!("{state}\n"),
            "",
        ),
        run(
            tool::TIMERS,
            "systemctl list-timers --all --no-pager",
            0,
            timers,
            "",
        ),
    ]
}

fn entities() -> Entities {
    let mut e = Entities::new();
    e.set("domain", "app.example.io");
    e
}

#[test]
fn days_left_come_from_the_host_clock_not_the_engine_clock() {
    let mut runs = vec![
        date("Sun Mar 30 09:00:00 UTC 2025"),
        probe("Apr  2 09:00:00 2025 GMT"),
    ];
    runs.extend(timer("disabled", false));
    let engine_now = parse_loose("2030-01-01T00:00:00Z").unwrap_or_default();
    let f = diagnose("tls", &runs, &mut entities(), engine_now);
    assert_eq!(f[0].severity, Severity::Critical);
    assert_eq!(
        f[0].title,
        "TLS certificate for app.example.io expires in 3 days (Apr  2 09:00:00 2025 GMT) and automatic renewal is off"
    );
    let all = text(&f);
    assert!(
        all.contains("sudo certbot renew --cert-name app.example.io"),
        "{all}"
    );
    assert!(
        all.contains("systemctl enable --now certbot.timer"),
        "{all}"
    );
    assert!(all.contains("3.0 days left"), "{all}");
}

#[test]
fn without_the_host_clock_the_engine_clock_is_used_and_said() {
    let now = parse_loose("2025-03-01T00:00:00Z").unwrap_or_default();
    let f = diagnose(
        "tls",
        &[probe("Mar 11 00:00:00 2025 GMT")],
        &mut entities(),
        now,
    );
    assert!(f[0].title.contains("expires in 10 days"), "{}", f[0].title);
    assert!(text(&f).contains("engine's clock"));
}

#[test]
fn an_expired_certificate_says_so() {
    let runs = vec![
        date("Thu Apr 10 12:00:00 UTC 2025"),
        probe("Apr  2 09:00:00 2025 GMT"),
    ];
    let f = diagnose("tls", &runs, &mut entities(), 0);
    assert!(f[0].title.contains("expired 8 days ago"), "{}", f[0].title);
    assert_eq!(f[0].severity, Severity::Critical);
}

#[test]
fn a_healthy_certificate_with_a_scheduled_timer_is_a_note() {
    let mut runs = vec![
        date("Sat Mar  1 00:00:00 UTC 2025"),
        probe("May 30 00:00:00 2025 GMT"),
    ];
    runs.extend(timer("enabled", true));
    let f = diagnose("tls", &runs, &mut entities(), 0);
    assert_eq!(f[0].severity, Severity::Info);
    assert!(
        f[0].title.contains("is valid for 90 days more"),
        "{}",
        f[0].title
    );
    assert!(!text(&f).contains("certbot renew --cert-name"));
}

#[test]
fn a_renewed_file_that_is_not_served_asks_for_a_reload() {
    let runs = vec![
        date("Sun Mar 30 09:00:00 UTC 2025"),
        probe("Apr  5 09:00:00 2025 GMT"),
        certbot("2025-06-28 09:00:00+00:00 (VALID: 89 days)"),
    ];
    let f = diagnose("tls", &runs, &mut entities(), 0);
    let all = text(&f);
    assert!(all.contains("has not been reloaded"), "{all}");
    assert!(all.contains("sudo systemctl reload nginx"), "{all}");
}

#[test]
fn renewal_errors_in_the_certbot_log_are_quoted() {
    let mut runs = vec![
        date("Sun Mar 30 09:00:00 UTC 2025"),
        probe("Apr 20 09:00:00 2025 GMT"),
    ];
    runs.extend(timer("enabled", true));
    runs.push(run(tool::CERTBOT_LOG, "read_file /var/log/letsencrypt/letsencrypt.log --tail=300", 0, "2025-03-30 03:00:01,100:DEBUG:certbot._internal.main:certbot version: 2.9.0\n2025-03-30 03:00:09,900:ERROR:certbot._internal.renewal:Failed to renew certificate app.example.io with error: Some challenges have failed.\n", ""));
    let f = diagnose("tls", &runs, &mut entities(), 0);
    assert_eq!(f[0].severity, Severity::Warning);
    assert!(
        f[0].title.ends_with("and its renewal is failing"),
        "{}",
        f[0].title
    );
    assert!(
        f[0].evidence
            .iter()
            .any(|e| e.lines.iter().any(|l| l.contains("Failed to renew")))
    );
}

#[test]
fn other_certbot_certificates_about_to_expire_are_reported_too() {
    let out = "Found the following certs:\n  Certificate Name: old.example.io\n    Domains: old.example.io\n    Expiry Date: 2025-04-01 00:00:00+00:00 (VALID: 2 days)\n    Certificate Path: /etc/letsencrypt/live/old.example.io/fullchain.pem\n";
    let runs = vec![
        date("Sun Mar 30 00:00:00 UTC 2025"),
        run(tool::CERTBOT, "certbot certificates", 0, out, ""),
    ];
    let f = diagnose("compliance", &runs, &mut Entities::new(), 0);
    assert!(
        f.iter().any(|x| x
            .title
            .starts_with("certbot certificate old.example.io expires in 2 days")),
        "{f:#?}"
    );
}

#[test]
fn without_a_domain_every_certbot_certificate_is_listed() {
    let out = "Found the following certs:\n  Certificate Name: a.example.io\n    Domains: a.example.io\n    Expiry Date: 2025-05-20 00:00:00+00:00 (VALID: 51 days)\n    Certificate Path: /etc/letsencrypt/live/a.example.io/fullchain.pem\n  Certificate Name: b.example.io\n    Domains: b.example.io www.b.example.io\n    Expiry Date: 2025-06-20 00:00:00+00:00 (VALID: 82 days)\n    Certificate Path: /etc/letsencrypt/live/b.example.io/fullchain.pem\n";
    let runs = vec![
        date("Sun Mar 30 00:00:00 UTC 2025"),
        run(tool::CERTBOT, "certbot certificates", 0, out, ""),
    ];
    let f = diagnose("tls", &runs, &mut Entities::new(), 0);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(
        f[0].title,
        "2 certbot certificates; the soonest to expire is a.example.io in 51 days"
    );
    assert!(
        f[0].details[1].starts_with("b.example.io: 82 days left"),
        "{:?}",
        f[0].details
    );
}
