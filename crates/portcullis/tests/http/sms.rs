//! Codes by text message, received by a local SMS provider that checks what the server sends
//! (the webhook's HMAC signature; Twilio's basic authentication and form): a signed-in user
//! adds a mobile number on the account pages, then passes it as a second factor through the
//! flow API and the pages; with the tenant's permission it signs in alone (passwordless);
//! per-number and per-account limits and the tenant's country list hold against SMS pumping.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::browser::{Browser, field, location, query};
use crate::client_roles::payload;
use crate::flow_api::{start, step};
use crate::oidc::{PASSWORD, REDIRECT, setup, web_client};
use crate::oidc_errors::{VERIFIER, code_for, exchange};
use crate::on_every_engine;

const NUMBER: &str = "+4915123456789";

/// Adds `typed` as alice's number on the account pages of the signed-in `browser`, with the
/// code the provider received (the `nth` text to the number); returns the recovery codes shown.
async fn enrol(server: &portcullis_testkit::TestServer, browser: &mut Browser, typed: &str, nth: usize) -> String {
    let html = browser.get("/t/acme/account/security").await.text().await.expect("html");
    assert!(html.contains(r#"autocomplete="tel""#), "{html}");
    let csrf = field(&html, "csrf_token");
    let to_code = location(
        &browser
            .post("/t/acme/account/security", &[("csrf_token", &csrf), ("action", "add_sms"), ("number", typed)])
            .await,
    );
    assert!(to_code.starts_with("/t/acme/account/sms?flow="), "{to_code}");
    let html = browser.get(&to_code).await.text().await.expect("html");
    assert!(html.contains(r#"autocomplete="one-time-code""#), "{html}");
    let (flow, csrf) = (field(&html, "flow"), field(&html, "csrf_token"));
    let sms = server.sms.wait_for(NUMBER, nth).await.expect("the code arrives");
    let wrong =
        browser.post("/t/acme/account/sms", &[("flow", &flow), ("csrf_token", &csrf), ("code", "000000")]).await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    let done =
        browser.post("/t/acme/account/sms", &[("flow", &flow), ("csrf_token", &csrf), ("code", &sms.code())]).await;
    assert_eq!(done.status(), StatusCode::OK);
    done.text().await.expect("html")
}

async fn claims_of(server: &portcullis_testkit::TestServer, id: &str, secret: &str, redirect: &str) -> Value {
    assert!(redirect.starts_with(REDIRECT), "{redirect}");
    let code = query(redirect)["code"].clone();
    let form = [("code", code.as_str()), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)];
    let (status, tokens) = exchange(server, id, secret, &form).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    payload(tokens["id_token"].as_str().expect("id token"))
}

async fn audit_actions(server: &portcullis_testkit::TestServer) -> Vec<Value> {
    let (_, audit) = server.admin_json(Method::GET, "/tenants/acme/audit?limit=200", None).await.expect("audit");
    audit["items"].as_array().expect("items").clone()
}

on_every_engine!(a_texted_code_is_a_second_factor_on_the_pages_and_in_the_flow_api, |server| {
    let (id, secret) = setup(&server, web_client()).await;
    let mut browser = Browser::new(&server.url);
    code_for(&mut browser, &id, &[]).await;

    // Numbers that are not international ones are refused on the page.
    let html = browser.get("/t/acme/account/security").await.text().await.expect("html");
    let csrf = field(&html, "csrf_token");
    let bad = browser
        .post("/t/acme/account/security", &[("csrf_token", &csrf), ("action", "add_sms"), ("number", "0151 2345")])
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(bad.text().await.expect("html").contains("country code"));

    let html = enrol(&server, &mut browser, "+49 151 2345 6789", 1).await;
    assert_eq!(html.matches("<li><code>").count(), 10, "recovery codes come with the first second factor: {html}");
    let html = browser.get("/t/acme/account/security").await.text().await.expect("html");
    assert!(html.contains("•••• 6789") && !html.contains(NUMBER), "the number is shown by its end only: {html}");

    // The flow API: the password, then a code by text.
    let (flow_id, token, _) = start(&server, &id).await;
    let (status, body, _) =
        step(&server, &flow_id, &token, json!({"method": "password", "identifier": "alice", "password": PASSWORD}))
            .await;
    assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("second_factor")), "{body}");
    assert_eq!(body["methods"], json!(["sms", "recovery_code"]), "no authenticator app: no totp");
    let (status, body, _) = step(&server, &flow_id, &token, json!({"method": "totp", "code": "123456"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_method")), "{body}");
    let (status, body, _) = step(&server, &flow_id, &token, json!({"method": "sms"})).await;
    assert_eq!(
        (status, body["step"].as_str(), body["methods"].clone()),
        (StatusCode::OK, Some("sms_code"), json!(["code"]))
    );
    let sms = server.sms.wait_for(NUMBER, 2).await.expect("the code arrives");
    assert_eq!((sms.via, sms.detail.as_str()), ("webhook", "en"));
    assert!(sms.text.contains("acme"), "{}", sms.text);
    assert!(!sms.text.contains('#'), "no origin-bound line for a server known by its address: {}", sms.text);
    let (status, body, _) = step(&server, &flow_id, &token, json!({"method": "code", "code": "000000"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_code")), "{body}");
    let (status, body, _) = step(&server, &flow_id, &token, json!({"method": "code", "code": sms.code()})).await;
    assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("complete")), "{body}");
    let claims = claims_of(&server, &id, &secret, body["redirect_to"].as_str().expect("redirect")).await;
    assert_eq!((claims["acr"].as_str(), claims["amr"].clone()), (Some("2"), json!(["pwd", "sms", "mfa"])));

    // The pages: the password, then "text me a code", then the code.
    let mut other = Browser::new(&server.url);
    let to_login =
        location(&other.get(&crate::oidc_errors::authorize_url(&crate::oidc_errors::request(&id, &[]))).await);
    let html = other.get(&to_login).await.text().await.expect("html");
    let (flow, csrf) = (field(&html, "flow"), field(&html, "csrf_token"));
    let form = [("flow", flow.as_str()), ("csrf_token", &csrf), ("username", "alice"), ("password", PASSWORD)];
    assert_eq!(location(&other.post("/t/acme/login", &form).await), to_login);
    let html = other.get(&to_login).await.text().await.expect("html");
    assert!(html.contains(r#"value="sms""#) && !html.contains(r#"value="totp""#), "{html}");
    let sent = other.post("/t/acme/login", &[("flow", &flow), ("csrf_token", &csrf), ("method", "sms")]).await;
    assert_eq!(location(&sent), to_login);
    let html = other.get(&to_login).await.text().await.expect("html");
    assert!(html.contains(r#"autocomplete="one-time-code""#), "{html}");
    let sms = server.sms.wait_for(NUMBER, 3).await.expect("the code arrives");
    let done = other.post("/t/acme/login", &[("flow", &flow), ("csrf_token", &csrf), ("code", &sms.code())]).await;
    let claims = claims_of(&server, &id, &secret, &location(&done)).await;
    assert_eq!(claims["amr"], json!(["pwd", "sms", "mfa"]));
    assert_eq!(server.sms.rejected(), 0, "every message was signed");

    let audit = audit_actions(&server).await;
    let sent: Vec<&Value> = audit.iter().filter(|e| e["action"] == "login.sms_code").collect();
    assert_eq!(sent.len(), 2, "{audit:?}");
    assert!(!audit.iter().any(|e| e.to_string().contains(NUMBER)), "the audit log never holds the number");
    assert!(audit.iter().any(|e| e["action"] == "credential.enrol" && e["after"]["kind"] == "sms"));
});

on_every_engine!(a_login_that_needs_a_second_factor_enrols_a_number_when_the_policy_allows_only_texts, |server| {
    let (id, secret) = setup(&server, web_client()).await;
    let policy = json!({"mfa": "required", "second_factors": ["sms"]});
    let (status, body) =
        server.admin_json(Method::PUT, "/tenants/acme/auth-policy", Some(policy)).await.expect("policy");
    assert_eq!(status, StatusCode::OK, "{body}");

    // The flow API: after the password, only a number can be enrolled (no authenticator app,
    // no passkeys on an IP address); a wrong code counts, the right one is the second factor.
    let (flow_id, token, _) = start(&server, &id).await;
    let (status, body, _) =
        step(&server, &flow_id, &token, json!({"method": "password", "identifier": "alice", "password": PASSWORD}))
            .await;
    assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("enrol_mfa")), "{body}");
    assert_eq!((body["methods"].clone(), body.get("totp")), (json!(["add_sms"]), None), "{body}");
    let (status, body, _) = step(&server, &flow_id, &token, json!({"method": "enrol_totp", "code": "123456"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_method")), "{body}");
    let (status, body, _) = step(&server, &flow_id, &token, json!({"method": "add_sms", "number": "12"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_value")), "{body}");
    let (status, body, _) = step(&server, &flow_id, &token, json!({"method": "add_sms", "number": NUMBER})).await;
    assert_eq!((status, body["methods"].clone()), (StatusCode::OK, json!(["add_sms", "code"])), "{body}");
    let sms = server.sms.wait_for(NUMBER, 1).await.expect("the code arrives");
    let (status, body, _) = step(&server, &flow_id, &token, json!({"method": "code", "code": "000000"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_code")), "{body}");
    // The right code sent twice at once (a double tap): one enrolment, the other finds the flow
    // moved on — changed under it (410) if both ran at once, or at consent, where a code is no
    // method (400), if the first had finished.
    let right = json!({"method": "code", "code": sms.code()});
    let (first, second) =
        tokio::join!(step(&server, &flow_id, &token, right.clone()), step(&server, &flow_id, &token, right));
    let mut answers = [first, second];
    answers.sort_by_key(|(status, _, _)| *status);
    let [(status, body, _), (other, other_body, _)] = answers;
    assert_eq!(status, StatusCode::OK, "{body}");
    let moved_on = other == StatusCode::GONE
        || (other == StatusCode::BAD_REQUEST
            && other_body["code"] == "invalid_method"
            && other_body["flow"]["step"] == "consent");
    assert!(moved_on, "{other}: {other_body}");
    assert_eq!(body["step"].as_str(), Some("consent"), "{body}");
    assert_eq!(body["recovery_codes"].as_array().map(Vec::len), Some(10), "{body}");
    let (_, body, _) = step(&server, &flow_id, &token, json!({"method": "consent", "decision": "allow"})).await;
    let claims = claims_of(&server, &id, &secret, body["redirect_to"].as_str().expect("redirect")).await;
    assert_eq!((claims["acr"].as_str(), claims["amr"].clone()), (Some("2"), json!(["pwd", "sms", "mfa"])));
    let alice = crate::oidc::user_id(&server, "alice").await;
    let path = format!("/tenants/acme/users/{alice}/credentials");
    let (_, credentials) = server.admin_json(Method::GET, &path, None).await.expect("credentials");
    let kinds: Vec<_> = credentials.as_array().expect("list").iter().map(|c| c["kind"].clone()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "sms").count(), 1, "{credentials}");
    let enrolled = audit_actions(&server).await.into_iter().find(|e| e["action"] == "credential.enrol");
    assert_eq!(enrolled.map(|e| e["after"]["flow"].clone()), Some(json!("login")));

    // The pages: bob enrols his number during his first login.
    let bob = json!({"username": "bob", "email": "bob@example.com", "password": PASSWORD});
    let (status, _) = server.admin_json(Method::POST, "/tenants/acme/users", Some(bob)).await.expect("bob");
    assert_eq!(status, StatusCode::CREATED);
    let mut browser = Browser::new(&server.url);
    let to_login =
        location(&browser.get(&crate::oidc_errors::authorize_url(&crate::oidc_errors::request(&id, &[]))).await);
    let html = browser.get(&to_login).await.text().await.expect("html");
    let (flow, csrf) = (field(&html, "flow"), field(&html, "csrf_token"));
    let form = [("flow", flow.as_str()), ("csrf_token", &csrf), ("username", "bob"), ("password", PASSWORD)];
    assert_eq!(location(&browser.post("/t/acme/login", &form).await), to_login);
    let html = browser.get(&to_login).await.text().await.expect("html");
    assert!(html.contains(r#"value="add_sms""#) && html.contains(r#"autocomplete="tel""#), "{html}");
    assert!(!html.contains(r#"value="enrol_totp""#) && !html.contains("passkey-form"), "only what the policy allows");
    let number = "+4915198765432";
    let form = [("flow", flow.as_str()), ("csrf_token", &csrf), ("method", "add_sms"), ("number", number)];
    assert_eq!(location(&browser.post("/t/acme/login", &form).await), to_login);
    let html = browser.get(&to_login).await.text().await.expect("html");
    assert!(html.contains(r#"value="code""#) && html.contains(r#"autocomplete="one-time-code""#), "{html}");
    let sms = server.sms.wait_for(number, 1).await.expect("the code arrives");
    let form = [("flow", flow.as_str()), ("csrf_token", &csrf), ("method", "code"), ("code", "000000")];
    let wrong = browser.post("/t/acme/login", &form).await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    assert!(wrong.text().await.expect("html").contains(r#"value="code""#), "the code form again");
    let form = [("flow", flow.as_str()), ("csrf_token", &csrf), ("method", "code"), ("code", &sms.code())];
    let html = browser.post("/t/acme/login", &form).await.text().await.expect("html");
    assert_eq!(html.matches("<li><code>").count(), 10, "recovery codes with the first second factor: {html}");

    // A policy that only texts on a server without an SMS provider is refused, not saved (a
    // rule of the service, the same on both engines: checked once).
    if server.db.engine == portcullis_testkit::Engine::Sqlite {
        let without = portcullis_testkit::TestServer::start_with(server.db.engine, "127.0.0.1", |config, _| {
            config.sms = None;
        })
        .await
        .expect("server starts");
        setup(&without, web_client()).await;
        let policy = json!({"mfa": "required", "second_factors": ["sms"]});
        let (status, body) =
            without.admin_json(Method::PUT, "/tenants/acme/auth-policy", Some(policy)).await.expect("policy");
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body.to_string().contains("second_factors"), "{body}");
        without.stop().await.expect("stops");
    }
});

on_every_engine!(passwordless_texts_need_the_policy_and_hold_their_limits, |server| {
    let (id, secret) = setup(&server, web_client()).await;
    let mut browser = Browser::new(&server.url);
    code_for(&mut browser, &id, &[]).await;
    enrol(&server, &mut browser, NUMBER, 1).await;

    // Off by default: a text is only a second factor.
    let (flow_id, token, flow) = start(&server, &id).await;
    assert!(!flow["methods"].as_array().expect("methods").contains(&json!("sms")), "{flow}");
    let (status, body, _) = step(&server, &flow_id, &token, json!({"method": "sms", "identifier": "alice"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_method")), "{body}");

    let bad = json!({"mfa": "optional", "first_factors": ["password", "sms"], "sms_countries": ["49"]});
    let (status, _) = server.admin_json(Method::PUT, "/tenants/acme/auth-policy", Some(bad)).await.expect("put");
    assert_eq!(status, StatusCode::BAD_REQUEST, "a prefix starts with +");
    let policy = json!({"mfa": "optional", "first_factors": ["password", "sms"], "sms_countries": ["+49"]});
    let (status, _) = server.admin_json(Method::PUT, "/tenants/acme/auth-policy", Some(policy)).await.expect("put");
    assert_eq!(status, StatusCode::OK);

    // An unknown account gets the same answer, and no text goes out.
    let (flow_id, token, flow) = start(&server, &id).await;
    assert!(flow["methods"].as_array().expect("methods").contains(&json!("sms")), "{flow}");
    let (status, body, _) = step(&server, &flow_id, &token, json!({"method": "sms", "identifier": "nobody"})).await;
    assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("sms_code")), "{body}");
    let (status, body, _) = step(&server, &flow_id, &token, json!({"method": "code", "code": "123456"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_code")), "{body}");

    // alice signs in with the text alone: one factor, and no second one is left to ask.
    let (flow_id, token, _) = start(&server, &id).await;
    let (status, body, _) = step(&server, &flow_id, &token, json!({"method": "sms", "identifier": "alice"})).await;
    assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("sms_code")), "{body}");
    let sms = server.sms.wait_for(NUMBER, 2).await.expect("the code arrives");
    let (status, body, _) = step(&server, &flow_id, &token, json!({"method": "code", "code": sms.code()})).await;
    assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("complete")), "{body}");
    let claims = claims_of(&server, &id, &secret, body["redirect_to"].as_str().expect("redirect")).await;
    assert_eq!((claims["acr"].as_str(), claims["amr"].clone()), (Some("1"), json!(["sms"])));

    // Texts go only to the countries the policy names: the answer is the same, nothing is sent.
    let policy = json!({"mfa": "optional", "first_factors": ["password", "sms"], "sms_countries": ["+1"]});
    server.admin_json(Method::PUT, "/tenants/acme/auth-policy", Some(policy)).await.expect("put");
    let (flow_id, token, _) = start(&server, &id).await;
    let (status, body, _) = step(&server, &flow_id, &token, json!({"method": "sms", "identifier": "alice"})).await;
    assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("sms_code")), "{body}");
    let html = browser.get("/t/acme/account/security").await.text().await.expect("html");
    let csrf = field(&html, "csrf_token");
    let form = [("csrf_token", csrf.as_str()), ("action", "add_sms"), ("number", "+44 7700 900123")];
    let refused = browser.post("/t/acme/account/security", &form).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.text().await.expect("html").contains("this country"));

    // Three texts per number and per typed account in the window (the enrolment was one).
    let policy = json!({"mfa": "optional", "first_factors": ["password", "sms"]});
    server.admin_json(Method::PUT, "/tenants/acme/auth-policy", Some(policy)).await.expect("put");
    let (flow_id, token, _) = start(&server, &id).await;
    let (status, _, _) = step(&server, &flow_id, &token, json!({"method": "sms", "identifier": "alice"})).await;
    assert_eq!(status, StatusCode::OK);
    server.sms.wait_for(NUMBER, 3).await.expect("the third text arrives");
    let (flow_id, token, _) = start(&server, &id).await;
    let (status, body, headers) =
        step(&server, &flow_id, &token, json!({"method": "sms", "identifier": "alice"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("throttled")), "{body}");
    assert!(headers.contains_key("retry-after"));
    // Another name for the same account: the number's own limit holds, silently.
    let (flow_id, token, _) = start(&server, &id).await;
    let (status, body, _) =
        step(&server, &flow_id, &token, json!({"method": "sms", "identifier": "alice@example.com"})).await;
    assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("sms_code")), "{body}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let to_number = server.sms.all().into_iter().filter(|m| m.to == NUMBER).count();
    assert_eq!(to_number, 3, "no fourth text to the number in the window");

    let audit = audit_actions(&server).await;
    let refused: Vec<String> = audit
        .iter()
        .filter(|e| e["action"] == "login.sms_code")
        .map(|e| e["after"]["refused"].as_str().unwrap_or("sent").to_owned())
        .collect();
    assert!(refused.contains(&"country".to_owned()) && refused.contains(&"throttled".to_owned()), "{refused:?}");
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_and_a_wrongly_signed_webhook() {
    use portcullis::config::SmsConfig;
    use portcullis_testkit::{Engine, SmsSink, TestServer};

    // Twilio's API (here the sink speaking it): basic authentication, To/Body/From as a form.
    // The server is known by a domain: its codes are bound to it (`@localhost #code`).
    let server = TestServer::start_with(Engine::Sqlite, "localhost", |config, sink| {
        config.sms = Some(SmsConfig::Twilio {
            api_url: sink.url.clone(),
            account_sid: SmsSink::TWILIO_SID.to_owned(),
            auth_token: SmsSink::TWILIO_TOKEN.to_owned(),
            from: "+15005550006".to_owned(),
        });
    })
    .await
    .expect("server starts");
    let (id, _) = setup(&server, web_client()).await;
    let mut browser = Browser::new(&server.url);
    code_for(&mut browser, &id, &[]).await;
    enrol(&server, &mut browser, NUMBER, 1).await;
    let sms = server.sms.wait_for(NUMBER, 1).await.expect("arrived");
    assert_eq!((sms.via, sms.detail.as_str()), ("twilio", "+15005550006"));
    assert!(sms.text.ends_with(&format!("\n\n@localhost #{}", sms.code())), "{}", sms.text);
    server.stop().await.expect("stops");

    // A webhook signed with another secret is refused by the receiver, and nothing arrives.
    let server = TestServer::start_with(Engine::Sqlite, "127.0.0.1", |config, sink| {
        config.sms =
            Some(SmsConfig::Webhook { url: sink.webhook_url(), secret: "not-the-receivers-secret".to_owned() });
    })
    .await
    .expect("server starts");
    let (id, _) = setup(&server, web_client()).await;
    let mut browser = Browser::new(&server.url);
    code_for(&mut browser, &id, &[]).await;
    let html = browser.get("/t/acme/account/security").await.text().await.expect("html");
    let csrf = field(&html, "csrf_token");
    let form = [("csrf_token", csrf.as_str()), ("action", "add_sms"), ("number", NUMBER)];
    let to_code = location(&browser.post("/t/acme/account/security", &form).await);
    assert!(to_code.starts_with("/t/acme/account/sms?flow="), "the page does not wait for the provider");
    for _ in 0..200 {
        if server.sms.rejected() > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!((server.sms.rejected(), server.sms.all().len()), (1, 0));
    server.stop().await.expect("stops");
}

on_every_engine!(a_tenant_writes_its_own_text_messages_per_language, |server| {
    let (id, _) = setup(&server, web_client()).await;
    let (status, builtin) = server.admin_json(Method::GET, "/tenants/acme/sms-templates/de", None).await.expect("get");
    assert_eq!((status, builtin["custom"].as_bool()), (StatusCode::OK, Some(false)), "{builtin}");
    assert!(builtin["text"].as_str().is_some_and(|t| t.contains("{code}")), "{builtin}");
    for (path, body) in [
        ("/tenants/acme/sms-templates/fr", json!({"text": "{code}"})),
        ("/tenants/acme/sms-templates/de", json!({"text": "kein Code"})),
        ("/tenants/acme/sms-templates/de", json!({"text": format!("{{code}}{}", "x".repeat(310))})),
        ("/tenants/acme/sms-templates/de", json!({"text": "{code}", "subject": "mail only"})),
    ] {
        let (status, answer) = server.admin_json(Method::PUT, path, Some(body.clone())).await.expect("put");
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
    }
    let own = json!({"text": "Acme-Code {code} (gültig {minutes} Min.) – {tenant}"});
    let (status, _) = server.admin_json(Method::PUT, "/tenants/acme/sms-templates/de", Some(own)).await.expect("put");
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, shown) = server.admin_json(Method::GET, "/tenants/acme/sms-templates/de", None).await.expect("get");
    assert_eq!(shown["custom"], true, "{shown}");

    // A German login that must enrol a number gets the tenant's German text.
    let policy = json!({"mfa": "required", "second_factors": ["sms"]});
    server.admin_json(Method::PUT, "/tenants/acme/auth-policy", Some(policy)).await.expect("policy");
    let mut request = crate::flow_api::authorization(&id);
    request["ui_locales"] = json!("de");
    let (flow_id, token, _) = crate::flow_api::start_for(&server, &request).await;
    let password = json!({"method": "password", "identifier": "alice", "password": PASSWORD});
    step(&server, &flow_id, &token, password).await;
    let (status, body, _) = step(&server, &flow_id, &token, json!({"method": "add_sms", "number": NUMBER})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let sms = server.sms.wait_for(NUMBER, 1).await.expect("the code arrives");
    assert_eq!(sms.text, format!("Acme-Code {} (gültig 5 Min.) – acme", sms.code()));
    assert_eq!(sms.detail, "de");

    // Back to the built-in text; the change and its undoing are audited.
    let (status, _) = server.admin_json(Method::DELETE, "/tenants/acme/sms-templates/de", None).await.expect("delete");
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = server.admin_json(Method::DELETE, "/tenants/acme/sms-templates/de", None).await.expect("delete");
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing left to delete");
    let actions: Vec<Value> = audit_actions(&server).await.into_iter().map(|e| e["action"].clone()).collect();
    assert!(actions.contains(&json!("sms_template.put")) && actions.contains(&json!("sms_template.delete")));
});
