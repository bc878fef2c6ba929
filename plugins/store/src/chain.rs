//! The audit hash chain: the canonical form of an event and the two hashers, unkeyed
//! SHA-256 ([`Sha256Chain`]) and keyed HMAC-SHA256 ([`HmacChain`]).
//!
//! `hash = H(prev_hash || canonical_bytes(event))`, where `prev_hash` is the previous
//! event's hash as its 64 ASCII hex characters ([`GENESIS_HASH`] for the first event) and
//! `H` is SHA-256 or HMAC-SHA256. Both return lowercase hex.

use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::model::AuditEvent;
use crate::token::hex;
use crate::traits::ChainHasher;

/// The `prev_hash` of the first event: 64 zeros.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Every field but `hash`, borrowed, in the order of [`AuditEvent`]'s fields. A struct,
/// not a map, so the key order cannot change with serde_json's `preserve_order` feature.
#[derive(Serialize)]
struct Canonical<'a> {
    id: &'a str,
    seq: i64,
    ts: &'a str,
    end_ts: Option<&'a str>,
    duration_ms: Option<i64>,
    kind: &'a str,
    actor: &'a str,
    actor_name: Option<&'a str>,
    platform: &'a str,
    channel: Option<&'a str>,
    conversation: Option<&'a str>,
    context: Option<&'a str>,
    squad: Option<&'a str>,
    agent: Option<&'a str>,
    node: Option<&'a str>,
    tool: Option<&'a str>,
    command: Option<&'a str>,
    args: Option<&'a str>,
    status: &'a str,
    exit_code: Option<i32>,
    output: Option<&'a str>,
    output_bytes: Option<i64>,
    output_sha256: Option<&'a str>,
    reason: Option<&'a str>,
    prev_hash: &'a str,
}

/// The bytes an event's hash covers: compact JSON of every field except `hash` (`seq` and
/// `prev_hash` included), keys in the order of [`AuditEvent`]'s fields, absent values as
/// `null`. Deterministic: the same event always gives the same bytes.
pub fn canonical_bytes(e: &AuditEvent) -> Vec<u8> {
    let c = Canonical {
        id: &e.id,
        seq: e.seq,
        ts: &e.ts,
        end_ts: e.end_ts.as_deref(),
        duration_ms: e.duration_ms,
        kind: &e.kind,
        actor: &e.actor,
        actor_name: e.actor_name.as_deref(),
        platform: &e.platform,
        channel: e.channel.as_deref(),
        conversation: e.conversation.as_deref(),
        context: e.context.as_deref(),
        squad: e.squad.as_deref(),
        agent: e.agent.as_deref(),
        node: e.node.as_deref(),
        tool: e.tool.as_deref(),
        command: e.command.as_deref(),
        args: e.args.as_deref(),
        status: &e.status,
        exit_code: e.exit_code,
        output: e.output.as_deref(),
        output_bytes: e.output_bytes,
        output_sha256: e.output_sha256.as_deref(),
        reason: e.reason.as_deref(),
        prev_hash: &e.prev_hash,
    };
    // Serialising borrowed strings and integers into a Vec cannot fail.
    serde_json::to_vec(&c).unwrap_or_default()
}

/// Unkeyed chain: `sha256(prev_hash || canonical)`. Detects accidental damage and edits
/// by someone who does not recompute the hashes; use [`HmacChain`] against someone who can.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sha256Chain;

impl ChainHasher for Sha256Chain {
    fn hash(&self, prev_hash: &str, canonical: &[u8]) -> String {
        let mut h = Sha256::new();
        h.update(prev_hash.as_bytes());
        h.update(canonical);
        hex(&h.finalize())
    }
}

type HmacSha256 = Hmac<Sha256>;

/// Keyed chain: `hmac_sha256(key, prev_hash || canonical)`. The key lives outside the
/// database (e.g. `<data_dir>/audit.key`), so write access to the database alone cannot
/// rewrite history. The key is never printed.
#[derive(Clone)]
pub struct HmacChain {
    mac: HmacSha256,
}

