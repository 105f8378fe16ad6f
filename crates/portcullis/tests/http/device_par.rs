//! Pushed authorization requests (RFC 9126) and the device authorization grant (RFC 8628),
//! through the hosted pages, with their error paths.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::browser::{Browser, field, location, query};
use crate::oidc::{PASSWORD, REDIRECT, consent, log_in, setup, web_client};
use crate::on_every_engine;

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

on_every_engine!(pushed_authorization_requests, |server| {
    let (id, secret) = setup(&server, web_client()).await;
    let push = |form: Vec<(&'static str, String)>, auth: bool| {
        let mut request = server.raw(Method::POST, "/t/acme/par").form(&form);
        if auth {
            request = request.basic_auth(&id, Some(&secret));
        }
        async move {
            let response = request.send().await.expect("send");
            (response.status(), response.json::<Value>().await.expect("json"))
        }
    };
    let good = || {
        vec![
            ("response_type", "code".to_owned()),
            ("redirect_uri", REDIRECT.to_owned()),
            ("scope", "openid email".to_owned()),
            ("state", "par-state".to_owned()),
            ("code_challenge", CHALLENGE.to_owned()),
            ("code_challenge_method", "S256".to_owned()),
        ]
    };
    let (status, pushed) = push(good(), true).await;
    assert_eq!(status, StatusCode::CREATED, "{pushed}");
    assert_eq!(pushed["expires_in"], 60);
    let request_uri = pushed["request_uri"].as_str().expect("request_uri").to_owned();
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));

    // The browser carries only the reference (RFC 9126 §4); other parameters are ignored.
    let url = format!(
        "/t/acme/authorize?{}",
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([("client_id", id.as_str()), ("request_uri", &request_uri), ("scope", "openid phone")])
            .finish()
    );
    let mut browser = Browser::new(&server.url);
    let answer = log_in(&mut browser, &url, PASSWORD).await;
    let back = consent(&mut browser, &location(&answer), "allow").await;
    let params = query(&back);
    assert_eq!(params["state"], "par-state");
    let tokens: Value = server
        .raw(Method::POST, "/t/acme/token")
        .basic_auth(&id, Some(&secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &params["code"]),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(tokens["scope"], "openid email", "the pushed scope, not the one in the URL: {tokens}");
    // Used once.
    let again = browser.get(&url).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert!(again.headers().get("location").is_none());

    // Errors are JSON at the endpoint, never redirects.
    let (status, body) = push(good(), false).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_client")));
    let mut evil = good();
    evil[1].1 = "https://evil.example/cb".into();
    let (status, body) = push(evil, true).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")));
    let mut nested = good();
    nested.push(("request_uri", request_uri.clone()));
    let (status, body) = push(nested, true).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")));
    let mut scope = good();
    scope[2].1 = "openid admin".into();
    let (status, body) = push(scope, true).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_scope")));
    // Another client cannot redeem this client's request_uri.
    let (_, pushed) = push(good(), true).await;
    let other: Value = server
        .admin(Method::POST, "/tenants/acme/clients")
        .json(&web_client())
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let stolen = format!(
        "/t/acme/authorize?{}",
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("client_id", other["client_id"].as_str().expect("id")),
                ("request_uri", pushed["request_uri"].as_str().expect("uri"))
            ])
            .finish()
    );
    assert_eq!(browser.get(&stolen).await.status(), StatusCode::BAD_REQUEST);

    // A client that must push (RFC 9126 §6): a request in the URL is refused, a pushed one runs.
    let patched = server
        .admin(Method::PATCH, &format!("/tenants/acme/clients/{id}"))
        .json(&json!({"require_pushed_authorization_requests": true}))
        .send()
        .await
        .expect("send");
    assert_eq!(patched.status(), StatusCode::OK);
    let mut direct = url::form_urlencoded::Serializer::new(String::new());
    direct.append_pair("client_id", &id);
    for (name, value) in good() {
        direct.append_pair(name, &value);
    }
    let refused = location(&browser.get(&format!("/t/acme/authorize?{}", direct.finish())).await);
    let params = query(&refused);
    assert!(refused.starts_with(REDIRECT), "{refused}");
    assert_eq!((params["error"].as_str(), params["state"].as_str()), ("invalid_request", "par-state"), "{refused}");
    let (status, pushed) = push(good(), true).await;
    assert_eq!(status, StatusCode::CREATED);
    let url = format!(
        "/t/acme/authorize?{}",
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([("client_id", id.as_str()), ("request_uri", pushed["request_uri"].as_str().expect("uri"))])
            .finish()
    );
    let next = location(&browser.get(&url).await);
    assert!(next.starts_with(REDIRECT) && query(&next).contains_key("code"), "SSO, then the code: {next}");
});

