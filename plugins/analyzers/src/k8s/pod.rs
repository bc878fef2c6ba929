//! A pod read from `kubectl get pod -o json`: the parts a diagnosis needs, with every field
//! optional, so partial or unusual objects never fail to parse.

use serde_json::Value;

/// A container's spec and status together.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Container {
    pub name: String,
    pub image: String,
    pub ready: bool,
    pub restart_count: u64,
    pub running: bool,
    pub waiting_reason: Option<String>,
    pub waiting_message: Option<String>,
    pub last_reason: Option<String>,
    pub last_exit_code: Option<i64>,
    pub last_message: Option<String>,
    pub limits: Resources,
    pub requests: Resources,
    /// (volume name, mount path)
    pub mounts: Vec<(String, String)>,
    /// (env var, kind "secret"|"configmap", object name, key)
    pub env_refs: Vec<(String, String, String, String)>,
    /// (kind, object name) from envFrom
    pub env_from: Vec<(String, String)>,
    /// plain env values (name, value) — never values from Secrets
    pub env: Vec<(String, String)>,
}

/// CPU and memory quantities as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resources {
    pub cpu: Option<String>,
    pub memory: Option<String>,
}

/// A volume and what it takes its data from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    pub name: String,
    /// "configMap", "secret", "persistentVolumeClaim", "projected", "emptyDir", ...
    pub kind: String,
    /// The ConfigMap, Secret or claim it names (the first source for projected volumes).
    pub source: Option<String>,
    /// For projected volumes: every ConfigMap and Secret it projects.
    pub projected: Vec<(String, String)>,
}

/// The pod.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pod {
    pub name: String,
    pub namespace: String,
    pub phase: String,
    pub node: Option<String>,
    pub owner_kind: Option<String>,
    pub owner_name: Option<String>,
    pub template_hash: Option<String>,
    pub containers: Vec<Container>,
    pub init_containers: Vec<Container>,
    pub volumes: Vec<Volume>,
    /// (type, status, reason, message)
    pub conditions: Vec<(String, String, String, String)>,
}

