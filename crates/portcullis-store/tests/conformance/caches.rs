//! Caches on one node see changes made on another, through the change log (DESIGN §5).

use portcullis_core::Error;
use portcullis_core::model::schema::{AttributeDefinition, AttributeType};
use portcullis_core::model::token::{Access, NewToken};
use portcullis_core::service::UserQuery;
use portcullis_types::{AttributeName, TenantName};
use serde_json::json;

use crate::on_every_engine;

on_every_engine!(a_token_revoked_on_one_node_stops_working_on_another, |fx| {
    let other = fx.second_node().await;
    let created = fx
        .services
        .create_token(&fx.admin, NewToken { name: "ci".into(), tenant: None, access: Access::Read, expires_at: None })
        .await
        .expect("token");
    // The other node authenticates (and caches) the token.
    assert!(other.authenticate(&created.secret, Default::default()).await.is_ok());
    fx.services.revoke_token(&fx.admin, created.token.id).await.expect("revoke");
    // This node evicted at once; the other one evicts when it reads the change log.
    assert_eq!(fx.services.authenticate(&created.secret, Default::default()).await.err(), Some(Error::Unauthenticated));
    assert!(other.sync_changes().await.expect("poll") >= 1);
    assert_eq!(other.authenticate(&created.secret, Default::default()).await.err(), Some(Error::Unauthenticated));
});

on_every_engine!(a_node_that_stops_polling_still_expires_its_cache, |fx| {
    let other = fx.second_node().await;
    let created = fx
        .services
        .create_token(&fx.admin, NewToken { name: "ci".into(), tenant: None, access: Access::Read, expires_at: None })
        .await
        .expect("token");
    assert!(other.authenticate(&created.secret, Default::default()).await.is_ok());
    fx.services.revoke_token(&fx.admin, created.token.id).await.expect("revoke");
    fx.clock.advance(portcullis_core::cache::TIME_TO_LIVE + time::Duration::seconds(1));
    assert_eq!(other.authenticate(&created.secret, Default::default()).await.err(), Some(Error::Unauthenticated));
});

on_every_engine!(schema_and_tenant_changes_reach_other_nodes, |fx| {
    let other = fx.second_node().await;
    let reader = other.authenticate(crate::TOKEN, Default::default()).await.expect("auth");
    let alice = fx
        .services
        .create_user(&fx.admin, "acme", portcullis_core::model::from_json(json!({"username": "alice"})).expect("doc"))
        .await
        .expect("user");
    // The other node caches acme's (empty) schema and tenant record.
    assert!(other.get_user(&reader, "acme", alice.id).await.expect("get").attributes.is_empty());
    let definition = AttributeDefinition {
        name: AttributeName::parse("team").expect("valid"),
        kind: AttributeType::String,
        required: false,
        unique: false,
        pattern: None,
        sensitive: false,
        purpose: None,
        description: None,
    };
    fx.services.put_schema_attribute(&fx.admin, "acme", definition).await.expect("schema");
    fx.services.update_user(&fx.admin, "acme", alice.id, json!({"attributes": {"team": "blue"}})).await.expect("patch");
    other.sync_changes().await.expect("poll");
    assert_eq!(other.get_user(&reader, "acme", alice.id).await.expect("get").attributes["team"], "blue");
    // A tenant deleted on one node is gone on the other after its next poll.
    fx.services.delete_tenant(&fx.admin, "acme").await.expect("delete");
    other.sync_changes().await.expect("poll");
    let gone = other.list_users(&reader, "acme", UserQuery::default(), None, None).await;
    assert_eq!(gone.err(), Some(Error::NotFound("tenant")));
    let _ = TenantName::parse("acme");
});

on_every_engine!(a_client_secret_rotated_on_one_node_stops_working_on_another, |fx| {
    use portcullis_core::service::PresentedAuth;
    let other = fx.second_node().await;
    let metadata =
        portcullis_core::model::from_json(json!({"client_name": "m2m", "grant_types": ["client_credentials"]}))
            .expect("meta");
    let created = fx.services.create_client(&fx.admin, "acme", metadata).await.expect("client");
    let id = created.client.client_id.clone();
    let secret = created.client_secret.expect("secret");
    // The other node authenticates (and caches) the client.
    assert!(other.authenticate_client("acme", &id, PresentedAuth::Basic(&secret)).await.is_ok());
    let rotated = fx.services.rotate_client_secret(&fx.admin, "acme", &id).await.expect("rotate");
    let new_secret = rotated.client_secret.expect("secret");
    assert_eq!(
        fx.services.authenticate_client("acme", &id, PresentedAuth::Basic(&secret)).await.err(),
        Some(Error::Unauthenticated)
    );
    other.sync_changes().await.expect("poll");
    assert_eq!(
        other.authenticate_client("acme", &id, PresentedAuth::Basic(&secret)).await.err(),
        Some(Error::Unauthenticated)
    );
    assert!(other.authenticate_client("acme", &id, PresentedAuth::Basic(&new_secret)).await.is_ok());
    // Deleted on one node, gone on the other after its poll.
    fx.services.delete_client(&fx.admin, "acme", &id).await.expect("delete");
    other.sync_changes().await.expect("poll");
    assert_eq!(
        other.authenticate_client("acme", &id, PresentedAuth::Basic(&new_secret)).await.err(),
        Some(Error::Unauthenticated)
    );
    // The wrong method is refused even with the right secret.
    assert!(other.authenticate_client("acme", "nobody", PresentedAuth::Post(&new_secret)).await.is_err());
});
