//! The squad engine: from a chat message to an answer, over a [`Fleet`] that runs tools.
//!
//! # Layout
//!
//! - [`catalog`]: the squads and analyzers the engine knows.
//! - [`router`]: which squad, which intent, which entities a message carries.
//! - [`conversation`]: what a thread remembers between turns.
//! - [`fleet`]: the narrow trait through which tools run on nodes (real agents in the
//!   control plane, a replay node in `squadron eval`, fakes in tests).
//! - [`planner`]: the offline engine: runs an intent's playbook step by step, binding
//!   arguments from entities and letting analyzers learn between steps.
//! - [`answer`]: the reply text: node and commands, finding, evidence, fix.
//! - [`engine`]: [`Engine::handle`], tying them together.
//!
//! The engine does no IO of its own: every command goes through the [`Fleet`].

pub mod answer;
pub mod catalog;
pub mod conversation;
pub mod engine;
pub mod fleet;
pub mod planner;
pub mod router;

pub use catalog::Catalog;
pub use conversation::Conversation;
pub use engine::{Engine, EngineError, Reply, Request};
pub use fleet::{Fleet, FleetError, Progress};
