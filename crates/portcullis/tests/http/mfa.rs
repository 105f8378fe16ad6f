//! Second factors through the hosted pages: a signed-in user enrols an authenticator app on
//! the account pages (QR code drawn by the server, recovery codes shown once), a request with
//! `acr_values=2` steps the session up without asking the password again, a later login asks
//! for the code — a code is accepted once, a recovery code once ever — and the ID token's `acr`
//! and `amr` say what was used.

use reqwest::StatusCode;
use serde_json::Value;

use crate::browser::{Browser, field, location, query};
use crate::client_roles::payload;
use crate::oidc::{PASSWORD, REDIRECT, setup, web_client};
use crate::oidc_errors::{VERIFIER, authorize_url, code_for, exchange, request};
use crate::on_every_engine;

/// What an authenticator app shows for the `otpauth://` URI at `offset` steps from now.
pub fn app_code(uri: &str, offset: i64) -> String {
    let totp = totp_rs::Totp::from_url(uri).expect("otpauth URI");
    // The server runs on the system clock, as a phone does.
    let now = portcullis_core::Clock::now(&portcullis_core::clock::SystemClock).unix_timestamp();
    totp.generate(u64::try_from(now + offset * 30).expect("time")).to_string()
}

/// The code in `back`, a redirect to the client.
fn code_in(back: &str) -> String {
    assert!(back.starts_with(REDIRECT), "{back}");
    query(back)["code"].clone()
}

/// The ID token `code` is exchanged for, decoded.
async fn id_token_of(server: &portcullis_testkit::TestServer, id: &str, secret: &str, code: &str) -> Value {
    let form = [("code", code), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)];
    let (status, tokens) = exchange(server, id, secret, &form).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    payload(tokens["id_token"].as_str().expect("id token"))
}

/// Posts the code form of the login page at `to_login` with `fields`.
async fn post_step(browser: &mut Browser, to_login: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let html = browser.get(to_login).await.text().await.expect("html");
    let (flow, csrf) = (field(&html, "flow"), field(&html, "csrf_token"));
    let mut form = vec![("flow", flow.as_str()), ("csrf_token", csrf.as_str())];
    form.extend_from_slice(fields);
    browser.post("/t/acme/login", &form).await
}

