//! The happy paths of the admin API, as a client sees them.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::on_every_engine;

on_every_engine!(tenant_user_group_role_lifecycle, |server| {
    let created = server
        .admin(Method::POST, "/tenants")
        .json(&json!({"name": "acme", "display_name": "Acme Inc", "profile": "customer"}))
        .send()
        .await
        .expect("send");
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(created.headers()["location"], "/admin/v1/tenants/acme");
    let tenant: Value = created.json().await.expect("json");
    assert_eq!(tenant["profile"], "customer");

    let user: Value = server
        .admin(Method::POST, "/tenants/acme/users")
        .json(&json!({"username": "alice", "email": "alice@example.com", "given_name": "Alice", "password": "correct horse battery"}))
        .send().await.expect("send").json().await.expect("json");
    let id = user["id"].as_str().expect("id").to_owned();
    assert!(user.get("password").is_none());

    let patched: Value = server
        .admin(Method::PATCH, &format!("/tenants/acme/users/{id}"))
        .json(&json!({"family_name": "Liddell", "given_name": null}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(patched["family_name"], "Liddell");
    assert!(patched.get("given_name").is_none());

    let disabled: Value = server
        .admin(Method::POST, &format!("/tenants/acme/users/{id}/disable"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(disabled["status"], "disabled");
    let listed: Value = server
        .admin(Method::GET, "/tenants/acme/users?status=disabled")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(1));

    let group: Value = server
        .admin(Method::POST, "/tenants/acme/groups")
        .json(&json!({"name": "staff"}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let group_id = group["id"].as_str().expect("id");
    let role: Value = server
        .admin(Method::POST, "/tenants/acme/roles")
        .json(&json!({"name": "viewer"}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let role_id = role["id"].as_str().expect("id");
    let member =
        server.admin(Method::PUT, &format!("/tenants/acme/groups/{group_id}/members/{id}")).send().await.expect("send");
    assert_eq!(member.status(), StatusCode::NO_CONTENT);
    let assigned = server
        .admin(Method::PUT, &format!("/tenants/acme/groups/{group_id}/roles/{role_id}"))
        .send()
        .await
        .expect("send");
    assert_eq!(assigned.status(), StatusCode::OK);
    let effective: Value = server
        .admin(Method::GET, &format!("/tenants/acme/users/{id}/effective"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(effective["roles"][0]["name"], "viewer");
    assert_eq!(effective["groups"][0]["name"], "staff");

    let put_attr = server
        .admin(Method::PUT, "/tenants/acme/schema/attributes/employee_number")
        .json(&json!({"name": "employee_number", "type": "string", "unique": true, "pattern": "E[0-9]{5}"}))
        .send()
        .await
        .expect("send");
    assert_eq!(put_attr.status(), StatusCode::OK);
    let bad_attr = server
        .admin(Method::PATCH, &format!("/tenants/acme/users/{id}"))
        .json(&json!({"attributes": {"employee_number": "123"}}))
        .send()
        .await
        .expect("send");
    assert_eq!(bad_attr.status(), StatusCode::BAD_REQUEST);
    let problem: Value = bad_attr.json().await.expect("json");
    assert_eq!(problem["errors"][0]["field"], "attributes/employee_number");

    let audit: Value = server
        .admin(Method::GET, "/tenants/acme/audit?limit=3")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(3));
    assert!(audit["next_cursor"].is_string());
    assert!(audit["items"][0]["request_id"].is_string(), "audit events carry the request id");
    assert_eq!(audit["items"][0]["ip"], "127.0.0.1");

    let deleted = server.admin(Method::DELETE, &format!("/tenants/acme/users/{id}")).send().await.expect("send");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let gone = server.admin(Method::GET, &format!("/tenants/acme/users/{id}")).send().await.expect("send");
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
});

on_every_engine!(bulk_import_streams_ndjson, |server| {
    server.admin(Method::POST, "/tenants").json(&json!({"name": "shop"})).send().await.expect("send");
    let mut body = String::new();
    for i in 0..300 {
        body.push_str(&format!("{{\"username\":\"c{i}\",\"password_hash\":{{\"algorithm\":\"pbkdf2-sha256\",\"iterations\":27500,\"salt\":\"c2FsdHNhbHRzYWx0c2FsdA==\",\"value\":\"eAA4hxO3phBzs5xL0cbw/QNMYgcXgmgYB5i1VB4SaJoX2bCyrIxrozK24K+x+NAS18K0E9YZ150biARaSSoFZQ==\"}}}}\n"));
    }
    body.push_str("{\"username\": 7}\n");
    let report: Value = server
        .admin(Method::POST, "/tenants/shop/users:import")
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(report["imported"], 300);
    assert_eq!(report["failed"], 1);
    assert_eq!(report["errors"][0]["line"], 301);
    assert_eq!(report["errors"][0]["field"], "username");
    let wrong_type =
        server.admin(Method::POST, "/tenants/shop/users:import").json(&json!({})).send().await.expect("send");
    assert_eq!(wrong_type.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
});

on_every_engine!(scoped_tokens_over_http, |server| {
    server.admin(Method::POST, "/tenants").json(&json!({"name": "acme"})).send().await.expect("send");
    let created: Value = server
        .admin(Method::POST, "/tokens")
        .json(&json!({"name": "reader", "tenant": "acme", "access": "read"}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let secret = created["secret"].as_str().expect("secret").to_owned();
    assert!(secret.starts_with("pct_"));
    let listed: Value = server.admin(Method::GET, "/tokens").send().await.expect("send").json().await.expect("json");
    assert!(!listed.to_string().contains(&secret), "secrets are never listed");
    let as_reader = |method: Method, path: &str| {
        server.client.request(method, format!("{}/admin/v1{path}", server.url)).bearer_auth(&secret)
    };
    assert_eq!(as_reader(Method::GET, "/tenants/acme/users").send().await.expect("send").status(), StatusCode::OK);
    assert_eq!(
        as_reader(Method::POST, "/tenants/acme/users")
            .json(&json!({"username": "x"}))
            .send()
            .await
            .expect("send")
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        as_reader(Method::GET, "/tenants/admin/users").send().await.expect("send").status(),
        StatusCode::FORBIDDEN
    );
    let own: Value = as_reader(Method::GET, "/tokens").send().await.expect("send").json().await.expect("json");
    let tenants: Vec<_> = own["items"].as_array().expect("items").iter().map(|t| t["tenant"].clone()).collect();
    assert_eq!(tenants, [json!("acme")], "a scoped token sees only its tenant's tokens");
    let id = created["id"].as_str().expect("id");
    assert_eq!(
        server.admin(Method::DELETE, &format!("/tokens/{id}")).send().await.expect("send").status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        as_reader(Method::GET, "/tenants/acme/users").send().await.expect("send").status(),
        StatusCode::UNAUTHORIZED
    );
});

on_every_engine!(oauth_clients_over_http, |server| {
    server.admin(Method::POST, "/tenants").json(&json!({"name": "acme"})).send().await.expect("send");
    let created = server
        .admin(Method::POST, "/tenants/acme/clients")
        .json(&json!({
            "client_name": "Portal",
            "redirect_uris": ["https://portal.example.com/callback"],
            "post_logout_redirect_uris": ["https://portal.example.com/"],
            "grant_types": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_method": "client_secret_basic",
            "scope": "openid profile email offline_access"
        }))
        .send()
        .await
        .expect("send");
    assert_eq!(created.status(), StatusCode::CREATED);
    let client: Value = created.json().await.expect("json");
    let id = client["client_id"].as_str().expect("client_id").to_owned();
    assert!(client["client_secret"].as_str().is_some_and(|s| s.starts_with("pcs_")));
    assert_eq!(client["client_secret_expires_at"], 0);
    assert_eq!(client["response_types"], json!(["code"]));
    assert!(client["client_id_issued_at"].is_i64());
    let fetched: Value = server
        .admin(Method::GET, &format!("/tenants/acme/clients/{id}"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert!(fetched.get("client_secret").is_none(), "the secret is shown once: {fetched}");
    for (body, field) in [
        (json!({"client_name": "x", "redirect_uris": ["http://evil.example/cb"]}), "redirect_uris/0"),
        (json!({"client_name": "x", "grant_types": ["password"]}), "grant_types/0"),
        (
            json!({"client_name": "x", "grant_types": ["client_credentials"], "token_endpoint_auth_method": "none"}),
            "grant_types",
        ),
    ] {
        let response = server.admin(Method::POST, "/tenants/acme/clients").json(&body).send().await.expect("send");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let problem: Value = response.json().await.expect("json");
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    let rotated: Value = server
        .admin(Method::POST, &format!("/tenants/acme/clients/{id}/secret"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_ne!(rotated["client_secret"], client["client_secret"]);
    let deleted = server.admin(Method::DELETE, &format!("/tenants/acme/clients/{id}")).send().await.expect("send");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
});

on_every_engine!(jwks_is_public_and_keys_rotate_through_the_admin_api, |server| {
    server.admin(Method::POST, "/tenants").json(&json!({"name": "acme"})).send().await.expect("send");
    let response = server.raw(Method::GET, "/t/acme/jwks").send().await.expect("send");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    assert_eq!(response.headers()["cache-control"], "public, max-age=60");
    let jwks: Value = response.json().await.expect("json");
    assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(3));
    let listed: Value =
        server.admin(Method::GET, "/tenants/acme/keys").send().await.expect("send").json().await.expect("json");
    assert!(
        listed.as_array().expect("keys").iter().all(|k| k["status"] == "active" && k.get("sealed_private").is_none())
    );
    let rotated = server.admin(Method::POST, "/tenants/acme/keys:rotate").send().await.expect("send");
    assert_eq!(rotated.status(), StatusCode::OK);
    let after: Value = server.raw(Method::GET, "/t/acme/jwks").send().await.expect("send").json().await.expect("json");
    assert_eq!(after["keys"].as_array().map(Vec::len), Some(6), "retired keys stay published");
    let unknown = server.raw(Method::GET, "/t/nope/jwks").send().await.expect("send");
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let anonymous = server.raw(Method::POST, "/admin/v1/tenants/acme/keys:rotate").send().await.expect("send");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
});
