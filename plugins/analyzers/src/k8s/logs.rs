//! What a container's logs say about why it stopped: a file it could not open, a variable
//! it missed, a dependency it could not reach, a port it could not bind, or simply its last
//! error lines.

use std::sync::LazyLock;

use regex::Regex;

/// One thing the logs say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    /// The program could not open a file that should exist.
    MissingFile {
        path: String,
        line: String,
    },
    /// A required environment variable is not set.
    MissingEnv {
        name: String,
        line: String,
    },
    /// A dependency refused or timed out.
    Unreachable {
        target: String,
        line: String,
    },
    PermissionDenied {
        line: String,
    },
    AddressInUse {
        line: String,
    },
}

static PATH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(/[A-Za-z0-9._@+\-]+(?:/[A-Za-z0-9._@+\-]+)+)").expect("static regex")
});
static MISSING_FILE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)enoent|no such file|filenotfound|file not found|does not exist|cannot find|could not (open|read|load)")
        .expect("static regex")
});
static MISSING_ENV: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)(?:environment variable|env var(?:iable)?|missing required (?:env(?:ironment)? )?(?:variable|setting))\s*[:`'"]?\s*([A-Z][A-Z0-9_]{2,})|([A-Z][A-Z0-9_]{2,})\s+(?:is not set|must be set|is required|not defined)|KeyError:\s*'([A-Z][A-Z0-9_]{2,})'"#,
    )
    .expect("static regex")
});
static UNREACHABLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:connection refused|econnrefused|i/o timeout|connect(?:ion)? timed out|no such host|getaddrinfo enotfound|name or service not known)(?:[^A-Za-z0-9]+(?:connect\s+)?([A-Za-z0-9._\-]+:\d+))?")
        .expect("static regex")
});
static HOSTPORT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"([A-Za-z0-9][A-Za-z0-9._\-]*:\d{2,5})\b").expect("static regex"));
static ERRORISH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b(error|fatal|panic|exception|traceback|critical|failed|refused|denied|"level":"(error|fatal)")"#)
        .expect("static regex")
});

/// Stack-frame lines (`    at foo (/app/x.js:1:2)`, `  File "/app/x.py", line 3`) name code, not
/// the file that was missing.
fn is_frame(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("at ")
        || t.starts_with("File \"")
        || t.starts_with('#')
        || t.starts_with("goroutine ")
}

/// Everything the logs say, in order of appearance, without duplicates.
pub fn signals(text: &str) -> Vec<Signal> {
    let mut out: Vec<Signal> = Vec::new();
    for line in text.lines().filter(|l| !is_frame(l)) {
        let line_owned = line.trim().to_owned();
        let signal = if MISSING_FILE.is_match(line) {
            PATH.captures(line).map(|c| Signal::MissingFile {
                path: c[1].to_owned(),
                line: line_owned.clone(),
            })
        } else {
            None
        }
        .or_else(|| {
            MISSING_ENV.captures(line).and_then(|c| {
                let name = c.get(1).or(c.get(2)).or(c.get(3))?.as_str().to_owned();
                Some(Signal::MissingEnv {
                    name,
                    line: line_owned.clone(),
                })
            })
        })
        .or_else(|| {
            UNREACHABLE.is_match(line).then(|| Signal::Unreachable {
                target: HOSTPORT
                    .captures(line)
                    .map(|c| c[1].to_owned())
                    .unwrap_or_default(),
                line: line_owned.clone(),
            })
        })
        .or_else(|| {
            let l = line.to_ascii_lowercase();
            if l.contains("permission denied")
                || l.contains("eacces")
                || l.contains("read-only file system")
            {
                Some(Signal::PermissionDenied {
                    line: line_owned.clone(),
                })
            } else if l.contains("address already in use") || l.contains("eaddrinuse") {
                Some(Signal::AddressInUse {
                    line: line_owned.clone(),
                })
            } else {
                None
            }
        });
        if let Some(s) = signal {
            let dup = out.iter().any(|o| match (o, &s) {
                (Signal::MissingFile { path: a, .. }, Signal::MissingFile { path: b, .. }) => {
                    a == b
                }
                (Signal::MissingEnv { name: a, .. }, Signal::MissingEnv { name: b, .. }) => a == b,
                (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
            });
            if !dup {
                out.push(s);
            }
        }
    }
    out
}

/// The last lines that look like errors (at most `n`), or the last lines at all when none do.
pub fn last_errors(text: &str, n: usize) -> Vec<String> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let errors: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| ERRORISH.is_match(l) && !is_frame(l))
        .collect();
    let pick = if errors.is_empty() { &lines } else { &errors };
    pick.iter()
        .rev()
        .take(n)
        .rev()
        .map(|l| l.trim_end().to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_python_go_and_java_missing_files_are_found() {
        for (log, path) in [
            (
                "Error: ENOENT: no such file or directory, open '/app/config/database.yaml'",
                "/app/config/database.yaml",
            ),
            (
                "FileNotFoundError: [Errno 2] No such file or directory: '/etc/worker/settings.toml'",
                "/etc/worker/settings.toml",
            ),
            (
                "panic: open /config/app.json: no such file or directory",
                "/config/app.json",
            ),
            (
                "java.io.FileNotFoundException: /opt/app/conf/application.yml (No such file or directory)",
                "/opt/app/conf/application.yml",
            ),
        ] {
            assert_eq!(
                signals(log).first(),
                Some(&Signal::MissingFile {
                    path: path.into(),
                    line: log.into()
                }),
                "{log}"
            );
        }
    }

    #[test]
    fn stack_frames_are_not_missing_files() {
        let log = "Error: ENOENT: no such file or directory, open '/srv/a.yaml'\n    at Object.openSync (node:fs:573:18)\n    at load (/app/dist/config/database.js:21:31)";
        assert_eq!(signals(log).len(), 1);
    }

    #[test]
    fn missing_env_unreachable_and_permissions() {
        let s = signals(
            "KeyError: 'DATABASE_URL'\nError: connect ECONNREFUSED 10.0.0.5:5432\nopen /data/x: permission denied",
        );
        assert!(matches!(&s[0], Signal::MissingEnv { name, .. } if name == "DATABASE_URL"));
        assert!(matches!(&s[1], Signal::Unreachable { target, .. } if target == "10.0.0.5:5432"));
        assert!(matches!(&s[2], Signal::PermissionDenied { .. }));
    }

    #[test]
    fn last_errors_prefer_error_lines() {
        let log = "starting\nloaded 10 rows\nERROR boom\nshutting down";
        assert_eq!(last_errors(log, 3), vec!["ERROR boom".to_owned()]);
        assert_eq!(
            last_errors("a\nb\nc", 2),
            vec!["b".to_owned(), "c".to_owned()]
        );
    }
}