fn s(v: &Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    match cur {
        Value::String(x) => Some(x.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn resources(v: &Value, which: &str) -> Resources {
    Resources {
        cpu: s(v, &["resources", which, "cpu"]),
        memory: s(v, &["resources", which, "memory"]),
    }
}

fn containers(spec: &Value, statuses: Option<&Value>) -> Vec<Container> {
    let empty = Vec::new();
    let specs = spec.as_array().unwrap_or(&empty);
    let statuses = statuses.and_then(Value::as_array).unwrap_or(&empty);
    specs
        .iter()
        .map(|c| {
            let name = s(c, &["name"]).unwrap_or_default();
            let st = statuses
                .iter()
                .find(|st| s(st, &["name"]).as_deref() == Some(name.as_str()));
            let mut out = Container {
                image: s(c, &["image"]).unwrap_or_default(),
                limits: resources(c, "limits"),
                requests: resources(c, "requests"),
                ..Container::default()
            };
            for m in c
                .get("volumeMounts")
                .and_then(Value::as_array)
                .unwrap_or(&empty)
            {
                if let (Some(v), Some(p)) = (s(m, &["name"]), s(m, &["mountPath"])) {
                    out.mounts.push((v, p));
                }
            }
            for e in c.get("env").and_then(Value::as_array).unwrap_or(&empty) {
                let var = s(e, &["name"]).unwrap_or_default();
                if let Some(from) = e.get("valueFrom") {
                    for (key, kind) in
                        [("secretKeyRef", "secret"), ("configMapKeyRef", "configmap")]
                    {
                        if let Some(r) = from.get(key) {
                            out.env_refs.push((
                                var.clone(),
                                kind.to_owned(),
                                s(r, &["name"]).unwrap_or_default(),
                                s(r, &["key"]).unwrap_or_default(),
                            ));
                        }
                    }
                } else if let Some(value) = s(e, &["value"]) {
                    out.env.push((var, value));
                }
            }
            for e in c.get("envFrom").and_then(Value::as_array).unwrap_or(&empty) {
                if let Some(n) = s(e, &["secretRef", "name"]) {
                    out.env_from.push(("secret".into(), n));
                }
                if let Some(n) = s(e, &["configMapRef", "name"]) {
                    out.env_from.push(("configmap".into(), n));
                }
            }
            if let Some(st) = st {
                out.ready = st.get("ready").and_then(Value::as_bool).unwrap_or(false);
                out.restart_count = st.get("restartCount").and_then(Value::as_u64).unwrap_or(0);
                out.running = st.pointer("/state/running").is_some();
                out.waiting_reason = s(st, &["state", "waiting", "reason"]);
                out.waiting_message = s(st, &["state", "waiting", "message"]);
                let term = st
                    .pointer("/lastState/terminated")
                    .or_else(|| st.pointer("/state/terminated"));
                if let Some(t) = term {
                    out.last_reason = s(t, &["reason"]);
                    out.last_exit_code = t.get("exitCode").and_then(Value::as_i64);
                    out.last_message = s(t, &["message"]);
                }
            }
            out.name = name;
            out
        })
        .collect()
}

impl Pod {
    /// Reads a pod object; `None` when the text is not a pod.
    pub fn parse(json: &str) -> Option<Pod> {
        let v: Value = serde_json::from_str(json).ok()?;
        if s(&v, &["kind"]).is_some_and(|k| k != "Pod") {
            return None;
        }
        let meta = v.get("metadata")?;
        let owner = meta
            .get("ownerReferences")
            .and_then(Value::as_array)
            .and_then(|o| {
                o.iter()
                    .find(|r| {
                        r.get("controller")
                            .and_then(Value::as_bool)
                            .unwrap_or(false)
                    })
                    .or_else(|| o.first())
            });
        let spec = v.get("spec").cloned().unwrap_or(Value::Null);
        let status = v.get("status").cloned().unwrap_or(Value::Null);
        let empty = Vec::new();
        let volumes = spec
            .get("volumes")
            .and_then(Value::as_array)
            .unwrap_or(&empty)
            .iter()
            .map(|vol| {
                let name = s(vol, &["name"]).unwrap_or_default();
                let kind = vol
                    .as_object()
                    .and_then(|o| o.keys().find(|k| k.as_str() != "name").cloned())
                    .unwrap_or_default();
                let source = s(vol, &["configMap", "name"])
                    .or_else(|| s(vol, &["secret", "secretName"]))
                    .or_else(|| s(vol, &["persistentVolumeClaim", "claimName"]));
                let projected = vol
                    .pointer("/projected/sources")
                    .and_then(Value::as_array)
                    .unwrap_or(&empty)
                    .iter()
                    .filter_map(|src| {
                        s(src, &["configMap", "name"])
                            .map(|n| ("configmap".to_owned(), n))
                            .or_else(|| {
                                s(src, &["secret", "name"]).map(|n| ("secret".to_owned(), n))
                            })
                    })
                    .collect();
                Volume {
                    name,
                    kind,
                    source,
                    projected,
                }
            })
            .collect();
        let conditions = status
            .get("conditions")
            .and_then(Value::as_array)
            .unwrap_or(&empty)
            .iter()
            .map(|c| {
                (
                    s(c, &["type"]).unwrap_or_default(),
                    s(c, &["status"]).unwrap_or_default(),
                    s(c, &["reason"]).unwrap_or_default(),
                    s(c, &["message"]).unwrap_or_default(),
                )
            })
            .collect();
        Some(Pod {
            name: s(meta, &["name"]).unwrap_or_default(),
            namespace: s(meta, &["namespace"]).unwrap_or_default(),
            phase: s(&status, &["phase"]).unwrap_or_default(),
            node: s(&spec, &["nodeName"]),
            owner_kind: owner.and_then(|o| s(o, &["kind"])),
            owner_name: owner.and_then(|o| s(o, &["name"])),
            template_hash: s(meta, &["labels", "pod-template-hash"]),
            containers: containers(
                spec.get("containers").unwrap_or(&Value::Null),
                status.get("containerStatuses"),
            ),
            init_containers: containers(
                spec.get("initContainers").unwrap_or(&Value::Null),
                status.get("initContainerStatuses"),
            ),
            volumes,
            conditions,
        })
    }

    /// The Deployment (or other workload) that owns the pod: a ReplicaSet's name minus its
    /// pod-template-hash.
    pub fn workload(&self) -> Option<(String, String)> {
        let kind = self.owner_kind.as_deref()?;
        let name = self.owner_name.as_deref()?;
        if kind == "ReplicaSet" {
            let base = match &self.template_hash {
                Some(h) => name.strip_suffix(&format!("-{h}")).unwrap_or(name),
                None => name.rsplit_once('-').map_or(name, |(b, _)| b),
            };
            return Some(("Deployment".into(), base.to_owned()));
        }
        Some((kind.to_owned(), name.to_owned()))
    }

    /// The container in the worst state: waiting or restarting first, then not ready.
    pub fn failing_container(&self) -> Option<&Container> {
        let all = || self.init_containers.iter().chain(&self.containers);
        all()
            .find(|c| c.waiting_reason.is_some() && !c.ready)
            .or_else(|| all().find(|c| c.restart_count > 0 && !c.ready))
            .or_else(|| self.containers.iter().find(|c| !c.ready))
            .or_else(|| self.containers.first())
    }

    /// The PodScheduled=False condition's message, when the scheduler could not place it.
    pub fn unschedulable(&self) -> Option<&str> {
        self.conditions
            .iter()
            .find(|(t, st, reason, _)| {
                t == "PodScheduled"
                    && st == "False"
                    && (reason == "Unschedulable" || reason.is_empty())
            })
            .map(|(_, _, _, m)| m.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POD: &str = r#"{"kind":"Pod","metadata":{"name":"api-6c9b7d4f5-x2x","namespace":"prod",
      "labels":{"pod-template-hash":"6c9b7d4f5"},
      "ownerReferences":[{"kind":"ReplicaSet","name":"api-6c9b7d4f5","controller":true}]},
      "spec":{"containers":[{"name":"api","image":"r/api:1","resources":{"limits":{"memory":"256Mi"}},
        "volumeMounts":[{"name":"cfg","mountPath":"/etc/api"}],
        "env":[{"name":"DB_PASSWORD","valueFrom":{"secretKeyRef":{"name":"db","key":"password"}}},{"name":"MODE","value":"prod"}]}],
        "volumes":[{"name":"cfg","configMap":{"name":"api-config"}}]},
      "status":{"phase":"Running","containerStatuses":[{"name":"api","ready":false,"restartCount":3,
        "state":{"waiting":{"reason":"CrashLoopBackOff"}},
        "lastState":{"terminated":{"reason":"OOMKilled","exitCode":137}}}]}}"#;

    #[test]
    fn reads_status_spec_and_owner() {
        let pod = Pod::parse(POD).expect("pod");
        assert_eq!(pod.workload(), Some(("Deployment".into(), "api".into())));
        let c = pod.failing_container().expect("container");
        assert_eq!(c.last_reason.as_deref(), Some("OOMKilled"));
        assert_eq!(c.last_exit_code, Some(137));
        assert_eq!(c.limits.memory.as_deref(), Some("256Mi"));
        assert_eq!(c.env_refs[0].2, "db");
        assert_eq!(c.env, vec![("MODE".to_owned(), "prod".to_owned())]);
        assert_eq!(pod.volumes[0].source.as_deref(), Some("api-config"));
        assert_eq!(c.mounts[0], ("cfg".to_owned(), "/etc/api".to_owned()));
    }

    #[test]
    fn other_objects_and_garbage_are_not_pods() {
        assert!(Pod::parse(r#"{"kind":"Deployment","metadata":{}}"#).is_none());
        assert!(Pod::parse("Error from server (NotFound)").is_none());
    }
}
