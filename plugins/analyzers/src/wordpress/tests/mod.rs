//! The analyzer end to end: realistic tool output in, findings out. Each file covers one
//! family of problems with outputs that differ from the sample scenarios (other names,
//! numbers, log formats), so the diagnosis has to come from the evidence.

mod database;
mod fatal;
mod maintenance;
mod manifest;
mod redirect;
