//! Escape hatches: argv and SQL that would turn a whitelisted tool into a general-purpose
//! shell. They are refused when a manifest is built (on the template's literals) and again
//! on every rendered command (on the values), so no manifest and no parameter value can
//! express them.

use std::sync::LazyLock;

use regex::Regex;

/// Programs that run other programs or code; never a tool's argv[0].
const INTERPRETERS: &[&str] = &[
    "sh",
    "bash",
    "dash",
    "zsh",
    "ksh",
    "mksh",
    "csh",
    "tcsh",
    "fish",
    "busybox",
    "env",
    "sudo",
    "su",
    "doas",
    "pkexec",
    "xargs",
    "nohup",
    "setsid",
    "timeout",
    "nice",
    "ionice",
    "chroot",
    "nsenter",
    "unshare",
    "systemd-run",
    "script",
    "expect",
    "python",
    "perl",
    "ruby",
    "node",
    "nodejs",
    "php",
    "lua",
    "tclsh",
    "awk",
    "gawk",
    "mawk",
    "sed",
    "ssh",
    "scp",
    "sftp",
    "rsync",
    "socat",
    "nc",
    "ncat",
    "netcat",
    "telnet",
    "tmux",
    "screen",
    "vi",
    "vim",
    "nano",
    "less",
    "more",
    "crontab",
    "at",
    "eval",
    "exec",
    "source",
    "watch",
    "strace",
    "gdb",
];

/// Per-program options and subcommands that escape the whitelist.
struct Hatches {
    program: &'static str,
    /// Refused as a whole element, or as `flag=value`.
    flags: &'static [&'static str],
    /// Refused as any whole element.
    subcommands: &'static [&'static str],
}

const HATCHES: &[Hatches] = &[
    Hatches {
        program: "kubectl",
        flags: &[
            "--kubeconfig",
            "--server",
            "-s",
            "--token",
            "--as",
            "--as-group",
            "--as-uid",
            "--raw",
            "--username",
            "--password",
            "--client-key",
            "--client-certificate",
            "--certificate-authority",
            "--insecure-skip-tls-verify",
            "--context",
            "--cluster",
            "--user",
            "--exec-command",
        ],
        subcommands: &[
            "exec",
            "attach",
            "cp",
            "proxy",
            "port-forward",
            "debug",
            "run",
            "edit",
            "plugin",
        ],
    },
    Hatches {
        program: "wp",
        flags: &["--exec", "--require", "--ssh", "--http"],
        subcommands: &["eval", "eval-file", "shell", "package", "server"],
    },
    Hatches {
        program: "find",
        flags: &[
            "-exec", "-execdir", "-ok", "-okdir", "-delete", "-fprint", "-fprint0", "-fprintf",
            "-fls",
        ],
        subcommands: &[],
    },
    Hatches {
        program: "docker",
        flags: &["--privileged", "-H", "--host"],
        subcommands: &[
            "exec", "run", "cp", "create", "commit", "build", "login", "attach",
        ],
    },
    Hatches {
        program: "openssl",
        flags: &["-engine", "-provider-path"],
        subcommands: &["enc", "genpkey", "req", "ca"],
    },
    Hatches {
        program: "systemctl",
        flags: &["--host", "-H"],
        subcommands: &["edit", "set-environment", "import-environment", "link"],
    },
];

/// Database command-line clients, whose meta-commands reach a shell.
const SQL_CLIENTS: &[&str] = &["psql", "mysql", "mariadb"];

/// The program name of an argv[0]: its last path component.
pub fn program_name(argv0: &str) -> &str {
    argv0.rsplit('/').next().unwrap_or(argv0)
}

fn is_interpreter(program: &str) -> bool {
    INTERPRETERS.iter().any(|&name| {
        program == name
            || (matches!(name, "python" | "perl" | "ruby" | "php" | "lua" | "node")
                && program.starts_with(name)
                && program[name.len()..]
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '.'))
    })
}

/// Checks an argv (template literals at build time, rendered values at run time).
pub fn check_argv(argv: &[String]) -> Result<(), String> {
    let Some(first) = argv.first() else {
        return Err("argv is empty".into());
    };
    if first.contains('{') {
        return Err("argv[0] must be a fixed program name, not a placeholder".into());
    }
    let program = program_name(first);
    if program.is_empty() || (first.contains('/') && !first.starts_with('/')) {
        return Err(format!(
            "argv[0] `{first}` must be a program name or an absolute path"
        ));
    }
    if is_interpreter(program) {
        return Err(format!(
            "`{program}` runs arbitrary code and can never be a tool"
        ));
    }
    if let Some(h) = HATCHES.iter().find(|h| h.program == program) {
        for arg in &argv[1..] {
            let flag = arg.split('=').next().unwrap_or(arg);
            if h.flags.contains(&flag) {
                return Err(format!(
                    "`{program} {flag}` escapes the whitelist and is never allowed"
                ));
            }
            if h.subcommands.contains(&arg.as_str()) {
                return Err(format!(
                    "`{program} {arg}` escapes the whitelist and is never allowed"
                ));
            }
        }
    }
    if SQL_CLIENTS.contains(&program) {
        for arg in &argv[1..] {
            let lower = arg.to_ascii_lowercase();
            if arg.contains('\\')
                || lower.trim_start().starts_with("system")
                || lower.starts_with("--init-command")
            {
                return Err(format!(
                    "`{program}` meta-commands reach a shell and are never allowed"
                ));
            }
        }
    }
    Ok(())
}