on_every_engine!(totp_enrolment_step_up_and_recovery_codes_through_the_pages, |server| {
    let (id, secret) = setup(&server, web_client()).await;
    let mut browser = Browser::new(&server.url);
    let code = code_for(&mut browser, &id, &[]).await;
    let claims = id_token_of(&server, &id, &secret, &code).await;
    assert_eq!((claims["acr"].as_str(), claims["amr"].clone()), (Some("1"), serde_json::json!(["pwd"])));
    let sid = claims["sid"].clone();

    // Enrol an authenticator app on the account pages.
    let html = browser.get("/t/acme/account/security").await.text().await.expect("html");
    assert!(html.contains("no second factor"), "{html}");
    let csrf = field(&html, "csrf_token");
    let forged = browser.post("/t/acme/account/security", &[("csrf_token", "x"), ("action", "add_totp")]).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let to_enrol =
        location(&browser.post("/t/acme/account/security", &[("csrf_token", &csrf), ("action", "add_totp")]).await);
    assert!(to_enrol.starts_with("/t/acme/account/totp?flow="), "{to_enrol}");
    let page = browser.get(&to_enrol).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(html.contains("<svg") && !html.contains("<?xml") && !html.contains("<script"), "QR code drawn inline");
    assert!(html.contains(r#"autocomplete="one-time-code""#));
    let key =
        html.split(r#"<code id="totp-secret">"#).nth(1).and_then(|r| r.split('<').next()).expect("key").to_owned();
    let uri = format!("otpauth://totp/Acme:alice?secret={key}&issuer=Acme");
    let (flow, csrf) = (field(&html, "flow"), field(&html, "csrf_token"));
    let wrong =
        browser.post("/t/acme/account/totp", &[("flow", &flow), ("csrf_token", &csrf), ("code", "000000")]).await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    let now_code = app_code(&uri, 0);
    let done = browser
        .post("/t/acme/account/totp", &[("flow", &flow), ("csrf_token", &csrf), ("code", &now_code), ("name", "Phone")])
        .await;
    assert_eq!(done.status(), StatusCode::OK);
    assert_eq!(done.headers()["cache-control"], "no-store");
    let html = done.text().await.expect("html");
    let codes: Vec<String> =
        html.split("<li><code>").skip(1).map(|rest| rest.split('<').next().expect("code").to_owned()).collect();
    assert_eq!(codes.len(), 10, "{html}");
    let again =
        browser.post("/t/acme/account/totp", &[("flow", &flow), ("csrf_token", &csrf), ("code", &now_code)]).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST, "the settings flow ended with the enrolment");
    let html = browser.get("/t/acme/account/security").await.text().await.expect("html");
    assert!(html.contains("Phone") && html.contains("10 left"), "{html}");

    // `acr_values=2` with the one-factor session: only the code is asked (step-up).
    let to_login = location(&browser.get(&authorize_url(&request(&id, &[("acr_values", Some("2"))]))).await);
    assert!(to_login.starts_with("/t/acme/login?flow="), "{to_login}");
    let html = browser.get(&to_login).await.text().await.expect("html");
    assert!(html.contains(r#"name="code""#) && !html.contains(r#"name="password""#), "{html}");
    let reused = post_step(&mut browser, &to_login, &[("method", "totp"), ("code", &now_code)]).await;
    assert_eq!(reused.status(), StatusCode::BAD_REQUEST, "a code is accepted once (RFC 6238 §5.2)");
    assert!(reused.text().await.expect("html").contains("already been used"));
    let next_code = app_code(&uri, 1);
    let back = location(&post_step(&mut browser, &to_login, &[("method", "totp"), ("code", &next_code)]).await);
    let claims = id_token_of(&server, &id, &secret, &code_in(&back)).await;
    assert_eq!(claims["acr"], "2");
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "otp", "mfa"]));
    assert_eq!(claims["sid"], sid, "the same session, stepped up");

    // A new browser: password, then the code page; a recovery code works once.
    let mut other = Browser::new(&server.url);
    let to_login = location(&other.get(&authorize_url(&request(&id, &[]))).await);
    let answer = post_step(&mut other, &to_login, &[("username", "alice"), ("password", PASSWORD)]).await;
    let to_code = location(&answer);
    assert_eq!(to_code, to_login, "the same flow, now at its second factor");
    let html = other.get(&to_code).await.text().await.expect("html");
    assert!(html.contains(r#"autocomplete="one-time-code""#) && html.contains("recovery_code"), "{html}");
    let wrong = post_step(&mut other, &to_code, &[("method", "recovery_code"), ("recovery_code", "aaaaa-bbbbb")]).await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    let typed = codes[3].to_uppercase().replace('-', " ");
    let back =
        location(&post_step(&mut other, &to_code, &[("method", "recovery_code"), ("recovery_code", &typed)]).await);
    let claims = id_token_of(&server, &id, &secret, &code_in(&back)).await;
    assert_eq!((claims["acr"].as_str(), claims["amr"].clone()), (Some("2"), serde_json::json!(["pwd", "otp", "mfa"])));

    let mut third = Browser::new(&server.url);
    let to_login = location(&third.get(&authorize_url(&request(&id, &[]))).await);
    post_step(&mut third, &to_login, &[("username", "alice"), ("password", PASSWORD)]).await;
    let spent = post_step(&mut third, &to_login, &[("method", "recovery_code"), ("recovery_code", &codes[3])]).await;
    assert_eq!(spent.status(), StatusCode::BAD_REQUEST, "a recovery code works once");

    // The audit log saw the enrolment and the refusals.
    let (_, audit) =
        server.admin_json(reqwest::Method::GET, "/tenants/acme/audit?limit=200", None).await.expect("audit");
    let actions: Vec<&str> =
        audit["items"].as_array().expect("items").iter().filter_map(|e| e["action"].as_str()).collect();
    for wanted in ["credential.enrol", "login.step_up", "login.failure", "login.success"] {
        assert!(actions.contains(&wanted), "{wanted} in {actions:?}");
    }
});

on_every_engine!(a_remembered_browser_skips_only_what_the_policy_asks, |server| {
    let (id, _) = setup(&server, web_client()).await;
    let policy = serde_json::json!({"mfa": "required", "remember_device_days": 30});
    let (status, _) =
        server.admin_json(reqwest::Method::PUT, "/tenants/acme/auth-policy", Some(policy)).await.expect("put");
    assert_eq!(status, StatusCode::OK);

    // Required by policy: the first login enrols an authenticator.
    let mut browser = Browser::new(&server.url);
    let to_login = location(&browser.get(&authorize_url(&request(&id, &[]))).await);
    let answer = post_step(&mut browser, &to_login, &[("username", "alice"), ("password", PASSWORD)]).await;
    assert_eq!(location(&answer), to_login);
    let html = browser.get(&to_login).await.text().await.expect("html");
    assert!(html.contains(r#"value="enrol_totp""#), "{html}");
    let key =
        html.split(r#"<code id="totp-secret">"#).nth(1).and_then(|r| r.split('<').next()).expect("key").to_owned();
    let uri = format!("otpauth://totp/Acme:alice?secret={key}&issuer=Acme");
    let codes_page =
        post_step(&mut browser, &to_login, &[("method", "enrol_totp"), ("code", &app_code(&uri, 0))]).await;
    let html = codes_page.text().await.expect("html");
    let next = html
        .split(r#"<a class="button" href=""#)
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("continue")
        .replace("&amp;", "&")
        .replace("&#x2f;", "/");
    let to_consent = location(&browser.get(&next).await);
    crate::oidc::consent(&mut browser, &to_consent, "allow").await;

    // The next login asks for the code and offers to remember the browser.
    let login = |prompt: Option<&'static str>| {
        authorize_url(&request(&id, &[("prompt", Some("login")), ("acr_values", prompt)]))
    };
    let to_login = location(&browser.get(&login(None)).await);
    post_step(&mut browser, &to_login, &[("username", "alice"), ("password", PASSWORD)]).await;
    let html = browser.get(&to_login).await.text().await.expect("html");
    assert!(html.contains(r#"name="remember""#) && html.contains("30 days"), "{html}");
    let remembered =
        post_step(&mut browser, &to_login, &[("method", "totp"), ("code", &app_code(&uri, 1)), ("remember", "on")])
            .await;
    let cookies: Vec<&str> =
        remembered.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).collect();
    assert!(cookies.iter().any(|c| c.starts_with("portcullis-device=") && c.contains("HttpOnly")), "{cookies:?}");
    assert!(location(&remembered).starts_with(REDIRECT), "consent is remembered");

    // This browser now skips the code; another browser does not; a client that asks for two
    // factors is asked for them anyway.
    let to_login = location(&browser.get(&login(None)).await);
    let back = post_step(&mut browser, &to_login, &[("username", "alice"), ("password", PASSWORD)]).await;
    assert!(location(&back).starts_with(REDIRECT), "remembered: {}", location(&back));
    let mut other = Browser::new(&server.url);
    let to_login = location(&other.get(&login(None)).await);
    let asked = post_step(&mut other, &to_login, &[("username", "alice"), ("password", PASSWORD)]).await;
    assert_eq!(location(&asked), to_login, "another browser is asked for the code");
    let to_login = location(&browser.get(&login(Some("2"))).await);
    let asked = post_step(&mut browser, &to_login, &[("username", "alice"), ("password", PASSWORD)]).await;
    assert_eq!(location(&asked), to_login, "acr_values=2 is never skipped");

    // Resetting MFA forgets the browser.
    let alice = crate::oidc::user_id(&server, "alice").await;
    server
        .admin_json(
            reqwest::Method::POST,
            &format!("/tenants/acme/users/{alice}/mfa:reset"),
            Some(serde_json::json!({})),
        )
        .await
        .expect("reset");
    let to_login = location(&browser.get(&login(None)).await);
    let asked = post_step(&mut browser, &to_login, &[("username", "alice"), ("password", PASSWORD)]).await;
    assert_eq!(location(&asked), to_login, "after a reset the policy asks again (to enrol)");
});

on_every_engine!(a_new_workforce_tenant_requires_a_second_factor, |server| {
    use crate::flow_api::{start, step};
    use serde_json::json;
    let (status, _) =
        server.admin_json(reqwest::Method::POST, "/tenants", Some(json!({"name": "acme"}))).await.expect("tenant");
    assert_eq!(status, StatusCode::CREATED);
    let shop = json!({"name": "shop", "profile": "customer"});
    server.admin_json(reqwest::Method::POST, "/tenants", Some(shop)).await.expect("tenant");
    for (tenant, mfa) in [("acme", "required"), ("shop", "optional")] {
        let path = format!("/tenants/{tenant}/auth-policy");
        let (status, policy) = server.admin_json(reqwest::Method::GET, &path, None).await.expect("policy");
        assert_eq!((status, policy["mfa"].as_str()), (StatusCode::OK, Some(mfa)), "{tenant}: {policy}");
    }
    let alice = json!({"username": "alice", "email": "alice@example.com", "password": PASSWORD});
    server.admin_json(reqwest::Method::POST, "/tenants/acme/users", Some(alice)).await.expect("user");
    let (_, client) =
        server.admin_json(reqwest::Method::POST, "/tenants/acme/clients", Some(web_client())).await.expect("client");
    let client_id = client["client_id"].as_str().expect("client id");

    // The password alone does not sign in: alice enrols a second factor first.
    let (flow, token, _) = start(&server, client_id).await;
    let password = json!({"method": "password", "identifier": "alice", "password": PASSWORD});
    let (status, body, _) = step(&server, &flow, &token, password).await;
    assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("enrol_mfa")), "{body}");
    let uri = body["totp"]["otpauth_uri"].as_str().expect("an authenticator app is offered").to_owned();
    let (status, body, _) =
        step(&server, &flow, &token, json!({"method": "enrol_totp", "code": app_code(&uri, 0)})).await;
    assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("consent")), "{body}");
    assert_eq!(body["recovery_codes"].as_array().map(Vec::len), Some(10));
});
