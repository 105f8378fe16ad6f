//! Codes and magic links by e-mail, through a real SMTP server in the test process: signing in
//! without a password on the hosted pages (the link completes only in the browser that asked
//! for it), no hint whether an account exists, a password reset through the flow API in German,
//! and the per-account limit on messages.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::browser::{Browser, field, location, query};
use crate::client_roles::payload;
use crate::oidc::{PASSWORD, REDIRECT, consent, setup, web_client};
use crate::oidc_errors::{VERIFIER, authorize_url, exchange, request};
use crate::on_every_engine;

/// The six-digit code and the link in a message's text.
fn code_and_link(text: &str) -> (String, String) {
    let code = text
        .split(|c: char| !c.is_ascii_digit())
        .find(|word| word.len() == 6)
        .unwrap_or_else(|| panic!("no code in {text}"))
        .to_owned();
    let link = text
        .split_whitespace()
        .find(|word| word.starts_with("http"))
        .unwrap_or_else(|| panic!("no link in {text}"))
        .to_owned();
    (code, link)
}

/// Posts the login page's form with `method` for `username`; returns the answer.
async fn ask(browser: &mut Browser, to_login: &str, method: &str, username: &str) -> reqwest::Response {
    let html = browser.get(to_login).await.text().await.expect("html");
    let (flow, csrf) = (field(&html, "flow"), field(&html, "csrf_token"));
    browser
        .post("/t/acme/login", &[("flow", &flow), ("csrf_token", &csrf), ("method", method), ("username", username)])
        .await
}

