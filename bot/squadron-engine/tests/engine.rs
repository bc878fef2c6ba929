//! The engine over a recording fake fleet: routing, entities across turns, refusals, and
//! write tools that are proposed but never run.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use squadron_core::squad::BuildContext;
use squadron_core::{
    Analyzer, Finding, Inventory, Investigation, Invocation, Severity, Squad, ToolOutput,
};
use squadron_engine::{Catalog, Conversation, Engine, EngineError, Fleet, FleetError, Request};

const SQUAD: &str = r#"
id = "demo"
name = "Demo Squad"
analyzers = ["echo"]
default_intent = "logs"

[[entities]]
name = "pod"
patterns = ['\bpod\s+(?P<v>\S+)']

[[intents]]
id = "logs"
patterns = ['logs?']

[[intents]]
id = "restart"
patterns = ['restart']
requires = ["pod"]

[[intents]]
id = "status"
patterns = ['status']

[[playbooks]]
id = "logs"
[[playbooks.steps]]
tool = "pod_logs"

[[playbooks]]
id = "restart"
[[playbooks.steps]]
tool = "restart"

[[playbooks]]
id = "status"
[[playbooks.steps]]
tool = "pod_logs"
args = { previous = "true" }
when = ["pod"]

[[tools]]
id = "pod_logs"
kind = "exec"
argv = ["kubectl", "logs", "{pod}", "--previous={previous}"]
[tools.params]
pod = { type = "k8s_name", required = true }
previous = { type = "bool", default = false }

[[tools]]
id = "restart"
kind = "exec"
access = "write"
argv = ["kubectl", "delete", "pod", "{pod}"]
[tools.params]
pod = { type = "k8s_name", required = true }
"#;

/// Says how many runs it saw.
#[derive(Debug)]
struct Echo;

impl Analyzer for Echo {
    fn id(&self) -> &'static str {
        "echo"
    }
    fn diagnose(&self, inv: &mut Investigation<'_>) -> Vec<Finding> {
        vec![Finding::new(
            Severity::Info,
            format!("saw {} runs", inv.runs.len()),
        )]
    }
}

#[derive(Default)]
struct Recorder {
    ran: Mutex<Vec<String>>,
}

#[async_trait]
impl Fleet for Recorder {
    async fn resolve_node(
        &self,
        _squad: &str,
        requested: Option<&str>,
    ) -> Result<String, FleetError> {
        match requested {
            Some("ghost") => Err(FleetError::UnknownNode("ghost".into())),
            _ => Ok("node-1".into()),
        }
    }
    async fn inventory(&self, _node: &str) -> Result<Inventory, FleetError> {
        Ok(Inventory::default())
    }
    async fn run(&self, _node: &str, _squad: &str, inv: &Invocation) -> ToolOutput {
        self.ran.lock().expect("lock").push(inv.canonical.clone());
        ToolOutput::finished(0, "ok\n".into(), String::new())
    }
}

fn engine() -> Engine {
    let cx = BuildContext {
        file: "demo.toml",
        prompt_exists: &|_| true,
        analyzer_exists: &|id| id == "echo",
    };
    let squad = Squad::from_toml(SQUAD, &cx).expect("builds");
    let analyzers: Vec<Arc<dyn Analyzer>> = vec![Arc::new(Echo)];
    Engine::new(Arc::new(Catalog::new(vec![squad], analyzers)))
}

fn req(message: &str) -> Request<'_> {
    Request {
        message,
        squad: Some("demo"),
        node: None,
        now: 0,
        progress: None,
    }
}

#[tokio::test]
async fn a_request_runs_its_playbook_with_entities_from_the_message() {
    let (e, fleet) = (engine(), Recorder::default());
    let mut conv = Conversation::new("c1");
    let reply = e
        .handle(&fleet, &mut conv, req("show logs of pod web-1"))
        .await
        .expect("reply");
    assert_eq!(reply.intent, "logs");
    assert_eq!(
        *fleet.ran.lock().expect("lock"),
        vec!["kubectl logs web-1 --previous=false".to_owned()]
    );
    assert!(
        reply
            .answer
            .contains("`kubectl logs web-1 --previous=false`"),
        "{}",
        reply.answer
    );
    assert!(reply.answer.contains("saw 1 runs"));
}

