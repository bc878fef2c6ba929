//! The command line: `squadron eval`, `squadron squad check`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::{catalog, eval};

/// Squadron: chat-ops squads that diagnose your systems with whitelisted tools.
#[derive(Debug, Parser)]
#[command(name = "squadron", version, about)]
pub struct Cli {
    /// Extra squads directory (`<dir>/<id>/squad.toml`); built-in squads always load.
    #[arg(long, global = true, env = "SQUADRON_SQUADS_DIR")]
    pub squads_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run incident scenarios against a replay node and check the answers.
    Eval(EvalArgs),
    /// Work with squad manifests.
    #[command(subcommand)]
    Squad(SquadCommand),
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

#[derive(Debug, Subcommand)]
pub enum SquadCommand {
    /// Validate the built-in squads and the squads in DIR...; print every problem.
    Check {
        /// Folders holding `<id>/squad.toml`.
        dirs: Vec<PathBuf>,
    },
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let extra: Vec<PathBuf> = cli.squads_dir.iter().cloned().collect();
    match cli.command {
        Command::Eval(args) => {
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
            Ok(if report.failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Squad(SquadCommand::Check { dirs }) => {
            let mut all = extra;
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
            Ok(ExitCode::SUCCESS)
        }
    }
}
