//! Containers killed for using more memory than their limit (`OOMKilled`, exit 137).

use squadron_core::{Finding, Severity};

use super::Context;
use crate::parse::{memory_bytes, table};

/// Formats bytes the way manifests write memory (`512Mi`, `2Gi`).
pub fn quantity(bytes: u64) -> String {
    const MI: u64 = 1024 * 1024;
    const GI: u64 = 1024 * MI;
    if bytes >= GI && bytes.is_multiple_of(GI) {
        format!("{}Gi", bytes / GI)
    } else {
        format!("{}Mi", bytes.div_ceil(MI))
    }
}

/// The finding, when the failing container was OOM-killed.
pub fn diagnose(cx: &Context<'_, '_>) -> Option<Vec<Finding>> {
    let c = cx.pod.failing_container()?;
    if c.last_reason.as_deref() != Some("OOMKilled") {
        return None;
    }
    let limit = c.limits.memory.clone();
    let title = match &limit {
        Some(l) => format!(
            "Container {} is OOMKilled: it needs more than its {l} memory limit",
            c.name
        ),
        None => format!(
            "Container {} is OOMKilled: the node ran out of memory",
            c.name
        ),
    };
    let mut f = Finding::new(Severity::Critical, title)
        .detail(format!(
            "The kernel killed the process (exit code {}) when it went over its memory limit; it has restarted {} times and the kubelet now backs off.",
            c.last_exit_code.unwrap_or(137),
            c.restart_count
        ))
        .evidence(
            cx.pod_source,
            [
                format!("{}: last state terminated, reason OOMKilled, exit code {}", c.name, c.last_exit_code.unwrap_or(137)),
                format!(
                    "resources: limits.memory {}, requests.memory {}",
                    limit.as_deref().unwrap_or("none"),
                    c.requests.memory.as_deref().unwrap_or("none")
                ),
            ],
        );
    if let Some(run) = cx.inv.last("top_pod").filter(|r| r.output.ok()) {
        let rows = table(&run.output.stdout);
        if let Some(row) = rows
            .iter()
            .find(|r| r.get(&["name"]) == Some(c.name.as_str()))
            .or(rows.first())
        {
            let used = row.value(&["memory(bytes)"]).unwrap_or_default();
            let pct = match (memory_bytes(used), limit.as_deref().and_then(memory_bytes)) {
                (Some(u), Some(l)) if l > 0 => format!(" ({}% of the limit)", u * 100 / l),
                _ => String::new(),
            };
            f = f.evidence(
                run.command(),
                [format!("{}: memory in use {used}{pct}", c.name)],
            );
        }
    }
    if let Some(run) = cx.inv.last("pod_logs").filter(|r| r.output.ok())
        && let Some(last) = run
            .output
            .stdout
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
    {
        f = f
            .detail("The logs stop mid-work with no error: the process was killed from outside.")
            .evidence(run.command(), [last.to_owned()]);
    }
    if let Some(bytes) = limit.as_deref().and_then(memory_bytes) {
        let new = quantity(bytes * 2);
        f = f.fix_with_code(
            format!("Raise the memory limit (resources.limits.memory) of container {} from {} to about {new}, and the request with it:", c.name, limit.as_deref().unwrap_or_default()),
            "yaml",
            format!("resources:\n  requests:\n    memory: {}\n  limits:\n    memory: {new}", quantity(bytes)),
        );
    } else {
        f = f.fix(format!("Set resources.limits.memory and requests.memory for container {} so the scheduler reserves enough memory.", c.name));
    }
    Some(vec![f.fix("Or make the job use less memory (process the data in batches or stream it instead of loading it all at once).")])
}

#[cfg(test)]
mod tests {
    use super::quantity;

    #[test]
    fn quantities_read_like_manifests() {
        assert_eq!(quantity(512 * 1024 * 1024), "512Mi");
        assert_eq!(quantity(2 * 1024 * 1024 * 1024), "2Gi");
    }
}