#[tokio::test]
async fn follow_ups_reuse_what_the_conversation_knows() {
    let (e, fleet) = (engine(), Recorder::default());
    let mut conv = Conversation::new("c1");
    e.handle(&fleet, &mut conv, req("logs of pod web-1"))
        .await
        .expect("turn 1");
    let reply = e
        .handle(&fleet, &mut conv, req("and its status?"))
        .await
        .expect("turn 2");
    assert_eq!(
        reply.commands[0].command,
        "kubectl logs web-1 --previous=true"
    );
    assert_eq!(conv.turns.len(), 2);
    assert_eq!(conv.entities.get("pod"), Some("web-1"));
}

#[tokio::test]
async fn option_injection_through_an_entity_is_refused_and_nothing_runs() {
    let (e, fleet) = (engine(), Recorder::default());
    let mut conv = Conversation::new("c1");
    for hostile in [
        "--server=http://x",
        "-n",
        "$(id)",
        "\u{2014}kubeconfig=/tmp/k",
    ] {
        let reply = e
            .handle(&fleet, &mut conv, req(&format!("logs of pod {hostile}")))
            .await
            .expect("reply");
        assert!(reply.commands.is_empty(), "{hostile} ran");
        assert!(
            reply.answer.contains("refused `pod_logs`: parameter `pod`"),
            "{}",
            reply.answer
        );
    }
    assert!(fleet.ran.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn write_tools_are_proposed_not_run() {
    let (e, fleet) = (engine(), Recorder::default());
    let mut conv = Conversation::new("c1");
    let reply = e
        .handle(&fleet, &mut conv, req("restart pod web-1"))
        .await
        .expect("reply");
    assert!(fleet.ran.lock().expect("lock").is_empty());
    assert_eq!(reply.pending.len(), 1);
    assert!(
        reply.answer.contains("waiting for an operator's approval"),
        "{}",
        reply.answer
    );
    assert!(reply.answer.contains("`kubectl delete pod web-1`"));
}

#[tokio::test]
async fn an_intent_missing_an_entity_asks_for_it() {
    let (e, fleet) = (engine(), Recorder::default());
    let mut conv = Conversation::new("c1");
    let reply = e
        .handle(&fleet, &mut conv, req("restart it"))
        .await
        .expect("reply");
    assert!(
        reply.answer.contains("need to know the pod"),
        "{}",
        reply.answer
    );
    assert!(reply.commands.is_empty() && reply.pending.is_empty());
}

#[tokio::test]
async fn unknown_squads_and_nodes_are_clear_errors() {
    let (e, fleet) = (engine(), Recorder::default());
    let mut conv = Conversation::new("c1");
    let err = e
        .handle(
            &fleet,
            &mut conv,
            Request {
                squad: Some("dba"),
                ..req("logs")
            },
        )
        .await
        .expect_err("unknown squad");
    assert_eq!(err.to_string(), "unknown squad `dba`; known squads: demo");
    let err = e
        .handle(
            &fleet,
            &mut conv,
            Request {
                node: Some("ghost"),
                ..req("logs")
            },
        )
        .await
        .expect_err("unknown node");
    assert!(matches!(
        err,
        EngineError::Fleet(FleetError::UnknownNode(_))
    ));
}

#[tokio::test]
async fn without_a_named_squad_the_best_intent_routes() {
    let (e, fleet) = (engine(), Recorder::default());
    let mut conv = Conversation::new("c1");
    let reply = e
        .handle(
            &fleet,
            &mut conv,
            Request {
                squad: None,
                ..req("status of pod a-1")
            },
        )
        .await
        .expect("reply");
    assert_eq!(
        (reply.squad.as_str(), reply.intent.as_str()),
        ("demo", "status")
    );
    let mut other = Conversation::new("c2");
    let err = e
        .handle(
            &fleet,
            &mut other,
            Request {
                squad: None,
                ..req("hello there")
            },
        )
        .await
        .expect_err("no route");
    assert!(err.to_string().contains("which squad"), "{err}");
}
