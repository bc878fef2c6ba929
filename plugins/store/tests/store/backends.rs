//! Backend-specific checks: how SQLite is opened and configured, URL dispatch, and the
//! Postgres failure message.

use squadron_store::{Sha256Chain, SqliteStore, Store, StoreError, open};

#[tokio::test]
async fn sqlite_open_creates_the_file_with_wal_and_pragmas() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a").join("b").join("squadron.db");
    let store = SqliteStore::open(path.to_str().unwrap()).await.unwrap();
    assert!(path.exists());
    let pool = store.pool();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(sync, 1, "NORMAL");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(fk, 1);
    let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
        .fetch_one(pool)
        .await
        .unwrap();
    assert!(busy >= 1000, "{busy}");
    store.close().await;
    // Reopening runs no migration twice and keeps the data.
    let url = format!("sqlite:{}", path.display());
    let again = open(&url).await.unwrap();
    again
        .create_node("web", &squadron_store::hash_token("t"))
        .await
        .unwrap();
    again.close().await;
    let third = open(&format!("sqlite://{}", path.display())).await.unwrap();
    assert_eq!(third.list_nodes().await.unwrap().len(), 1);
    third.close().await;
}

#[tokio::test]
async fn sqlite_close_checkpoints_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("squadron.db");
    let store = open(path.to_str().unwrap()).await.unwrap();
    for i in 0..50 {
        store
            .append_audit(crate::audit::event(i), &Sha256Chain)
            .await
            .unwrap();
    }
    assert!(dir.path().join("squadron.db-wal").exists());
    store.close().await;
    assert!(
        !dir.path().join("squadron.db-wal").exists(),
        "close folds the WAL back"
    );
    let err = store.list_nodes().await.unwrap_err();
    assert!(
        matches!(err, StoreError::Db(sqlx::Error::PoolClosed)),
        "{err}"
    );
    let again = open(path.to_str().unwrap()).await.unwrap();
    squadron_store::verify_chain(again.as_ref(), &Sha256Chain)
        .await
        .unwrap();
    again.close().await;
}

#[tokio::test]
async fn sqlite_in_memory_works() {
    let store = open("sqlite::memory:").await.unwrap();
    let e = squadron_store::AuditEvent {
        ts: "t".into(),
        kind: "admin".into(),
        status: "ok".into(),
        ..Default::default()
    };
    store.append_audit(e.clone(), &Sha256Chain).await.unwrap();
    assert_eq!(store.append_audit(e, &Sha256Chain).await.unwrap().seq, 2);
    squadron_store::verify_chain(store.as_ref(), &Sha256Chain)
        .await
        .unwrap();
}

#[tokio::test]
async fn open_refuses_unknown_schemes_clearly() {
    for (url, want) in [
        (
            "mysql://root@localhost/db",
            "unsupported database_url scheme `mysql`",
        ),
        ("   ", "database_url is empty"),
    ] {
        let err = open(url).await.unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{err}");
        assert!(err.to_string().contains(want), "{err}");
        assert!(err.to_string().contains("postgres://"), "{err}");
    }
}

#[tokio::test]
async fn open_reports_a_missing_directory_it_cannot_create() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let err = open(file.join("squadron.db").to_str().unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Io { .. } | StoreError::Db(_)),
        "{err}"
    );
}

#[tokio::test]
async fn postgres_unreachable_is_a_clear_error() {
    let err = open("postgres://postgres@127.0.0.1:1/none?connect_timeout=2")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Db(_)), "{err}");
}

#[tokio::test]
async fn postgresql_scheme_is_accepted() {
    let url = crate::harness::postgres_admin_url().replacen("postgres://", "postgresql://", 1);
    // Connecting (and migrating) the admin database would leave tables behind, so only
    // check that the scheme reaches the Postgres driver.
    let err = open(&url.replace("127.0.0.1:5432", "127.0.0.1:1"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Db(_)), "{err}");
}
