//! The command line (SPEC section 8): `serve`, `node`, `squad`, `chat`, `audit`, `eval`.
//! `--server` and `--config` are global and go before or after the subcommand.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use serde_json::{Value, json};

use crate::client::Client;
use crate::config::Config;
use crate::{catalog, eval, server};

/// Squadron: chat-ops squads that diagnose your systems with whitelisted tools.
#[derive(Debug, Parser)]
#[command(name = "squadron", version, about)]
pub struct Cli {
    /// Configuration file (default: ./squadron.toml when present).
    #[arg(long, global = true, env = "SQUADRON_CONFIG")]
    pub config: Option<PathBuf>,
    /// The server the admin and chat commands talk to.
    #[arg(
        long,
        global = true,
        env = "SQUADRON_SERVER_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub server: String,
    /// Extra squads directory (`<dir>/<id>/squad.toml`); built-in squads always load.
    #[arg(long, global = true)]
    pub squads_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the control plane: HTTP API, agent gateway, chat.
    Serve,
    /// Register, list and revoke nodes.
    #[command(subcommand)]
    Node(NodeCommand),
    /// List, deploy and link squads; check squad manifests.
    #[command(subcommand)]
    Squad(SquadCommand),
    /// Ask a squad (one shot with MESSAGE, a REPL without).
    Chat(ChatArgs),
    /// Read the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Run incident scenarios against a replay node and check the answers.
    Eval(EvalArgs),
}

