//! The token endpoint's client credentials grant, driven by the `oauth2` client library, and
//! its error paths (RFC 6749 §5.2) over raw HTTP.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use oauth2::basic::BasicClient;
use oauth2::{AuthUrl, ClientId, ClientSecret, Scope, TokenResponse, TokenUrl};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::on_every_engine;

async fn register(server: &portcullis_testkit::TestServer, metadata: Value) -> (String, Option<String>) {
    let client: Value = server
        .admin(Method::POST, "/tenants/acme/clients")
        .json(&metadata)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    (client["client_id"].as_str().expect("client_id").to_owned(), client["client_secret"].as_str().map(str::to_owned))
}

fn verify(jwks: &JwkSet, token: &str, alg: Algorithm, issuer: &str, audience: &str) -> Value {
    let header = decode_header(token).expect("header");
    assert_eq!(header.typ.as_deref(), Some("at+jwt"), "RFC 9068 §2.1");
    let jwk = jwks.find(&header.kid.expect("kid")).expect("kid is published");
    let mut validation = Validation::new(alg);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    decode::<Value>(token, &DecodingKey::from_jwk(jwk).expect("key"), &validation).expect("valid token").claims
}

on_every_engine!(client_credentials_with_a_real_oauth_client, |server| {
    server.admin(Method::POST, "/tenants").json(&json!({"name": "acme"})).send().await.expect("send");
    let (id, secret) = register(
        &server,
        json!({
            "client_name": "Orders", "grant_types": ["client_credentials"],
            "scope": "orders.read orders.write", "audiences": ["https://api.example.com", "https://billing.example.com"]
        }),
    )
    .await;
    let issuer = format!("{}/t/acme", server.url);
    let client = BasicClient::new(ClientId::new(id.clone()))
        .set_client_secret(ClientSecret::new(secret.expect("secret")))
        .set_auth_uri(AuthUrl::new(format!("{issuer}/authorize")).expect("url"))
        .set_token_uri(TokenUrl::new(format!("{issuer}/token")).expect("url"));
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let response = client
        .exchange_client_credentials()
        .add_scope(Scope::new("orders.read".into()))
        .add_extra_param("resource", "https://api.example.com")
        .request_async(&http)
        .await
        .expect("token");
    assert_eq!(
        response.scopes().map(|s| s.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
        Some(vec!["orders.read".to_owned()])
    );
    assert_eq!(response.expires_in().map(|d| d.as_secs()), Some(3600));

    let jwks: JwkSet = server.raw(Method::GET, "/t/acme/jwks").send().await.expect("send").json().await.expect("jwks");
    let claims = verify(&jwks, response.access_token().secret(), Algorithm::ES256, &issuer, "https://api.example.com");
    assert_eq!(claims["sub"], id.as_str());
    assert_eq!(claims["client_id"], id.as_str());
    assert_eq!(claims["scope"], "orders.read");
    assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 20));
    assert_eq!(claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat"), 3600);

    // RS256 on request of the client's registration, and every registered audience by default.
    let (rsa_id, rsa_secret) = register(&server, json!({
        "client_name": "Legacy", "grant_types": ["client_credentials"], "access_token_signed_response_alg": "RS256",
        "token_endpoint_auth_method": "client_secret_post", "audiences": ["https://legacy.example.com"], "access_token_lifetime": 300
    }))
    .await;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", rsa_id.as_str()),
        ("client_secret", rsa_secret.as_deref().expect("secret")),
    ];
    let answer = server.raw(Method::POST, "/t/acme/token").form(&form).send().await.expect("send");
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.headers()["cache-control"], "no-store");
    let body: Value = answer.json().await.expect("json");
    assert_eq!((body["token_type"].as_str(), body["expires_in"].as_i64()), (Some("Bearer"), Some(300)));
    verify(
        &jwks,
        body["access_token"].as_str().expect("token"),
        Algorithm::RS256,
        &issuer,
        "https://legacy.example.com",
    );
});

