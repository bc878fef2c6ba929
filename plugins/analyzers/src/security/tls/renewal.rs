//! Whether automatic renewal will replace a certificate: the certbot timer's unit state, its
//! place in `systemctl list-timers`, and what certbot's log says about its last runs.

use squadron_core::{Investigation, ToolRun};

use super::super::{clock, tool};

/// certbot's log: the command, the last stamp written, the last run's error lines.
pub type RenewalLog = (String, Option<(i64, String)>, Vec<String>);

/// What the host says about certbot's renewal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Renewal {
    /// `systemctl is-enabled certbot.timer`: (command, state, the line it printed).
    pub unit_state: Option<(String, String, String)>,
    /// `systemctl list-timers`: (command, the certbot line if any, whether it is scheduled).
    pub timer: Option<(String, Option<String>, bool)>,
    /// certbot's log.
    pub log: Option<RenewalLog>,
}

impl Renewal {
    /// Whether renewal is known to run on a schedule.
    pub fn scheduled(&self) -> Option<bool> {
        let by_timer = self.timer.as_ref().map(|t| t.2);
        let by_unit = self.unit_state.as_ref().map(|u| u.1 == "enabled");
        match (by_timer, by_unit) {
            (Some(true), _) => Some(true),
            (Some(false), _) => Some(false),
            (None, u) => u,
        }
    }

    /// Whether the last recorded runs failed.
    pub fn failing(&self) -> bool {
        self.log.as_ref().is_some_and(|l| !l.2.is_empty())
    }

    /// Sentences about renewal, for details.
    pub fn describe(&self, now: i64) -> Vec<String> {
        let mut out = Vec::new();
        let state = self.unit_state.as_ref().map(|u| u.1.as_str());
        match (self.scheduled(), state) {
            (Some(false), Some(s)) => out.push(format!("Automatic renewal is off: certbot.timer is {s} and is not among the scheduled timers.")),
            (Some(false), None) => out.push("Automatic renewal is off: no certbot timer is scheduled.".to_owned()),
            (Some(true), _) => out.push("A certbot timer is scheduled.".to_owned()),
            (None, _) => {}
        }
        if let Some((_, Some((ts, text)), errors)) = &self.log {
            out.push(format!(
                "certbot's log was last written {text} ({} ago).",
                clock::span(now - ts)
            ));
            if !errors.is_empty() {
                out.push(format!(
                    "Its last run failed ({} error lines, quoted below).",
                    errors.len()
                ));
            }
        }
        out
    }
}

fn unit_state(run: &ToolRun) -> Option<String> {
    let out = run.output.text();
    let lower = out.to_ascii_lowercase();
    if lower.contains("no such file") || lower.contains("not found") || lower.contains("not-found")
    {
        return Some("not installed".to_owned());
    }
    out.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_owned)
}

fn timer_line(run: &ToolRun) -> Option<(Option<String>, bool)> {
    if !run.output.ok() {
        return None;
    }
    let line = run
        .output
        .stdout
        .lines()
        .find(|l| l.contains("certbot"))
        .map(|l| l.trim().to_owned());
    let scheduled = line
        .as_deref()
        .is_some_and(|l| !(l.starts_with("n/a") || l.starts_with('-')));
    Some((line, scheduled))
}

const ERROR_MARKS: &[&str] = &[
    ":ERROR:",
    "Failed to renew",
    "failed to renew",
    "Challenge failed",
    "Some challenges have failed",
    "All renewals failed",
    "Detail:",
    "Timeout during connect",
    "Connection refused",
    "unauthorized",
];

fn log_state(text: &str) -> (Option<(i64, String)>, Vec<String>) {
    let mut last = None;
    let mut run_start = 0;
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if let Some(ts) = line.get(..19).and_then(clock::parse_iso) {
            if line.contains("certbot version") {
                run_start = i;
            }
            last = Some((ts, line.get(..19).unwrap_or("").to_owned()));
        }
    }
    let errors = lines
        .get(run_start..)
        .unwrap_or_default()
        .iter()
        .filter(|l| ERROR_MARKS.iter().any(|m| l.contains(m)))
        .map(|l| l.trim().to_owned())
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    (last, errors)
}

/// Reads the renewal state from this turn's runs.
pub fn read(inv: &Investigation<'_>) -> Renewal {
    let mut r = Renewal::default();
    for run in inv.runs_of(tool::UNIT_ENABLED) {
        if run.arg("unit").is_some_and(|u| u.contains("certbot"))
            && let Some(state) = unit_state(run)
            && r.unit_state.as_ref().is_none_or(|(_, s, _)| s != "enabled")
        {
            let line = run
                .output
                .text()
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or("")
                .to_owned();
            r.unit_state = Some((run.command().to_owned(), state, line));
        }
    }
    if let Some(run) = inv.last(tool::TIMERS) {
        r.timer = timer_line(run).map(|(line, s)| (run.command().to_owned(), line, s));
    }
    if let Some(run) = inv
        .last(tool::CERTBOT_LOG)
        .filter(|r| r.output.ok() && !r.output.stdout.trim().is_empty())
    {
        let (last, errors) = log_state(&run.output.stdout);
        r.log = Some((run.command().to_owned(), last, errors));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_run_and_its_errors_come_from_the_log() {
        let log = "2024-08-28 10:14:02,411:DEBUG:certbot._internal.main:certbot version: 1.21.0
2024-08-28 10:14:21,540:INFO:certbot._internal.renewal:Congratulations, all renewals succeeded:
2024-11-20 03:10:00,100:DEBUG:certbot._internal.main:certbot version: 1.21.0
2024-11-20 03:10:04,200:ERROR:certbot._internal.renewal:Failed to renew certificate shop.example.com with error: Some challenges have failed.
";
        let (last, errors) = log_state(log);
        assert_eq!(last.map(|l| l.1).as_deref(), Some("2024-11-20 03:10:04"));
        assert_eq!(errors.len(), 1, "{errors:?}");
        let (_, ok) = log_state(
            "2024-08-28 10:14:02,411:DEBUG:certbot._internal.main:certbot version: 1.21.0\n2024-08-28 10:14:21,540:INFO:x:Congratulations, all renewals succeeded:\n",
        );
        assert!(ok.is_empty());
    }

    #[test]
    fn a_timer_missing_from_the_list_is_not_scheduled() {
        let r = Renewal {
            unit_state: Some((
                "systemctl is-enabled certbot.timer".into(),
                "disabled".into(),
                "disabled".into(),
            )),
            timer: Some(("systemctl list-timers".into(), None, false)),
            log: None,
        };
        assert_eq!(r.scheduled(), Some(false));
        assert!(r.describe(0)[0].contains("certbot.timer is disabled"));
        let snap = Renewal {
            timer: Some((
                String::new(),
                Some("Thu 2024-11-21 10:00:00 UTC 2h left ... snap.certbot.renew.timer".into()),
                true,
            )),
            ..r
        };
        assert_eq!(snap.scheduled(), Some(true));
    }
}
