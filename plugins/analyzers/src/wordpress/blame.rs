//! Who crashed the site: PHP fatal errors grouped by the plugin, theme or core file that
//! raised them, across every log read. Deprecations, notices and warnings are counted apart
//! as noise; they never make a culprit.

use std::collections::BTreeMap;

use super::phplog::{self, Component, Entry, Level};

/// The fatal errors of one component.
#[derive(Debug, Clone)]
pub struct Blame {
    pub component: Component,
    /// Fatal entries in the source that has the most of them.
    pub count: usize,
    pub first: Option<String>,
    pub last: Option<String>,
    /// The entry quoted as evidence (from the source with the most entries).
    pub sample: Entry,
    /// The command whose output holds the sample.
    pub source: String,
    /// Every distinct `file:line` the fatals point at.
    pub locations: Vec<String>,
    /// Other commands whose output shows the same component's fatals, with one line each.
    pub echoes: Vec<(String, String)>,
}

/// Non-fatal entries, per level and component.
#[derive(Debug, Clone, Default)]
pub struct Noise {
    pub by_level: BTreeMap<String, usize>,
    pub components: Vec<String>,
}

/// Fatals grouped by component, the likeliest culprit first: plugins and themes before core,
/// then by count.
pub fn fatals<'a>(texts: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<Blame> {
    // component -> source -> entries
    let mut groups: BTreeMap<Component, Vec<(String, Vec<Entry>)>> = BTreeMap::new();
    for (source, text) in texts {
        let mut by_component: BTreeMap<Component, Vec<Entry>> = BTreeMap::new();
        for e in phplog::parse(text)
            .into_iter()
            .filter(|e| e.level == Level::Fatal)
        {
            by_component.entry(e.component()).or_default().push(e);
        }
        for (c, entries) in by_component {
            groups
                .entry(c)
                .or_default()
                .push((source.to_owned(), entries));
        }
    }
    let mut out: Vec<Blame> = groups
        .into_iter()
        .filter_map(|(component, mut sources)| {
            // the source with the most entries speaks; wp-cli output only when alone
            sources.sort_by_key(|(src, e)| (std::cmp::Reverse(e.len()), src.starts_with("wp ")));
            let (source, entries) = sources.first()?.clone();
            let sample = entries.first()?.clone();
            let mut locations: Vec<String> = Vec::new();
            for e in &entries {
                if let Some(l) = e.short_location()
                    && !locations.contains(&l)
                {
                    locations.push(l);
                }
            }
            let echoes = sources
                .iter()
                .skip(1)
                .filter_map(|(src, es)| es.first().map(|e| (src.clone(), e.raw.clone())))
                .collect();
            Some(Blame {
                component,
                count: entries.len(),
                first: entries.iter().find_map(|e| e.time.clone()),
                last: entries.iter().rev().find_map(|e| e.time.clone()),
                sample,
                source,
                locations,
                echoes,
            })
        })
        .collect();
    out.sort_by_key(|b| (!b.component.is_extension(), std::cmp::Reverse(b.count)));
    out
}

/// Non-fatal entries of the texts, excluding the culprit's own.
pub fn noise<'a>(
    texts: impl IntoIterator<Item = (&'a str, &'a str)>,
    culprit: &Component,
) -> Noise {
    let mut n = Noise::default();
    for (_, text) in texts {
        for e in phplog::parse(text)
            .into_iter()
            .filter(|e| e.level != Level::Fatal)
        {
            let c = e.component();
            if &c == culprit {
                continue;
            }
            *n.by_level.entry(e.label.clone()).or_default() += 1;
            let label = c.label();
            if !n.components.contains(&label) {
                n.components.push(label);
            }
        }
    }
    n
}

impl Noise {
    pub fn is_empty(&self) -> bool {
        self.by_level.is_empty()
    }

    /// `4 PHP Deprecated and 1 PHP Warning`.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = self
            .by_level
            .iter()
            .map(|(label, n)| format!("{n} {label} line{}", if *n == 1 { "" } else { "s" }))
            .collect();
        parts.join(" and ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEBUG: &str = "[01-Mar-2025 10:00:00 UTC] PHP Deprecated:  Creation of dynamic property A::$b is deprecated in /srv/wp/wp-content/plugins/old-gallery/a.php on line 4\n[01-Mar-2025 10:01:00 UTC] PHP Fatal error:  Uncaught Error: Call to undefined function acme_get() in /srv/wp/wp-content/themes/storefront-kid/functions.php:12\n[01-Mar-2025 10:02:00 UTC] PHP Fatal error:  Uncaught Error: Call to undefined function acme_get() in /srv/wp/wp-content/themes/storefront-kid/functions.php:12\n";

    #[test]
    fn fatals_are_grouped_by_the_component_that_threw_them() {
        let blames = fatals([("read_file debug.log", DEBUG)]);
        assert_eq!(blames.len(), 1);
        let b = &blames[0];
        assert_eq!(b.component, Component::Theme("storefront-kid".into()));
        assert_eq!(b.count, 2);
        assert_eq!(b.first.as_deref(), Some("01-Mar-2025 10:01:00 UTC"));
        assert_eq!(b.last.as_deref(), Some("01-Mar-2025 10:02:00 UTC"));
        assert_eq!(
            b.locations,
            vec!["wp-content/themes/storefront-kid/functions.php:12"]
        );
    }

    #[test]
    fn deprecations_are_noise_never_culprits() {
        let only_noise = "[01-Mar-2025 10:00:00 UTC] PHP Deprecated:  x is deprecated in /srv/wp/wp-content/plugins/old-gallery/a.php on line 4\n";
        assert!(fatals([("log", only_noise)]).is_empty());
        let n = noise([("log", DEBUG)], &Component::Theme("storefront-kid".into()));
        assert_eq!(n.summary(), "1 PHP Deprecated line");
        assert_eq!(n.components, vec!["plugin old-gallery"]);
    }

    #[test]
    fn the_same_fatal_in_several_logs_is_counted_once() {
        let nginx = "2025/03/01 10:01:00 [error] 1#1: *1 FastCGI sent in stderr: \"PHP message: PHP Fatal error:  Uncaught Error: Call to undefined function acme_get() in /srv/wp/wp-content/themes/storefront-kid/functions.php:12\" while reading response header from upstream";
        let blames = fatals([("debug", DEBUG), ("nginx", nginx)]);
        assert_eq!(blames[0].count, 2);
        assert_eq!(blames[0].source, "debug");
        assert_eq!(blames[0].echoes.len(), 1);
    }

    #[test]
    fn plugins_rank_before_core() {
        let log = "PHP Fatal error:  Allowed memory size of 1 bytes exhausted in /w/wp-includes/a.php on line 1\nPHP Fatal error:  Allowed memory size of 1 bytes exhausted in /w/wp-includes/a.php on line 1\nPHP Fatal error:  boom in /w/wp-content/plugins/p/p.php on line 2\n";
        let blames = fatals([("log", log)]);
        assert_eq!(blames[0].component, Component::Plugin("p".into()));
        assert_eq!(blames[1].component, Component::Core);
    }
}