on_every_engine!(token_endpoint_errors, |server| {
    server.admin(Method::POST, "/tenants").json(&json!({"name": "acme"})).send().await.expect("send");
    let (id, secret) = register(&server, json!({"client_name": "M2M", "grant_types": ["client_credentials"], "scope": "read", "audiences": ["https://api.example.com"]})).await;
    let secret = secret.expect("secret");
    let (web_id, web_secret) =
        register(&server, json!({"client_name": "Web", "redirect_uris": ["https://web.example.com/cb"]})).await;
    let (spa_id, _) = register(&server, json!({"client_name": "SPA", "redirect_uris": ["https://spa.example.com/cb"], "token_endpoint_auth_method": "none"})).await;
    let token_url = "/t/acme/token";
    let post = |form: Vec<(&str, &str)>| server.raw(Method::POST, token_url).form(&form);
    let basic = |user: &str, pass: &str, form: Vec<(&str, &str)>| {
        server.raw(Method::POST, token_url).basic_auth(user, Some(pass)).form(&form)
    };
    let cc = ("grant_type", "client_credentials");
    let cases: Vec<(&str, reqwest::RequestBuilder, StatusCode, &str)> = vec![
        ("no grant_type", basic(&id, &secret, vec![]), StatusCode::BAD_REQUEST, "invalid_request"),
        ("repeated parameter", basic(&id, &secret, vec![cc, cc]), StatusCode::BAD_REQUEST, "invalid_request"),
        ("wrong secret", basic(&id, "pcs_wrong", vec![cc]), StatusCode::UNAUTHORIZED, "invalid_client"),
        ("unknown client", basic("nobody", &secret, vec![cc]), StatusCode::UNAUTHORIZED, "invalid_client"),
        ("no authentication", post(vec![cc]), StatusCode::UNAUTHORIZED, "invalid_client"),
        (
            "wrong method (post for a basic client)",
            post(vec![cc, ("client_id", &id), ("client_secret", &secret)]),
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            "two methods",
            basic(&id, &secret, vec![cc, ("client_secret", &secret)]),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        ("public client", post(vec![cc, ("client_id", &spa_id)]), StatusCode::BAD_REQUEST, "unauthorized_client"),
        (
            "grant not registered",
            basic(&web_id, web_secret.as_deref().expect("secret"), vec![cc]),
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
        ),
        (
            "scope beyond registration",
            basic(&id, &secret, vec![cc, ("scope", "read admin")]),
            StatusCode::BAD_REQUEST,
            "invalid_scope",
        ),
        (
            "malformed scope",
            basic(&id, &secret, vec![cc, ("scope", "read  write")]),
            StatusCode::BAD_REQUEST,
            "invalid_scope",
        ),
        (
            "resource not allowed",
            basic(&id, &secret, vec![cc, ("resource", "https://other.example.com")]),
            StatusCode::BAD_REQUEST,
            "invalid_target",
        ),
        (
            "relative resource",
            basic(&id, &secret, vec![cc, ("resource", "/api")]),
            StatusCode::BAD_REQUEST,
            "invalid_target",
        ),
        (
            "resource with fragment",
            basic(&id, &secret, vec![cc, ("resource", "https://api.example.com#x")]),
            StatusCode::BAD_REQUEST,
            "invalid_target",
        ),
        (
            "password grant",
            basic(&id, &secret, vec![("grant_type", "password"), ("username", "a"), ("password", "b")]),
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
        ),
        (
            "unknown grant",
            basic(&id, &secret, vec![("grant_type", "urn:example:magic")]),
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
        ),
        (
            "unknown issuer",
            server.raw(Method::POST, "/t/nope/token").basic_auth(&id, Some(&secret)).form(&[cc]),
            StatusCode::NOT_FOUND,
            "invalid_request",
        ),
        (
            "JSON body",
            server
                .raw(Method::POST, token_url)
                .basic_auth(&id, Some(&secret))
                .json(&json!({"grant_type": "client_credentials"})),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "garbage Basic",
            server.raw(Method::POST, token_url).header("authorization", "Basic %%%").form(&[cc]),
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
    ];
    for (name, request, status, error) in cases {
        let response = request.send().await.expect("send");
        assert_eq!(response.status(), status, "{name}");
        assert_eq!(response.headers()["cache-control"], "no-store", "{name}");
        if status == StatusCode::UNAUTHORIZED {
            assert!(response.headers().contains_key("www-authenticate"), "{name}");
        }
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"], error, "{name}: {body}");
        assert!(body["error_description"].is_string(), "{name}");
    }
    // A rotated secret stops working at once; the new one works.
    let rotated: Value = server
        .admin(Method::POST, &format!("/tenants/acme/clients/{id}/secret"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let old = basic(&id, &secret, vec![cc]).send().await.expect("send");
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    let new = basic(&id, rotated["client_secret"].as_str().expect("secret"), vec![cc]).send().await.expect("send");
    assert_eq!(new.status(), StatusCode::OK);
    // A deleted client is refused at once.
    server.admin(Method::DELETE, &format!("/tenants/acme/clients/{id}")).send().await.expect("send");
    let gone = basic(&id, rotated["client_secret"].as_str().expect("secret"), vec![cc]).send().await.expect("send");
    assert_eq!(gone.status(), StatusCode::UNAUTHORIZED);
});

on_every_engine!(introspection_answers_only_those_entitled, |server| {
    server.admin(Method::POST, "/tenants").json(&json!({"name": "acme"})).send().await.expect("send");
    let (app, app_secret) = register(&server, json!({"client_name": "App", "grant_types": ["client_credentials"], "audiences": ["https://api.example.com"], "scope": "read"})).await;
    let (api, api_secret) = register(
        &server,
        json!({"client_name": "API", "grant_types": ["client_credentials"], "audiences": ["https://api.example.com"]}),
    )
    .await;
    let (other, other_secret) = register(&server, json!({"client_name": "Other", "grant_types": ["client_credentials"], "audiences": ["https://other.example.com"]})).await;
    let (app_secret, api_secret, other_secret) =
        (app_secret.expect("s"), api_secret.expect("s"), other_secret.expect("s"));
    let issued: Value = server
        .raw(Method::POST, "/t/acme/token")
        .basic_auth(&app, Some(&app_secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "read")])
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let token = issued["access_token"].as_str().expect("token").to_owned();
    let introspect = |who: &str, secret: &str, token: &str| {
        server.raw(Method::POST, "/t/acme/introspect").basic_auth(who, Some(secret)).form(&[("token", token)]).send()
    };
    for (who, secret) in [(&app, &app_secret), (&api, &api_secret)] {
        let answer = introspect(who, secret, &token).await.expect("send");
        assert_eq!(answer.headers()["cache-control"], "no-store");
        let body: Value = answer.json().await.expect("json");
        assert_eq!(body["active"], true, "{body}");
        assert_eq!(
            (body["client_id"].as_str(), body["scope"].as_str(), body["token_type"].as_str()),
            (Some(app.as_str()), Some("read"), Some("Bearer"))
        );
    }
    let foreign: Value = introspect(&other, &other_secret, &token).await.expect("send").json().await.expect("json");
    assert_eq!(foreign, json!({"active": false}), "a client neither issued nor addressed learns nothing");
    let (head, _) = token.rsplit_once('.').expect("jws");
    for bad in ["", "garbage", "a.b.c", &format!("{head}.AAAA"), &token[..token.len() - 2]] {
        let answer = introspect(&api, &api_secret, bad).await.expect("send");
        if bad.is_empty() {
            assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "an empty token is a missing one");
            continue;
        }
        assert_eq!(answer.json::<Value>().await.expect("json"), json!({"active": false}), "{bad:.30}");
    }
    let anonymous =
        server.raw(Method::POST, "/t/acme/introspect").form(&[("token", token.as_str())]).send().await.expect("send");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    // Tokens signed before a rotation stay active.
    server.admin(Method::POST, "/tenants/acme/keys:rotate").send().await.expect("send");
    let after: Value = introspect(&api, &api_secret, &token).await.expect("send").json().await.expect("json");
    assert_eq!(after["active"], true);
});
