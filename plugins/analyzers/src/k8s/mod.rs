//! The K8s squad's analyzer: locates the pod the user means, reads its status, events and
//! logs, and explains the failure (crash, missing config, image pull, OOM, scheduling) with
//! the manifest change that fixes it.
//!
//! Between playbook steps it records what later steps need as entities: the pod and its
//! namespace, the failing container, the owning Deployment, and facts such as
//! `missing_file`, `missing_secret`, `oom_killed` or `unschedulable`.

mod config;
mod crash;
mod events;
mod image;
mod learn;
mod locate;
mod logs;
mod manifest;
mod oom;
mod pending;
mod pod;

use squadron_core::output::ToolRun;
use squadron_core::{Analyzer, Entities, Finding, Investigation, Severity};

use pod::Pod;

/// Reads the K8s squad's tool output.
#[derive(Debug, Clone, Copy, Default)]
pub struct K8sAnalyzer;

impl Analyzer for K8sAnalyzer {
    fn id(&self) -> &'static str {
        "k8s"
    }

    fn learn(&self, run: &ToolRun, entities: &mut Entities, _message: &str) {
        learn::learn(run, entities);
    }

    fn diagnose(&self, inv: &mut Investigation<'_>) -> Vec<Finding> {
        match inv.intent {
            "configmap_check" => manifest::configmap_check(inv),
            "manifest" => manifest::generate(inv),
            "cluster_health" => pending::cluster_health(inv),
            _ => pod_failure(inv),
        }
    }
}

/// The pod as the turn's `pod_get` run returned it.
fn current_pod(inv: &Investigation<'_>) -> Option<(Pod, String)> {
    let run = inv.last("pod_get")?;
    Pod::parse(&run.output.stdout).map(|p| (p, run.command().to_owned()))
}

fn pod_failure(inv: &mut Investigation<'_>) -> Vec<Finding> {
    let Some((pod, source)) = current_pod(inv) else {
        return not_located(inv);
    };
    let events = inv
        .last("pod_events")
        .map(|r| (events::parse(&r.output.stdout), r.command().to_owned()))
        .unwrap_or_default();
    let ctx = Context {
        inv,
        pod: &pod,
        pod_source: &source,
        events: &events.0,
        events_source: &events.1,
    };
    let findings = pending::diagnose(&ctx)
        .or_else(|| image::diagnose(&ctx))
        .or_else(|| config::diagnose(&ctx))
        .or_else(|| oom::diagnose(&ctx))
        .or_else(|| crash::diagnose(&ctx))
        .or_else(|| crash::probes(&ctx));
    match findings {
        Some(f) => f,
        None => vec![Finding::new(
            Severity::Info,
            format!(
                "Pod {} in namespace {} is {} and its containers are ready",
                pod.name, pod.namespace, pod.phase
            ),
        )],
    }
}

/// What every diagnosis of one pod reads.
pub(crate) struct Context<'a, 'b> {
    pub inv: &'a Investigation<'b>,
    pub pod: &'a Pod,
    pub pod_source: &'a str,
    pub events: &'a [events::Event],
    pub events_source: &'a str,
}

impl Context<'_, '_> {
    /// Warning events, as evidence lines.
    fn warning_lines(&self, filter: impl Fn(&events::Event) -> bool) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| e.kind == "Warning" && filter(e))
            .map(events::Event::line)
            .collect()
    }

    fn deployment(&self) -> Option<String> {
        self.pod
            .workload()
            .filter(|(k, _)| k == "Deployment")
            .map(|(_, n)| n)
    }
}

/// No pod was found: say what the listing showed.
fn not_located(inv: &Investigation<'_>) -> Vec<Finding> {
    let target = inv
        .entities
        .get("target")
        .or(inv.entities.get("pod"))
        .unwrap_or("the workload");
    if let Some(run) = inv.last("pod_get") {
        return vec![
            Finding::new(Severity::Warning, format!("I could not read pod {target}"))
                .evidence(run.command(), run.output.stderr.lines().take(3)),
        ];
    }
    match inv.last("pods_all_namespaces") {
        Some(run) if run.output.ok() => vec![
            Finding::new(
                Severity::Info,
                format!("No pod matching `{target}` is failing in any namespace"),
            )
            .detail("Name the pod (or its namespace) exactly as `kubectl get pods -A` shows it."),
        ],
        Some(run) => vec![
            Finding::new(Severity::Warning, "I could not list the cluster's pods")
                .evidence(run.command(), run.output.stderr.lines().take(3))
                .fix("Check the agent's kubeconfig and that its ServiceAccount may list pods."),
        ],
        None => Vec::new(),
    }
}
