//! What both backends share: the DML (written with `$N` placeholders, which sqlx-sqlite
//! accepts too), input checks, and small helpers. The [`Store`](crate::Store) impl itself is
//! generated for each backend by `impl_store!` in `store_impl.rs`.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::chain::sanitize;
use crate::model::{AuditEvent, SquadDeployment, StoreError};
use crate::token::{is_sha256_hex, new_event_id};

pub(crate) const INSERT_NODE: &str =
    "INSERT INTO nodes (id, name, token_hash, created_at) VALUES ($1, $2, $3, $4)";
pub(crate) const NODE_BY_NAME: &str =
    "SELECT id, name, created_at, last_seen, version, host, revoked FROM nodes WHERE name = $1";
pub(crate) const NODE_BY_ID: &str =
    "SELECT id, name, created_at, last_seen, version, host, revoked FROM nodes WHERE id = $1";
pub(crate) const NODE_TOKEN_HASH: &str =
    "SELECT token_hash FROM nodes WHERE id = $1 AND revoked = FALSE";
pub(crate) const LIST_NODES: &str =
    "SELECT id, name, created_at, last_seen, version, host, revoked FROM nodes";
pub(crate) const REVOKE_NODE: &str = "UPDATE nodes SET revoked = TRUE, revoked_at = COALESCE(revoked_at, $2) \
     WHERE name = $1 RETURNING id, name, created_at, last_seen, version, host, revoked";
pub(crate) const TOUCH_NODE: &str = "UPDATE nodes SET last_seen = $2, version = COALESCE($3, version), \
     host = COALESCE($4, host) WHERE id = $1";

pub(crate) const DEPLOY_SQUAD: &str =
    "INSERT INTO squads (squad, deployed_at) VALUES ($1, $2) ON CONFLICT (squad) DO NOTHING";
pub(crate) const SQUAD_DEPLOYED_AT: &str = "SELECT deployed_at FROM squads WHERE squad = $1";
pub(crate) const SQUAD_NODES: &str =
    "SELECT n.name FROM squad_links l JOIN nodes n ON n.id = l.node_id WHERE l.squad = $1";
pub(crate) const LIST_SQUADS: &str = "SELECT squad, deployed_at FROM squads";
pub(crate) const LIST_LINKS: &str =
    "SELECT l.squad, n.name FROM squad_links l JOIN nodes n ON n.id = l.node_id";
pub(crate) const NODE_FOR_LINK: &str = "SELECT id, revoked FROM nodes WHERE name = $1";
pub(crate) const INSERT_LINK: &str = "INSERT INTO squad_links (squad, node_id, linked_at) VALUES ($1, $2, $3) \
     ON CONFLICT (squad, node_id) DO NOTHING";
pub(crate) const DELETE_LINK: &str = "DELETE FROM squad_links WHERE squad = $1 AND node_id = $2";

pub(crate) const SET_ADMIN: &str = "INSERT INTO admin (id, token_hash, updated_at) VALUES (1, $1, $2) \
     ON CONFLICT (id) DO UPDATE SET token_hash = excluded.token_hash, updated_at = excluded.updated_at";
pub(crate) const ADMIN: &str = "SELECT token_hash FROM admin WHERE id = 1";

pub(crate) const HEAD_EVENT: &str =
    "SELECT seq, hash AS head_hash, ts FROM audit_events ORDER BY seq DESC LIMIT 1";
pub(crate) const HEAD_CHECKPOINT: &str =
    "SELECT seq, head_hash, ts FROM audit_checkpoints ORDER BY seq DESC LIMIT 1";
pub(crate) const INSERT_EVENT: &str = "INSERT INTO audit_events (seq, id, ts, end_ts, duration_ms, kind, \
     actor, actor_name, platform, channel, conversation, context, squad, agent, node, tool, command, args, \
     status, exit_code, output, output_bytes, output_sha256, reason, prev_hash, hash) VALUES ($1, $2, $3, $4, \
     $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)";
/// Followed by ` AND ...` filters, then `ORDER BY`.
pub(crate) const SELECT_EVENTS: &str = "SELECT seq, id, ts, end_ts, duration_ms, kind, actor, actor_name, \
     platform, channel, conversation, context, squad, agent, node, tool, command, args, status, exit_code, \
     output, output_bytes, output_sha256, reason, prev_hash, hash FROM audit_events WHERE TRUE";