#[derive(Debug, Subcommand)]
pub enum NodeCommand {
    /// Register a node; prints its id and token once.
    Create {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// List nodes with their connection state.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Revoke a node: its token stops working and its connection closes.
    Revoke {
        name: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SquadCommand {
    /// List squads, whether they are deployed, and their nodes.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Deploy a squad so it can be linked to nodes.
    Deploy {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Let a squad reach a node.
    Link {
        id: String,
        #[arg(long)]
        node: String,
        #[arg(long)]
        json: bool,
    },
    /// Stop a squad from reaching a node.
    Unlink {
        id: String,
        #[arg(long)]
        node: String,
        #[arg(long)]
        json: bool,
    },
    /// Validate the built-in squads and the squads in DIR...; print every problem.
    Check {
        /// Folders holding `<id>/squad.toml`.
        dirs: Vec<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct ChatArgs {
    #[arg(long)]
    pub squad: Option<String>,
    #[arg(long)]
    pub node: Option<String>,
    /// Ask as this user (for RBAC and the audit trail).
    #[arg(long = "as")]
    pub user: Option<String>,
    /// Continue a conversation.
    #[arg(long)]
    pub conversation: Option<String>,
    #[arg(long)]
    pub json: bool,
    /// The question; without it, a REPL reads questions from standard input.
    pub message: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// List audit events, oldest first.
    List {
        #[arg(long)]
        json: bool,
        #[arg(long)]
        node: Option<String>,
        #[arg(long)]
        squad: Option<String>,
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        limit: Option<i64>,
    },
    /// Show one event.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Export events for a SIEM: jsonl, cef, ocsf, ecs or syslog (RFC 5424), one per line.
    Export {
        #[arg(long)]
        format: String,
        /// RFC 3339 time; events at or after it.
        #[arg(long)]
        since: Option<String>,
        /// RFC 3339 time; events before it.
        #[arg(long)]
        until: Option<String>,
        /// Write to this file instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Recompute the whole chain (hashes, links, output hashes, checkpoints) from the
    /// database and the audit key of this configuration; exits non-zero at the first break.
    Verify {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Print a JSON report instead of one line per scenario.
    #[arg(long)]
    pub json: bool,
    /// Also print every turn's answer and commands.
    #[arg(long, short)]
    pub verbose: bool,
    /// Scenario folders, or folders to search for them.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
}

fn print_json(v: &Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

fn s(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(x)) => x.clone(),
        Some(Value::Null) | None => "-".into(),
        Some(other) => other.to_string(),
    }
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = || Config::load(cli.config.as_deref()).context("reading the configuration");
    let client = || -> anyhow::Result<Client> {
        let data_dir = Config::load(cli.config.as_deref())
            .map(|c| c.data_dir)
            .unwrap_or_else(|_| Config::default().data_dir);
        Client::new(&cli.server, &data_dir)
    };
    match cli.command {
        Command::Serve => {
            let mut c = config()?;
            if cli.squads_dir.is_some() {
                c.squads_dir = cli.squads_dir.clone();
            }
            server::serve(c).await?;
        }
        Command::Node(cmd) => node(client()?, cmd).await?,
        Command::Squad(SquadCommand::Check { dirs }) => {
            let mut all: Vec<PathBuf> = cli.squads_dir.iter().cloned().collect();
            all.extend(dirs);
            let catalog = catalog::load(&all).context("invalid squads")?;
            for s in catalog.squads() {
                println!(
                    "ok {} ({} tools, {} intents)",
                    s.id,
                    s.tools.len(),
                    s.intents.len()
                );
            }
        }
        Command::Squad(cmd) => squad(client()?, cmd).await?,
        Command::Chat(args) => return chat(client()?, args).await,
        Command::Audit(AuditCommand::Verify { json }) => {
            return crate::verify::run(&config()?, json).await;
        }
        Command::Audit(cmd) => audit(client()?, cmd).await?,
        Command::Eval(args) => {
            let extra: Vec<PathBuf> = cli.squads_dir.iter().cloned().collect();
            let catalog = catalog::load(&extra).context("loading squads")?;
            let report = eval::run(catalog, &args.dirs).await?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                for s in &report.scenarios {
                    println!("{}", s.line());
                    if args.verbose {
                        for (i, t) in s.turns.iter().enumerate() {
                            eprintln!("--- turn {} [{}]: {}", i + 1, t.intent, t.message);
                            eprintln!("{}\n", t.answer);
                        }
                    }
                }
                println!("{} passed, {} failed", report.passed, report.failed);
            }
            return Ok(if report.failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn node(c: Client, cmd: NodeCommand) -> anyhow::Result<()> {
    match cmd {
        NodeCommand::Create { name, json } => {
            let v = c.post("/v1/nodes", &json!({ "name": name })).await?;
            if json {
                return print_json(&v);
            }
            println!("node {} created (id {})", s(&v, "name"), s(&v, "id"));
            println!("token (shown once, keep it secret): {}", s(&v, "token"));
            println!(
                "on the node: squadron-agent install --node-id {} --token <token> --server <this server's URL>",
                s(&v, "id")
            );
        }
        NodeCommand::List { json } => {
            let v = c.get("/v1/nodes").await?;
            if json {
                return print_json(&v);
            }
            println!(
                "{:<24} {:<13} {:<26} {:<10} HOST",
                "NAME", "STATUS", "LAST SEEN", "VERSION"
            );
            for n in v
                .get("nodes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                println!(
                    "{:<24} {:<13} {:<26} {:<10} {}",
                    s(n, "name"),
                    s(n, "status"),
                    s(n, "last_seen"),
                    s(n, "version"),
                    s(n, "host")
                );
            }
        }
        NodeCommand::Revoke { name, json } => {
            let v = c
                .post(&format!("/v1/nodes/{name}/revoke"), &json!({}))
                .await?;
            if json {
                return print_json(&v);
            }
            println!("node {name} revoked; its token no longer works");
        }
    }
    Ok(())
}

async fn squad(c: Client, cmd: SquadCommand) -> anyhow::Result<()> {
    let (v, json) = match cmd {
        SquadCommand::List { json } => {
            let v = c.get("/v1/squads").await?;
            if !json {
                println!("{:<12} {:<9} {:<6} NODES", "SQUAD", "DEPLOYED", "TOOLS");
                for q in v
                    .get("squads")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let nodes: Vec<String> = q
                        .get("nodes")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|n| n.as_str().map(str::to_owned))
                        .collect();
                    println!(
                        "{:<12} {:<9} {:<6} {}",
                        s(q, "id"),
                        s(q, "deployed"),
                        s(q, "tools"),
                        nodes.join(",")
                    );
                }
            }
            (v, json)
        }
        SquadCommand::Deploy { id, json } => (
            c.post(&format!("/v1/squads/{id}/deploy"), &json!({}))
                .await?,
            json,
        ),
        SquadCommand::Link { id, node, json } => (
            c.post(&format!("/v1/squads/{id}/links"), &json!({ "node": node }))
                .await?,
            json,
        ),
        SquadCommand::Unlink { id, node, json } => (
            c.delete(&format!("/v1/squads/{id}/links/{node}")).await?,
            json,
        ),
        SquadCommand::Check { .. } => return Ok(()),
    };
    if json {
        return print_json(&v);
    }
    if v.get("squads").is_none() {
        let nodes: Vec<String> = v
            .get("nodes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|n| n.as_str().map(str::to_owned))
            .collect();
        println!(
            "squad {}: linked to {}",
            s(&v, "squad"),
            if nodes.is_empty() {
                "no node".into()
            } else {
                nodes.join(", ")
            }
        );
    }
    Ok(())
}

async fn ask(
    c: &Client,
    args: &ChatArgs,
    message: &str,
    conversation: Option<&str>,
) -> anyhow::Result<Value> {
    let body = json!({
        "message": message,
        "squad": args.squad,
        "node": args.node,
        "user": args.user,
        "conversation": conversation,
    });
    let quiet = args.json;
    c.chat(&body, |p| {
        if !quiet && p.get("state").and_then(Value::as_str) == Some("running") {
            eprintln!("running `{}` on {}", s(p, "command"), s(p, "node"));
        }
    })
    .await
}

fn show(v: &Value, json: bool) -> anyhow::Result<()> {
    if json {
        let out = json!({ "conversation": v["conversation"], "answer": v["answer"], "commands": v["commands"] });
        return print_json(&out);
    }
    println!("{}", s(v, "answer"));
    Ok(())
}

async fn chat(c: Client, args: ChatArgs) -> anyhow::Result<ExitCode> {
    if !args.message.is_empty() {
        let message = args.message.join(" ");
        let v = ask(&c, &args, &message, args.conversation.as_deref()).await?;
        show(&v, args.json)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut conversation = args.conversation.clone();
    let stdin = std::io::stdin();
    loop {
        eprint!("> ");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        if stdin.lock().read_line(&mut line)? == 0 {
            break;
        }
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if matches!(line, "exit" | "quit") {
            break;
        }
        match ask(&c, &args, line, conversation.as_deref()).await {
            Ok(v) => {
                conversation = v
                    .get("conversation")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                show(&v, args.json)?;
            }
            Err(e) => eprintln!("error: {e:#}"),
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn audit(c: Client, cmd: AuditCommand) -> anyhow::Result<()> {
    match cmd {
        AuditCommand::List {
            json,
            node,
            squad,
            status,
            limit,
        } => {
            let mut q = Vec::new();
            for (k, v) in [
                ("node", node),
                ("squad", squad),
                ("status", status),
                ("limit", limit.map(|l| l.to_string())),
            ] {
                if let Some(v) = v {
                    q.push(format!("{k}={}", urlencode(&v)));
                }
            }
            let path = if q.is_empty() {
                "/v1/audit".to_owned()
            } else {
                format!("/v1/audit?{}", q.join("&"))
            };
            let v = c.get(&path).await?;
            if json {
                return print_json(&v);
            }
            for e in v
                .get("events")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                println!(
                    "{:>6} {} {:<8} {:<10} {:<16} {}",
                    s(e, "seq"),
                    s(e, "ts"),
                    s(e, "status"),
                    s(e, "actor"),
                    s(e, "node"),
                    e.get("command")
                        .and_then(Value::as_str)
                        .or(e.get("reason").and_then(Value::as_str))
                        .unwrap_or("-")
                );
            }
        }
        AuditCommand::Verify { .. } => {}
        AuditCommand::Export {
            format,
            since,
            until,
            output,
        } => {
            let mut q = vec![format!("format={}", urlencode(&format))];
            for (k, v) in [("since", since), ("until", until)] {
                if let Some(v) = v {
                    q.push(format!("{k}={}", urlencode(&v)));
                }
            }
            let path = format!("/v1/audit/export?{}", q.join("&"));
            let bytes = match output {
                Some(file) => {
                    let mut f = tokio::fs::File::create(&file)
                        .await
                        .with_context(|| format!("cannot write {}", file.display()))?;
                    let n = c.download(&path, &mut f).await?;
                    eprintln!("wrote {n} bytes to {}", file.display());
                    n
                }
                None => c.download(&path, &mut tokio::io::stdout()).await?,
            };
            let _ = bytes;
        }
        AuditCommand::Show { id, json } => {
            let v = c.get(&format!("/v1/audit/{}", urlencode(&id))).await?;
            if json {
                return print_json(&v);
            }
            if let Some(map) = v.as_object() {
                for (k, val) in map {
                    println!(
                        "{k:>14}: {}",
                        match val {
                            Value::String(x) => x.clone(),
                            other => other.to_string(),
                        }
                    );
                }
            }
        }
    }
    Ok(())
}

fn urlencode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
