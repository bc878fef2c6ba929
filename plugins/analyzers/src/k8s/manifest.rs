//! Manifest fixes: the volume and volumeMount that bring a ConfigMap into a container, the
//! check that the ConfigMap exists, and the whole Deployment rewritten with the fixes the
//! conversation found, ready for `kubectl apply -f`.

use serde_json::{Map, Value, json};
use squadron_core::{Entities, Finding, Investigation, Severity};

use crate::parse::memory_bytes;

/// The name given to the volume that carries a ConfigMap.
fn volume_name(configmap: &str) -> String {
    let base: String = configmap.chars().take(50).collect();
    format!("{}-volume", base.trim_end_matches('-'))
}

/// The pod-template fragment that mounts `configmap` at `dir` in `container`.
pub fn mount_snippet(container: &str, configmap: &str, dir: &str) -> String {
    let vol = volume_name(configmap);
    format!(
        "spec:\n  template:\n    spec:\n      containers:\n        - name: {container}\n          volumeMounts:\n            - name: {vol}\n              mountPath: {dir}\n              readOnly: true\n      volumes:\n        - name: {vol}\n          configMap:\n            name: {configmap}\n"
    )
}

/// Turn two of a missing-mount conversation: does the ConfigMap exist, and how to mount it.
pub fn configmap_check(inv: &mut Investigation<'_>) -> Vec<Finding> {
    let e = &inv.entities;
    let ns = e.get("namespace").unwrap_or("default").to_owned();
    let Some(run) = inv.last("configmap_get").or(inv.last("configmaps")) else {
        return vec![Finding::new(
            Severity::Info,
            "Tell me which ConfigMap to check (or the pod that needs it).",
        )];
    };
    let name = e.get("configmap").unwrap_or_default().to_owned();
    if !run.output.ok() {
        let missing =
            run.output.stderr.contains("NotFound") || run.output.stderr.contains("not found");
        let mut f = Finding::new(
            Severity::Warning,
            format!("ConfigMap {name} does not exist in namespace {ns}"),
        )
        .evidence(run.command(), run.output.stderr.lines().take(2));
        if missing {
            let key = e.get("configmap_key").unwrap_or("<file>");
            f = f.fix_with_code(
                "Create it from the file the application expects:",
                "sh",
                format!("kubectl create configmap {name} --from-file={key} --namespace={ns}"),
            );
        }
        return vec![f];
    }
    let v: Value = serde_json::from_str(&run.output.stdout).unwrap_or(Value::Null);
    let keys: Vec<String> = v
        .get("data")
        .and_then(Value::as_object)
        .map(|d| d.keys().cloned().collect())
        .unwrap_or_default();
    let mut f = Finding::new(
        Severity::Info,
        format!("ConfigMap {name} exists in namespace {ns}"),
    )
    .evidence(run.command(), [format!("data keys: {}", keys.join(", "))]);
    match (e.get("container"), e.get("mount_path")) {
        (Some(container), Some(dir)) => {
            let deploy = e.get("deployment").unwrap_or("<deployment>");
            f.title = format!(
                "ConfigMap {name} exists in namespace {ns}, but Deployment {deploy} does not mount it"
            );
            if let Some(key) = e.get("configmap_key") {
                f = f.detail(format!(
                    "It holds {key}; the container looks for it in {dir}, where nothing is mounted."
                ));
            }
            if let Some(d) = inv
                .last("deployment_get")
                .and_then(|r| serde_json::from_str::<Value>(&r.output.stdout).ok())
            {
                let mounts = template_mounts(&d, container);
                f = f.evidence(
                    inv.last("deployment_get")
                        .map(|r| r.command())
                        .unwrap_or_default(),
                    mounts,
                );
            }
            f = f
                .fix_with_code(
                    format!("Add a volume for the ConfigMap and a volumeMount with mountPath {dir} to container {container} of Deployment {deploy}:"),
                    "yaml",
                    mount_snippet(container, &name, dir),
                )
                .fix_with_code(
                    "Apply it as a patch (the Deployment rolls out new pods by itself):",
                    "sh",
                    format!(
                        "kubectl patch deployment {deploy} --namespace={ns} --type=strategic --patch-file=mount-{name}.yaml\nkubectl rollout status deployment/{deploy} --namespace={ns}"
                    ),
                )
                .fix("Ask me to generate the updated manifest if you prefer a full Deployment to apply.");
        }
        _ => {
            f = f.fix(format!("Mount it with a `configMap` volume (name: {name}) and a volumeMount at the directory the application reads."));
        }
    }
    vec![f]
}

fn template_mounts(deployment: &Value, container: &str) -> Vec<String> {
    let empty = Vec::new();
    let cs = deployment
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    cs.iter()
        .filter(|c| c.get("name").and_then(Value::as_str) == Some(container))
        .flat_map(|c| {
            c.get("volumeMounts")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .map(|m| {
            format!(
                "volumeMount {} at {}",
                m.get("name").and_then(Value::as_str).unwrap_or("?"),
                m.get("mountPath").and_then(Value::as_str).unwrap_or("?")
            )
        })
        .chain(std::iter::once(format!(
            "container {container}: no volumeMount for the ConfigMap"
        )))
        .collect()
}

/// Removes what the API server adds, so the result can be applied.
fn clean(d: &mut Value) {
    if let Some(obj) = d.as_object_mut() {
        obj.remove("status");
    }
    if let Some(meta) = d.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in [
            "managedFields",
            "resourceVersion",
            "uid",
            "creationTimestamp",
            "generation",
            "selfLink",
        ] {
            meta.remove(k);
        }
        if let Some(a) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            a.remove("kubectl.kubernetes.io/last-applied-configuration");
            a.remove("deployment.kubernetes.io/revision");
            if a.is_empty() {
                meta.remove("annotations");
            }
        }
    }
    if let Some(t) = d
        .pointer_mut("/spec/template/metadata")
        .and_then(Value::as_object_mut)
    {
        t.remove("creationTimestamp");
    }
}

