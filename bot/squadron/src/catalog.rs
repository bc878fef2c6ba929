//! The control plane's catalogue: every squad (built-in and extra) with the analyzers of
//! `squadron_analyzers::all`, the one list of analyzer plugins.

use std::path::PathBuf;
use std::sync::Arc;

use squadron_catalog::CatalogError;
use squadron_engine::Catalog;

/// Loads and validates every squad and wires in the analyzers.
pub fn load(extra_dirs: &[PathBuf]) -> Result<Arc<Catalog>, CatalogError> {
    let analyzers = squadron_analyzers::all();
    let ids: Vec<&'static str> = analyzers.iter().map(|a| a.id()).collect();
    let squads = squadron_catalog::load(extra_dirs, &|id| ids.contains(&id))?;
    Ok(Arc::new(Catalog::new(squads, analyzers)))
}