on_every_engine!(a_magic_link_signs_in_only_the_browser_that_asked, |server| {
    let (id, secret) = setup(&server, web_client()).await;
    let mut browser = Browser::new(&server.url);
    let to_login = location(&browser.get(&authorize_url(&request(&id, &[]))).await);
    let html = browser.get(&to_login).await.text().await.expect("html");
    assert!(html.contains(r#"value="email_code""#) && html.contains(r#"value="recovery""#), "{html}");

    // Someone who does not exist gets the same answer, and no mail goes anywhere.
    let mut stranger = Browser::new(&server.url);
    let stranger_login = location(&stranger.get(&authorize_url(&request(&id, &[]))).await);
    let nobody = ask(&mut stranger, &stranger_login, "email_code", "nobody@example.com").await;
    assert_eq!(nobody.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&nobody), stranger_login);
    let page = stranger.get(&stranger_login).await.text().await.expect("html");
    assert!(page.contains("Check your e-mail") && page.contains(r#"autocomplete="one-time-code""#));

    let answer = ask(&mut browser, &to_login, "email_code", "alice").await;
    assert_eq!((answer.status(), location(&answer)), (StatusCode::SEE_OTHER, to_login.clone()));
    let mail = server.mail.wait_for("alice@example.com", 1).await.expect("mail");
    assert!(mail.subject.starts_with("Your sign-in code for"), "{mail:?}");
    assert_eq!(mail.language.as_deref(), Some("en"));
    let (code, link) = code_and_link(&mail.text);
    assert!(link.starts_with(&format!("{}/t/acme/login/link?flow=", server.url)), "{link}");
    assert_eq!(server.mail.all().len(), 1, "nothing went to the stranger's address: {:?}", server.mail.all());

    // The link in another browser proves nothing.
    let path = link.trim_start_matches(&server.url).to_owned();
    let mut other = Browser::new(&server.url);
    let elsewhere = other.get(&path).await;
    assert_eq!(elsewhere.status(), StatusCode::BAD_REQUEST);
    assert!(elsewhere.text().await.expect("html").contains("link_other_browser"));

    // A wrong code is refused; the link in the browser that asked signs in.
    let html = browser.get(&to_login).await.text().await.expect("html");
    let (flow, csrf) = (field(&html, "flow"), field(&html, "csrf_token"));
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = browser
        .post("/t/acme/login", &[("flow", &flow), ("csrf_token", &csrf), ("method", "code"), ("code", wrong)])
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let to_consent = location(&browser.get(&path).await);
    let back = consent(&mut browser, &to_consent, "allow").await;
    assert!(back.starts_with(REDIRECT), "{back}");
    let params = query(&back);
    let form = [("code", params["code"].as_str()), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)];
    let (status, tokens) = exchange(&server, &id, &secret, &form).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let claims = payload(tokens["id_token"].as_str().expect("id token"));
    assert_eq!((claims["acr"].as_str(), claims["amr"].clone()), (Some("1"), json!(["email"])));
    let again = browser.get(&path).await;
    assert_ne!(again.status(), StatusCode::SEE_OTHER, "the link is spent with its flow");
    let _ = code;
});

async fn api_step(
    server: &portcullis_testkit::TestServer,
    flow: &str,
    token: &str,
    body: Value,
) -> (StatusCode, Value) {
    let answer = server
        .raw(Method::POST, &format!("/t/acme/flows/{flow}"))
        .header("Portcullis-Flow-Token", token)
        .json(&body)
        .send()
        .await
        .expect("send");
    (answer.status(), answer.json().await.expect("json"))
}

async fn api_flow(server: &portcullis_testkit::TestServer, id: &str, locales: &str) -> (String, String) {
    let request = json!({
        "response_type": "code", "client_id": id, "redirect_uri": REDIRECT, "scope": "openid", "ui_locales": locales,
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256"
    });
    let flow: Value = server
        .raw(Method::POST, "/t/acme/flows/login")
        .json(&request)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert!(flow["methods"].as_array().expect("methods").contains(&json!("recovery")), "{flow}");
    (flow["id"].as_str().expect("id").to_owned(), flow["flow_token"].as_str().expect("token").to_owned())
}

on_every_engine!(a_forgotten_password_is_reset_by_e_mail_and_mail_is_limited, |server| {
    let (id, _) = setup(&server, web_client()).await;
    // The tenant's own German text for resets; the built-in one until then.
    let path = "/tenants/acme/email-templates/password_reset/de";
    let (_, shown) = server.admin_json(Method::GET, path, None).await.expect("get");
    assert_eq!(shown["custom"], false, "{shown}");
    assert!(shown["body"].as_str().is_some_and(|b| b.contains("{code}")));
    let bad = json!({"subject": "Code", "body": "no placeholders"});
    let (status, _) = server.admin_json(Method::PUT, path, Some(bad)).await.expect("put");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let own = json!({"subject": "ACME Konto: {code}", "body": "Code {code}\nLink {link}\n{tenant}"});
    let (status, _) = server.admin_json(Method::PUT, path, Some(own)).await.expect("put");
    assert_eq!(status, StatusCode::NO_CONTENT);
    // A session from before the reset (someone who knew the old password, say), at a client
    // that wants to hear when sessions end.
    let (bcl, mut logouts) = crate::logout::relying_party().await;
    let patch = json!({"backchannel_logout_uri": bcl});
    let (status, _) =
        server.admin_json(Method::PATCH, &format!("/tenants/acme/clients/{id}"), Some(patch)).await.expect("patch");
    assert_eq!(status, StatusCode::OK);
    let mut before = Browser::new(&server.url);
    crate::oidc_errors::code_for(&mut before, &id, &[]).await;
    let alice = crate::oidc::user_id(&server, "alice").await;
    let sessions_path = format!("/tenants/acme/users/{alice}/sessions");
    let (_, sessions) = server.admin_json(Method::GET, &sessions_path, None).await.expect("sessions");
    let old_session = sessions[0]["id"].clone();
    assert!(old_session.is_string(), "{sessions}");

    let (flow, token) = api_flow(&server, &id, "de").await;
    let (status, body) = api_step(&server, &flow, &token, json!({"method": "recovery", "identifier": "Alice"})).await;
    assert_eq!(
        (status, body["step"].as_str(), body["methods"].clone()),
        (StatusCode::OK, Some("email_code"), json!(["code"]))
    );
    let mail = server.mail.wait_for("alice@example.com", 1).await.expect("mail");
    assert!(mail.subject.starts_with("ACME Konto: "), "the tenant's template: {mail:?}");
    assert!(mail.text.contains("Link http"), "{mail:?}");
    assert_eq!(mail.language.as_deref(), Some("de"));
    let (code, _) = code_and_link(&mail.text);
    let (status, body) = api_step(&server, &flow, &token, json!({"method": "code", "code": code})).await;
    assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("change_password")), "{body}");
    let (status, body) =
        api_step(&server, &flow, &token, json!({"method": "new_password", "password": "password123"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_value")), "{body}");
    let (status, body) =
        api_step(&server, &flow, &token, json!({"method": "new_password", "password": "saffron lighthouse wanders"}))
            .await;
    assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("complete")), "consent given before: {body}");
    let (_, sessions) = server.admin_json(Method::GET, &sessions_path, None).await.expect("sessions");
    let live: Vec<&Value> = sessions.as_array().expect("list").iter().map(|s| &s["id"]).collect();
    assert_eq!(live.len(), 1, "only the reset's own session: {sessions}");
    assert_ne!(live[0], &old_session, "the session from before the reset has ended");
    let token = tokio::time::timeout(std::time::Duration::from_secs(10), logouts.recv()).await.expect("a logout token");
    let claims = payload(&token.expect("token"));
    assert_eq!(claims["sid"], old_session, "its client heard of it (back-channel logout)");

    // The old password is gone, the new one works.
    let (flow, token) = api_flow(&server, &id, "en").await;
    let (status, _) =
        api_step(&server, &flow, &token, json!({"method": "password", "identifier": "alice", "password": PASSWORD}))
            .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = api_step(
        &server,
        &flow,
        &token,
        json!({"method": "password", "identifier": "alice", "password": "saffron lighthouse wanders"}),
    )
    .await;
    assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("complete")), "consent given before: {body}");

    // Five messages for one identifier (case-folded) in fifteen minutes; the sixth waits.
    for n in 2..=5 {
        let (flow, token) = api_flow(&server, &id, "en").await;
        let (status, body) =
            api_step(&server, &flow, &token, json!({"method": "email_code", "identifier": "alice"})).await;
        assert_eq!(status, StatusCode::OK, "message {n}: {body}");
    }
    server.mail.wait_for("alice@example.com", 5).await.expect("five messages");
    let (flow, token) = api_flow(&server, &id, "en").await;
    let (status, body) = api_step(&server, &flow, &token, json!({"method": "email_code", "identifier": "alice"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("throttled")), "{body}");

    let (status, _) = server.admin_json(Method::DELETE, path, None).await.expect("delete");
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, shown) = server.admin_json(Method::GET, path, None).await.expect("get");
    assert_eq!(shown["custom"], false, "back to the built-in text");
    let (status, _) = server.admin_json(Method::DELETE, path, None).await.expect("delete");
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, audit) =
        server.admin_json(Method::GET, "/tenants/acme/audit?action=login.email_code", None).await.expect("audit");
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(5), "{audit}");
});