async fn poll(server: &portcullis_testkit::TestServer, client: &str, device_code: &str) -> (StatusCode, Value) {
    let response = server
        .raw(Method::POST, "/t/acme/token")
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", device_code),
            ("client_id", client),
        ])
        .send()
        .await
        .expect("send");
    (response.status(), response.json().await.expect("json"))
}

on_every_engine!(device_authorization_grant, |server| {
    setup(&server, web_client()).await;
    let tv: Value = server
        .admin(Method::POST, "/tenants/acme/clients")
        .json(&json!({"client_name": "Living-room TV", "token_endpoint_auth_method": "none",
                      "grant_types": ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"]}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let tv = tv["client_id"].as_str().unwrap_or_else(|| panic!("{tv}")).to_owned();
    let start = |scope: &'static str| {
        let request = server
            .raw(Method::POST, "/t/acme/device_authorization")
            .form(&[("client_id", tv.as_str()), ("scope", scope)]);
        async move { request.send().await.expect("send").json::<Value>().await.expect("json") }
    };
    let started = start("openid profile offline_access").await;
    let device_code = started["device_code"].as_str().unwrap_or_else(|| panic!("{started}")).to_owned();
    let user_code = started["user_code"].as_str().expect("user code").to_owned();
    assert_eq!(started["verification_uri"], format!("{}/t/acme/device", server.url));
    assert_eq!(started["interval"], 5);
    assert_eq!(started["expires_in"], 600);
    assert!(user_code.len() == 9 && user_code.as_bytes()[4] == b'-', "{user_code}");

    let (status, body) = poll(&server, &tv, &device_code).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("authorization_pending")));
    let (_, body) = poll(&server, &tv, &device_code).await;
    assert_eq!(body["error"], "slow_down", "polled within the interval");

    // The user, on their phone: the code from the QR link is filled in; typed loosely works.
    let mut phone = Browser::new(&server.url);
    let complete = started["verification_uri_complete"].as_str().expect("complete");
    let html = phone.get(complete).await.text().await.expect("html");
    assert!(html.contains(&format!("value=\"{user_code}\"")), "{html}");
    let csrf = field(&html, "csrf_token");
    let wrong = phone.post("/t/acme/device", &[("csrf_token", &csrf), ("user_code", "BBBB-BBBB")]).await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    assert!(wrong.text().await.expect("html").contains("not valid"));
    let forged = phone.post("/t/acme/device", &[("csrf_token", "forged"), ("user_code", &user_code)]).await;
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST, "a forged form does not start a flow");
    let typed = user_code.to_lowercase().replace('-', " ");
    let to_login = location(&phone.post("/t/acme/device", &[("csrf_token", &csrf), ("user_code", &typed)]).await);
    let html = phone.get(&to_login).await.text().await.expect("html");
    let answer = phone
        .post(
            "/t/acme/login",
            &[
                ("flow", &field(&html, "flow")),
                ("csrf_token", &field(&html, "csrf_token")),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
        )
        .await;
    let to_consent = location(&answer);
    assert!(to_consent.starts_with("/t/acme/consent"), "a device flow always confirms: {to_consent}");
    let html = phone.get(&to_consent).await.text().await.expect("html");
    assert!(html.contains("Living-room TV"));
    let done = phone
        .post(
            "/t/acme/consent",
            &[("flow", &field(&html, "flow")), ("csrf_token", &field(&html, "csrf_token")), ("decision", "allow")],
        )
        .await;
    assert_eq!(done.status(), StatusCode::OK);
    assert!(done.text().await.expect("html").contains("Device connected"));

    let (status, tokens) = poll(&server, &tv, &device_code).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert!(tokens["id_token"].is_string() && tokens["refresh_token"].is_string());
    let info: Value = server
        .raw(Method::GET, "/t/acme/userinfo")
        .bearer_auth(tokens["access_token"].as_str().expect("at"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(info["preferred_username"], "alice");
    let (_, body) = poll(&server, &tv, &device_code).await;
    assert_eq!(body["error"], "invalid_grant", "the device code is spent");
    // The code cannot be entered again.
    let again = phone.post("/t/acme/device", &[("csrf_token", &csrf), ("user_code", &user_code)]).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);

    // A second device, denied; the session is remembered, so straight to the consent page.
    let started = start("openid").await;
    let device_code = started["device_code"].as_str().expect("code").to_owned();
    let to_consent = location(
        &phone
            .post("/t/acme/device", &[("csrf_token", &csrf), ("user_code", started["user_code"].as_str().expect("uc"))])
            .await,
    );
    assert!(to_consent.starts_with("/t/acme/consent"), "{to_consent}");
    let html = phone.get(&to_consent).await.text().await.expect("html");
    let denied = phone
        .post(
            "/t/acme/consent",
            &[("flow", &field(&html, "flow")), ("csrf_token", &field(&html, "csrf_token")), ("decision", "deny")],
        )
        .await;
    assert!(denied.text().await.expect("html").contains("Access denied"));
    let (_, body) = poll(&server, &tv, &device_code).await;
    assert_eq!(body["error"], "access_denied");

    // Refusals at the device endpoint.
    let web: Value =
        server.admin(Method::GET, "/tenants/acme/clients").send().await.expect("send").json().await.expect("json");
    let web_id = web["items"].as_array().expect("items").iter().find(|c| c["client_name"] == "Portal").expect("portal")
        ["client_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let refused: Value = server
        .raw(Method::POST, "/t/acme/device_authorization")
        .form(&[("client_id", tv.as_str()), ("scope", "admin")])
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(refused["error"], "invalid_scope");
    let refused = server
        .raw(Method::POST, "/t/acme/device_authorization")
        .form(&[("client_id", web_id.as_str())])
        .send()
        .await
        .expect("send");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "a confidential client must authenticate");
    let (_, body) = poll(&server, &tv, "made-up").await;
    assert_eq!(body["error"], "invalid_grant");
    let audit: Value = server
        .admin(Method::GET, "/tenants/acme/audit?action=device.approve")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(1));
});

