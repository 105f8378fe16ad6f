//! The hybrid flow (`response_type=code id_token`, OIDC Core §3.3) and the response modes
//! (query, fragment, form_post): the front-channel ID token verified against the JWKS with an
//! independently computed `c_hash`, the code exchanged for tokens of the same user, and the
//! requests the specifications refuse.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::browser::{Browser, field, field_value, fragment, location, query};
use crate::oidc::{PASSWORD, REDIRECT, http, log_in, setup};
use crate::oidc_errors::{VERIFIER, authorize_url, request};
use crate::on_every_engine;

fn hybrid_client() -> Value {
    json!({
        "client_name": "Hybrid", "redirect_uris": [REDIRECT], "first_party": true,
        "grant_types": ["authorization_code"], "response_types": ["id_token code", "code"]
    })
}

/// The standard authorization request of `id` with `changes` (see [`request`]).
fn url_of(id: &str, changes: &[(&str, Option<&str>)]) -> String {
    authorize_url(&request(id, changes))
}

async fn jwks(server: &portcullis_testkit::TestServer) -> JwkSet {
    http().get(format!("{}/t/acme/jwks", server.url)).send().await.expect("send").json().await.expect("jwks")
}

fn verify_id_token(jwks: &JwkSet, token: &str, issuer: &str, audience: &str) -> Value {
    let header = decode_header(token).expect("header");
    assert_eq!(header.alg, Algorithm::RS256, "ID tokens default to RS256 (OIDC Core §3.1.3.7)");
    let jwk = jwks.find(&header.kid.expect("kid")).expect("kid is published");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    decode::<Value>(token, &DecodingKey::from_jwk(jwk).expect("key"), &validation).expect("valid ID token").claims
}

