//! Which squad a message is for, which intent it expresses, and which entities it names.

use std::sync::Arc;

use squadron_core::squad::Intent;
use squadron_core::{Entities, Squad};

use crate::catalog::Catalog;

/// How strongly each intent of a squad matches a message: the number of its patterns that
/// match. Intents that match nothing are left out.
pub fn score_intents<'a>(squad: &'a Squad, message: &str) -> Vec<(&'a Intent, usize)> {
    squad
        .intents
        .iter()
        .map(|i| (i, i.patterns.iter().filter(|p| p.is_match(message)).count()))
        .filter(|(_, score)| *score > 0)
        .collect()
}

/// The best intent of a squad for a message: the highest score, the first on a tie; the
/// squad's default intent when nothing matches.
pub fn pick_intent<'a>(squad: &'a Squad, message: &str) -> Option<&'a Intent> {
    let mut best: Option<(&Intent, usize)> = None;
    for (intent, score) in score_intents(squad, message) {
        if best.is_none_or(|(_, b)| score > b) {
            best = Some((intent, score));
        }
    }
    best.map(|(i, _)| i).or_else(|| {
        squad
            .default_intent
            .as_deref()
            .and_then(|d| squad.intent(d))
    })
}

/// Why no squad could be chosen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("unknown squad `{asked}`; known squads: {known}")]
    UnknownSquad { asked: String, known: String },
    #[error("which squad should take this? Name one of: {known}")]
    NoMatch { known: String },
}

/// Picks the squad: the one asked for, else the conversation's, else the one whose intents
/// match the message best.
pub fn pick_squad(
    catalog: &Catalog,
    asked: Option<&str>,
    current: Option<&str>,
    message: &str,
) -> Result<Arc<Squad>, RouteError> {
    let known = || {
        catalog
            .squads()
            .map(|s| s.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(id) = asked.or(current) {
        return catalog
            .squad(id)
            .cloned()
            .ok_or_else(|| RouteError::UnknownSquad {
                asked: id.to_owned(),
                known: known(),
            });
    }
    let mut best: Option<(&Arc<Squad>, usize)> = None;
    for squad in catalog.squads() {
        let score = score_intents(squad, message)
            .iter()
            .map(|(_, s)| s)
            .max()
            .copied()
            .unwrap_or(0);
        if score > 0 && best.is_none_or(|(_, b)| score > b) {
            best = Some((squad, score));
        }
    }
    best.map(|(s, _)| s.clone())
        .ok_or_else(|| RouteError::NoMatch { known: known() })
}

/// Pulls the squad's entities out of a message into `entities`; a value named now replaces
/// one from an earlier turn.
pub fn extract_entities(squad: &Squad, message: &str, entities: &mut Entities) {
    for rule in &squad.entities {
        let found = rule.patterns.iter().find_map(|re| {
            re.captures_iter(message).find_map(|c| {
                let v = c
                    .name("v")?
                    .as_str()
                    .trim_matches(|c: char| matches!(c, '.' | ',' | '?' | '!' | '"' | '\'' | '`'));
                (!v.is_empty() && !rule.stopwords.contains(&v.to_lowercase())).then(|| v.to_owned())
            })
        });
        if let Some(value) = found {
            entities.set(rule.name.clone(), value);
        }
    }
}
