//! Nodes, squad deployments and links, and the admin token hash.

use squadron_store::{StoreError, hash_token, new_token, token_matches};

use crate::harness::Ctx;

fn h(seed: &str) -> String {
    hash_token(seed)
}

pub async fn create_list_revoke(ctx: Ctx) {
    let s = &ctx.store;
    let web = s.create_node("web", &h("t1")).await.unwrap();
    let db = s.create_node("Db-1", &h("t2")).await.unwrap();
    assert!(web.id.starts_with("node_") && web.id != db.id);
    assert!(!web.revoked && web.last_seen.is_none() && web.created_at > 1_700_000_000);
    assert_eq!(s.node_by_name("web").await.unwrap(), Some(web.clone()));
    assert_eq!(s.node_by_id(&db.id).await.unwrap(), Some(db.clone()));
    assert_eq!(s.node_by_name("nope").await.unwrap(), None);
    let names: Vec<String> = s
        .list_nodes()
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .collect();
    assert_eq!(
        names,
        ["Db-1", "web"],
        "sorted by byte order on every backend"
    );

    let revoked = s.revoke_node("web").await.unwrap();
    assert!(revoked.revoked);
    assert_eq!(revoked.id, web.id);
    assert!(
        s.revoke_node("web").await.unwrap().revoked,
        "revoking twice is fine"
    );
    let listed = s.list_nodes().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().any(|n| n.name == "web" && n.revoked));
    assert!(listed.iter().any(|n| n.name == "Db-1" && !n.revoked));
    let err = s.revoke_node("ghost").await.unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound { what: "node", .. }),
        "{err}"
    );
    assert_eq!(err.to_string(), "node `ghost` not found");
}

pub async fn duplicate_names_refused(ctx: Ctx) {
    let s = &ctx.store;
    s.create_node("web", &h("t1")).await.unwrap();
    let err = s.create_node("web", &h("t2")).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Exists { what: "node", .. }),
        "{err}"
    );
    assert_eq!(err.to_string(), "node `web` already exists");
    s.revoke_node("web").await.unwrap();
    assert!(matches!(
        s.create_node("web", &h("t3")).await,
        Err(StoreError::Exists { .. })
    ));
    for bad in ["", "  ", "a\nb"] {
        assert!(
            matches!(
                s.create_node(bad, &h("x")).await,
                Err(StoreError::Invalid(_))
            ),
            "{bad:?}"
        );
    }
    // A clear token passed where its hash belongs is refused, and not echoed.
    let token = new_token();
    let err = s.create_node("api", &token).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)));
    assert!(!err.to_string().contains(&token));
    assert_eq!(s.list_nodes().await.unwrap().len(), 1);
}

pub async fn token_lookup_excludes_revoked(ctx: Ctx) {
    let s = &ctx.store;
    let token = new_token();
    let node = s.create_node("edge", &hash_token(&token)).await.unwrap();
    let stored = s.node_token_hash(&node.id).await.unwrap().unwrap();
    assert!(token_matches(&token, &stored));
    assert!(!token_matches(&new_token(), &stored));
    assert_eq!(s.node_token_hash("node_unknown").await.unwrap(), None);
    s.revoke_node("edge").await.unwrap();
    assert_eq!(s.node_token_hash(&node.id).await.unwrap(), None);
}

pub async fn touch_updates_last_seen(ctx: Ctx) {
    let s = &ctx.store;
    let node = s.create_node("web", &h("t")).await.unwrap();
    s.touch_node(&node.id, 1_800_000_000, Some("0.1.0"), Some("web-01"))
        .await
        .unwrap();
    s.touch_node(&node.id, 1_800_000_020, None, None)
        .await
        .unwrap();
    let n = s.node_by_id(&node.id).await.unwrap().unwrap();
    assert_eq!(n.last_seen, Some(1_800_000_020));
    assert_eq!(n.version.as_deref(), Some("0.1.0"));
    assert_eq!(n.host.as_deref(), Some("web-01"));
    let err = s
        .touch_node("node_missing", 1, None, None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { what: "node", .. }));
}

pub async fn deploy_link_unlink_list(ctx: Ctx) {
    let s = &ctx.store;
    s.create_node("zeta", &h("1")).await.unwrap();
    s.create_node("alpha", &h("2")).await.unwrap();
    s.create_node("old", &h("3")).await.unwrap();
    s.revoke_node("old").await.unwrap();

    let d = s.deploy_squad("k8s", 100).await.unwrap();
    assert_eq!(
        (d.squad.as_str(), d.deployed_at, d.nodes.len()),
        ("k8s", 100, 0)
    );
    assert_eq!(
        s.deploy_squad("k8s", 200).await.unwrap().deployed_at,
        100,
        "deploy is idempotent"
    );
    s.deploy_squad("database", 150).await.unwrap();

    let err = s.link("security", "alpha").await.unwrap_err();
    assert_eq!(err.to_string(), "squad `security` not found");
    let err = s.link("k8s", "ghost").await.unwrap_err();
    assert_eq!(err.to_string(), "node `ghost` not found");
    let err = s.link("k8s", "old").await.unwrap_err();
    assert!(
        matches!(err, StoreError::Invalid(_)) && err.to_string().contains("revoked"),
        "{err}"
    );

    s.link("k8s", "zeta").await.unwrap();
    let d = s.link("k8s", "alpha").await.unwrap();
    assert_eq!(d.nodes, ["alpha", "zeta"]);
    assert_eq!(
        s.link("k8s", "alpha").await.unwrap().nodes,
        ["alpha", "zeta"],
        "link is idempotent"
    );
    s.link("database", "zeta").await.unwrap();

    let all = s.list_deployments().await.unwrap();
    let summary: Vec<(&str, i64, Vec<&str>)> = all
        .iter()
        .map(|d| {
            (
                d.squad.as_str(),
                d.deployed_at,
                d.nodes.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("database", 150, vec!["zeta"]),
            ("k8s", 100, vec!["alpha", "zeta"])
        ]
    );

    let d = s.unlink("k8s", "zeta").await.unwrap();
    assert_eq!(d.nodes, ["alpha"]);
    let err = s.unlink("k8s", "zeta").await.unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound { what: "link", .. }),
        "{err}"
    );
    assert!(matches!(
        s.unlink("nope", "zeta").await,
        Err(StoreError::NotFound { what: "squad", .. })
    ));
    assert_eq!(s.list_deployments().await.unwrap()[0].nodes, ["zeta"]);
}

pub async fn admin_token_hash_set_replace(ctx: Ctx) {
    let s = &ctx.store;
    assert_eq!(s.admin_token_hash().await.unwrap(), None);
    let (a, b) = (new_token(), new_token());
    s.set_admin_token_hash(&hash_token(&a)).await.unwrap();
    let stored = s.admin_token_hash().await.unwrap().unwrap();
    assert!(token_matches(&a, &stored));
    s.set_admin_token_hash(&hash_token(&b)).await.unwrap();
    let stored = s.admin_token_hash().await.unwrap().unwrap();
    assert!(token_matches(&b, &stored) && !token_matches(&a, &stored));
    assert!(matches!(
        s.set_admin_token_hash(&a).await,
        Err(StoreError::Invalid(_))
    ));
    let rows = ctx.sql("DELETE FROM admin WHERE id <> 1").await.unwrap();
    assert_eq!(rows, 0, "a single admin row");
}
