//! exec tools: an argv run without a shell, in a scrubbed environment, in its own process
//! group, with a timeout that kills the whole group and an output cap that stops storing
//! (but keeps draining) past the limit.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use squadron_core::ToolOutput;
use squadron_core::output::RunStatus;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

/// The only PATH a tool sees.
pub const SAFE_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// Bytes read and thrown away past the cap before the pipe is closed on the program.
const MAX_DRAIN: usize = 64 << 20;
/// How long pipes may stay open after the group is killed before reading gives up.
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// The environment every tool runs in: nothing of the agent's but its HOME.
#[derive(Debug, Clone)]
pub struct ExecEnv {
    pub path: String,
    pub home: PathBuf,
}

impl Default for ExecEnv {
    fn default() -> Self {
        ExecEnv {
            path: SAFE_PATH.to_owned(),
            home: std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map_or_else(|| PathBuf::from("/"), PathBuf::from),
        }
    }
}

impl ExecEnv {
    /// argv[0] as a program file: itself when it has a `/`, else the first executable
    /// file of that name on the scrubbed PATH.
    pub fn resolve(&self, program: &str) -> Option<PathBuf> {
        if program.contains('/') {
            let p = Path::new(program);
            return is_executable(p).then(|| p.to_owned());
        }
        self.path
            .split(':')
            .filter(|dir| dir.starts_with('/'))
            .map(|dir| Path::new(dir).join(program))
            .find(|candidate| is_executable(candidate))
    }
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Kills a process group when dropped (a run that is cancelled or times out), unless
/// disarmed.
#[derive(Debug)]
struct GroupGuard {
    pgid: Option<Pid>,
}

impl GroupGuard {
    fn kill(&mut self) {
        if let Some(pgid) = self.pgid.take() {
            // ESRCH (the group is already gone) is the normal case after a clean exit.
            let _ = killpg(pgid, Signal::SIGKILL);
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One stream read to the end, keeping at most `cap` bytes. Past [`MAX_DRAIN`] bytes
/// beyond the cap the pipe is closed instead, and the writer dies of SIGPIPE.
async fn read_capped<R: AsyncRead + Unpin>(mut stream: R, cap: u64) -> (Vec<u8>, bool) {
    let cap = usize::try_from(cap).unwrap_or(usize::MAX);
    let mut kept = Vec::new();
    let mut truncated = false;
    let mut dropped = 0usize;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = cap.saturating_sub(kept.len());
                if n > room {
                    truncated = true;
                    dropped = dropped.saturating_add(n - room);
                    if dropped > MAX_DRAIN {
                        break;
                    }
                }
                kept.extend_from_slice(&buf[..n.min(room)]);
            }
        }
    }
    (kept, truncated)
}

/// Runs `argv` and reports what it did. The program is looked up on the scrubbed PATH;
/// a missing one reports exit 127 and `command not found: NAME`, like a shell.
pub async fn run(argv: &[String], env: &ExecEnv, timeout: Duration, cap: u64) -> ToolOutput {
    let Some(program) = argv.first() else {
        return ToolOutput::refused(RunStatus::Error, "empty argv");
    };
    let Some(resolved) = env.resolve(program) else {
        return ToolOutput::finished(127, String::new(), format!("command not found: {program}"));
    };
    let mut cmd = Command::new(&resolved);
    cmd.arg0(program)
        .args(&argv[1..])
        .env_clear()
        .env("PATH", &env.path)
        .env("LANG", "C.UTF-8")
        .env("HOME", &env.home)
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return ToolOutput::finished(
                127,
                String::new(),
                format!("command not found: {program}"),
            );
        }
        Err(e) => {
            return ToolOutput::finished(126, String::new(), format!("{program}: {e}"));
        }
    };
    let mut group = GroupGuard {
        pgid: child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .map(Pid::from_raw),
    };
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let out_task = tokio::spawn(async move {
        match stdout {
            Some(s) => read_capped(s, cap).await,
            None => (Vec::new(), false),
        }
    });
    let err_task = tokio::spawn(async move {
        match stderr {
            Some(s) => read_capped(s, cap).await,
            None => (Vec::new(), false),
        }
    });

    let status: Option<ExitStatus> = match tokio::time::timeout(timeout, child.wait()).await {
        Ok(Ok(status)) => Some(status),
        Ok(Err(_)) | Err(_) => None,
    };
    // Kill whatever the leader left behind (or the whole group on timeout): no process
    // of a tool outlives its run, and the pipes close so the readers finish.
    group.kill();
    if status.is_none() {
        let _ = child.wait().await;
    }
    let (out, out_cut) = join_reader(out_task).await;
    let (err, err_cut) = join_reader(err_task).await;
    let stdout = String::from_utf8_lossy(&out).into_owned();
    let stderr = String::from_utf8_lossy(&err).into_owned();
    let mut output = match status {
        Some(status) => ToolOutput::finished(exit_code(status), stdout, stderr),
        None => ToolOutput {
            status: RunStatus::Timeout,
            exit_code: None,
            stdout,
            stderr: timed_out(stderr, timeout),
            truncated: false,
            duration_ms: 0,
        },
    };
    output.truncated = out_cut || err_cut;
    output
}

/// stderr with a last line saying the run timed out.
pub fn timed_out(mut stderr: String, timeout: Duration) -> String {
    if !stderr.is_empty() && !stderr.ends_with('\n') {
        stderr.push('\n');
    }
    stderr.push_str(&format!(
        "timed out after {}",
        squadron_core::units::format_duration(timeout)
    ));
    stderr
}

async fn join_reader(task: tokio::task::JoinHandle<(Vec<u8>, bool)>) -> (Vec<u8>, bool) {
    let abort = task.abort_handle();
    match tokio::time::timeout(DRAIN_GRACE, task).await {
        Ok(Ok(result)) => result,
        // A process that left the group still holds the pipe: give up on the rest.
        Ok(Err(_)) | Err(_) => {
            abort.abort();
            (Vec::new(), true)
        }
    }
}

/// The exit code as a shell reports it: 128 + N for a signal.
fn exit_code(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(-1)
}
