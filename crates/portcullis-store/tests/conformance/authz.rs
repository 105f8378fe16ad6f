//! Relationship tuples written on one node are answered on another: at once when the caller
//! passes the write's consistency token, within the freshness bound otherwise, and from a
//! full reload when the change log was purged past what the node had.

use portcullis_core::AUTHZ_FRESHNESS as FRESHNESS;
use portcullis_core::service::{AuthzQuery, QueryKind, TupleWrite};
use portcullis_core::{Clock, Services};

use crate::on_every_engine;

const MODEL: &str = "type user\ntype doc\n  relations\n    define viewer: [user]";

async fn check(node: &Services, admin: &portcullis_core::service::Principal, doc: &str, token: Option<&str>) -> bool {
    let query = AuthzQuery {
        query: QueryKind::Check,
        object: doc.to_owned(),
        relation: "viewer".to_owned(),
        subject: Some("user:anne".to_owned()),
        contextual_tuples: Vec::new(),
        consistency_token: token.map(str::to_owned),
    };
    node.authz_query(admin, "acme", query).await.expect("check").allowed.expect("allowed")
}

async fn write(
    node: &Services,
    admin: &portcullis_core::service::Principal,
    writes: &[&str],
    deletes: &[&str],
) -> String {
    let body = TupleWrite {
        writes: writes.iter().map(|s| (*s).to_owned()).collect(),
        deletes: deletes.iter().map(|s| (*s).to_owned()).collect(),
        ..Default::default()
    };
    node.write_tuples(admin, "acme", body).await.expect("write").consistency_token
}

on_every_engine!(another_node_answers_at_the_consistency_token_it_is_given, |fx| {
    let model = portcullis_authz::dsl::parse(MODEL).expect("model");
    fx.services.put_authz_model(&fx.admin, "acme", model).await.expect("model");
    let other = fx.second_node().await;
    assert!(!check(&other, &fx.admin, "doc:a", None).await, "loaded before the write");

    let token = write(&fx.services, &fx.admin, &["doc:a#viewer@user:anne"], &[]).await;
    assert!(check(&fx.services, &fx.admin, "doc:a", None).await, "the writing node answers with its write");
    assert!(!check(&other, &fx.admin, "doc:a", None).await, "within the freshness bound, the old answer");
    assert!(check(&other, &fx.admin, "doc:a", Some(&token)).await, "the token demands the write");

    let token = write(&fx.services, &fx.admin, &[], &["doc:a#viewer@user:anne"]).await;
    assert!(check(&other, &fx.admin, "doc:a", None).await);
    fx.clock.advance(FRESHNESS);
    assert!(!check(&other, &fx.admin, "doc:a", None).await, "after the freshness bound, the new answer");

    // The log is purged past the other node's revision: it reloads everything instead.
    write(&fx.services, &fx.admin, &["doc:b#viewer@user:anne"], &[]).await;
    let last = write(&fx.services, &fx.admin, &["doc:c#viewer@user:anne"], &["doc:b#viewer@user:anne"]).await;
    let store = fx.db.store().await.expect("store");
    let mut tx = store.write().await.expect("tx");
    let far = fx.clock.now() + time::Duration::days(365);
    assert!(tx.purge_expired(far, far, 1000).await.expect("purge").0 >= 3);
    tx.commit().await.expect("commit");
    assert!(check(&other, &fx.admin, "doc:c", Some(&last)).await);
    assert!(!check(&other, &fx.admin, "doc:b", Some(&last)).await);
    assert!(!check(&other, &fx.admin, "doc:a", Some(&token)).await);
});

on_every_engine!(a_node_loads_more_tuples_than_one_page, |fx| {
    let model = portcullis_authz::dsl::parse(MODEL).expect("model");
    fx.services.put_authz_model(&fx.admin, "acme", model).await.expect("model");
    let mut token = String::new();
    for batch in 0..11 {
        let tuples: Vec<String> = (0..1000).map(|i| format!("doc:{batch}-{i}#viewer@user:anne")).collect();
        let refs: Vec<&str> = tuples.iter().map(String::as_str).collect();
        token = write(&fx.services, &fx.admin, &refs, &[]).await;
    }
    let other = fx.second_node().await;
    assert_eq!(other.authz_tuples_in_memory(), 0);
    other.preload_authz().await;
    assert_eq!(other.authz_tuples_in_memory(), 11_000, "loaded at start, before any question");
    assert!(check(&other, &fx.admin, "doc:10-999", Some(&token)).await);
    assert!(check(&other, &fx.admin, "doc:0-0", Some(&token)).await);
    let listed = other
        .authz_query(
            &fx.admin,
            "acme",
            AuthzQuery {
                query: QueryKind::ListObjects,
                object: "doc".into(),
                relation: "viewer".into(),
                subject: Some("user:anne".into()),
                contextual_tuples: Vec::new(),
                consistency_token: Some(token),
            },
        )
        .await
        .expect("list");
    assert_eq!(listed.results.expect("results").len(), 11_000);
});
