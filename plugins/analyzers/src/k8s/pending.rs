//! Pods the scheduler cannot place (`Pending`, `Unschedulable`): which resource or rule
//! stops every node, and whether any node could ever fit the pod; plus node health.

use serde_json::Value;
use squadron_core::{Finding, Investigation, Severity};

use super::Context;
use crate::parse::{cpu_millis, memory_bytes};

/// A node's allocatable resources and state from `kubectl get nodes -o json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeCapacity {
    pub name: String,
    pub cpu_millis: Option<u64>,
    pub memory: Option<u64>,
    pub cpu_text: String,
    pub memory_text: String,
    pub ready: bool,
    pub unschedulable: bool,
    /// Conditions other than Ready that are True (MemoryPressure, DiskPressure, ...).
    pub pressure: Vec<String>,
}

/// Reads a node list.
pub fn nodes(json: &str) -> Vec<NodeCapacity> {
    let Ok(v) = serde_json::from_str::<Value>(json) else {
        return Vec::new();
    };
    let empty = Vec::new();
    v.get("items")
        .and_then(Value::as_array)
        .unwrap_or(&empty)
        .iter()
        .map(|n| {
            let cpu = n
                .pointer("/status/allocatable/cpu")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let mem = n
                .pointer("/status/allocatable/memory")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let conds = n
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .unwrap_or(&empty);
            let cond = |t: &str| {
                conds
                    .iter()
                    .find(|c| c.get("type").and_then(Value::as_str) == Some(t))
            };
            NodeCapacity {
                name: n
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                cpu_millis: cpu_millis(cpu),
                memory: memory_bytes(mem),
                cpu_text: cpu.to_owned(),
                memory_text: mem.to_owned(),
                ready: cond("Ready")
                    .and_then(|c| c.get("status"))
                    .and_then(Value::as_str)
                    == Some("True"),
                unschedulable: n
                    .pointer("/spec/unschedulable")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                pressure: conds
                    .iter()
                    .filter(|c| {
                        c.get("type").and_then(Value::as_str) != Some("Ready")
                            && c.get("status").and_then(Value::as_str) == Some("True")
                    })
                    .filter_map(|c| c.get("type").and_then(Value::as_str).map(str::to_owned))
                    .collect(),
            }
        })
        .collect()
}

/// The scheduler's reasons (`3 Insufficient cpu`, `1 node(s) had untolerated taint ...`).
fn reasons(message: &str) -> Vec<String> {
    let head = message.split("preemption:").next().unwrap_or(message);
    let list = head.split_once(':').map_or(head, |(_, r)| r);
    list.split(',')
        .map(|r| r.trim().trim_end_matches('.').to_owned())
        .filter(|r| !r.is_empty())
        .collect()
}

