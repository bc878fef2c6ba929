//! PHP error log entries, wherever they were written: WordPress's debug.log, the PHP-FPM
//! log (`child 123 said into stderr: "... PHP message: ..."`), nginx (`FastCGI sent in
//! stderr: "PHP message: ..."`), Apache, or wp-cli's stderr. Each entry knows its level,
//! message, the file and line that raised it, its stack frames, and so the plugin, theme or
//! core file it belongs to.

use std::sync::LazyLock;

use regex::Regex;

static LEVEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"PHP ((?:Catchable |Recoverable )?[Ff]atal error|Parse error|Warning|Notice|Deprecated|Strict Standards|User (?:Deprecated|Warning|Notice)):\s*(.*)")
        .expect("static regex")
});
static LOCATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r" in (/[^\s:'\x22]+\.(?:php|inc))(?::([0-9]+)| on line ([0-9]+))")
        .expect("static regex")
});
static FRAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^#[0-9]+\s+(/[^\s(]+)\(([0-9]+)\)").expect("static regex"));
static THROWN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*thrown in (/\S+) on line ([0-9]+)").expect("static regex"));
static TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:\[([^\]]+)\]|([0-9]{4}/[0-9]{2}/[0-9]{2} [0-9:]{8}))").expect("static regex")
});
static COMPONENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"/(mu-plugins|plugins|themes)/([^/\s:'\x22()]+)").expect("static regex")
});

/// How bad an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Deprecated,
    Notice,
    Warning,
    /// Fatal, parse, catchable and recoverable fatal errors: the request died.
    Fatal,
}

/// Where the code that raised an entry lives.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Component {
    Plugin(String),
    MuPlugin(String),
    Theme(String),
    /// wp-includes, wp-admin and the files at the WordPress root.
    Core,
    Unknown,
}

impl Component {
    /// Reads the component from a file path.
    pub fn of_path(path: &str) -> Component {
        if let Some(c) = COMPONENT.captures(path) {
            let name = c[2].to_owned();
            return match &c[1] {
                "mu-plugins" => {
                    Component::MuPlugin(name.strip_suffix(".php").unwrap_or(&name).to_owned())
                }
                "plugins" => Component::Plugin(name),
                _ => Component::Theme(name),
            };
        }
        if path.contains("/wp-includes/") || path.contains("/wp-admin/") || path.contains("/wp-") {
            Component::Core
        } else {
            Component::Unknown
        }
    }

    /// `plugin smart-shipping-rates`, `theme astra`, `WordPress core`.
    pub fn label(&self) -> String {
        match self {
            Component::Plugin(s) => format!("plugin {s}"),
            Component::MuPlugin(s) => format!("must-use plugin {s}"),
            Component::Theme(s) => format!("theme {s}"),
            Component::Core => "WordPress core".to_owned(),
            Component::Unknown => "unknown code".to_owned(),
        }
    }

    pub fn is_extension(&self) -> bool {
        matches!(
            self,
            Component::Plugin(_) | Component::MuPlugin(_) | Component::Theme(_)
        )
    }
}

/// One log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub level: Level,
    /// `PHP Fatal error`, `PHP Deprecated`, ...
    pub label: String,
    pub time: Option<String>,
    /// The message without its location.
    pub message: String,
    pub file: Option<String>,
    pub line: Option<u32>,
    /// Files of the stack trace, innermost first.
    pub frames: Vec<String>,
    /// The log line the entry starts on.
    pub raw: String,
    /// The `thrown in ... on line N` line, when there is one.
    pub thrown: Option<String>,
}

impl Entry {
    /// The component that owns the entry: the file that raised it, or, when that is core,
    /// the innermost plugin or theme frame that called into core.
    pub fn component(&self) -> Component {
        let own = self
            .file
            .as_deref()
            .map_or(Component::Unknown, Component::of_path);
        if own.is_extension() {
            return own;
        }
        self.frames
            .iter()
            .map(|f| Component::of_path(f))
            .find(Component::is_extension)
            .unwrap_or(own)
    }

    /// `file:line` relative to wp-content when it lies there.
    pub fn short_location(&self) -> Option<String> {
        let file = self.file.as_deref()?;
        let short = file.find("/wp-content/").map_or(file, |i| &file[i + 1..]);
        Some(match self.line {
            Some(l) => format!("{short}:{l}"),
            None => short.to_owned(),
        })
    }
}

fn level_of(label: &str) -> Level {
    let l = label.to_ascii_lowercase();
    if l.contains("fatal") || l.contains("parse") {
        Level::Fatal
    } else if l.contains("warning") {
        Level::Warning
    } else if l.contains("deprecated") || l.contains("strict") {
        Level::Deprecated
    } else {
        Level::Notice
    }
}

/// Cuts what a web server appended after the PHP message (`" while reading ...`).
fn trim_message(msg: &str) -> &str {
    let mut end = msg.len();
    for stop in [
        "\" while ",
        "\", client:",
        "', referer",
        "Stack trace:",
        "\\nStack trace",
    ] {
        if let Some(i) = msg.find(stop) {
            end = end.min(i);
        }
    }
    msg[..end].trim_end_matches(['"', '\'', ';', ' '])
}

