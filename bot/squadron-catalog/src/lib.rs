//! The squad catalogue: the built-in squads and prompts (embedded in the binary at build
//! time, see `build.rs`), then every `<dir>/<id>/squad.toml` of the extra squad directories.
//! Every manifest is validated; all problems of all manifests are reported together.
//!
//! Both the control plane and the agent load it: the agent validates every request against
//! its own copy, so the control plane cannot make it run a tool it does not know.

pub mod builtin;

use std::fs;
use std::path::{Path, PathBuf};

use squadron_core::squad::BuildContext;
use squadron_core::{Squad, SquadError};

/// Why the catalogue could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<SquadError>),
    #[error("cannot read squads directory {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("squad `{id}` is defined twice ({first} and {second})")]
    Duplicate {
        id: String,
        first: String,
        second: String,
    },
}

/// Which analyzer ids exist; the agent, which runs no analyzers, accepts any.
pub type AnalyzerCheck<'a> = &'a dyn Fn(&str) -> bool;

/// Builds one manifest text; `prompt_root` is where its prompt paths are resolved on disk
/// (built-in squads resolve against the embedded prompts).
pub fn build_squad(
    file: &str,
    text: &str,
    prompt_root: Option<&Path>,
    analyzers: AnalyzerCheck<'_>,
) -> Result<Squad, SquadError> {
    let prompt_exists = |rel: &str| match prompt_root {
        Some(root) => root.join(rel).is_file(),
        None => builtin::PROMPTS.iter().any(|(p, _)| *p == rel),
    };
    let cx = BuildContext {
        file,
        prompt_exists: &prompt_exists,
        analyzer_exists: analyzers,
    };
    Squad::from_toml(text, &cx)
}

/// The built-in squads.
pub fn builtin_squads(analyzers: AnalyzerCheck<'_>) -> Result<Vec<Squad>, CatalogError> {
    let mut squads = Vec::new();
    let mut errors = Vec::new();
    for (folder, text) in builtin::SQUADS {
        match build_squad(
            &format!("squads/{folder}/squad.toml"),
            text,
            None,
            analyzers,
        ) {
            Ok(s) => squads.push(s),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(squads)
    } else {
        Err(CatalogError::Invalid(errors))
    }
}

/// The squads in one extra directory: `<dir>/<id>/squad.toml`, prompts relative to the
/// squad's own folder.
pub fn dir_squads(dir: &Path, analyzers: AnalyzerCheck<'_>) -> Result<Vec<Squad>, CatalogError> {
    let io = |source| CatalogError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut folders: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(io)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    folders.sort();
    let mut squads = Vec::new();
    let mut errors = Vec::new();
    for folder in folders {
        let manifest = folder.join("squad.toml");
        if !manifest.is_file() {
            continue;
        }
        let text = fs::read_to_string(&manifest).map_err(|source| CatalogError::Io {
            path: manifest.clone(),
            source,
        })?;
        match build_squad(
            &manifest.display().to_string(),
            &text,
            Some(&folder),
            analyzers,
        ) {
            Ok(s) => squads.push(s),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(squads)
    } else {
        Err(CatalogError::Invalid(errors))
    }
}

/// Every squad: built-ins plus the extra directories; a squad id defined twice is refused.
pub fn load(
    extra_dirs: &[PathBuf],
    analyzers: AnalyzerCheck<'_>,
) -> Result<Vec<Squad>, CatalogError> {
    let mut squads = builtin_squads(analyzers)?;
    let mut origin: Vec<String> = squads
        .iter()
        .map(|s| format!("built-in squads/{}", s.id))
        .collect();
    let mut errors = Vec::new();
    for dir in extra_dirs {
        match dir_squads(dir, analyzers) {
            Ok(found) => {
                for s in found {
                    if let Some(i) = squads.iter().position(|b| b.id == s.id) {
                        return Err(CatalogError::Duplicate {
                            id: s.id.clone(),
                            first: origin[i].clone(),
                            second: dir.join(&s.id).display().to_string(),
                        });
                    }
                    origin.push(dir.join(&s.id).display().to_string());
                    squads.push(s);
                }
            }
            Err(CatalogError::Invalid(mut e)) => errors.append(&mut e),
            Err(other) => return Err(other),
        }
    }
    if !errors.is_empty() {
        return Err(CatalogError::Invalid(errors));
    }
    Ok(squads)
}