/// The finding, when the pod cannot be scheduled.
pub fn diagnose(cx: &Context<'_, '_>) -> Option<Vec<Finding>> {
    let message = cx.pod.unschedulable()?;
    let why = reasons(message);
    let cpu_req: u64 = cx
        .pod
        .containers
        .iter()
        .filter_map(|c| c.requests.cpu.as_deref().and_then(cpu_millis))
        .sum();
    let mem_req: u64 = cx
        .pod
        .containers
        .iter()
        .filter_map(|c| c.requests.memory.as_deref().and_then(memory_bytes))
        .sum();
    let nodes_run = cx.inv.last("nodes_get").filter(|r| r.output.ok());
    let nodes = nodes_run
        .map(|r| nodes(&r.output.stdout))
        .unwrap_or_default();
    let schedulable: Vec<&NodeCapacity> = nodes
        .iter()
        .filter(|n| n.ready && !n.unschedulable)
        .collect();

    let lacks = |what: &str| {
        why.iter()
            .any(|r| r.contains(&format!("Insufficient {what}")))
    };
    let mut f = Finding::new(
        Severity::Critical,
        format!(
            "Pod {} cannot be scheduled: {}",
            cx.pod.name,
            why.join(", ")
        ),
    )
    .evidence(cx.pod_source, [format!("PodScheduled=False: {message}")]);
    let req_lines: Vec<String> = cx
        .pod
        .containers
        .iter()
        .map(|c| {
            format!(
                "{}: requests cpu {}, memory {}",
                c.name,
                c.requests.cpu.as_deref().unwrap_or("none"),
                c.requests.memory.as_deref().unwrap_or("none")
            )
        })
        .collect();
    f = f.evidence(cx.pod_source, req_lines);
    let siblings = cx.warning_lines(|e| e.reason == "FailedScheduling");
    f = f.evidence(cx.events_source, siblings);

    for (what, need, cap) in [
        (
            "cpu",
            cpu_req,
            schedulable
                .iter()
                .filter_map(|n| {
                    n.cpu_millis
                        .map(|c| (c, n.cpu_text.clone(), n.name.clone()))
                })
                .max(),
        ),
        (
            "memory",
            mem_req,
            schedulable
                .iter()
                .filter_map(|n| n.memory.map(|m| (m, n.memory_text.clone(), n.name.clone())))
                .max(),
        ),
    ] {
        if !lacks(what) || need == 0 {
            continue;
        }
        let Some((max, max_text, _)) = cap else {
            continue;
        };
        let alloc: Vec<String> = schedulable
            .iter()
            .map(|n| {
                format!(
                    "{}: allocatable {what} {}",
                    n.name,
                    if what == "cpu" {
                        &n.cpu_text
                    } else {
                        &n.memory_text
                    }
                )
            })
            .collect();
        let source = nodes_run
            .map(|r| r.command().to_owned())
            .unwrap_or_default();
        f = f.evidence(&source, alloc);
        let shown = if what == "cpu" {
            format!("{need}m")
        } else {
            super::oom::quantity(need)
        };
        if need > max {
            f = f
                .detail(format!(
                    "The pod requests {shown} of {what}, but the largest node has only {max_text} allocatable: no node can ever fit it, whatever else runs there. Adding nodes of the same size will not help."
                ))
                .fix(format!(
                    "Lower requests.{what} of the pod template below {max_text} (leave room for DaemonSets){}.",
                    if what == "cpu" && need >= 1000 { format!("; if {} cores was meant as {}m, write that", need / 1000, need / 10) } else { String::new() }
                ))
                .fix(format!("Or schedule it onto a node pool with more than {shown} allocatable {what} (nodeSelector or affinity)."));
        } else {
            f = f
                .detail(format!("A node has {max_text} allocatable {what}, enough for {shown}, but what already runs there leaves too little free."))
                .fix(format!("Free capacity (scale down or right-size other workloads), add nodes, or lower requests.{what}."));
        }
    }
    if why.iter().any(|r| r.contains("taint")) {
        f = f.fix(
            "Add a matching toleration to the pod, or remove the taint from nodes meant for it.",
        );
    }
    if why
        .iter()
        .any(|r| r.contains("affinity") || r.contains("selector"))
    {
        f = f.fix("Check the pod's nodeSelector/affinity against the nodes' labels (`kubectl get nodes --show-labels`).");
    }
    if why.iter().any(|r| r.contains("PersistentVolumeClaim")) {
        f = f.fix(
            "Check the pod's PersistentVolumeClaims (`kubectl get pvc`) and their StorageClass.",
        );
    }
    Some(vec![f])
}

/// Node readiness, pressure and capacity.
pub fn cluster_health(inv: &mut Investigation<'_>) -> Vec<Finding> {
    let Some(run) = inv.last("nodes_get").filter(|r| r.output.ok()) else {
        return Vec::new();
    };
    let all = nodes(&run.output.stdout);
    let bad: Vec<String> = all
        .iter()
        .filter(|n| !n.ready || n.unschedulable || !n.pressure.is_empty())
        .map(|n| {
            let mut s = vec![if n.ready { "Ready" } else { "NotReady" }.to_owned()];
            if n.unschedulable {
                s.push("SchedulingDisabled".into());
            }
            s.extend(n.pressure.iter().cloned());
            format!("{}: {}", n.name, s.join(", "))
        })
        .collect();
    if bad.is_empty() {
        return vec![Finding::new(
            Severity::Info,
            format!(
                "All {} nodes are Ready with no pressure conditions",
                all.len()
            ),
        )];
    }
    vec![Finding::new(Severity::Warning, format!("{} of {} nodes need attention", bad.len(), all.len()))
        .evidence(run.command(), bad)
        .fix("Describe the affected nodes (`kubectl describe node NAME`) for kubelet and pressure details; cordon and drain a NotReady node before replacing it.")]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheduler_reasons_are_split() {
        let r = reasons(
            "0/5 nodes are available: 2 Insufficient memory, 3 node(s) had untolerated taint {x: y}. preemption: 0/5 nodes are available: 5 No preemption victims found for incoming pod.",
        );
        assert_eq!(
            r,
            vec![
                "2 Insufficient memory".to_owned(),
                "3 node(s) had untolerated taint {x: y}".to_owned()
            ]
        );
    }

    #[test]
    fn node_allocatable_is_read() {
        let json = r#"{"items":[{"metadata":{"name":"w1"},"status":{"allocatable":{"cpu":"3920m","memory":"6925172Ki"},"conditions":[{"type":"Ready","status":"True"},{"type":"DiskPressure","status":"True"}]}}]}"#;
        let n = nodes(json);
        assert_eq!(n[0].cpu_millis, Some(3920));
        assert!(n[0].ready);
        assert_eq!(n[0].pressure, vec!["DiskPressure".to_owned()]);
    }
}
