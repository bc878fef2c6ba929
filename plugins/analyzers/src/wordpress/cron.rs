//! WP-Cron: events that are due and stay due mean nothing runs them. The reason is in
//! wp-config.php (DISABLE_WP_CRON without a system cron job) or in `wp cron test` (the
//! loopback request to wp-cron.php fails).

use chrono::NaiveDateTime;
use squadron_core::{Finding, Investigation, Severity};

use super::common;
use super::wplist;

/// Backlogs larger than this slow every request that loads the cron option.
const BLOATED: usize = 1000;

/// One scheduled event.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Event {
    hook: String,
    next_gmt: String,
    relative: String,
    recurrence: String,
}

impl Event {
    /// Due: wp-cli says `now`, or (without that column) the time is past the clock.
    fn is_due(&self, now: i64) -> bool {
        if !self.relative.is_empty() {
            return self.relative == "now" || self.relative.contains("ago");
        }
        NaiveDateTime::parse_from_str(&self.next_gmt, "%Y-%m-%d %H:%M:%S")
            .is_ok_and(|t| t.and_utc().timestamp() + 600 < now)
    }
}

fn events(text: &str) -> Vec<Event> {
    wplist::rows(text)
        .into_iter()
        .filter_map(|r| {
            Some(Event {
                hook: r.value(&["hook"])?.to_owned(),
                next_gmt: r
                    .get(&["next_run_gmt", "next_run"])
                    .unwrap_or_default()
                    .trim()
                    .to_owned(),
                relative: r
                    .get(&["next_run_relative"])
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase(),
                recurrence: r.get(&["recurrence"]).unwrap_or_default().trim().to_owned(),
            })
        })
        .collect()
}

/// Findings about WP-Cron; `asked` when the user asked about cron, so a healthy list is
/// worth a note.
pub fn findings(inv: &Investigation<'_>, asked: bool) -> Vec<Finding> {
    let Some(run) = inv.last("wp_cron_list").filter(|r| r.output.ok()) else {
        return Vec::new();
    };
    let all = events(&run.output.stdout);
    if all.is_empty() {
        return Vec::new();
    }
    let due: Vec<&Event> = all.iter().filter(|e| e.is_due(inv.now)).collect();
    let path = common::wordpress_path(inv.entities);
    let mut out = Vec::new();
    if all.len() > BLOATED {
        out.push(
            Finding::new(Severity::Warning, format!("The cron option holds {} events", all.len()))
                .detail("WordPress loads and rewrites this option on every request; a plugin schedules events without clearing them.")
                .fix_with_code(
                    "Find the hook that repeats and delete its extra events:",
                    "sh",
                    format!("wp cron event list --fields=hook --format=csv --skip-plugins --skip-themes --path={path} | sort | uniq -c | sort -rn | head"),
                ),
        );
    }
    if due.is_empty() {
        if asked {
            out.push(Finding::new(
                Severity::Info,
                format!(
                    "WP-Cron is keeping up: none of the {} scheduled events is overdue",
                    all.len()
                ),
            ));
        }
        return out;
    }
    let oldest = due
        .iter()
        .map(|e| e.next_gmt.as_str())
        .filter(|t| !t.is_empty())
        .min()
        .unwrap_or("");
    let mut f = Finding::new(
        Severity::Warning,
        format!(
            "WP-Cron is not running: {} of {} scheduled events are overdue",
            due.len(),
            all.len()
        ),
    )
    .detail(format!("The oldest was due at {oldest} GMT."))
    .evidence(
        run.command(),
        due.iter().take(6).map(|e| {
            format!(
                "{}\t{}\t{}\t{}",
                e.hook, e.next_gmt, e.relative, e.recurrence
            )
        }),
    );
    let config = common::wp_config(inv);
    let disabled = config
        .as_ref()
        .is_some_and(|(c, _)| c.is_true("DISABLE_WP_CRON"));
    if let Some((c, src)) = config.as_ref().filter(|_| disabled) {
        f = f
            .detail("wp-config.php sets DISABLE_WP_CRON, so page views never run due events; a system cron job must, and none does.")
            .evidence(src, c.line("DISABLE_WP_CRON").map(str::to_owned));
        f = f.fix_with_code(
            "Run due events from the system crontab of the web user every 5 minutes (crontab -e -u www-data):",
            "sh",
            format!("*/5 * * * * wp cron event run --due-now --quiet --path={path}"),
        );
    }
    if let Some(test) = inv.last("wp_cron_test") {
        let line = common::first_error_line(test).unwrap_or_default();
        if !test.output.ok() && !line.contains("DISABLE_WP_CRON") {
            f = f
                .detail(format!("The loopback request that spawns WP-Cron fails: {line}"))
                .evidence(test.command(), [line])
                .fix(
                    "Let the server reach its own URL: the site's host name must resolve to this server from itself, and no firewall, basic auth or security plugin may block wp-cron.php.",
                );
        }
    }
    if !disabled {
        f = f.fix_with_code(
            "On low-traffic sites WP-Cron only runs when someone visits; a system cron job makes it reliable:",
            "php",
            "define( 'DISABLE_WP_CRON', true ); // in wp-config.php, together with the crontab line below",
        )
        .fix_with_code(
            "And in the web user's crontab:",
            "sh",
            format!("*/5 * * * * wp cron event run --due-now --quiet --path={path}"),
        );
    }
    f = f.fix_with_code(
        "Run the overdue events once now:",
        "sh",
        format!("wp cron event run --due-now --path={path}"),
    );
    out.push(f);
    out
}
