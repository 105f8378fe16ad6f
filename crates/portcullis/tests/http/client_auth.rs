//! `private_key_jwt` client authentication (RFC 7523) with its attacks, and the `roles` and
//! `groups` claims.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_crypto::signing::{JwsAlgorithm, Signer, generate, public_jwk};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::browser::Browser;
use crate::oidc::{REDIRECT, setup, web_client};
use crate::oidc_errors::{VERIFIER, code_for, exchange};
use crate::on_every_engine;

fn claims(token: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').nth(1).expect("payload")).expect("b64"))
        .expect("json")
}

on_every_engine!(private_key_jwt_assertions_are_checked_and_single_use, |server| {
    setup(&server, web_client()).await;
    let private = generate(JwsAlgorithm::ES256).expect("key");
    let mut jwk = public_jwk(JwsAlgorithm::ES256, "client-key-1", &private).expect("jwk");
    jwk.as_object_mut().expect("object").remove("alg");
    let signer = Signer::from_pkcs8(JwsAlgorithm::ES256, "client-key-1", &private).expect("signer");
    let other = Signer::from_pkcs8(JwsAlgorithm::ES256, "client-key-1", &generate(JwsAlgorithm::ES256).expect("key"))
        .expect("signer");
    let client: Value = server
        .admin(Method::POST, "/tenants/acme/clients")
        .json(&json!({"client_name": "Signed", "grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt",
                      "jwks": {"keys": [jwk]}}))
        .send().await.expect("send").json().await.expect("json");
    let id = client["client_id"].as_str().unwrap_or_else(|| panic!("{client}")).to_owned();
    assert!(client.get("client_secret").is_none(), "no secret for private_key_jwt");
    let issuer = format!("{}/t/acme", server.url);
    let now = portcullis_core::Clock::now(&portcullis_core::clock::SystemClock).unix_timestamp();
    let assertion = |signer: &Signer, changes: Value| {
        let mut body = json!({"iss": id, "sub": id, "aud": format!("{issuer}/token"), "exp": now + 60, "iat": now,
                              "jti": next_jti()});
        for (k, v) in changes.as_object().expect("object") {
            if v.is_null() {
                body.as_object_mut().expect("object").remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        signer.compact_jws("JWT", body.to_string().as_bytes()).expect("sign")
    };
    let call = |jwt: String| {
        let request = server.raw(Method::POST, "/t/acme/token").form(&[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            ("client_assertion", jwt.as_str()),
        ]);
        async move {
            let response = request.send().await.expect("send");
            (response.status(), response.json::<Value>().await.expect("json"))
        }
    };
    let good = assertion(&signer, json!({}));
    let (status, body) = call(good.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(claims(body["access_token"].as_str().expect("at"))["client_id"], id.as_str());
    let (status, body) = call(good).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client")),
        "replayed jti: {body}"
    );
    let attacks = [
        ("another key", assertion(&other, json!({}))),
        ("audience elsewhere", assertion(&signer, json!({"aud": "https://other.example/token"}))),
        ("expired", assertion(&signer, json!({"exp": now - 5}))),
        ("valid for a day", assertion(&signer, json!({"exp": now + 86_400}))),
        ("no jti", assertion(&signer, json!({"jti": null}))),
        ("iss is not the client", assertion(&signer, json!({"iss": "someone"}))),
        ("not yet valid", assertion(&signer, json!({"nbf": now + 600}))),
        ("not a JWT", "abc.def".to_owned()),
    ];
    for (name, jwt) in attacks {
        let (status, body) = call(jwt).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_client")),
            "{name}: {body}"
        );
    }
    // A tampered payload does not verify.
    let jwt = assertion(&signer, json!({}));
    let parts: Vec<&str> = jwt.split('.').collect();
    let mut payload = claims(&jwt);
    payload["exp"] = json!(now + 3000);
    let tampered = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(payload.to_string()), parts[2]);
    assert_eq!(call(tampered).await.0, StatusCode::UNAUTHORIZED);
    // An assertion and a secret together are two methods.
    let both = server
        .raw(Method::POST, "/t/acme/token")
        .basic_auth(&id, Some("x"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            ("client_assertion", assertion(&signer, json!({})).as_str()),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(both.status(), StatusCode::BAD_REQUEST);
    // The same client cannot fall back to a secret.
    let secret = server
        .raw(Method::POST, "/t/acme/token")
        .basic_auth(&id, Some("guess"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("send");
    assert_eq!(secret.status(), StatusCode::UNAUTHORIZED);
});

/// A fresh `jti` for each assertion.
fn next_jti() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    format!("jti-{}", NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
}

on_every_engine!(roles_and_groups_claims_follow_their_scopes, |server| {
    let (id, secret) = setup(&server, web_client()).await;
    let users: Value = server
        .admin(Method::GET, "/tenants/acme/users?username=alice")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let alice = users["items"][0]["id"].as_str().expect("alice").to_owned();
    let role: Value = server
        .admin(Method::POST, "/tenants/acme/roles")
        .json(&json!({"name": "editor"}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let group: Value = server
        .admin(Method::POST, "/tenants/acme/groups")
        .json(&json!({"name": "staff"}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let assigned = server
        .admin(Method::PUT, &format!("/tenants/acme/users/{alice}/roles/{}", role["id"].as_str().expect("id")))
        .send()
        .await
        .expect("send");
    assert!(assigned.status().is_success());
    let joined = server
        .admin(Method::PUT, &format!("/tenants/acme/groups/{}/members/{alice}", group["id"].as_str().expect("id")))
        .send()
        .await
        .expect("send");
    assert!(joined.status().is_success());

    let mut browser = Browser::new(&server.url);
    let code = code_for(&mut browser, &id, &[("scope", Some("openid roles groups"))]).await;
    let (_, tokens) =
        exchange(&server, &id, &secret, &[("code", &code), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)])
            .await;
    let id_claims = claims(tokens["id_token"].as_str().expect("id token"));
    assert_eq!(id_claims["roles"], json!(["editor"]));
    assert_eq!(id_claims["groups"], json!(["staff"]));
    let code = code_for(&mut browser, &id, &[("scope", Some("openid email"))]).await;
    let (_, tokens) =
        exchange(&server, &id, &secret, &[("code", &code), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)])
            .await;
    let id_claims = claims(tokens["id_token"].as_str().expect("id token"));
    assert!(id_claims.get("roles").is_none() && id_claims.get("groups").is_none(), "{id_claims}");
    // The claims parameter asks for one without its scope (OIDC Core §5.5).
    let code =
        code_for(&mut browser, &id, &[("scope", Some("openid")), ("claims", Some(r#"{"userinfo":{"roles":null}}"#))])
            .await;
    let (_, tokens) =
        exchange(&server, &id, &secret, &[("code", &code), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)])
            .await;
    let info: Value = server
        .raw(Method::GET, "/t/acme/userinfo")
        .bearer_auth(tokens["access_token"].as_str().expect("at"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(info["roles"], json!(["editor"]), "{info}");
});

on_every_engine!(tenant_scopes_release_their_mapped_claims, |server| {
    let (id, secret) = setup(&server, web_client()).await;
    for (name, sensitive) in [("department", false), ("salary_band", true)] {
        let put = server
            .admin(Method::PUT, &format!("/tenants/acme/schema/attributes/{name}"))
            .json(&json!({"name": name, "type": "string", "sensitive": sensitive}))
            .send()
            .await
            .expect("send");
        assert_eq!(put.status(), StatusCode::OK);
    }
    let users: Value = server
        .admin(Method::GET, "/tenants/acme/users?username=alice")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let alice = users["items"][0]["id"].as_str().expect("alice").to_owned();
    let patched = server
        .admin(Method::PATCH, &format!("/tenants/acme/users/{alice}"))
        .json(&json!({"attributes": {"department": "Research", "salary_band": "B3"}}))
        .send()
        .await
        .expect("send");
    assert_eq!(patched.status(), StatusCode::OK);

    // Definitions are checked: a built-in name, an unknown claim.
    let builtin = server
        .admin(Method::PUT, "/tenants/acme/scopes/email")
        .json(&json!({"description": "x", "claims": ["email"]}))
        .send()
        .await
        .expect("send");
    assert_eq!(builtin.status(), StatusCode::BAD_REQUEST);
    let unknown = server
        .admin(Method::PUT, "/tenants/acme/scopes/hr")
        .json(&json!({"description": "HR data", "claims": ["shoe_size"]}))
        .send()
        .await
        .expect("send");
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    let defined = server
        .admin(Method::PUT, "/tenants/acme/scopes/hr")
        .json(&json!({"description": "See your department", "claims": ["department", "family_name"]}))
        .send()
        .await
        .expect("send");
    assert_eq!(defined.status(), StatusCode::OK);

    // A client with no registered scope may ask for it; the consent page shows its description.
    let mut browser = Browser::new(&server.url);
    let url = format!(
        "/t/acme/authorize?{}",
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("response_type", "code"),
                ("client_id", id.as_str()),
                ("redirect_uri", REDIRECT),
                ("scope", "openid hr"),
                ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
                ("code_challenge_method", "S256")
            ])
            .finish()
    );
    let answer = crate::oidc::log_in(&mut browser, &url, crate::oidc::PASSWORD).await;
    let to_consent = crate::browser::location(&answer);
    let html = browser.get(&to_consent).await.text().await.expect("html");
    assert!(html.contains("See your department"), "{html}");
    let back = crate::browser::location(
        &browser
            .post(
                "/t/acme/consent",
                &[
                    ("flow", &crate::browser::field(&html, "flow")),
                    ("csrf_token", &crate::browser::field(&html, "csrf_token")),
                    ("decision", "allow"),
                ],
            )
            .await,
    );
    let code = crate::browser::query(&back)["code"].clone();
    let (_, tokens) =
        exchange(&server, &id, &secret, &[("code", &code), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)])
            .await;
    let id_claims = claims(tokens["id_token"].as_str().expect("id token"));
    assert_eq!(id_claims["department"], "Research", "{id_claims}");
    assert!(id_claims.get("salary_band").is_none());
    // The claims parameter cannot reach an attribute no granted scope maps, sensitive or not.
    let code = code_for(
        &mut browser,
        &id,
        &[("scope", Some("openid")), ("claims", Some(r#"{"id_token":{"salary_band":null,"department":null}}"#))],
    )
    .await;
    let (_, tokens) =
        exchange(&server, &id, &secret, &[("code", &code), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)])
            .await;
    let id_claims = claims(tokens["id_token"].as_str().expect("id token"));
    assert!(id_claims.get("salary_band").is_none() && id_claims.get("department").is_none(), "{id_claims}");
    // Unknown scopes are still refused.
    let refused = browser.get(&url.replace("openid+hr", "openid+finance")).await;
    let target = crate::browser::location(&refused);
    assert_eq!(crate::browser::query(&target)["error"], "invalid_scope");
});

on_every_engine!(private_key_jwt_with_keys_at_a_jwks_uri, |server| {
    setup(&server, web_client()).await;
    let private = generate(JwsAlgorithm::EdDSA).expect("key");
    let jwk = public_jwk(JwsAlgorithm::EdDSA, "published-1", &private).expect("jwk");
    let signer = Signer::from_pkcs8(JwsAlgorithm::EdDSA, "published-1", &private).expect("signer");
    let stranger = Signer::from_pkcs8(JwsAlgorithm::EdDSA, "published-2", &generate(JwsAlgorithm::EdDSA).expect("key"))
        .expect("signer");
    // The client's own server publishes its JWK Set; count what it serves.
    let served = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = served.clone();
    let set = json!({"keys": [jwk]});
    let app = axum::Router::new().route(
        "/jwks",
        axum::routing::get(move || {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let set = set.clone();
            async move { axum::Json(set) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let jwks_uri = format!("http://{}/jwks", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client: Value = server
        .admin(Method::POST, "/tenants/acme/clients")
        .json(&json!({"client_name": "Published keys", "grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": jwks_uri}))
        .send().await.expect("send").json().await.expect("json");
    let id = client["client_id"].as_str().unwrap_or_else(|| panic!("{client}")).to_owned();
    let issuer = format!("{}/t/acme", server.url);
    let now = portcullis_core::Clock::now(&portcullis_core::clock::SystemClock).unix_timestamp();
    let call = |signer: &Signer| {
        let body = json!({"iss": id, "sub": id, "aud": issuer, "exp": now + 60, "jti": next_jti()});
        let jwt = signer.compact_jws("JWT", body.to_string().as_bytes()).expect("sign");
        let request = server.raw(Method::POST, "/t/acme/token").form(&[
            ("grant_type", "client_credentials".to_owned()),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned()),
            ("client_assertion", jwt),
        ]);
        async move { request.send().await.expect("send").status() }
    };
    assert_eq!(call(&signer).await, StatusCode::OK);
    assert_eq!(call(&signer).await, StatusCode::OK);
    assert_eq!(served.load(std::sync::atomic::Ordering::SeqCst), 1, "fetched once, then kept");
    assert_eq!(call(&stranger).await, StatusCode::UNAUTHORIZED, "a key the client does not publish");
    assert_eq!(served.load(std::sync::atomic::Ordering::SeqCst), 1, "an unknown key cannot make us refetch at will");

    // Registered clients may not point the server at plain http.
    let issued: Value = server
        .admin(Method::POST, "/tenants/acme/registration-tokens")
        .json(&json!({"name": "t"}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let registered = server.raw(Method::POST, "/t/acme/register").bearer_auth(issued["initial_access_token"].as_str().expect("iat"))
        .json(&json!({"client_name": "x", "grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": jwks_uri}))
        .send().await.expect("send");
    assert_eq!(registered.status(), StatusCode::BAD_REQUEST);
});
