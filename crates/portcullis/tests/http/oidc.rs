//! The authorization code flow end to end, driven by the `openidconnect` relying-party
//! library through the hosted login and consent pages: discovery, PKCE, ID token and
//! `at_hash` checks, userinfo, refresh rotation and reuse detection, revocation, logout.

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, RedirectUrl, RefreshToken, Scope, TokenResponse,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::browser::{Browser, field, location, query};
use crate::on_every_engine;

pub const REDIRECT: &str = "https://app.example.com/cb";
pub const PASSWORD: &str = "correct horse battery staple";

/// The id of acme's user `username`, as the admin API lists it.
pub async fn user_id(server: &portcullis_testkit::TestServer, username: &str) -> String {
    let path = format!("/tenants/acme/users?username={username}");
    let (_, users) = server.admin_json(reqwest::Method::GET, &path, None).await.expect("users");
    users["items"][0]["id"].as_str().unwrap_or_else(|| panic!("no {username}: {users}")).to_owned()
}

/// A workforce tenant `acme` with the user alice and a confidential web client; returns its
/// id and secret. A second factor is asked only from those who enrolled one (`optional`, not
/// the workforce default `required`): these tests are about the protocols, `mfa.rs` about MFA.
pub async fn setup(server: &portcullis_testkit::TestServer, client: Value) -> (String, String) {
    server.admin(Method::POST, "/tenants").json(&json!({"name": "acme"})).send().await.expect("send");
    let optional = server.admin(Method::PUT, "/tenants/acme/auth-policy").json(&json!({"mfa": "optional"}));
    assert_eq!(optional.send().await.expect("send").status(), StatusCode::OK);
    let user = json!({
        "username": "alice", "email": "alice@example.com", "email_verified": true,
        "name": "Alice Liddell", "given_name": "Alice", "password": PASSWORD
    });
    let created = server.admin(Method::POST, "/tenants/acme/users").json(&user).send().await.expect("send");
    assert_eq!(created.status(), StatusCode::CREATED);
    let answer: Value = server
        .admin(Method::POST, "/tenants/acme/clients")
        .json(&client)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let id = answer["client_id"].as_str().unwrap_or_else(|| panic!("{answer}")).to_owned();
    (id, answer["client_secret"].as_str().unwrap_or_default().to_owned())
}

pub fn web_client() -> Value {
    json!({
        "client_name": "Portal", "redirect_uris": [REDIRECT], "grant_types": ["authorization_code", "refresh_token"],
        "post_logout_redirect_uris": ["https://app.example.com/bye"]
    })
}

