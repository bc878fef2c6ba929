//! Squadron's core: the domain types and the pure logic every other crate builds on.
//!
//! # Layout
//!
//! - [`manifest`]: the raw `squad.toml` format, exactly as written on disk.
//! - [`squad`]: [`squad::Squad::build`] turns a manifest into a validated squad, reporting
//!   every problem with its file and field.
//! - [`param`]: the typed parameters of tools and the rules their values must pass.
//! - [`template`]: argv templates, where a placeholder fills a whole element or a `--flag=`
//!   value and nothing else.
//! - [`hatch`]: the escape hatches (shells, `kubectl exec`, `COPY ... PROGRAM`, ...) that no
//!   tool may express.
//! - [`invocation`]: a tool call rendered into the exact thing that runs, with its canonical
//!   command line.
//! - [`inventory`]: what a node says it has (databases, site, WordPress path).
//! - [`output`]: what a tool run returned, with the filters and caps applied to it.
//! - [`redact`]: secrets scrubbed from tool output before anyone or anything reads it.
//! - [`finding`]: what an analyzer concluded: finding, evidence and fix.
//! - [`analyzer`]: the narrow trait analyzers implement, and the investigation they read.
//! - [`units`]: durations and byte sizes as manifests write them.
//!
//! The crate does no IO: it never touches files, sockets, processes or the clock.

pub mod analyzer;
pub mod entities;
pub mod finding;
pub mod hatch;
pub mod inventory;
pub mod invocation;
pub mod manifest;
pub mod output;
pub mod param;
pub mod redact;
pub mod squad;
pub mod template;
pub mod units;

pub use analyzer::{Analyzer, Investigation};
pub use entities::Entities;
pub use finding::{Finding, Fix, Severity};
pub use inventory::{DatabaseRef, Inventory};
pub use invocation::{Invocation, InvocationKind, RenderError};
pub use output::{ToolOutput, ToolRun};
pub use squad::{Squad, SquadError, Tool};
