//! RP-initiated logout and back-channel logout: a relying party on a random port receives the
//! logout token and checks it against the JWKS, as the Back-Channel Logout spec (§2.6) says.

use std::time::Duration;

use axum::routing::post;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::browser::{Browser, field, location};
use crate::oidc::{PASSWORD, REDIRECT, log_in, setup, web_client};
use crate::oidc_errors::{VERIFIER, authorize_url, code_for, exchange, request};
use crate::on_every_engine;

/// A relying party's back-channel logout endpoint: every logout token it receives. It answers
/// 503 to the first `failing` of them, then 200.
async fn relying_party_failing(failing: usize) -> (String, mpsc::UnboundedReceiver<String>) {
    let (sender, receiver) = mpsc::unbounded_channel();
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let app = axum::Router::new().route(
        "/bcl",
        post(move |axum::Form(form): axum::Form<std::collections::HashMap<String, String>>| {
            let sender = sender.clone();
            let seen = seen.clone();
            async move {
                let _ = sender.send(form.get("logout_token").cloned().unwrap_or_default());
                let count = seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if count < failing { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/bcl", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, receiver)
}

pub async fn relying_party() -> (String, mpsc::UnboundedReceiver<String>) {
    relying_party_failing(0).await
}

/// Logs alice in through the pages in `browser` and redeems the code: the token response.
async fn signed_in(server: &portcullis_testkit::TestServer, browser: &mut Browser, id: &str, secret: &str) -> Value {
    let code = code_for(browser, id, &[]).await;
    let (status, tokens) =
        exchange(server, id, secret, &[("code", &code), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)]).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    tokens
}

on_every_engine!(logout_ends_the_session_and_tells_every_client, |server| {
    let (bcl, mut received) = relying_party().await;
    let mut metadata = web_client();
    metadata["backchannel_logout_uri"] = json!(bcl);
    metadata["backchannel_logout_session_required"] = json!(true);
    let (id, secret) = setup(&server, metadata).await;
    let mut browser = Browser::new(&server.url);
    let url = authorize_url(&request(&id, &[]));
    let tokens = signed_in(&server, &mut browser, &id, &secret).await;
    let id_token = tokens["id_token"].as_str().expect("id token").to_owned();
    let jwks: JwkSet = server.raw(Method::GET, "/t/acme/jwks").send().await.expect("send").json().await.expect("jwks");
    let header = decode_header(&id_token).expect("header");
    let key = DecodingKey::from_jwk(jwks.find(&header.kid.expect("kid")).expect("published")).expect("key");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[&id]);
    let id_claims = decode::<Value>(&id_token, &key, &validation).expect("id token").claims;

    // An unregistered post-logout redirect is an error page, and the session survives it.
    let refused = browser
        .get(&format!("/t/acme/logout?id_token_hint={id_token}&post_logout_redirect_uri=https://evil.example/"))
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.headers().get("location").is_none());
    // Without a hint the user must confirm (logout CSRF): a page, no logout yet.
    let confirm = browser.get("/t/acme/logout").await;
    assert_eq!(confirm.status(), StatusCode::OK);
    let html = confirm.text().await.expect("html");
    assert!(html.contains("Sign out?"), "{html}");
    assert!(field(&html, "csrf_token").len() > 20);
    let forged = browser.post("/t/acme/logout", &[("confirm", "yes"), ("csrf_token", "forged")]).await;
    assert!(forged.text().await.expect("html").contains("Sign out?"), "a forged confirmation only asks again");
    let sso = location(&browser.get(&url).await);
    assert!(sso.starts_with(REDIRECT), "still logged in: {sso}");

    // With the hint of this session: logged out at once, redirected with state.
    let bye = browser
        .get(&format!(
            "/t/acme/logout?id_token_hint={id_token}&post_logout_redirect_uri=https://app.example.com/bye&state=st"
        ))
        .await;
    assert_eq!(location(&bye), "https://app.example.com/bye?state=st");
    let token =
        tokio::time::timeout(Duration::from_secs(10), received.recv()).await.expect("notified in time").expect("token");
    let header = decode_header(&token).expect("header");
    assert_eq!(header.typ.as_deref(), Some("logout+jwt"));
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[&id]);
    validation.set_issuer(&[format!("{}/t/acme", server.url)]);
    let claims = decode::<Value>(&token, &key, &validation).expect("logout token verifies").claims;
    assert_eq!(claims["sid"], id_claims["sid"]);
    assert_eq!(claims["sub"], id_claims["sub"]);
    assert!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    assert!(claims.get("nonce").is_none(), "§2.4: a logout token has no nonce");

    // The session is over: a new authorization shows the login page again, and the grant
    // made in the session (no offline_access) is revoked.
    let again = location(&browser.get(&url).await);
    assert!(again.starts_with("/t/acme/login"), "{again}");
    let access = tokens["access_token"].as_str().expect("access");
    let info = server.raw(Method::GET, "/t/acme/userinfo").bearer_auth(access).send().await.expect("send");
    assert_eq!(info.status(), StatusCode::UNAUTHORIZED);
    let audit: Value = server
        .admin(Method::GET, "/tenants/acme/audit?action=logout")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(1), "{audit}");
});