static SQL_HATCH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?isx)
        \\ |                                   # psql meta-commands (\! \o \copy ...)
        \bcopy\b |                             # COPY ... PROGRAM / TO file / FROM file
        \b(pg_read_file|pg_read_binary_file|pg_ls_dir|pg_stat_file|lo_import|lo_export|lo_get|dblink\w*|pg_file_write)\s*\( |
        \binto\s+(outfile|dumpfile)\b |
        \bload_file\s*\( |
        \bload\s+data\b |
        \bsys_exec\b | \bsys_eval\b",
    )
    .expect("static regex")
});

static SQL_SIDE_EFFECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        \b(pg_terminate_backend|pg_cancel_backend|pg_reload_conf|pg_rotate_logfile|set_config|
           nextval|setval|pg_advisory_lock\w*|pg_try_advisory_lock\w*|pg_switch_wal|pg_create_\w+|
           pg_drop_\w+|txid_current|pg_notify)\s*\( |
        ^\s*(kill|set|insert|update|delete|drop|alter|create|truncate|grant|revoke|call|do|vacuum|analyze|reindex|cluster|lock|refresh)\b",
    )
    .expect("static regex")
});

/// Checks a SQL tool's query. `write` is the tool's access level: a read tool may not call
/// functions that act on the server even inside a read-only transaction.
pub fn check_sql(query: &str, write: bool) -> Result<(), String> {
    if let Some(m) = SQL_HATCH.find(query) {
        return Err(format!(
            "query uses `{}`, which reaches files or programs and is never allowed",
            m.as_str().trim()
        ));
    }
    let body = query.trim().trim_end_matches(';');
    if body.contains(';') {
        return Err("query must be a single statement".into());
    }
    if !write && let Some(m) = SQL_SIDE_EFFECT.find(body) {
        return Err(format!(
            "a read tool's query may not use `{}`; declare the tool with access = \"write\"",
            m.as_str().trim()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn shells_and_interpreters_are_never_tools() {
        for p in [
            "sh",
            "/bin/bash",
            "python3",
            "python3.11",
            "perl",
            "env",
            "sudo",
            "xargs",
            "awk",
            "php8.1",
        ] {
            assert!(check_argv(&argv(&[p, "-c", "id"])).is_err(), "{p} accepted");
        }
        assert!(check_argv(&argv(&["kubectl", "get", "pods"])).is_ok());
        assert!(check_argv(&argv(&["/usr/bin/ss", "-tlnp"])).is_ok());
        assert!(check_argv(&argv(&["bin/ss"])).is_err());
        assert!(check_argv(&argv(&["{prog}"])).is_err());
    }

    #[test]
    fn kubectl_escape_hatches_are_refused() {
        for bad in [
            &["kubectl", "--kubeconfig=/tmp/x", "get", "pods"][..],
            &["kubectl", "get", "pods", "--server=http://x"],
            &["kubectl", "get", "pods", "-s", "http://x"],
            &["kubectl", "get", "pods", "--token", "abc"],
            &["kubectl", "get", "pods", "--as=system:admin"],
            &["kubectl", "get", "--raw", "/api"],
            &["kubectl", "exec", "pod", "--", "sh"],
            &["kubectl", "port-forward", "pod", "80"],
        ] {
            assert!(check_argv(&argv(bad)).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn wp_find_and_sql_client_hatches_are_refused() {
        assert!(check_argv(&argv(&["wp", "eval", "system('id');"])).is_err());
        assert!(check_argv(&argv(&["wp", "shell"])).is_err());
        assert!(check_argv(&argv(&["wp", "plugin", "list", "--exec=system('id')"])).is_err());
        assert!(check_argv(&argv(&["wp", "plugin", "list", "--require=/tmp/x.php"])).is_err());
        assert!(check_argv(&argv(&["find", "/var/log", "-exec", "sh", ";"])).is_err());
        assert!(check_argv(&argv(&["find", "/var/log", "-delete"])).is_err());
        assert!(check_argv(&argv(&["psql", "-c", "\\! id"])).is_err());
        assert!(check_argv(&argv(&["mysql", "-e", "system id"])).is_err());
        assert!(check_argv(&argv(&["wp", "plugin", "list", "--skip-plugins"])).is_ok());
    }

    #[test]
    fn sql_hatches_are_refused() {
        for bad in [
            "COPY (SELECT 1) TO PROGRAM 'id'",
            "copy t from '/etc/passwd'",
            "SELECT pg_read_file('/etc/shadow')",
            "\\! id",
            "SELECT 1; DROP TABLE x",
            "SELECT * FROM t INTO OUTFILE '/tmp/x'",
            "SELECT LOAD_FILE('/etc/passwd')",
        ] {
            assert!(check_sql(bad, true).is_err(), "{bad:?} accepted");
        }
        assert!(check_sql("SELECT pid, state FROM pg_stat_activity;", false).is_ok());
    }

    #[test]
    fn read_tools_cannot_act_on_the_server() {
        assert!(check_sql("SELECT pg_terminate_backend(42)", false).is_err());
        assert!(check_sql("SELECT pg_terminate_backend(42)", true).is_ok());
        assert!(check_sql("KILL 42", false).is_err());
        assert!(check_sql("SET GLOBAL max_connections = 1", false).is_err());
        assert!(check_sql("SHOW max_connections", false).is_ok());
    }
}
