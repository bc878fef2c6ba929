//! Containers the kubelet cannot even create (`CreateContainerConfigError`,
//! `CreateContainerError`): a Secret or ConfigMap the pod references is missing, or lacks
//! the key it asks for.

use squadron_core::{Finding, Severity};

use super::Context;

/// Where the pod references an object: env vars, envFrom and volumes.
fn references(cx: &Context<'_, '_>, kind: &str, name: &str) -> Vec<String> {
    let mut refs = Vec::new();
    for c in cx.pod.init_containers.iter().chain(&cx.pod.containers) {
        for (var, k, obj, key) in &c.env_refs {
            if k == kind && obj == name {
                let r = if kind == "secret" {
                    "secretKeyRef"
                } else {
                    "configMapKeyRef"
                };
                refs.push(format!(
                    "container {}: env {var} from {r} {obj}/{key}",
                    c.name
                ));
            }
        }
        for (k, obj) in &c.env_from {
            if k == kind && obj == name {
                refs.push(format!("container {}: envFrom {kind} {obj}", c.name));
            }
        }
    }
    for v in &cx.pod.volumes {
        if v.source.as_deref() == Some(name)
            || v.projected.iter().any(|(k, n)| k == kind && n == name)
        {
            refs.push(format!("volume {} ({})", v.name, v.kind));
        }
    }
    refs
}

/// The keys the pod reads from an object.
fn keys(cx: &Context<'_, '_>, kind: &str, name: &str) -> Vec<String> {
    let mut keys: Vec<String> = cx
        .pod
        .containers
        .iter()
        .chain(&cx.pod.init_containers)
        .flat_map(|c| c.env_refs.iter())
        .filter(|(_, k, obj, _)| k == kind && obj == name)
        .map(|(_, _, _, key)| key.clone())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// The finding, when a container cannot be created for a missing object or key.
pub fn diagnose(cx: &Context<'_, '_>) -> Option<Vec<Finding>> {
    let c = cx.pod.failing_container()?;
    let reason = c.waiting_reason.as_deref().unwrap_or_default();
    let e = &cx.inv.entities;
    let (kind, name) = match (e.get("missing_secret"), e.get("missing_configmap")) {
        (Some(s), _) => ("secret", s.to_owned()),
        (None, Some(m)) => ("configmap", m.to_owned()),
        _ => return None,
    };
    if !reason.starts_with("CreateContainer")
        && reason != "ContainerCreating"
        && !cx.pod.phase.eq("Pending")
    {
        return None;
    }
    let label = if kind == "secret" {
        "Secret"
    } else {
        "ConfigMap"
    };
    let ns = &cx.pod.namespace;
    let mut f = Finding::new(
        Severity::Critical,
        match e.get("missing_key") {
            Some(key) => format!(
                "Pod {} cannot start: {label} {name} has no key {key}",
                cx.pod.name
            ),
            None => format!(
                "Pod {} cannot start: {label} {name} does not exist in namespace {ns}",
                cx.pod.name
            ),
        },
    );
    f = f.detail(format!(
        "The kubelet builds the container's environment and volumes before starting it; while {label} {name} is missing, container {} stays in {}.",
        c.name,
        if reason.is_empty() { "waiting" } else { reason }
    ));
    let mut status = vec![format!("{}: {}", c.name, reason)];
    if let Some(m) = &c.waiting_message {
        status.push(format!("message: {m}"));
    }
    f = f.evidence(cx.pod_source, status);
    let warn = cx.warning_lines(|ev| ev.message.contains(name.as_str()));
    f = f.evidence(cx.events_source, warn);
    let refs = references(cx, kind, &name);
    if !refs.is_empty() {
        f = f.evidence(cx.pod_source, refs);
    }
    if kind == "secret" {
        if let Some(run) = cx.inv.last("secret_get")
            && !run.output.ok()
        {
            f = f.evidence(run.command(), run.output.stderr.lines().take(2));
        }
        if let Some(run) = cx.inv.last("secrets") {
            let present: Vec<String> = run.output.stdout.lines().map(str::to_owned).collect();
            if present.len() > 1 {
                f = f
                    .detail(format!(
                        "The Secrets that do exist in {ns} are listed below."
                    ))
                    .evidence(run.command(), present);
            }
        }
    }
    let wanted = keys(cx, kind, &name);
    let literals: Vec<String> = if wanted.is_empty() {
        vec!["--from-literal=<key>=<value>".into()]
    } else {
        wanted
            .iter()
            .map(|k| format!("--from-literal={k}=<value>"))
            .collect()
    };
    let create = if kind == "secret" {
        format!(
            "kubectl create secret generic {name} {} --namespace={ns}",
            literals.join(" ")
        )
    } else {
        format!(
            "kubectl create configmap {name} {} --namespace={ns}",
            literals.join(" ")
        )
    };
    f = f
        .fix_with_code(
            format!("Create the missing {label} {name} in {ns} (from your secrets pipeline if you have one), with the key(s) the pod reads:"),
            "sh",
            create,
        )
        .fix(format!("The kubelet retries on its own: once {label} {name} exists the container starts, no restart needed."));
    Some(vec![f])
}