on_every_engine!(hybrid_flow_binds_the_front_channel_id_token_to_the_code, |server| {
    let (id, secret) = setup(&server, hybrid_client()).await;
    let issuer = format!("{}/t/acme", server.url);
    let mut browser = Browser::new(&server.url);
    let url = url_of(&id, &[("response_type", Some("code id_token")), ("nonce", Some("n-0S6_WzA2Mj"))]);
    let back = location(&log_in(&mut browser, &url, PASSWORD).await);
    assert!(back.starts_with(&format!("{REDIRECT}#")), "the fragment is the default mode: {back}");
    let params = fragment(&back);
    assert_eq!(params["state"], "s-123");
    assert_eq!(params["iss"], issuer, "RFC 9207");
    let code = &params["code"];
    let claims = verify_id_token(&jwks(&server).await, &params["id_token"], &issuer, &id);
    // OIDC Core §3.3.2.11: left half of SHA-256 of the code's ASCII, base64url.
    let digest = Sha256::digest(code.as_bytes());
    assert_eq!(claims["c_hash"], URL_SAFE_NO_PAD.encode(&digest[..16]));
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(claims["azp"], id.as_str());
    assert!(claims["sid"].is_string() && claims["auth_time"].is_i64() && claims["amr"].is_array(), "{claims}");
    assert!(claims.get("at_hash").is_none(), "no access token came with it");
    assert!(claims.get("email").is_none(), "scope claims come from the token endpoint (OIDC Core §5.4)");

    // The code is an ordinary code: exchanged with its PKCE verifier for tokens of the same user.
    let tokens: Value = http()
        .post(format!("{issuer}/token"))
        .basic_auth(&id, Some(&secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let second = verify_id_token(&jwks(&server).await, tokens["id_token"].as_str().expect("id_token"), &issuer, &id);
    assert_eq!(second["sub"], claims["sub"]);
    assert_eq!(second["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(second["email"], "alice@example.com");
    assert!(second.get("c_hash").is_none());

    // The same through SSO, in the form post mode: a self-submitting form to the redirect URI.
    let url = url_of(
        &id,
        &[("response_type", Some("code id_token")), ("nonce", Some("n-2")), ("response_mode", Some("form_post"))],
    );
    let page = browser.get(&url).await;
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"].to_str().expect("csp").to_owned();
    assert!(csp.contains("script-src 'self'") && csp.starts_with("default-src 'none'"), "{csp}");
    assert!(!csp.contains("unsafe"), "{csp}");
    let html = page.text().await.expect("html");
    assert!(html.contains(r#"<form method="post" action="https:&#x2f;&#x2f;app.example.com&#x2f;cb">"#), "{html}");
    assert!(!html.contains("<script>"), "no inline script (DESIGN §6): {html}");
    let script = browser.get("/assets/form-post.js").await;
    assert_eq!(script.headers()["content-type"], "text/javascript; charset=utf-8");
    assert!(script.text().await.expect("js").contains("document.forms[0].submit()"));
    let claims = verify_id_token(&jwks(&server).await, &field(&html, "id_token"), &issuer, &id);
    let digest = Sha256::digest(field(&html, "code").as_bytes());
    assert_eq!(claims["c_hash"], URL_SAFE_NO_PAD.encode(&digest[..16]));
    assert_eq!(claims["nonce"], "n-2");
    assert_eq!(field(&html, "state"), "s-123");
});

on_every_engine!(plain_code_in_every_response_mode, |server| {
    let (id, _) = setup(&server, hybrid_client()).await;
    let mut browser = Browser::new(&server.url);
    let back = location(&log_in(&mut browser, &url_of(&id, &[("response_type", Some("code"))]), PASSWORD).await);
    assert!(query(&back).contains_key("code"), "query is the default of code: {back}");
    let back = location(
        &browser.get(&url_of(&id, &[("response_type", Some("code")), ("response_mode", Some("fragment"))])).await,
    );
    assert!(fragment(&back).contains_key("code") && !back.contains('?'), "{back}");
    let page =
        browser.get(&url_of(&id, &[("response_type", Some("code")), ("response_mode", Some("form_post"))])).await;
    let html = page.text().await.expect("html");
    assert!(!field(&html, "code").is_empty() && field_value(&html, "iss").ends_with("/t/acme"), "{html}");
    assert!(!html.contains(r#"name="id_token""#));
    // Errors travel in the mode asked for too: prompt=none without a session, form posted.
    let mut stranger = Browser::new(&server.url);
    let page = stranger
        .get(&url_of(
            &id,
            &[("response_type", Some("code")), ("response_mode", Some("form_post")), ("prompt", Some("none"))],
        ))
        .await;
    let html = page.text().await.expect("html");
    assert_eq!(field(&html, "error"), "login_required");
    assert_eq!(field(&html, "state"), "s-123");
});

on_every_engine!(hybrid_requests_the_specifications_refuse, |server| {
    let (id, _) = setup(&server, hybrid_client()).await;
    let mut browser = Browser::new(&server.url);
    let cases = [
        // OIDC Core §3.3.2.11: the nonce is required.
        (vec![("response_type", Some("code id_token"))], "invalid_request", true),
        // Multiple Response Type Encoding Practices §2.1: no tokens in a query.
        (
            vec![("response_type", Some("code id_token")), ("nonce", Some("n")), ("response_mode", Some("query"))],
            "invalid_request",
            false,
        ),
        // RFC 9700 §2.1.2: no access tokens in the front channel.
        (vec![("response_type", Some("code token")), ("nonce", Some("n"))], "unsupported_response_type", false),
        (vec![("response_type", Some("id_token")), ("nonce", Some("n"))], "unsupported_response_type", false),
        (vec![("response_mode", Some("jwt"))], "invalid_request", false),
    ];
    for (changes, error, in_fragment) in cases {
        let back = location(&browser.get(&url_of(&id, &changes)).await);
        let params = if in_fragment { fragment(&back) } else { query(&back) };
        assert_eq!(params.get("error").map(String::as_str), Some(error), "{changes:?}: {back}");
        assert_eq!(params["state"], "s-123", "{changes:?}");
    }
    // Without openid there is no ID token to send.
    let changes = [("response_type", Some("code id_token")), ("nonce", Some("n")), ("scope", Some("email"))];
    let back = location(&browser.get(&url_of(&id, &changes)).await);
    assert_eq!(fragment(&back)["error"], "invalid_request", "{back}");

    // A client registered for code only may not use the hybrid flow.
    let plain: Value = server
        .admin(Method::POST, "/tenants/acme/clients")
        .json(&json!({"client_name": "Plain", "redirect_uris": [REDIRECT]}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let url = url_of(
        plain["client_id"].as_str().expect("id"),
        &[("response_type", Some("code id_token")), ("nonce", Some("n"))],
    );
    let back = location(&browser.get(&url).await);
    assert_eq!(fragment(&back)["error"], "unauthorized_client", "{back}");

    // Registration: response types are sets of words, and only the offered ones.
    let registered: Value = server
        .admin(Method::GET, &format!("/tenants/acme/clients/{id}"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(registered["response_types"], json!(["code", "code id_token"]));
    for refused in [json!(["code", "id_token"]), json!(["code token"]), json!(["code id_token token"])] {
        let answer = server
            .admin(Method::POST, "/tenants/acme/clients")
            .json(&json!({"client_name": "X", "redirect_uris": [REDIRECT], "response_types": refused}))
            .send()
            .await
            .expect("send");
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{refused}");
    }
    let discovery: Value = http()
        .get(format!("{}/t/acme/.well-known/openid-configuration", server.url))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(discovery["response_types_supported"], json!(["code", "code id_token"]));
    assert_eq!(discovery["response_modes_supported"], json!(["query", "fragment", "form_post"]));
});
