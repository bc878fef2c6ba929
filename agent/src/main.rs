//! The `squadron-agent` binary: `install` writes the config, `start` runs the agent.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use squadron_agent::client::ClientOptions;
use squadron_agent::config::{self, Secret};
use squadron_agent::install::{InstallOptions, install};

#[derive(Debug, Parser)]
#[command(name = "squadron-agent", version, about = "Squadron's node agent")]
struct Cli {
    /// Config file [default: $SQUADRON_AGENT_CONFIG, else /etc/squadron-agent/agent.toml]
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write the agent config (0600) and its token file for this node.
    Install {
        /// The node's id, as `squadron node create` printed it.
        #[arg(long)]
        node_id: String,
        /// The node's token, as `squadron node create` printed it.
        #[arg(long, env = "SQUADRON_AGENT_TOKEN", hide_env_values = true)]
        token: String,
        /// The control plane's URL (wss:// or https://; ws:// only to loopback).
        #[arg(long)]
        server: String,
        /// Allow plain ws:// or http:// to a host that is not loopback.
        #[arg(long)]
        allow_insecure: bool,
        /// Replace an existing config.
        #[arg(long)]
        force: bool,
    },
    /// Connect to the control plane and serve requests until SIGTERM or ctrl-c.
    Start,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("squadron-agent: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let path = config::resolve_path(cli.config.as_deref());
    match cli.command {
        Command::Install {
            node_id,
            token,
            server,
            allow_insecure,
            force,
        } => {
            let done = install(&InstallOptions {
                node_id,
                token: Secret::new(token.trim()),
                server,
                config_path: path,
                allow_insecure,
                force,
            })?;
            println!(
                "wrote {} and {} (0600); start the agent with `squadron-agent start{}`",
                done.config_path.display(),
                done.token_path.display(),
                if cli.config.is_some() {
                    format!(" --config {}", done.config_path.display())
                } else {
                    String::new()
                }
            );
            Ok(())
        }
        Command::Start => {
            init_logs();
            let loaded = config::load(&path)?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            runtime.block_on(async {
                let client = squadron_agent::start::client(&loaded, ClientOptions::default())?;
                tracing::info!(
                    config = %loaded.path.display(),
                    node_id = %loaded.config.node_id,
                    url = %client.url(),
                    "squadron-agent starting"
                );
                client.run(shutdown_signal()).await;
                tracing::info!("squadron-agent stopped");
                anyhow::Ok(())
            })
        }
    }
}

/// Logs to stderr: level from `SQUADRON_AGENT_LOG` (default `info`), JSON lines when
/// `SQUADRON_AGENT_LOG_FORMAT=json`.
fn init_logs() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("SQUADRON_AGENT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("SQUADRON_AGENT_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.with_ansi(std::io::stderr().is_terminal()).init();
    }
}

/// Resolves on SIGTERM or ctrl-c.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
