//! Containers that start and exit: why (from the exit code and the previous container's
//! logs) and, for a file the program cannot open, which ConfigMap holds it and whether it
//! is mounted where the program looks.

use squadron_core::{Finding, Severity};

use super::Context;
use super::learn::holder_of_key;
use super::logs::{self, Signal};
use super::manifest;
use super::pod::Container;

/// What an exit code usually means.
fn exit_meaning(code: i64) -> Option<&'static str> {
    Some(match code {
        1 => "the program reported an error and exited",
        2 => "the program was misused (bad arguments or configuration)",
        126 => "the entrypoint is not executable",
        127 => "the entrypoint or command was not found in the image",
        128 => "the container runtime could not start the command",
        134 => "the program aborted (SIGABRT)",
        137 => "the process was killed (SIGKILL)",
        139 => "the program crashed with a segmentation fault (SIGSEGV)",
        143 => "the process was terminated (SIGTERM), often after failed liveness probes",
        _ => return None,
    })
}

fn headline(c: &Container) -> String {
    match (c.last_exit_code, c.last_reason.as_deref()) {
        (Some(code), _) => format!("container {} exits with code {code}", c.name),
        (None, Some(r)) => format!("container {} ended with {r}", c.name),
        _ => format!("container {} keeps restarting", c.name),
    }
}

/// The crash finding, when the failing container restarts or has exited.
pub fn diagnose(cx: &Context<'_, '_>) -> Option<Vec<Finding>> {
    let c = cx.pod.failing_container()?;
    let crashed = c.restart_count > 0
        || c.last_exit_code.is_some_and(|x| x != 0)
        || c.waiting_reason.as_deref() == Some("CrashLoopBackOff");
    if !crashed {
        return None;
    }
    let log_run = cx.inv.last("pod_logs");
    let log_text = log_run.map(|r| r.output.text()).unwrap_or_default();
    let log_source = log_run.map(|r| r.command().to_owned()).unwrap_or_default();
    let signals = logs::signals(&log_text);
    let head = headline(c);
    let status_line = format!(
        "{}: restarts {}, last state {} (exit code {})",
        c.name,
        c.restart_count,
        c.last_reason.as_deref().unwrap_or("unknown"),
        c.last_exit_code.map_or("?".into(), |x| x.to_string())
    );

    if let Some(s) = signals.first() {
        match s {
            Signal::MissingFile { path, line } => {
                return Some(vec![missing_file(
                    cx,
                    c,
                    &head,
                    path,
                    line,
                    &log_source,
                    &status_line,
                )]);
            }
            Signal::MissingEnv { name, line } => {
                return Some(vec![Finding::new(Severity::Critical, format!("{head}: environment variable {name} is not set"))
                    .evidence(&log_source, [line.clone()])
                    .evidence(cx.pod_source, [status_line])
                    .fix(format!("Set {name} in the container's `env` (from a ConfigMap or Secret with `configMapKeyRef`/`secretKeyRef` if it is configuration or a credential), then let the Deployment roll out."))]);
            }
            Signal::Unreachable { target, line } => {
                let what = if target.is_empty() {
                    "a dependency".to_owned()
                } else {
                    target.clone()
                };
                return Some(vec![Finding::new(Severity::Critical, format!("{head}: it cannot reach {what} at startup"))
                    .detail("The application gives up when its dependency refuses or times out; the pod is a victim, not the cause.")
                    .evidence(&log_source, [line.clone()])
                    .evidence(cx.pod_source, [status_line])
                    .fix(format!("Check that {what} is up and its Service has endpoints (`kubectl get endpoints -n {}`), and that NetworkPolicies allow the traffic.", cx.pod.namespace))
                    .fix("Make the application retry its connection with backoff instead of exiting, or add an init container that waits for the dependency.")]);
            }
            Signal::PermissionDenied { line } => {
                return Some(vec![Finding::new(Severity::Critical, format!("{head}: permission denied"))
                    .evidence(&log_source, [line.clone()])
                    .evidence(cx.pod_source, [status_line])
                    .fix("Check the pod's securityContext (runAsUser, fsGroup, readOnlyRootFilesystem) against the paths the program writes; mount a writable emptyDir where it needs to write.")]);
            }
            Signal::AddressInUse { line } => {
                return Some(vec![Finding::new(Severity::Critical, format!("{head}: its port is already in use"))
                    .evidence(&log_source, [line.clone()])
                    .fix("Two containers of the pod (or hostNetwork pods on the node) bind the same port; give each its own port.")]);
            }
        }
    }
    let mut f = Finding::new(Severity::Critical, head).evidence(cx.pod_source, [status_line]);
    if let Some(meaning) = c.last_exit_code.and_then(exit_meaning) {
        f = f.detail(format!(
            "Exit code {}: {meaning}.",
            c.last_exit_code.unwrap_or_default()
        ));
    }
    let tail = logs::last_errors(&log_text, 6);
    if !tail.is_empty() && log_run.is_some_and(|r| r.output.ok()) {
        f = f
            .detail("The last lines the container wrote before it stopped:")
            .evidence(&log_source, tail);
    }
    Some(vec![f.fix(format!(
        "Fix the error the logs show, then watch the rollout: `kubectl rollout status deployment/{} -n {}`.",
        cx.deployment().unwrap_or_else(|| cx.pod.name.clone()),
        cx.pod.namespace
    ))])
}

