//! `squadron`: the control plane's binary (admin CLI, chat CLI, scenario eval).
//!
//! # Layout
//!
//! - [`cli`]: the command line, parsed into typed commands.
//! - [`config`]: `squadron.toml` and `SQUADRON_*` variables over embedded defaults.
//! - [`catalog`]: loads and validates the built-in and extra squads, with the analyzers.
//! - [`server`]: `squadron serve`: HTTP API, agent gateway, chat, audit, metrics.
//! - [`client`]: the admin and chat CLI's HTTP client.
//! - [`eval`]: `squadron eval`, scenarios against a replay node.
//! - [`verify`]: `squadron audit verify`, the chain checked from the database and the key.
//!
//! `main` prints any error as one line (its chain joined by `: `) and exits non-zero.

mod catalog;
mod cli;
mod client;
mod config;
mod eval;
mod server;
mod verify;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let default = if matches!(cli.command, cli::Command::Serve) {
        "info"
    } else {
        "warn"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SQUADRON_LOG")
        .unwrap_or_else(|_| default.into());
    let json_logs = std::env::var("SQUADRON_LOG_FORMAT").is_ok_and(|f| f == "json");
    let builder = tracing_subscriber::fmt()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json_logs {
        builder.json().init();
    } else {
        builder.init();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
