//! `squadron`: the control plane's binary (admin CLI, chat CLI, scenario eval).
//!
//! # Layout
//!
//! - [`cli`]: the command line, parsed into typed commands.
//! - [`catalog`]: loads and validates the built-in and extra squads.
//! - [`eval`]: `squadron eval`, scenarios against a replay node.
//!
//! `main` prints any error as one line (its chain joined by `: `) and exits non-zero.

mod catalog;
mod cli;
mod eval;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
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
