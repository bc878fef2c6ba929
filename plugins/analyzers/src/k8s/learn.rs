//! What the K8s analyzer records between playbook steps, so later steps know which pod,
//! namespace, Secret or ConfigMap to look at.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;
use squadron_core::Entities;
use squadron_core::output::ToolRun;

use super::locate;
use super::logs::{self, Signal};
use super::pod::Pod;

/// Facts about one pod; cleared when a turn locates a different pod.
const POD_FACTS: &[&str] = &[
    "pod",
    "container",
    "deployment",
    "restarted",
    "container_started",
    "missing_file",
    "mount_path",
    "missing_secret",
    "missing_configmap",
    "missing_key",
    "oom_killed",
    "unschedulable",
    "image_problem",
    "configmap",
    "configmap_key",
    "memory_limit",
    "cpu_request",
    "good_image",
    "image",
];

static MISSING_OBJECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b(secret|configmap)s?\s+"([a-z0-9][a-z0-9.-]*)"\s+not found"#)
        .expect("static regex")
});
static MISSING_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)couldn't find key (\S+) in (Secret|ConfigMap) [a-z0-9-]+/([a-z0-9][a-z0-9.-]*)",
    )
    .expect("static regex")
});

/// Records what `run` shows.
pub fn learn(run: &ToolRun, e: &mut Entities) {
    match run.tool() {
        "pods_all_namespaces" if run.output.ok() => locate_pod(&run.output.stdout, e),
        "pod_get" => {
            if let Some(pod) = Pod::parse(&run.output.stdout) {
                learn_pod(&pod, e);
            }
        }
        "pod_events" => {
            if let Some(c) = MISSING_OBJECT.captures(&run.output.stdout) {
                e.set_default(&format!("missing_{}", c[1].to_ascii_lowercase()), &c[2]);
            }
        }
        "pod_logs" => {
            for s in logs::signals(&run.output.text()) {
                if let Signal::MissingFile { path, .. } = s {
                    e.set("missing_file", path.clone());
                    if let Some((dir, _)) = path.rsplit_once('/') {
                        e.set("mount_path", if dir.is_empty() { "/" } else { dir });
                    }
                    break;
                }
            }
        }
        "configmaps" => {
            if let Some(file) = e.get("missing_file").map(str::to_owned) {
                let base = file.rsplit('/').next().unwrap_or(&file).to_owned();
                if let Some(name) = holder_of_key(&run.output.stdout, &base) {
                    e.set("configmap", name);
                    e.set("configmap_key", base);
                }
            }
        }
        _ => {}
    }
}

fn locate_pod(stdout: &str, e: &mut Entities) {
    let listing = locate::pods(stdout, None);
    let target = e.get("pod").or(e.get("target")).map(str::to_owned);
    let chosen = locate::choose(&listing, target.as_deref(), e.get("namespace"));
    if let Some(p) = chosen.first() {
        for fact in POD_FACTS {
            e.remove(fact);
        }
        e.set("pod", p.name.clone());
        e.set("namespace", p.namespace.clone());
    }
}

fn learn_pod(pod: &Pod, e: &mut Entities) {
    if let Some((kind, name)) = pod.workload()
        && kind == "Deployment"
    {
        e.set("deployment", name);
    }
    let Some(c) = pod.failing_container() else {
        return;
    };
    e.set("container", c.name.clone());
    e.set("image", c.image.clone());
    if c.restart_count > 0 && c.last_reason.is_some() {
        e.set("restarted", "true");
    }
    if c.running {
        e.set("container_started", "true");
    }
    if c.last_reason.as_deref() == Some("OOMKilled") {
        e.set("oom_killed", "true");
    }
    if let Some(mem) = &c.limits.memory {
        e.set("memory_limit", mem.clone());
    }
    if matches!(
        c.waiting_reason.as_deref(),
        Some("ErrImagePull" | "ImagePullBackOff" | "InvalidImageName")
    ) {
        e.set("image_problem", "true");
    }
    if let Some(msg) = &c.waiting_message {
        if let Some(cap) = MISSING_OBJECT.captures(msg) {
            e.set(
                format!("missing_{}", cap[1].to_ascii_lowercase()),
                cap[2].to_owned(),
            );
        }
        if let Some(cap) = MISSING_KEY.captures(msg) {
            e.set(
                format!("missing_{}", cap[2].to_ascii_lowercase()),
                cap[3].to_owned(),
            );
            e.set("missing_key", cap[1].to_owned());
        }
    }
    if pod.unschedulable().is_some() {
        e.set("unschedulable", "true");
    }
}

/// The ConfigMap in a `kubectl get configmaps -o json` list that has `key`.
pub fn holder_of_key(list_json: &str, key: &str) -> Option<String> {
    let v: Value = serde_json::from_str(list_json).ok()?;
    let items = v.get("items").and_then(Value::as_array)?;
    items.iter().find_map(|cm| {
        let has = cm
            .get("data")
            .and_then(Value::as_object)
            .is_some_and(|d| d.contains_key(key))
            || cm
                .get("binaryData")
                .and_then(Value::as_object)
                .is_some_and(|d| d.contains_key(key));
        has.then(|| {
            cm.pointer("/metadata/name")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_configmap_holding_a_file() {
        let list = r#"{"items":[{"metadata":{"name":"kube-root-ca.crt"},"data":{"ca.crt":"<1 bytes>"}},
            {"metadata":{"name":"orders-config"},"data":{"app.yaml":"<3 bytes>"}}]}"#;
        assert_eq!(
            holder_of_key(list, "app.yaml").as_deref(),
            Some("orders-config")
        );
        assert_eq!(holder_of_key(list, "db.yaml"), None);
        assert_eq!(holder_of_key("not json", "db.yaml"), None);
    }

    #[test]
    fn reads_missing_objects_from_messages() {
        let c = MISSING_OBJECT
            .captures(r#"Error: secret "invoice-db" not found"#)
            .expect("match");
        assert_eq!((&c[1], &c[2]), ("secret", "invoice-db"));
        let c = MISSING_KEY
            .captures("couldn't find key password in Secret billing/db-creds")
            .expect("match");
        assert_eq!((&c[1], &c[2], &c[3]), ("password", "Secret", "db-creds"));
    }
}