on_every_engine!(an_e_mailed_code_is_spent_once_even_when_sent_twice_at_once, |server| {
    let (id, _) = setup(&server, web_client()).await;
    for round in 1..=3 {
        let (flow, token) = api_flow(&server, &id, "en").await;
        let (status, _) =
            api_step(&server, &flow, &token, json!({"method": "email_code", "identifier": "alice"})).await;
        assert_eq!(status, StatusCode::OK);
        let mail = server.mail.wait_for("alice@example.com", round).await.expect("mail");
        let (code, _) = code_and_link(&mail.text);
        let submit = json!({"method": "code", "code": code});
        let (first, second) =
            tokio::join!(api_step(&server, &flow, &token, submit.clone()), api_step(&server, &flow, &token, submit));
        let passed = [&first, &second].iter().filter(|(status, _)| *status == StatusCode::OK).count();
        assert_eq!(passed, 1, "round {round}: one code, one sign-in: {first:?} {second:?}");
        let (_, sessions) = server
            .admin_json(Method::GET, "/tenants/acme/users?username=alice", None)
            .await
            .map(|(_, users)| (StatusCode::OK, users["items"][0]["id"].as_str().unwrap_or_default().to_owned()))
            .expect("user");
        let (_, live) =
            server.admin_json(Method::GET, &format!("/tenants/acme/users/{sessions}/sessions"), None).await.expect("s");
        assert_eq!(live.as_array().map(Vec::len), Some(round), "round {round}: {live}");
    }
});
