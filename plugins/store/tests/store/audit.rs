//! The audit trail: seq and chain assignment, concurrency, cancellation, filters.

use sha2::Digest;
use std::sync::Arc;

use squadron_store::{
    AuditEvent, AuditFilter, ChainHasher, GENESIS_HASH, HmacChain, StoreError, canonical_bytes,
    verify_chain, verify_chain_summary,
};

use crate::harness::Ctx;

pub fn key() -> HmacChain {
    HmacChain::new(b"test key: 32 bytes or more, really".to_vec())
}

pub fn event(n: usize) -> AuditEvent {
    AuditEvent {
        ts: format!("2026-05-01T10:{:02}:{:02}.000Z", (n / 60) % 60, n % 60),
        kind: "tool_run".into(),
        actor: format!("U{}", n % 3),
        platform: "slack".into(),
        squad: Some(["k8s", "database"][n % 2].into()),
        node: Some(["web", "db", "edge"][n % 3].into()),
        tool: Some("kubectl_get_pods".into()),
        command: Some(format!("kubectl get pods -n ns{n}")),
        args: Some(format!(r#"{{"namespace":"ns{n}"}}"#)),
        status: ["ok", "error", "denied", "timeout"][n % 4].into(),
        exit_code: Some(i32::try_from(n % 4).unwrap()),
        output: Some(format!("output {n}")),
        output_bytes: Some(9),
        ..AuditEvent::default()
    }
}

pub async fn append_n(ctx: &Ctx, n: usize, hasher: &dyn ChainHasher) -> Vec<AuditEvent> {
    let mut out = Vec::new();
    for i in 0..n {
        out.push(ctx.store.append_audit(event(i), hasher).await.unwrap());
    }
    out
}

pub async fn append_assigns_seq_and_chain(ctx: Ctx) {
    let s = &ctx.store;
    let k = key();
    let a = s.append_audit(event(0), &k).await.unwrap();
    assert_eq!((a.seq, a.prev_hash.as_str()), (1, GENESIS_HASH));
    assert!(a.id.starts_with("evt_"));
    assert_eq!(a.hash, k.hash(GENESIS_HASH, &canonical_bytes(&a)));
    let mut given = event(1);
    given.id = "evt_given".into();
    given.seq = 99;
    given.hash = "forged".into();
    given.context = Some("why\0not".into());
    given.end_ts = Some("2026-05-01T10:00:02.500Z".into());
    given.duration_ms = Some(1500);
    given.output = Some("kept output\n".into());
    given.output_sha256 = Some(
        sha2::Sha256::digest(b"kept output\n")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    );
    let b = s.append_audit(given, &k).await.unwrap();
    assert_eq!((b.seq, b.id.as_str()), (2, "evt_given"));
    assert_eq!(b.prev_hash, a.hash);
    assert_eq!(b.context.as_deref(), Some("why\u{FFFD}not"));
    assert_eq!(
        s.audit_by_id("evt_given").await.unwrap(),
        Some(b.clone()),
        "round trip keeps every field"
    );
    assert_eq!(s.audit_by_id("evt_missing").await.unwrap(), None);

    let mut dup = event(2);
    dup.id = "evt_given".into();
    let err = s.append_audit(dup, &k).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Exists {
                what: "audit event",
                ..
            }
        ),
        "{err}"
    );
    let mut empty = event(3);
    empty.status = String::new();
    assert!(matches!(
        s.append_audit(empty, &k).await,
        Err(StoreError::Invalid(_))
    ));
    let c = s.append_audit(event(4), &k).await.unwrap();
    assert_eq!(c.seq, 3, "failed appends leave no gap");
    let head = s.audit_head().await.unwrap().unwrap();
    assert_eq!(
        (head.seq, head.head_hash.as_str(), head.ts.as_str()),
        (3, c.hash.as_str(), c.ts.as_str())
    );
    let sum = verify_chain_summary(s.as_ref(), &k).await.unwrap();
    assert_eq!((sum.events, sum.head_seq), (3, 3));
}

pub async fn concurrent_appends_are_gap_free(ctx: Ctx) {
    let hasher: Arc<dyn ChainHasher> = Arc::new(key());
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let (store, hasher) = (ctx.store.clone(), hasher.clone());
            tokio::spawn(async move {
                for i in 0..100 {
                    store
                        .append_audit(event(t * 100 + i), hasher.as_ref())
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let all = ctx.store.list_audit(&AuditFilter::default()).await.unwrap();
    let seqs: Vec<i64> = all.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=800).collect::<Vec<_>>());
    let sum = verify_chain_summary(ctx.store.as_ref(), hasher.as_ref())
        .await
        .unwrap();
    assert_eq!((sum.events, sum.head_seq), (800, 800));
    assert_eq!(sum.head_hash, all[799].hash);
}

pub async fn list_filters(ctx: Ctx) {
    let s = &ctx.store;
    append_n(&ctx, 24, &key()).await;
    let list = |f: AuditFilter| async move {
        s.list_audit(&f)
            .await
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect::<Vec<i64>>()
    };
    assert_eq!(list(AuditFilter::default()).await.len(), 24);
    let some = |v: &str| Some(v.to_owned());
    assert_eq!(
        list(AuditFilter {
            node: some("db"),
            ..Default::default()
        })
        .await,
        [2, 5, 8, 11, 14, 17, 20, 23]
    );
    assert_eq!(
        list(AuditFilter {
            squad: some("database"),
            ..Default::default()
        })
        .await
        .len(),
        12
    );
    assert_eq!(
        list(AuditFilter {
            status: some("denied"),
            ..Default::default()
        })
        .await,
        [3, 7, 11, 15, 19, 23]
    );
    assert_eq!(
        list(AuditFilter {
            actor: some("U0"),
            ..Default::default()
        })
        .await,
        [1, 4, 7, 10, 13, 16, 19, 22]
    );
    let f = AuditFilter {
        node: some("web"),
        status: some("ok"),
        ..Default::default()
    };
    assert_eq!(list(f).await, [1, 13]);
    assert_eq!(
        list(AuditFilter {
            since_seq: Some(20),
            ..Default::default()
        })
        .await,
        [21, 22, 23, 24]
    );
    let f = AuditFilter {
        since_seq: Some(5),
        limit: Some(3),
        ..Default::default()
    };
    assert_eq!(list(f).await, [6, 7, 8]);
    assert!(
        list(AuditFilter {
            node: some("nowhere"),
            ..Default::default()
        })
        .await
        .is_empty()
    );
    let f = AuditFilter {
        limit: Some(0),
        ..Default::default()
    };
    assert!(matches!(
        s.list_audit(&f).await,
        Err(StoreError::Invalid(_))
    ));
}

pub async fn cancelled_appends_leave_no_trace(ctx: Ctx) {
    // The server wraps appends in a timeout (fail closed); futures dropped at any point
    // must neither wedge the writer nor leave a gap.
    let k = key();
    for i in 0..300u64 {
        let append = ctx.store.append_audit(event(0), &k);
        let _ = tokio::time::timeout(std::time::Duration::from_micros(i % 150), append).await;
    }
    for i in 0..10 {
        ctx.store.append_audit(event(i), &k).await.unwrap();
    }
    let all = ctx.store.list_audit(&AuditFilter::default()).await.unwrap();
    let seqs: Vec<i64> = all.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        (1..=i64::try_from(all.len()).unwrap()).collect::<Vec<_>>()
    );
    assert!(all.len() >= 10);
    verify_chain(ctx.store.as_ref(), &k).await.unwrap();
}
