//! Checks a turn's answer and commands against its expectations (SPEC section 5: terms are
//! case-insensitive substrings, or regexes after `re:`; `tools_ran` are case-insensitive
//! regexes over the turn's canonical command lines).

use regex::{Regex, RegexBuilder};

use super::scenario::Expect;

fn term_matches(term: &str, answer: &str, lower: &str) -> Result<bool, String> {
    match term.strip_prefix("re:") {
        Some(pattern) => RegexBuilder::new(pattern)
            .case_insensitive(true)
            .build()
            .map(|re| re.is_match(answer))
            .map_err(|e| format!("bad regex term {term:?}: {e}")),
        None => Ok(lower.contains(&term.to_lowercase())),
    }
}

/// The failures of one turn; empty when it passed.
pub fn check(expect: &Expect, answer: &str, commands: &[String]) -> Vec<String> {
    let lower = answer.to_lowercase();
    let mut failures = Vec::new();
    let mut test = |term: &str| match term_matches(term, answer, &lower) {
        Ok(hit) => hit,
        Err(e) => {
            failures.push(e);
            false
        }
    };
    let mut missing = Vec::new();
    for t in &expect.all {
        if !test(t) {
            missing.push(format!("{t:?}"));
        }
    }
    let mut group_misses = Vec::new();
    for group in expect.any.groups() {
        if !group.iter().any(|t| test(t)) {
            group_misses.push(format!("one of {group:?}"));
        }
    }
    let mut forbidden = Vec::new();
    for t in &expect.none {
        if test(t) {
            forbidden.push(format!("{t:?}"));
        }
    }
    if !missing.is_empty() {
        failures.push(format!("missing {}", missing.join(", ")));
    }
    failures.extend(group_misses.into_iter().map(|g| format!("missing {g}")));
    if !forbidden.is_empty() {
        failures.push(format!("must not say {}", forbidden.join(", ")));
    }
    for pattern in &expect.tools_ran {
        match Regex::new(&format!("(?i){pattern}")) {
            Ok(re) if commands.iter().any(|c| re.is_match(c)) => {}
            Ok(_) => failures.push(format!("no command matched /{pattern}/")),
            Err(e) => failures.push(format!("bad tools_ran regex {pattern:?}: {e}")),
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::scenario::AnyTerms;

    fn expect() -> Expect {
        Expect {
            all: vec!["database.yaml".into(), "re:config\\s*map".into()],
            any: AnyTerms::Groups(vec![
                vec!["not mounted".into(), "volumeMount".into()],
                vec!["fix".into()],
            ]),
            none: vec!["OOMKilled".into()],
            tools_ran: vec![r"kubectl\b.*\blogs\b".into()],
        }
    }

    #[test]
    fn a_matching_answer_passes() {
        let answer = "Database.yaml is missing: the Config Map is NOT MOUNTED. Fix: add a volume.";
        assert!(
            check(
                &expect(),
                answer,
                &["kubectl logs web --previous=true".into()]
            )
            .is_empty()
        );
    }

    #[test]
    fn each_kind_of_miss_is_reported() {
        let failures = check(&expect(), "OOMKilled", &["kubectl get pods".into()]);
        let text = failures.join("; ");
        assert!(text.contains("missing \"database.yaml\""), "{text}");
        assert!(text.contains("missing one of"), "{text}");
        assert!(text.contains("must not say \"OOMKilled\""), "{text}");
        assert!(text.contains("no command matched"), "{text}");
    }
}