fn missing_file(
    cx: &Context<'_, '_>,
    c: &Container,
    head: &str,
    path: &str,
    line: &str,
    log_source: &str,
    status: &str,
) -> Finding {
    let (dir, file) = path.rsplit_once('/').unwrap_or(("", path));
    let dir = if dir.is_empty() { "/" } else { dir };
    let cms = cx.inv.last("configmaps");
    let holder = cms.and_then(|r| holder_of_key(&r.output.stdout, file));
    let mounted_at = c
        .mounts
        .iter()
        .find(|(_, p)| path.starts_with(&format!("{}/", p.trim_end_matches('/'))) || p == dir);
    let mut f = Finding::new(Severity::Critical, format!("{head}: it cannot open {path}"))
        .evidence(log_source, [line.to_owned()])
        .evidence(cx.pod_source, [status.to_owned()]);
    let mounts: Vec<String> = c
        .mounts
        .iter()
        .map(|(v, p)| format!("{p} from volume {v}"))
        .collect();
    f = f.detail(format!(
        "The container mounts {}; nothing provides {dir}.",
        if mounts.is_empty() {
            "no volumes".to_owned()
        } else {
            mounts.join(", ")
        }
    ));
    match (holder, mounted_at) {
        (Some(cm), None) => {
            let source = cms.map(|r| r.command().to_owned()).unwrap_or_default();
            f.title = format!("{head}: {file} is missing because ConfigMap {cm} is not mounted");
            f.details.push(format!(
                "ConfigMap {cm} exists in namespace {} and has the key {file}, but no volume of the pod uses it and no volumeMount covers {dir}.",
                cx.pod.namespace
            ));
            let evidence = format!("ConfigMap {cm}: data key {file}");
            f.evidence(&source, [evidence]).fix_with_code(
                format!("Mount ConfigMap {cm} at {dir} in container {} (add a volume and a volumeMount to the Deployment's pod template):", c.name),
                "yaml",
                manifest::mount_snippet(&c.name, &cm, dir),
            )
            .fix(format!("If {dir} also holds files baked into the image, mount only the key with `subPath: {file}` and `mountPath: {path}`."))
        }
        (Some(cm), Some((vol, at))) => f
            .detail(format!("Volume {vol} is mounted at {at}, but it does not provide {file}; ConfigMap {cm} has it."))
            .fix(format!("Point volume {vol} at ConfigMap {cm}, or mount {cm} at {dir}.")),
        (None, _) => {
            let listed = cms.is_some_and(|r| r.output.ok());
            if listed {
                f = f.detail(format!("No ConfigMap in namespace {} has a key named {file}.", cx.pod.namespace));
            }
            f.fix(format!(
                "Create a ConfigMap with the file (`kubectl create configmap <name> --from-file={file} -n {}`), or ship it as a Secret if it holds credentials, and mount it at {dir}.",
                cx.pod.namespace
            ))
        }
    }
}

/// Probe failures, when nothing else explains the restarts.
pub fn probes(cx: &Context<'_, '_>) -> Option<Vec<Finding>> {
    let lines = cx.warning_lines(|e| e.reason == "Unhealthy" || e.message.contains("probe failed"));
    if lines.is_empty() {
        return None;
    }
    let liveness = lines
        .iter()
        .any(|l| l.to_ascii_lowercase().contains("liveness"));
    let kind = if liveness { "Liveness" } else { "Readiness" };
    Some(vec![Finding::new(Severity::Warning, format!("{kind} probes of pod {} fail", cx.pod.name))
        .evidence(cx.events_source, lines)
        .fix("Check that the probe's path and port match what the application serves, and give slow starters a startupProbe or a longer initialDelaySeconds.")])
}

#[cfg(test)]
mod tests {
    use super::exit_meaning;

    #[test]
    fn common_exit_codes_are_explained() {
        assert!(exit_meaning(137).is_some_and(|m| m.contains("SIGKILL")));
        assert!(exit_meaning(127).is_some_and(|m| m.contains("not found")));
        assert!(exit_meaning(42).is_none());
    }
}
