//! Templates: argv elements (`{pod}`, `--namespace={namespace}`) and text templates
//! (`{wordpress_path}/wp-content/debug.log`).
//!
//! In an argv template a placeholder fills a whole element or ends the value after `--flag=`
//! (`--namespace={ns}`, or with a fixed selector before it: `--field-selector=involvedObject.name={pod}`);
//! anything else (`prefix{x}`, `{a}{b}`, `-n{x}`) is refused when the manifest is built, so a
//! value can never be glued to an option or split into two arguments.

use std::sync::LazyLock;

use regex::Regex;

/// One element of an argv template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgPart {
    Literal(String),
    /// `{param}`: the value is the whole element.
    Whole(String),
    /// `--flag={param}` or `--flag=fixed{param}`: the value follows a fixed option.
    Flag {
        prefix: String,
        param: String,
    },
}

static PLACEHOLDER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\{([a-z_][a-z0-9_]*)\}").expect("static regex"));
static WHOLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\{([a-z_][a-z0-9_]*)\}$").expect("static regex"));
static FLAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(--?[A-Za-z0-9][A-Za-z0-9-]*=[A-Za-z0-9._/:=-]*)\{([a-z_][a-z0-9_]*)\}$")
        .expect("static regex")
});

impl ArgPart {
    /// Parses one argv template element.
    pub fn parse(element: &str) -> Result<Self, String> {
        if let Some(c) = WHOLE.captures(element) {
            return Ok(ArgPart::Whole(c[1].to_owned()));
        }
        if let Some(c) = FLAG.captures(element) {
            return Ok(ArgPart::Flag {
                prefix: c[1].to_owned(),
                param: c[2].to_owned(),
            });
        }
        if element.contains('{') || element.contains('}') {
            return Err(format!(
                "`{element}` has a placeholder that is not a whole argv element or a --flag= value"
            ));
        }
        Ok(ArgPart::Literal(element.to_owned()))
    }

    /// The parameter this element takes, if any.
    pub fn param(&self) -> Option<&str> {
        match self {
            ArgPart::Literal(_) => None,
            ArgPart::Whole(p) | ArgPart::Flag { param: p, .. } => Some(p),
        }
    }
}

/// The names a text template refers to, in order.
pub fn placeholders(template: &str) -> Vec<&str> {
    PLACEHOLDER
        .captures_iter(template)
        .filter_map(|c| c.get(1).map(|m| m.as_str()))
        .collect()
}

/// Fills a text template; `None` when a name has no value.
pub fn fill(template: &str, mut lookup: impl FnMut(&str) -> Option<String>) -> Option<String> {
    let mut out = String::with_capacity(template.len());
    let mut last = 0;
    for c in PLACEHOLDER.captures_iter(template) {
        let whole = c.get(0)?;
        out.push_str(&template[last..whole.start()]);
        out.push_str(&lookup(&c[1])?);
        last = whole.end();
    }
    out.push_str(&template[last..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_fill_whole_elements_or_flag_values() {
        assert_eq!(ArgPart::parse("logs"), Ok(ArgPart::Literal("logs".into())));
        assert_eq!(ArgPart::parse("{pod}"), Ok(ArgPart::Whole("pod".into())));
        assert_eq!(
            ArgPart::parse("--namespace={namespace}"),
            Ok(ArgPart::Flag {
                prefix: "--namespace=".into(),
                param: "namespace".into()
            })
        );
        assert!(ArgPart::parse("-o={output}").is_ok());
        assert_eq!(
            ArgPart::parse("--field-selector=involvedObject.name={pod}"),
            Ok(ArgPart::Flag {
                prefix: "--field-selector=involvedObject.name=".into(),
                param: "pod".into()
            })
        );
    }

    #[test]
    fn glued_placeholders_are_refused() {
        for bad in [
            "pod/{pod}",
            "{a}{b}",
            "-n{ns}",
            "--ns {ns}",
            "{pod}x",
            "{Pod}",
            "{ pod }",
            "x}",
        ] {
            assert!(ArgPart::parse(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn text_templates_fill_or_say_what_is_missing() {
        let t = "{root}/wp-content/{file}";
        assert_eq!(placeholders(t), vec!["root", "file"]);
        let filled = fill(t, |k| {
            (k == "root")
                .then(|| "/var/www/html".to_owned())
                .or(Some("debug.log".into()))
        });
        assert_eq!(
            filled.as_deref(),
            Some("/var/www/html/wp-content/debug.log")
        );
        assert_eq!(fill(t, |_| None), None);
    }
}
