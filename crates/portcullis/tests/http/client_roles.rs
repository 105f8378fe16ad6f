//! RBAC in tokens: tenant-wide roles and client-scoped roles, released to the client they
//! belong to (never to another) in the ID token and — when the client asks for it by its
//! registration — in access tokens; a client's roles go with the client.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::browser::Browser;
use crate::oidc::{setup, web_client};
use crate::oidc_errors::{VERIFIER, code_for, exchange};
use crate::on_every_engine;

pub fn payload(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).expect("payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64")).expect("json")
}

on_every_engine!(client_roles_reach_only_their_client, |server| {
    let mut registration = web_client();
    registration["roles_in_access_token"] = json!(true);
    let (id, secret) = setup(&server, registration).await;
    let (_, other) =
        server.admin_json(Method::POST, "/tenants/acme/clients", Some(web_client())).await.expect("client");
    let other_id = other["client_id"].as_str().expect("id").to_owned();
    let alice = crate::oidc::user_id(&server, "alice").await;

    let mut roles = Vec::new();
    for (name, client) in
        [("auditor", None), ("portal:admin", Some(id.as_str())), ("reports:admin", Some(other_id.as_str()))]
    {
        let (status, role) = server
            .admin_json(Method::POST, "/tenants/acme/roles", Some(json!({"name": name, "client_id": client})))
            .await
            .expect("role");
        assert_eq!(status, StatusCode::CREATED, "{role}");
        assert_eq!(role["client_id"].as_str(), client);
        roles.push(role["id"].as_str().expect("id").to_owned());
    }
    let (status, _) = server
        .admin_json(
            Method::POST,
            "/tenants/acme/roles",
            Some(json!({"name": "ghost:admin", "client_id": "no-such-client"})),
        )
        .await
        .expect("role");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for role in &roles {
        server
            .admin_json(Method::PUT, &format!("/tenants/acme/users/{alice}/roles/{role}"), None)
            .await
            .expect("assign");
    }

    let mut browser = Browser::new(&server.url);
    let code = code_for(&mut browser, &id, &[("scope", Some("openid roles"))]).await;
    let (status, tokens) = exchange(
        &server,
        &id,
        &secret,
        &[("code", &code), ("redirect_uri", crate::oidc::REDIRECT), ("code_verifier", VERIFIER)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let mut expected = vec!["auditor", "portal:admin"];
    expected.sort();
    let mut in_id_token: Vec<String> =
        serde_json::from_value(payload(tokens["id_token"].as_str().expect("id token"))["roles"].clone())
            .expect("roles");
    in_id_token.sort();
    assert_eq!(in_id_token, expected, "tenant roles and this client's, not the other client's");
    let mut in_access_token: Vec<String> =
        serde_json::from_value(payload(tokens["access_token"].as_str().expect("access token"))["roles"].clone())
            .expect("roles");
    in_access_token.sort();
    assert_eq!(in_access_token, expected);

    // The other client does not ask for roles in access tokens, and sees its own role only.
    let other_secret = other["client_secret"].as_str().expect("secret").to_owned();
    let code = code_for(&mut browser, &other_id, &[("scope", Some("openid roles"))]).await;
    let (_, tokens) = exchange(
        &server,
        &other_id,
        &other_secret,
        &[("code", &code), ("redirect_uri", crate::oidc::REDIRECT), ("code_verifier", VERIFIER)],
    )
    .await;
    assert!(payload(tokens["access_token"].as_str().expect("access token")).get("roles").is_none());
    let mut seen: Vec<String> =
        serde_json::from_value(payload(tokens["id_token"].as_str().expect("id token"))["roles"].clone())
            .expect("roles");
    seen.sort();
    assert_eq!(seen, ["auditor", "reports:admin"]);

    // Deleting a client deletes its roles.
    server.admin_json(Method::DELETE, &format!("/tenants/acme/clients/{other_id}"), None).await.expect("delete");
    let (status, _) =
        server.admin_json(Method::GET, &format!("/tenants/acme/roles/{}", roles[2]), None).await.expect("role");
    assert_eq!(status, StatusCode::NOT_FOUND);
});