pub(crate) const EVENT_BY_ID: &str = "SELECT seq, id, ts, end_ts, duration_ms, kind, actor, actor_name, \
     platform, channel, conversation, context, squad, agent, node, tool, command, args, status, exit_code, \
     output, output_bytes, output_sha256, reason, prev_hash, hash FROM audit_events WHERE id = $1";
pub(crate) const INSERT_CHECKPOINT: &str = "INSERT INTO audit_checkpoints (seq, head_hash, ts) \
     VALUES ($1, $2, $3) ON CONFLICT (seq) DO NOTHING";
pub(crate) const CHECKPOINT_AT: &str =
    "SELECT seq, head_hash, ts FROM audit_checkpoints WHERE seq = $1";
pub(crate) const LIST_CHECKPOINTS: &str =
    "SELECT seq, head_hash, ts FROM audit_checkpoints ORDER BY seq";

pub(crate) const SINK_CURSOR: &str = "SELECT seq FROM sink_cursors WHERE sink = $1";
pub(crate) const SET_SINK_CURSOR: &str = "INSERT INTO sink_cursors (sink, seq, updated_at) VALUES ($1, $2, $3) \
     ON CONFLICT (sink) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at";

/// Longest node or squad name accepted.
const MAX_NAME: usize = 200;

/// Unix seconds now (0 if the clock is before 1970).
pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A node or squad name: not blank, at most 200 characters, no control characters.
pub(crate) fn check_name(what: &str, name: &str) -> Result<(), StoreError> {
    if name.trim().is_empty()
        || name.chars().count() > MAX_NAME
        || name.chars().any(char::is_control)
    {
        return Err(StoreError::Invalid(format!(
            "{what} name `{}` is invalid: use 1 to {MAX_NAME} printable characters",
            name.escape_debug()
        )));
    }
    Ok(())
}

/// A token hash: the 64-character SHA-256 hex, never the token itself.
pub(crate) fn check_hash(hash: &str) -> Result<(), StoreError> {
    if is_sha256_hex(hash) {
        Ok(())
    } else {
        Err(StoreError::Invalid(
            "token hash must be the 64-character SHA-256 hex of the token: store hash_token(token), never the token"
                .into(),
        ))
    }
}

/// An event ready to chain: NULs replaced, an id given, the required fields present.
pub(crate) fn prepare_event(mut e: AuditEvent) -> Result<AuditEvent, StoreError> {
    sanitize(&mut e);
    if e.id.is_empty() {
        e.id = new_event_id();
    }
    for (field, value) in [("ts", &e.ts), ("kind", &e.kind), ("status", &e.status)] {
        if value.trim().is_empty() {
            return Err(StoreError::Invalid(format!(
                "audit event has an empty `{field}`; set it before appending"
            )));
        }
    }
    Ok(e)
}

/// A `LIMIT`, which must be positive.
pub(crate) fn check_limit(limit: i64) -> Result<i64, StoreError> {
    if limit >= 1 {
        Ok(limit)
    } else {
        Err(StoreError::Invalid(format!(
            "audit limit must be at least 1, not {limit}"
        )))
    }
}

/// A sink cursor: a seq, never negative (0 means nothing delivered yet).
pub(crate) fn check_cursor(sink: &str, seq: i64) -> Result<(), StoreError> {
    if seq >= 0 {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "sink `{}` cursor must be 0 or more, not {seq}",
            sink.escape_debug()
        )))
    }
}

/// Whether a database error is a unique-constraint violation.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// Deployments from `(squad, deployed_at)` rows and `(squad, node name)` links, sorted in
/// Rust (not SQL) so both backends order alike whatever the database collation.
pub(crate) fn assemble(
    squads: Vec<(String, i64)>,
    links: Vec<(String, String)>,
) -> Vec<SquadDeployment> {
    let mut by_squad: BTreeMap<String, SquadDeployment> = squads
        .into_iter()
        .map(|(squad, deployed_at)| {
            let d = SquadDeployment {
                squad: squad.clone(),
                deployed_at,
                nodes: Vec::new(),
            };
            (squad, d)
        })
        .collect();
    for (squad, node) in links {
        if let Some(d) = by_squad.get_mut(&squad) {
            d.nodes.push(node);
        }
    }
    let mut out: Vec<SquadDeployment> = by_squad.into_values().collect();
    for d in &mut out {
        d.nodes.sort();
    }
    out
}
