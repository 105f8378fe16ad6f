//! OAuth clients: registration rules, the secret shown once and kept as a digest.

use portcullis_core::Error;
use portcullis_core::model::client::ClientMetadata;
use portcullis_core::model::token::{Access, NewToken};
use serde_json::{Value, json};

use crate::on_every_engine;

fn metadata(value: Value) -> ClientMetadata {
    portcullis_core::model::from_json(value).expect("valid metadata")
}

on_every_engine!(client_registration_and_secrets, |fx| {
    let s = &fx.services;
    let a = &fx.admin;
    let created = s
        .create_client(a, "acme", metadata(json!({"client_name": "Portal", "redirect_uris": ["https://portal.example.com/cb"], "scope": "openid profile"})))
        .await
        .expect("create");
    let secret = created.client_secret.clone().expect("a confidential client gets a secret");
    assert!(secret.starts_with("pcs_"));
    assert_eq!(created.client_secret_expires_at, Some(0));
    let id = created.client.client_id.clone();
    // The secret is nowhere in the database, not in the audit log either.
    let dump = crate::access::dump_database(&fx.db).await;
    assert!(!dump.contains(&secret));
    assert!(!crate::access::dump_clients(&fx.db).await.contains(&secret));
    let got = s.get_client(a, "acme", &id).await.expect("get");
    assert_eq!(got.metadata.redirect_uris[0].as_str(), "https://portal.example.com/cb");

    // A chosen client_id must be unique in the tenant.
    let chosen = json!({"client_id": "legacy-app", "client_name": "Legacy", "grant_types": ["client_credentials"]});
    s.create_client(a, "acme", metadata(chosen.clone())).await.expect("chosen id");
    let twice = s.create_client(a, "acme", metadata(chosen)).await;
    assert!(matches!(twice, Err(Error::Conflict { ref constraint, .. }) if constraint == "client_id"), "{twice:?}");

    // Rotation replaces the secret.
    let rotated = s.rotate_client_secret(a, "acme", &id).await.expect("rotate");
    assert_ne!(rotated.client_secret.as_deref(), Some(secret.as_str()));
    // Becoming a public client drops the secret; becoming confidential again makes a new one.
    let public =
        s.update_client(a, "acme", &id, json!({"token_endpoint_auth_method": "none"})).await.expect("to public");
    assert!(public.client_secret.is_none());
    assert!(matches!(s.rotate_client_secret(a, "acme", &id).await, Err(Error::Conflict { .. })));
    let again = s
        .update_client(a, "acme", &id, json!({"token_endpoint_auth_method": "client_secret_post"}))
        .await
        .expect("back");
    assert!(again.client_secret.is_some());
    let refused = s.update_client(a, "acme", &id, json!({"redirect_uris": []})).await;
    assert!(matches!(refused, Err(Error::Validation(_))), "{refused:?}");
    assert!(matches!(s.update_client(a, "acme", &id, json!({"client_id": "x"})).await, Err(Error::Validation(_))));

    let page = s.list_clients(a, "acme", None, None).await.expect("list");
    assert_eq!(page.items.len(), 2);
    s.delete_client(a, "acme", &id).await.expect("delete");
    assert_eq!(s.get_client(a, "acme", &id).await.err(), Some(Error::NotFound("client")));

    // A read token may look, not change.
    let name = portcullis_types::TenantName::parse("acme").expect("valid");
    let reader = s
        .create_token(a, NewToken { name: "r".into(), tenant: Some(name), access: Access::Read, expires_at: None })
        .await
        .expect("token");
    let reader = s.authenticate(&reader.secret, Default::default()).await.expect("auth");
    assert!(s.list_clients(&reader, "acme", None, None).await.is_ok());
    let denied = s
        .create_client(&reader, "acme", metadata(json!({"client_name": "X", "grant_types": ["client_credentials"]})))
        .await;
    assert!(matches!(denied, Err(Error::Forbidden(_))));
    let actions: Vec<String> = s
        .list_audit(a, "acme", Default::default(), None, Some(20))
        .await
        .expect("audit")
        .items
        .into_iter()
        .filter(|e| e.action.starts_with("client."))
        .map(|e| e.action)
        .collect();
    assert_eq!(actions[0], "client.delete");
    assert!(actions.contains(&"client.secret.rotate".to_owned()));
});
