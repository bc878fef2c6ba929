//! Live sinks' cursors: 0 until set, one per sink name, replaced in place, checked.

use squadron_store::StoreError;

use crate::harness::Ctx;

pub async fn persist_per_sink(ctx: Ctx) {
    let s = &ctx.store;
    assert_eq!(
        s.sink_cursor("siem").await.unwrap(),
        0,
        "a new sink starts at 0"
    );
    s.set_sink_cursor("siem", 41).await.unwrap();
    s.set_sink_cursor("hec", 7).await.unwrap();
    assert_eq!(s.sink_cursor("siem").await.unwrap(), 41);
    assert_eq!(s.sink_cursor("hec").await.unwrap(), 7);
    s.set_sink_cursor("siem", 42).await.unwrap();
    assert_eq!(s.sink_cursor("siem").await.unwrap(), 42);
    // Moving back is allowed (a deliberate replay).
    s.set_sink_cursor("hec", 0).await.unwrap();
    assert_eq!(s.sink_cursor("hec").await.unwrap(), 0);
    assert_eq!(s.sink_cursor("other").await.unwrap(), 0);

    let err = s.set_sink_cursor("siem", -1).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    assert!(err.to_string().contains("-1"), "{err}");
    let err = s.set_sink_cursor(" ", 1).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    assert_eq!(
        s.sink_cursor("siem").await.unwrap(),
        42,
        "a refused write changes nothing"
    );

    let rows = ctx
        .sql("DELETE FROM sink_cursors WHERE sink = 'siem'")
        .await
        .unwrap();
    assert_eq!(rows, 1, "one row per sink on {}", ctx.backend());
}
