//! Tamper evidence: edits, re-hashed rows, deletions, reordering and truncation are each
//! caught by `verify_chain`, which names the first broken event.

use squadron_store::{
    AuditCheckpoint, AuditEvent, BreakKind, ChainBreak, ChainHasher, HmacChain, Sha256Chain,
    StoreError, canonical_bytes, verify_chain, verify_chain_summary,
};

use crate::audit::{append_n, event, key};
use crate::harness::Ctx;

fn broken_at(r: Result<(), ChainBreak>) -> (i64, String, BreakKind) {
    match r {
        Err(ChainBreak::Broken { seq, id, what }) => (seq, id, what),
        other => panic!("expected a broken chain, got {other:?}"),
    }
}

pub async fn tampering_is_named(ctx: Ctx) {
    let k = key();
    let events = append_n(&ctx, 50, &k).await;
    verify_chain(ctx.store.as_ref(), &k).await.unwrap();
    let (seq, _, what) =
        broken_at(verify_chain(ctx.store.as_ref(), &HmacChain::new(b"wrong".to_vec())).await);
    assert_eq!(
        (seq, what),
        (1, BreakKind::Changed),
        "another key does not verify"
    );

    let refused = ctx
        .sql("UPDATE audit_events SET output = 'all good' WHERE seq = 37")
        .await;
    assert!(
        refused.is_err(),
        "{}: events are append-only",
        ctx.backend()
    );
    ctx.allow_updates().await;
    let rows = ctx
        .sql("UPDATE audit_events SET output = 'all good' WHERE seq = 37")
        .await
        .unwrap();
    assert_eq!(rows, 1);
    let r = verify_chain(ctx.store.as_ref(), &k).await;
    let message = r.as_ref().map_err(ToString::to_string).unwrap_err();
    assert!(
        message.contains("seq 37") && message.contains(&events[36].id),
        "{message}"
    );
    assert_eq!(
        broken_at(r),
        (37, events[36].id.clone(), BreakKind::Changed)
    );
}

pub async fn rehashed_event_is_named(ctx: Ctx) {
    // With the unkeyed chain an attacker can recompute one event's hash; the next event
    // still points to the original, so the rewritten one is named.
    let events = append_n(&ctx, 10, &Sha256Chain).await;
    ctx.allow_updates().await;
    let mut forged = events[4].clone();
    forged.output = Some("nothing to see".into());
    let hash = Sha256Chain.hash(&forged.prev_hash, &canonical_bytes(&forged));
    let sql =
        format!("UPDATE audit_events SET output = 'nothing to see', hash = '{hash}' WHERE seq = 5");
    ctx.sql(&sql).await.unwrap();
    assert_eq!(
        broken_at(verify_chain(ctx.store.as_ref(), &Sha256Chain).await),
        (5, events[4].id.clone(), BreakKind::Changed)
    );
}

pub async fn deleted_and_reordered_are_named(ctx: Ctx) {
    let k = key();
    let events = append_n(&ctx, 30, &k).await;
    ctx.allow_updates().await;
    let swap = [
        "UPDATE audit_events SET seq = 1000 WHERE seq = 20",
        "UPDATE audit_events SET seq = 20 WHERE seq = 21",
        "UPDATE audit_events SET seq = 21 WHERE seq = 1000",
    ];
    for sql in swap {
        ctx.sql(sql).await.unwrap();
    }
    assert_eq!(
        broken_at(verify_chain(ctx.store.as_ref(), &k).await),
        (20, events[20].id.clone(), BreakKind::Reordered)
    );
    for sql in swap {
        ctx.sql(sql).await.unwrap();
    }
    verify_chain(ctx.store.as_ref(), &k).await.unwrap();
    ctx.sql("DELETE FROM audit_events WHERE seq IN (10, 11)")
        .await
        .unwrap();
    let (seq, id, what) = broken_at(verify_chain(ctx.store.as_ref(), &k).await);
    assert_eq!(
        (seq, id, what),
        (
            12,
            events[11].id.clone(),
            BreakKind::Deleted {
                first: 10,
                last: 11
            }
        )
    );
}

pub async fn checkpoints_catch_truncation_and_allow_retention(ctx: Ctx) {
    let (k, s) = (key(), ctx.store.clone());
    let events = append_n(&ctx, 10, &k).await;
    let cp = |e: &AuditEvent| AuditCheckpoint {
        seq: e.seq,
        head_hash: e.hash.clone(),
        ts: e.ts.clone(),
    };
    s.record_checkpoint(&cp(&events[4])).await.unwrap();
    s.record_checkpoint(&cp(&events[4])).await.unwrap();
    let mut other = cp(&events[4]);
    other.head_hash = events[3].hash.clone();
    assert!(matches!(
        s.record_checkpoint(&other).await,
        Err(StoreError::Invalid(_))
    ));
    // Retention: the prefix up to a checkpoint may go; the rest still verifies.
    ctx.sql("DELETE FROM audit_events WHERE seq <= 5")
        .await
        .unwrap();
    assert_eq!(
        verify_chain_summary(s.as_ref(), &k).await.unwrap().events,
        5
    );
    // A truncated tail is caught once a checkpoint has seen it.
    s.record_checkpoint(&s.audit_head().await.unwrap().unwrap())
        .await
        .unwrap();
    ctx.sql("DELETE FROM audit_events WHERE seq >= 9")
        .await
        .unwrap();
    let (seq, id, what) = broken_at(verify_chain(s.as_ref(), &k).await);
    assert_eq!(
        (seq, id.as_str(), what),
        (10, "", BreakKind::Deleted { first: 9, last: 10 })
    );
    assert_eq!(
        s.list_checkpoints()
            .await
            .unwrap()
            .iter()
            .map(|c| c.seq)
            .collect::<Vec<_>>(),
        [5, 10]
    );
    // Even an emptied table continues from the last checkpoint.
    ctx.sql("DELETE FROM audit_events").await.unwrap();
    assert_eq!(s.append_audit(event(0), &k).await.unwrap().seq, 11);
}