fn container_mut<'a>(d: &'a mut Value, name: Option<&str>) -> Option<&'a mut Map<String, Value>> {
    let cs = d
        .pointer_mut("/spec/template/spec/containers")?
        .as_array_mut()?;
    let idx = cs
        .iter()
        .position(|c| name.is_some_and(|n| c.get("name").and_then(Value::as_str) == Some(n)))
        .unwrap_or(0);
    cs.get_mut(idx)?.as_object_mut()
}

/// Applies the fixes the conversation found; returns what changed.
fn patch(d: &mut Value, e: &Entities) -> Vec<String> {
    let mut changes = Vec::new();
    let container = e.get("container");
    if let (Some(cm), Some(dir)) = (e.get("configmap"), e.get("mount_path")) {
        let vol = volume_name(cm);
        if let Some(c) = container_mut(d, container) {
            let mounts = c.entry("volumeMounts").or_insert_with(|| json!([]));
            if let Some(list) = mounts.as_array_mut()
                && !list
                    .iter()
                    .any(|m| m.get("mountPath").and_then(Value::as_str) == Some(dir))
            {
                list.push(json!({"name": vol, "mountPath": dir, "readOnly": true}));
                changes.push(format!("volumeMount {vol} at {dir}"));
            }
        }
        if let Some(spec) = d
            .pointer_mut("/spec/template/spec")
            .and_then(Value::as_object_mut)
        {
            let vols = spec.entry("volumes").or_insert_with(|| json!([]));
            if let Some(list) = vols.as_array_mut()
                && !list
                    .iter()
                    .any(|v| v.get("name").and_then(Value::as_str) == Some(vol.as_str()))
            {
                list.push(json!({"name": vol, "configMap": {"name": cm}}));
                changes.push(format!("volume {vol} from ConfigMap {cm}"));
            }
        }
    }
    if e.has("oom_killed")
        && let Some(limit) = e.get("memory_limit").and_then(memory_bytes)
    {
        let new = super::oom::quantity(limit * 2);
        if let Some(c) = container_mut(d, container) {
            let res = c.entry("resources").or_insert_with(|| json!({}));
            if let Some(r) = res.as_object_mut() {
                let limits = r.entry("limits").or_insert_with(|| json!({}));
                if let Some(l) = limits.as_object_mut() {
                    l.insert("memory".into(), json!(new));
                    changes.push(format!("limits.memory {new}"));
                }
            }
        }
    }
    changes
}

/// The whole Deployment with the conversation's fixes, as YAML.
pub fn generate(inv: &mut Investigation<'_>) -> Vec<Finding> {
    let Some(run) = inv.last("deployment_get") else {
        return vec![Finding::new(
            Severity::Info,
            "I need to know the Deployment first: ask me about the failing pod, then for the manifest.",
        )];
    };
    let Ok(mut d) = serde_json::from_str::<Value>(&run.output.stdout) else {
        return vec![
            Finding::new(Severity::Warning, "I could not read the Deployment")
                .evidence(run.command(), run.output.stderr.lines().take(2)),
        ];
    };
    clean(&mut d);
    let changes = patch(&mut d, inv.entities);
    let name = d
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("deployment")
        .to_owned();
    let ns = d
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("default")
        .to_owned();
    let yaml = serde_yaml_ng::to_string(&d).unwrap_or_default();
    if changes.is_empty() {
        return vec![
            Finding::new(
                Severity::Info,
                format!("Deployment {name} as it is now; I found no change to make to it yet"),
            )
            .fix_with_code("Current manifest:", "yaml", yaml),
        ];
    }
    vec![Finding::new(Severity::Info, format!("Updated manifest for Deployment {name}"))
        .detail(format!("Changed: {}. Status and server-set fields are removed.", changes.join("; ")))
        .evidence(run.command(), changes.iter().map(|c| format!("added {c}")))
        .fix_with_code(format!("Save as {name}.yaml and apply it:"), "yaml", yaml)
        .fix_with_code("Then:", "sh", format!("kubectl apply -f {name}.yaml\nkubectl rollout status deployment/{name} --namespace={ns}"))]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_patched_deployment_mounts_the_configmap() {
        let mut d = json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"api","namespace":"prod","uid":"x","resourceVersion":"1"},
            "spec":{"template":{"spec":{"containers":[{"name":"api","image":"r/api:1"}]}}},"status":{"replicas":1}});
        let mut e = Entities::new();
        e.set("configmap", "api-config");
        e.set("mount_path", "/etc/api");
        e.set("container", "api");
        clean(&mut d);
        let changes = patch(&mut d, &e);
        assert_eq!(changes.len(), 2);
        let yaml = serde_yaml_ng::to_string(&d).expect("yaml");
        assert!(
            yaml.contains("kind: Deployment")
                && yaml.contains("configMap:")
                && yaml.contains("mountPath: /etc/api"),
            "{yaml}"
        );
        assert!(
            !yaml.contains("status:") && !yaml.contains("resourceVersion"),
            "{yaml}"
        );
        assert!(
            patch(&mut d, &e).is_empty(),
            "patching twice changes nothing"
        );
    }

    #[test]
    fn the_snippet_names_volume_and_mount() {
        let s = mount_snippet("api", "api-config", "/etc/api");
        assert!(
            s.contains("volumeMounts:")
                && s.contains("mountPath: /etc/api")
                && s.contains("name: api-config")
        );
    }
}
