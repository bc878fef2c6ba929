//! `squadron audit verify`: opens this configuration's database and audit key directly
//! (not through the API: a verifier must not trust the server it checks), recomputes the
//! whole chain and names the first broken event.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use serde_json::json;
use squadron_store::{ChainBreak, HmacChain};

use crate::config::{Config, redact_url};

/// Runs the verification and prints the verdict.
pub async fn run(config: &Config, as_json: bool) -> anyhow::Result<ExitCode> {
    let key_file = config.audit_key_file();
    let key = std::fs::read_to_string(&key_file).with_context(|| {
        format!(
            "cannot read the audit key {} (verify runs where the server's data is)",
            key_file.display()
        )
    })?;
    let url = config.database_url();
    let store = squadron_store::open(&url)
        .await
        .with_context(|| format!("opening {}", redact_url(&url)))?;
    let hasher = HmacChain::new(key.trim().as_bytes().to_vec());
    let start = Instant::now();
    let result = squadron_store::verify_chain_summary(store.as_ref(), &hasher).await;
    let secs = start.elapsed().as_secs_f64();
    store.close().await;
    match result {
        Ok(s) => {
            if as_json {
                println!(
                    "{}",
                    json!({ "ok": true, "events": s.events, "head_seq": s.head_seq, "head_hash": s.head_hash, "seconds": secs })
                );
            } else {
                println!(
                    "audit chain intact: {} events verified in {secs:.2}s, head seq {} hash {}",
                    s.events, s.head_seq, s.head_hash
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(ChainBreak::Broken { seq, id, what }) => {
            if as_json {
                println!(
                    "{}",
                    json!({ "ok": false, "seq": seq, "id": id, "what": what.to_string() })
                );
            } else {
                let label = if id.is_empty() {
                    String::new()
                } else {
                    format!(" (event {id})")
                };
                eprintln!("error: audit chain broken at seq {seq}{label}: {what}");
            }
            Ok(ExitCode::FAILURE)
        }
        Err(e) => Err(e.into()),
    }
}
