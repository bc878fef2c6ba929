//! `squadron-agent start`: a loaded config turned into a [`Runner`] (catalogue, policy,
//! journal, executors) and a [`Client`] that connects it to the control plane.

use std::sync::Arc;

use crate::client::{Client, ClientError, ClientOptions};
use crate::config::{ALL_SQUADS, Loaded};
use crate::exec::ExecEnv;
use crate::journal::{Journal, JournalError};
use crate::policy::{Catalog, Policy, Validator};
use crate::runner::Runner;
use crate::sql::Databases;

/// Why the agent could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("squad catalogue: {0}")]
    Catalog(#[from] squadron_catalog::CatalogError),
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Client(#[from] ClientError),
}

/// The runner for a loaded config.
pub fn runner(loaded: &Loaded) -> Result<Runner, StartError> {
    let catalog = Catalog::load(loaded.config.squads_dir.as_deref())?;
    let policy = Policy::from_config(loaded);
    for squad in &policy.squads {
        if squad != ALL_SQUADS && catalog.squad(squad).is_none() {
            tracing::warn!(squad = %squad, "policy names a squad this agent's catalogue does not have");
        }
    }
    let journal = Journal::open(&loaded.state_dir())?;
    Ok(Runner::new(
        Validator::new(catalog, policy),
        journal,
        loaded.config.policy.max_concurrency,
        ExecEnv::default(),
        Databases::new(&loaded.config.databases),
    ))
}

/// The runner and the client for a loaded config.
pub fn client(loaded: &Loaded, options: ClientOptions) -> Result<Client, StartError> {
    let runner = Arc::new(runner(loaded)?);
    Ok(Client::from_config(loaded, runner, options)?)
}
