//! Secrets and identifiers: agent/admin tokens (only their SHA-256 is ever stored), their
//! constant-time check, and random node and event ids.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Prefix of every token, so secret scanners and humans recognise one.
pub const TOKEN_PREFIX: &str = "sqn_";

/// A new token: `sqn_` and 32 random bytes in base64url (no padding). Show it once and
/// store only [`hash_token`] of it.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The SHA-256 of a token, lowercase hex (64 characters): what the store keeps.
pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Whether `token` hashes to `stored_hash`, compared in constant time.
pub fn token_matches(token: &str, stored_hash: &str) -> bool {
    let actual = hash_token(token);
    let expected = stored_hash.trim().to_ascii_lowercase();
    bool::from(actual.as_bytes().ct_eq(expected.as_bytes()))
}

/// Whether `s` looks like a SHA-256 hex digest (what the store accepts as a token hash).
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A new node id: `node_` and 20 lowercase hex characters.
pub fn new_node_id() -> String {
    random_id("node_", 10)
}

/// A new audit event id: `evt_` and 32 lowercase hex characters.
pub fn new_event_id() -> String {
    random_id("evt_", 16)
}

fn random_id(prefix: &str, n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::fill(bytes.as_mut_slice());
    format!("{prefix}{}", hex(&bytes))
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_hash_to_hex() {
        let a = new_token();
        let b = new_token();
        assert!(a.starts_with("sqn_") && a.len() == 4 + 43, "{a}");
        assert_ne!(a, b);
        let h = hash_token(&a);
        assert!(is_sha256_hex(&h));
        assert!(token_matches(&a, &h));
        assert!(token_matches(&a, &h.to_ascii_uppercase()));
        assert!(!token_matches(&b, &h));
        assert!(!token_matches(&a, ""));
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn ids_have_their_prefix() {
        assert!(new_node_id().starts_with("node_") && new_node_id().len() == 25);
        assert!(new_event_id().starts_with("evt_") && new_event_id().len() == 36);
        assert_ne!(new_event_id(), new_event_id());
    }
}