on_every_engine!(guessing_user_codes_makes_the_guesser_wait, |server| {
    setup(&server, web_client()).await;
    let tv: Value = server
        .admin(Method::POST, "/tenants/acme/clients")
        .json(&json!({"client_name": "TV", "token_endpoint_auth_method": "none",
                      "grant_types": ["urn:ietf:params:oauth:grant-type:device_code"]}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let tv = tv["client_id"].as_str().expect("id").to_owned();
    let started: Value = server
        .raw(Method::POST, "/t/acme/device_authorization")
        .form(&[("client_id", tv.as_str())])
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let user_code = started["user_code"].as_str().expect("user code").to_owned();
    let address = |a: &str| Some(a.parse::<std::net::IpAddr>().expect("address"));
    let mut guesser = Browser::from_address(&server.url, address("127.0.5.1"));
    let csrf = field(&guesser.get("/t/acme/device").await.text().await.expect("html"), "csrf_token");
    for last in "BCDFGHJKLM".chars() {
        let code = format!("BBBB-BBB{last}");
        let answer = guesser.post("/t/acme/device", &[("csrf_token", &csrf), ("user_code", &code)]).await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{code}");
    }
    let answer = guesser.post("/t/acme/device", &[("csrf_token", &csrf), ("user_code", &user_code)]).await;
    assert_eq!(answer.status(), StatusCode::TOO_MANY_REQUESTS, "even the right code waits now (RFC 8628 §5.1)");
    assert!(answer.headers().contains_key("retry-after"));
    let mut owner = Browser::from_address(&server.url, address("127.0.5.2"));
    let csrf = field(&owner.get("/t/acme/device").await.text().await.expect("html"), "csrf_token");
    let answer = owner.post("/t/acme/device", &[("csrf_token", &csrf), ("user_code", &user_code)]).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER, "another device's user is not slowed");
});