fn entry_from(segment: &str, time: Option<String>, raw: &str) -> Option<Entry> {
    let c = LEVEL.captures(segment)?;
    let label = format!("PHP {}", &c[1]);
    let full = trim_message(c.get(2).map_or("", |m| m.as_str()));
    let loc = LOCATION.captures_iter(full).last();
    let (file, line, message) = match &loc {
        Some(m) => {
            let whole = m.get(0).map_or(full.len(), |g| g.start());
            (
                m.get(1).map(|g| g.as_str().to_owned()),
                m.get(2).or(m.get(3)).and_then(|g| g.as_str().parse().ok()),
                full[..whole].trim().to_owned(),
            )
        }
        None => (None, None, full.trim().to_owned()),
    };
    Some(Entry {
        level: level_of(&label),
        label,
        time,
        message,
        file,
        line,
        frames: Vec::new(),
        raw: raw.trim().to_owned(),
        thrown: None,
    })
}

/// Reads every PHP entry in a log text.
pub fn parse(text: &str) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    for raw in text.lines() {
        let line = raw.trim_end_matches('\r');
        if let Some(f) = FRAME.captures(line.trim_start()) {
            if let Some(e) = out.last_mut() {
                e.frames.push(f[1].to_owned());
            }
            continue;
        }
        if let Some(t) = THROWN.captures(line) {
            if let Some(e) = out.last_mut() {
                e.thrown = Some(line.trim().to_owned());
                if e.file.is_none() {
                    e.file = Some(t[1].to_owned());
                    e.line = t[2].parse().ok();
                }
            }
            continue;
        }
        let time = TIME
            .captures(line)
            .and_then(|c| c.get(1).or(c.get(2)))
            .map(|m| m.as_str().to_owned());
        if line.contains("PHP message: ") {
            for segment in line.split("PHP message: ").skip(1) {
                out.extend(entry_from(segment, time.clone(), line));
            }
        } else {
            out.extend(entry_from(line, time, line));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_uncaught_error_belongs_to_the_plugin_whose_file_threw_it() {
        let log = "[21-Nov-2024 09:12:44 UTC] PHP Fatal error:  Uncaught TypeError: array_merge(): Argument #2 must be of type array, null given in /var/www/html/wp-content/plugins/acme-rates/includes/zones.php:211\nStack trace:\n#0 /var/www/html/wp-content/plugins/acme-rates/includes/zones.php(211): array_merge(Array, NULL)\n#1 /var/www/html/wp-includes/class-wp-hook.php(324): Zones->register('')\n#2 {main}\n  thrown in /var/www/html/wp-content/plugins/acme-rates/includes/zones.php on line 211\n";
        let entries = parse(log);
        assert_eq!(entries.len(), 1);
        let e = &entries[0];
        assert_eq!(e.level, Level::Fatal);
        assert_eq!(e.component(), Component::Plugin("acme-rates".into()));
        assert_eq!(e.line, Some(211));
        assert_eq!(e.time.as_deref(), Some("21-Nov-2024 09:12:44 UTC"));
        assert!(e.message.starts_with("Uncaught TypeError: array_merge()"));
        assert!(!e.message.contains("/var/www"));
        assert_eq!(e.frames.len(), 2);
        assert!(e.thrown.is_some());
    }

    #[test]
    fn deprecations_and_warnings_keep_their_level() {
        let log = "[21-Nov-2024 08:41:17 UTC] PHP Deprecated:  Creation of dynamic property X::$y is deprecated in /var/www/html/wp-content/plugins/old-gallery/x.php on line 48\n[21-Nov-2024 08:57:03 UTC] PHP Warning:  Undefined array key \"utm\" in /var/www/html/wp-content/themes/shopfront/functions.php on line 131\n";
        let entries = parse(log);
        assert_eq!(entries[0].level, Level::Deprecated);
        assert_eq!(
            entries[0].component(),
            Component::Plugin("old-gallery".into())
        );
        assert_eq!(entries[1].level, Level::Warning);
        assert_eq!(entries[1].component(), Component::Theme("shopfront".into()));
    }

    #[test]
    fn web_server_wrappers_are_unwrapped() {
        let nginx = "2024/11/21 09:12:44 [error] 1123#1123: *48211 FastCGI sent in stderr: \"PHP message: PHP Warning:  foo in /srv/wp/wp-content/plugins/a/a.php on line 3; PHP message: PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted (tried to allocate 20480 bytes) in /srv/wp/wp-content/plugins/b/b.php on line 9\" while reading response header from upstream, client: 198.51.100.14";
        let entries = parse(nginx);
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].level, Level::Fatal);
        assert_eq!(entries[1].component(), Component::Plugin("b".into()));
        assert_eq!(entries[1].time.as_deref(), Some("2024/11/21 09:12:44"));
        let fpm = "[21-Nov-2024 09:12:44] WARNING: [pool www] child 20811 said into stderr: \"NOTICE: PHP message: PHP Parse error:  syntax error, unexpected token \"}\" in /var/www/html/wp-content/mu-plugins/loader.php on line 7\"";
        let e = &parse(fpm)[0];
        assert_eq!(e.level, Level::Fatal);
        assert_eq!(e.component(), Component::MuPlugin("loader".into()));
    }

    #[test]
    fn a_core_fatal_is_blamed_on_the_plugin_that_called_core() {
        let log = "PHP Fatal error:  Uncaught Error: Call to a member function get() on null in /var/www/html/wp-includes/class-wp-query.php:88\nStack trace:\n#0 /var/www/html/wp-includes/query.php(12): WP_Query->x()\n#1 /var/www/html/wp-content/plugins/seo-thing/main.php(40): is_page()\n#2 {main}\n";
        let e = &parse(log)[0];
        assert_eq!(e.component(), Component::Plugin("seo-thing".into()));
        let core_only = "PHP Fatal error:  Allowed memory size of 268435456 bytes exhausted (tried to allocate 65536 bytes) in /var/www/html/wp-includes/class-wpdb.php on line 2056";
        assert_eq!(parse(core_only)[0].component(), Component::Core);
    }
}