impl HmacChain {
    /// A chain keyed with `key` (use at least 32 random bytes).
    pub fn new(key: Vec<u8>) -> Self {
        // RFC 2104: a key longer than the block is replaced by its hash, a shorter one is
        // padded with zeros; doing it here makes construction infallible.
        let mut block = [0u8; 64];
        if key.len() > block.len() {
            block[..32].copy_from_slice(&Sha256::digest(&key));
        } else {
            block[..key.len()].copy_from_slice(&key);
        }
        Self {
            mac: <HmacSha256 as KeyInit>::new(&block.into()),
        }
    }
}

impl std::fmt::Debug for HmacChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HmacChain")
            .field("key", &"<redacted>")
            .finish()
    }
}

impl ChainHasher for HmacChain {
    fn hash(&self, prev_hash: &str, canonical: &[u8]) -> String {
        let mut mac = self.mac.clone();
        mac.update(prev_hash.as_bytes());
        mac.update(canonical);
        hex(&mac.finalize().into_bytes())
    }
}

/// Replaces NUL characters (which Postgres TEXT refuses) in every text field, so both
/// backends store and hash the same thing.
pub(crate) fn sanitize(e: &mut AuditEvent) {
    fn fix(s: &mut String) {
        if s.contains('\0') {
            *s = s.replace('\0', "\u{FFFD}");
        }
    }
    for s in [
        &mut e.id,
        &mut e.ts,
        &mut e.kind,
        &mut e.actor,
        &mut e.platform,
        &mut e.status,
    ] {
        fix(s);
    }
    for s in [
        &mut e.end_ts,
        &mut e.actor_name,
        &mut e.channel,
        &mut e.conversation,
        &mut e.context,
        &mut e.squad,
        &mut e.agent,
        &mut e.node,
        &mut e.tool,
        &mut e.command,
        &mut e.args,
        &mut e.output,
        &mut e.output_sha256,
        &mut e.reason,
    ]
    .into_iter()
    .flatten()
    {
        fix(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> AuditEvent {
        AuditEvent {
            id: "evt_1".into(),
            seq: 1,
            ts: "2026-01-01T00:00:00Z".into(),
            kind: "tool_run".into(),
            status: "ok".into(),
            output: Some("a\0b".into()),
            prev_hash: GENESIS_HASH.into(),
            hash: "ignored".into(),
            ..AuditEvent::default()
        }
    }

    #[test]
    fn canonical_form_covers_every_field_but_hash() {
        let e = event();
        let text = String::from_utf8(canonical_bytes(&e)).unwrap_or_default();
        assert!(
            text.starts_with(r#"{"id":"evt_1","seq":1,"ts":"2026-01-01T00:00:00Z","end_ts":null"#),
            "{text}"
        );
        assert!(
            text.ends_with(&format!(r#""reason":null,"prev_hash":"{GENESIS_HASH}"}}"#)),
            "{text}"
        );
        assert!(!text.contains("ignored"));
        let mut other = e.clone();
        other.hash = "different".into();
        assert_eq!(canonical_bytes(&e), canonical_bytes(&other));
        other.seq = 2;
        assert_ne!(canonical_bytes(&e), canonical_bytes(&other));
    }

    #[test]
    fn hashers_are_deterministic_and_keyed() {
        let c = canonical_bytes(&event());
        let a = Sha256Chain.hash(GENESIS_HASH, &c);
        assert_eq!(a.len(), 64);
        assert_eq!(a, Sha256Chain.hash(GENESIS_HASH, &c));
        let k1 = HmacChain::new(b"key one, 32 bytes long at least!".to_vec());
        let k2 = HmacChain::new(b"key two, 32 bytes long at least!".to_vec());
        assert_ne!(k1.hash(GENESIS_HASH, &c), k2.hash(GENESIS_HASH, &c));
        assert_ne!(k1.hash(GENESIS_HASH, &c), a);
        assert!(!format!("{k1:?}").contains("key one"));
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2_and_long_keys() {
        let h = HmacChain::new(b"Jefe".to_vec()).hash("", b"what do ya want for nothing?");
        assert_eq!(
            h,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // RFC 4231 case 6: a 131-byte key is hashed first.
        let h = HmacChain::new(vec![0xaa; 131]).hash(
            "",
            b"Test Using Larger Than Block-Size Key - Hash Key First",
        );
        assert_eq!(
            h,
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn sanitize_replaces_nul() {
        let mut e = event();
        sanitize(&mut e);
        assert_eq!(e.output.as_deref(), Some("a\u{FFFD}b"));
    }
}