on_every_engine!(an_administrator_signs_a_user_out_everywhere, |server| {
    let (bcl, mut received) = relying_party().await;
    let mut metadata = web_client();
    metadata["backchannel_logout_uri"] = json!(bcl);
    let (id, secret) = setup(&server, metadata).await;
    let url = authorize_url(&request(&id, &[]));
    let mut laptop = Browser::new(&server.url);
    let tokens = signed_in(&server, &mut laptop, &id, &secret).await;
    let mut phone = Browser::new(&server.url);
    let answer = log_in(&mut phone, &url, PASSWORD).await;
    assert!(location(&answer).starts_with(REDIRECT), "consent remembered on the second device");

    let users: Value = server
        .admin(Method::GET, "/tenants/acme/users?username=alice")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let alice = users["items"][0]["id"].as_str().expect("alice").to_owned();
    let sessions: Value = server
        .admin(Method::GET, &format!("/tenants/acme/users/{alice}/sessions"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(sessions.as_array().map(Vec::len), Some(2), "{sessions}");
    assert_eq!(sessions[0]["amr"], json!(["pwd"]));
    assert!(!sessions.to_string().contains("digest"));
    // One session first, by id.
    let one = sessions[0]["id"].as_str().expect("sid");
    let ended = server
        .admin(Method::DELETE, &format!("/tenants/acme/users/{alice}/sessions/{one}"))
        .send()
        .await
        .expect("send");
    assert_eq!(ended.status(), StatusCode::NO_CONTENT);
    let again = server
        .admin(Method::DELETE, &format!("/tenants/acme/users/{alice}/sessions/{one}"))
        .send()
        .await
        .expect("send");
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    // Then everything.
    let all =
        server.admin(Method::DELETE, &format!("/tenants/acme/users/{alice}/sessions")).send().await.expect("send");
    assert_eq!(all.status(), StatusCode::NO_CONTENT);
    let remaining: Value = server
        .admin(Method::GET, &format!("/tenants/acme/users/{alice}/sessions"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(remaining, json!([]));
    for browser in [&mut laptop, &mut phone] {
        assert!(location(&browser.get(&url).await).starts_with("/t/acme/login"), "signed out");
    }
    let info = server
        .raw(Method::GET, "/t/acme/userinfo")
        .bearer_auth(tokens["access_token"].as_str().expect("at"))
        .send()
        .await
        .expect("send");
    assert_eq!(info.status(), StatusCode::UNAUTHORIZED, "the grant made in the session is revoked");
    let token = tokio::time::timeout(Duration::from_secs(10), received.recv()).await.expect("notified").expect("token");
    assert_eq!(decode_header(&token).expect("header").typ.as_deref(), Some("logout+jwt"));
    let audit: Value = server
        .admin(Method::GET, "/tenants/acme/audit?action=session.revoke")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(2), "{audit}");
});

on_every_engine!(a_failing_relying_party_gets_the_logout_token_again, |server| {
    let (bcl, mut received) = relying_party_failing(1).await;
    let mut metadata = web_client();
    metadata["backchannel_logout_uri"] = json!(bcl);
    let (id, secret) = setup(&server, metadata).await;
    let mut browser = Browser::new(&server.url);
    signed_in(&server, &mut browser, &id, &secret).await;
    let page = browser.get("/t/acme/logout").await.text().await.expect("html");
    let csrf = field(&page, "csrf_token");
    browser.post("/t/acme/logout", &[("csrf_token", &csrf), ("confirm", "yes")]).await;
    let first = tokio::time::timeout(Duration::from_secs(10), received.recv()).await.expect("sent").expect("token");
    // Answered 503: the same token comes again about a second later, and then no more.
    let second =
        tokio::time::timeout(Duration::from_secs(10), received.recv()).await.expect("sent again").expect("token");
    assert_eq!(first, second);
    assert!(
        tokio::time::timeout(Duration::from_secs(5), received.recv()).await.is_err(),
        "delivered: no third attempt"
    );
});
