//! The squads and prompts compiled into the binary (see `build.rs`).

include!(concat!(env!("OUT_DIR"), "/builtin.rs"));