/// Logs in on the hosted page the authorization URL leads to; returns the answer to the form.
pub async fn log_in(browser: &mut Browser, authorize_url: &str, password: &str) -> reqwest::Response {
    let to_login = location(&browser.get(authorize_url).await);
    assert!(to_login.starts_with("/t/acme/login?flow="), "{to_login}");
    let page = browser.get(&to_login).await;
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"].to_str().expect("csp").to_owned();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe"));
    let html = page.text().await.expect("html");
    // Password managers: OWASP and the issue name these exact values.
    assert!(html.contains(r#"autocomplete="username""#) && html.contains(r#"autocomplete="current-password""#));
    assert!(!html.contains("<script"), "no script at all");
    let (flow, csrf) = (field(&html, "flow"), field(&html, "csrf_token"));
    browser
        .post("/t/acme/login", &[("flow", &flow), ("csrf_token", &csrf), ("username", "alice"), ("password", password)])
        .await
}

/// Accepts the consent page at `to_consent`; returns the redirect to the client.
pub async fn consent(browser: &mut Browser, to_consent: &str, decision: &str) -> String {
    assert!(to_consent.starts_with("/t/acme/consent?flow="), "{to_consent}");
    let html = browser.get(to_consent).await.text().await.expect("html");
    assert!(html.contains("Allow access") && html.contains("Signed in as"), "{html}");
    let (flow, csrf) = (field(&html, "flow"), field(&html, "csrf_token"));
    location(&browser.post("/t/acme/consent", &[("flow", &flow), ("csrf_token", &csrf), ("decision", decision)]).await)
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

on_every_engine!(code_flow_with_pkce_through_the_pages, |server| {
    let (id, secret) = setup(&server, web_client()).await;
    let http = http();
    let issuer = IssuerUrl::new(format!("{}/t/acme", server.url)).expect("issuer");
    let metadata = CoreProviderMetadata::discover_async(issuer, &http).await.expect("discovery");
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(id.clone()),
        Some(ClientSecret::new(secret.clone())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).expect("url"));
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();

    let mut browser = Browser::new(&server.url);
    let answer = log_in(&mut browser, url.as_str(), PASSWORD).await;
    let back = consent(&mut browser, &location(&answer), "allow").await;
    assert!(back.starts_with(REDIRECT), "{back}");
    let params = query(&back);
    assert_eq!(params["state"], *state.secret());
    assert_eq!(params["iss"], format!("{}/t/acme", server.url), "RFC 9207");

    let tokens = client
        .exchange_code(AuthorizationCode::new(params["code"].clone()))
        .expect("token endpoint")
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange");
    let id_token = tokens.id_token().expect("id token");
    let verifier = client.id_token_verifier();
    let claims = id_token.claims(&verifier, &nonce).expect("ID token verifies");
    assert_eq!(claims.email().map(|e| e.as_str()), Some("alice@example.com"));
    assert!(claims.auth_time().is_some() && claims.auth_method_refs().is_some());
    let expected = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().expect("alg"),
        id_token.signing_key(&verifier).expect("key"),
    )
    .expect("hash");
    assert_eq!(claims.access_token_hash(), Some(&expected), "at_hash");
    assert_eq!(
        *id_token.signing_alg().expect("alg"),
        openidconnect::core::CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        "ID tokens default to RS256"
    );
    let sub = claims.subject().clone();

    let info: CoreUserInfoClaims = client
        .user_info(tokens.access_token().to_owned(), Some(sub.clone()))
        .expect("userinfo endpoint")
        .request_async(&http)
        .await
        .expect("userinfo");
    assert_eq!(info.email().map(|e| e.as_str()), Some("alice@example.com"));
    assert_eq!(info.preferred_username().map(|u| u.as_str()), Some("alice"));

    // Refresh rotates; the spent token, presented again, revokes the whole family.
    let first = tokens.refresh_token().expect("refresh token").clone();
    let refreshed =
        client.exchange_refresh_token(&first).expect("endpoint").request_async(&http).await.expect("refresh");
    let second = refreshed.refresh_token().expect("rotated").clone();
    assert_ne!(first.secret(), second.secret());
    let replay = client.exchange_refresh_token(&first).expect("endpoint").request_async(&http).await;
    assert!(format!("{replay:?}").contains("invalid_grant"), "{replay:?}");
    let after = client.exchange_refresh_token(&second).expect("endpoint").request_async(&http).await;
    assert!(format!("{after:?}").contains("invalid_grant"), "the family is revoked: {after:?}");
    let gone: Result<CoreUserInfoClaims, _> =
        client.user_info(refreshed.access_token().to_owned(), None).expect("endpoint").request_async(&http).await;
    assert!(gone.is_err(), "access tokens of a revoked grant stop working: {gone:?}");

    // The session remembers alice and her consent: a second authorization needs no page.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _, nonce) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();
    let back = location(&browser.get(url.as_str()).await);
    assert!(back.starts_with(REDIRECT), "SSO: {back}");
    let tokens = client
        .exchange_code(AuthorizationCode::new(query(&back)["code"].clone()))
        .expect("endpoint")
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange");
    let claims = tokens.id_token().expect("id token").claims(&client.id_token_verifier(), &nonce).expect("verifies");
    assert_eq!(claims.subject(), &sub);

    // Revocation (RFC 7009) of the refresh token ends the grant.
    let refresh = tokens.refresh_token().expect("refresh").clone();
    let revoked = server
        .raw(Method::POST, "/t/acme/revoke")
        .basic_auth(&id, Some(&secret))
        .form(&[("token", refresh.secret().as_str())])
        .send()
        .await
        .expect("send");
    assert_eq!(revoked.status(), StatusCode::OK);
    let after = client
        .exchange_refresh_token(&RefreshToken::new(refresh.secret().clone()))
        .expect("endpoint")
        .request_async(&http)
        .await;
    assert!(format!("{after:?}").contains("invalid_grant"), "{after:?}");
});

on_every_engine!(discovery_documents_list_exactly_what_is_offered, |server| {
    setup(&server, web_client()).await;
    let issuer = format!("{}/t/acme", server.url);
    for (path, openid) in [
        ("/t/acme/.well-known/openid-configuration", true),
        ("/.well-known/openid-configuration/t/acme", true),
        ("/.well-known/oauth-authorization-server/t/acme", false),
        ("/t/acme/.well-known/oauth-authorization-server", false),
    ] {
        let response = server.raw(Method::GET, path).send().await.expect("send");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()["access-control-allow-origin"], "*", "{path}: CORS for browser clients");
        let doc: Value = response.json().await.expect("json");
        assert_eq!(doc["issuer"], issuer.as_str(), "{path}");
        assert_eq!(doc["response_types_supported"], json!(["code", "code id_token"]));
        assert_eq!(doc["ui_locales_supported"], json!(["en", "de"]));
        assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
        let grants = doc["grant_types_supported"].as_array().expect("grants");
        assert!(!grants.contains(&json!("password")) && !grants.contains(&json!("implicit")));
        assert_eq!(doc.get("userinfo_endpoint").is_some(), openid, "{path}");
        // Every endpoint it names answers (not 404), and each is under the issuer.
        for key in [
            "authorization_endpoint",
            "token_endpoint",
            "jwks_uri",
            "revocation_endpoint",
            "introspection_endpoint",
            "end_session_endpoint",
        ] {
            let url = doc[key].as_str().expect(key);
            assert!(url.starts_with(&issuer), "{key}");
            let answer = server.client.get(url).send().await.expect("send");
            assert_ne!(answer.status(), StatusCode::NOT_FOUND, "{key} {url}");
        }
    }
    let preflight = server.raw(Method::OPTIONS, "/t/acme/token").send().await.expect("send");
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    assert!(preflight.headers()["access-control-allow-methods"].to_str().expect("ascii").contains("POST"));
    assert!(
        server
            .raw(Method::OPTIONS, "/t/acme/introspect")
            .send()
            .await
            .expect("send")
            .headers()
            .get("access-control-allow-origin")
            .is_none(),
        "introspection is for servers only"
    );
    let missing = server.raw(Method::GET, "/t/nowhere/.well-known/openid-configuration").send().await.expect("send");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
});
