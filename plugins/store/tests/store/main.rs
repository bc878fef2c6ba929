//! Integration tests of `squadron-store`: every case in `nodes`, `audit`, `tamper` and
//! `cursors` runs on SQLite and on Postgres (see `harness`); `backends` has the
//! backend-specific checks and `bench` the (ignored) append-rate measurement.

// Tests: an unwrap that fails is a failing test, with the error in its message.
#![allow(clippy::unwrap_used)]

mod audit;
mod backends;
mod bench;
mod cursors;
mod harness;
mod nodes;
mod tamper;

use harness::both;

both! {
    nodes_create_list_revoke => crate::nodes::create_list_revoke,
    nodes_duplicate_names_refused => crate::nodes::duplicate_names_refused,
    nodes_token_lookup_excludes_revoked => crate::nodes::token_lookup_excludes_revoked,
    nodes_touch_updates_last_seen => crate::nodes::touch_updates_last_seen,
    squads_deploy_link_unlink_list => crate::nodes::deploy_link_unlink_list,
    admin_token_hash_set_replace => crate::nodes::admin_token_hash_set_replace,
    audit_append_assigns_seq_and_chain => crate::audit::append_assigns_seq_and_chain,
    audit_concurrent_appends_are_gap_free => crate::audit::concurrent_appends_are_gap_free,
    audit_tampering_is_named => crate::tamper::tampering_is_named,
    audit_rehashed_event_is_named => crate::tamper::rehashed_event_is_named,
    audit_deleted_and_reordered_are_named => crate::tamper::deleted_and_reordered_are_named,
    audit_checkpoints_catch_truncation_and_allow_retention =>
        crate::tamper::checkpoints_catch_truncation_and_allow_retention,
    audit_list_filters => crate::audit::list_filters,
    audit_cancelled_appends_leave_no_trace => crate::audit::cancelled_appends_leave_no_trace,
    sink_cursors_persist_per_sink => crate::cursors::persist_per_sink,
}
