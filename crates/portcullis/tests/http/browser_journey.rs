//! The hosted pages in a real browser (headless Chromium): the authorization code flow through
//! login and consent, with the password manager's `autocomplete` values, the pages' CSP
//! holding without a single violation, and the cookies a browser really keeps.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::oidc::{PASSWORD, setup};
use crate::oidc_errors::{VERIFIER, exchange};
use crate::on_every_engine;
use crate::webdriver::Browser;

on_every_engine!(a_real_browser_logs_in_and_consents, |server| {
    let Some(browser) = Browser::start().await else { return };
    // The relying party: a callback that just answers, on a loopback port of its own.
    // It also takes form posts (the form post response mode) and shows what came.
    let app = axum::Router::new().route(
        "/cb",
        axum::routing::get(|| async { "signed in" }).post(|body: String| async move { format!("posted {body}") }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let callback = format!("http://127.0.0.1:{}/cb", listener.local_addr().expect("addr").port());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let (id, secret) = setup(
        &server,
        json!({"client_name": "Browser app", "redirect_uris": [callback],
        "grant_types": ["authorization_code"]}),
    )
    .await;

    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", id.as_str()),
            ("redirect_uri", callback.as_str()),
            ("scope", "openid email"),
            ("state", "browser-state"),
            ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    browser.go(&format!("{}/t/acme/authorize?{query}", server.url)).await;
    browser.wait_for_url(&format!("{}/t/acme/login", server.url)).await;
    let username = browser.find("#username").await;
    let password = browser.find("#password").await;
    assert_eq!(browser.attribute(&username, "autocomplete").await.as_deref(), Some("username"));
    assert_eq!(browser.attribute(&password, "autocomplete").await.as_deref(), Some("current-password"));
    browser.type_into(&username, "alice").await;
    browser.type_into(&password, "wrong password").await;
    browser.click(&browser.find("button[type=submit]").await).await;
    browser.wait_for_text("The username or password is wrong.").await;
    let password = browser.find("#password").await;
    browser.type_into(&password, PASSWORD).await;
    browser.click(&browser.find("button[type=submit]").await).await;
    browser.wait_for_url(&format!("{}/t/acme/consent", server.url)).await;
    browser.click(&browser.find("button[value=allow]").await).await;
    let landed = browser.wait_for_url(&callback).await;
    let params: std::collections::BTreeMap<String, String> =
        url::Url::parse(&landed).expect("url").query_pairs().into_owned().collect();
    assert_eq!(params["state"], "browser-state");
    assert_eq!(params["iss"], format!("{}/t/acme", server.url));
    let (status, tokens) = exchange(
        &server,
        &id,
        &secret,
        &[("code", &params["code"]), ("redirect_uri", &callback), ("code_verifier", VERIFIER)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");

    // The browser kept the SSO session: a second authorization goes straight back.
    browser.go(&format!("{}/t/acme/authorize?{query}", server.url)).await;
    browser.wait_for_url(&callback).await;
    // In the form post response mode the page's own script (not inline: the CSP allows only
    // the server's file) posts the code to the callback.
    browser.go(&format!("{}/t/acme/authorize?{query}&response_mode=form_post", server.url)).await;
    browser.wait_for_text("posted code=").await;
    let posted = browser.source().await;
    assert!(posted.contains("state=browser-state") && posted.contains("iss="), "{posted}");
    // Not one CSP violation on the way, and the stylesheet loaded (the console lists the
    // expected 400 of the wrong password and the browser's own favicon.ico probe).
    let console = browser.console().await;
    assert!(!console.is_empty(), "the console is read: it holds at least the 400 of the wrong password");
    assert!(
        console.iter().all(|m| !m.contains("Content Security Policy") && !m.contains("portcullis.css")),
        "{console:?}"
    );
    let audit: Value = server
        .admin(Method::GET, "/tenants/acme/audit?action=login.success")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(1));
    browser.quit().await;
});

on_every_engine!(a_real_browser_enrols_an_authenticator_and_uses_it, |server| {
    let Some(browser) = Browser::start().await else { return };
    let (id, callback) = first_party_app(&server).await;
    server
        .admin_json(Method::PUT, "/tenants/acme/auth-policy", Some(json!({"mfa": "required"})))
        .await
        .expect("policy");
    browser.go(&crate::webdriver::authorize_url(&server, &id, &callback, &[("prompt", "login")])).await;
    browser.wait_for_url(&format!("{}/t/acme/login", server.url)).await;
    sign_in(&browser).await;
    // Required by policy: enrol now. The QR code is inline SVG; the key is there to type.
    browser.wait_for_text("Set up an authenticator app").await;
    let page = browser.source().await;
    assert!(page.contains("<svg"), "{page}");
    let key = page.split(r#"id="totp-secret">"#).nth(1).and_then(|r| r.split('<').next()).expect("key").to_owned();
    let uri = format!("otpauth://totp/Acme:alice?secret={key}&issuer=Acme");
    let code = browser.find("#code").await;
    assert_eq!(browser.attribute(&code, "autocomplete").await.as_deref(), Some("one-time-code"));
    browser.type_into(&code, &crate::mfa::app_code(&uri, 0)).await;
    browser.click(&browser.find("button[type=submit]").await).await;
    browser.wait_for_text("Your recovery codes").await;
    browser.click(&browser.find("#continue").await).await;
    browser.wait_for_url(&callback).await;

    // The next login asks for the code after the password.
    browser.go(&crate::webdriver::authorize_url(&server, &id, &callback, &[("prompt", "login")])).await;
    browser.wait_for_url(&format!("{}/t/acme/login", server.url)).await;
    sign_in(&browser).await;
    browser.wait_for_text("Two-step verification").await;
    browser.type_into(&browser.find("#code").await, &crate::mfa::app_code(&uri, 1)).await;
    browser.click(&browser.find("button[type=submit]").await).await;
    browser.wait_for_url(&callback).await;
    let console = browser.console().await;
    assert!(console.iter().all(|m| !m.contains("Content Security Policy")), "{console:?}");
    browser.quit().await;
});

on_every_engine!(a_real_browser_adds_a_mobile_number_and_signs_in_with_a_texted_code, |server| {
    let Some(browser) = Browser::start().await else { return };
    let (id, callback) = first_party_app(&server).await;
    let authorize = crate::webdriver::authorize_url(&server, &id, &callback, &[("prompt", "login")]);
    browser.go(&authorize).await;
    browser.wait_for_url(&format!("{}/t/acme/login", server.url)).await;
    sign_in(&browser).await;
    browser.wait_for_url(&callback).await;

    // Add a number on the account pages; the texted code confirms it.
    browser.go(&format!("{}/t/acme/account/security", server.url)).await;
    let number = browser.find("#number").await;
    assert_eq!(browser.attribute(&number, "autocomplete").await.as_deref(), Some("tel"));
    browser.type_into(&number, "+49 151 2345 6789").await;
    browser.click(&browser.find("button[value=add_sms]").await).await;
    browser.wait_for_text("Confirm your number").await;
    let sms = server.sms.wait_for("+4915123456789", 1).await.expect("the code arrives");
    browser.type_into(&browser.find("#code").await, &sms.code()).await;
    browser.click(&browser.find("button[type=submit]").await).await;
    browser.wait_for_text("Your recovery codes").await;

    // The next login asks for a second factor after the password: a text.
    browser.go(&authorize).await;
    browser.wait_for_url(&format!("{}/t/acme/login", server.url)).await;
    sign_in(&browser).await;
    browser.wait_for_text("Two-step verification").await;
    browser.click(&browser.find("form:has(input[value=sms]) button").await).await;
    browser.wait_for_text("Check your phone").await;
    let sms = server.sms.wait_for("+4915123456789", 2).await.expect("the code arrives");
    let code = browser.find("#code").await;
    assert_eq!(browser.attribute(&code, "autocomplete").await.as_deref(), Some("one-time-code"));
    browser.type_into(&code, &sms.code()).await;
    browser.click(&browser.find("button[type=submit]").await).await;
    browser.wait_for_url(&callback).await;
    let console = browser.console().await;
    assert!(console.iter().all(|m| !m.contains("Content Security Policy")), "{console:?}");
    browser.quit().await;
});

on_every_engine!(a_real_browser_signs_up_and_confirms_its_address, |server| {
    let Some(browser) = Browser::start().await else { return };
    let callback = crate::webdriver::callback().await;
    server
        .admin_json(Method::POST, "/tenants", Some(json!({"name": "acme", "profile": "customer"})))
        .await
        .expect("tenant");
    let (_, client) = server
        .admin_json(
            Method::POST,
            "/tenants/acme/clients",
            Some(json!({"client_name": "Shop", "redirect_uris": [callback], "grant_types": ["authorization_code"], "first_party": true})),
        )
        .await
        .expect("client");
    let id = client["client_id"].as_str().expect("id").to_owned();
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", id.as_str()),
            ("redirect_uri", callback.as_str()),
            ("scope", "openid email"),
            ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    browser.go(&format!("{}/t/acme/authorize?{query}", server.url)).await;
    browser.wait_for_url(&format!("{}/t/acme/login", server.url)).await;
    browser.click(&browser.find("a[href*='/login/register']").await).await;
    browser.wait_for_text("Create an account").await;
    let email = browser.find("#email").await;
    assert_eq!(browser.attribute(&email, "autocomplete").await.as_deref(), Some("email"));
    let password = browser.find("#new_password").await;
    assert_eq!(browser.attribute(&password, "autocomplete").await.as_deref(), Some("new-password"));
    browser.type_into(&email, "carol@example.com").await;
    browser.type_into(&browser.find("#name").await, "Carol").await;
    browser.type_into(&password, "a sturdy new passphrase").await;
    browser.click(&browser.find("button[type=submit]").await).await;
    browser.wait_for_text("confirm the address").await;
    let mail = server.mail.wait_for("carol@example.com", 1).await.expect("the confirmation arrives");
    let code = mail.text.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6).expect("code").to_owned();
    browser.type_into(&browser.find("#code").await, &code).await;
    browser.click(&browser.find("button[type=submit]").await).await;
    browser.wait_for_url(&callback).await;
    let console = browser.console().await;
    assert!(console.iter().all(|m| !m.contains("Content Security Policy")), "{console:?}");
    let (_, users) =
        server.admin_json(Method::GET, "/tenants/acme/users?username=carol@example.com", None).await.expect("users");
    assert_eq!(users["items"][0]["email_verified"], true, "{users}");
    browser.quit().await;
});

on_every_engine!(a_real_browser_signs_in_by_mailed_code_and_link_and_resets_its_password, |server| {
    let Some(browser) = Browser::start().await else { return };
    let (id, callback) = first_party_app(&server).await;
    let authorize = crate::webdriver::authorize_url(&server, &id, &callback, &[("prompt", "login")]);
    let code_of = |text: &str| text.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6).map(str::to_owned);
    // Asks for a message with `button` (email_code or recovery) after typing alice's name.
    let ask = |button: &'static str| {
        let (browser, authorize, server) = (&browser, authorize.clone(), &server);
        async move {
            browser.go(&authorize).await;
            browser.wait_for_url(&format!("{}/t/acme/login", server.url)).await;
            browser.type_into(&browser.find("#username").await, "alice").await;
            browser.click(&browser.find(&format!("button[value={button}]")).await).await;
            browser.wait_for_text("Check your e-mail").await;
        }
    };

    // A code by mail, typed into the page.
    ask("email_code").await;
    let mail = server.mail.wait_for("alice@example.com", 1).await.expect("the code arrives");
    let code = browser.find("#code").await;
    assert_eq!(browser.attribute(&code, "autocomplete").await.as_deref(), Some("one-time-code"));
    browser.type_into(&code, &code_of(&mail.text).expect("a code")).await;
    browser.click(&browser.find("button[type=submit]").await).await;
    browser.wait_for_url(&callback).await;

    // The link of the next message, opened in the browser that asked.
    ask("email_code").await;
    let mail = server.mail.wait_for("alice@example.com", 2).await.expect("the link arrives");
    let link = mail
        .text
        .split_whitespace()
        .find(|w| w.starts_with(&format!("{}/t/acme/login/link?", server.url)))
        .expect("a link")
        .to_owned();
    browser.go(&link).await;
    browser.wait_for_url(&callback).await;

    // A forgotten password: the mailed code, then a new password; the old one is gone.
    ask("recovery").await;
    let mail = server.mail.wait_for("alice@example.com", 3).await.expect("the reset code arrives");
    browser.type_into(&browser.find("#code").await, &code_of(&mail.text).expect("a code")).await;
    browser.click(&browser.find("button[type=submit]").await).await;
    browser.wait_for_text("Choose a new password").await;
    let new_password = browser.find("#new_password").await;
    assert_eq!(browser.attribute(&new_password, "autocomplete").await.as_deref(), Some("new-password"));
    browser.type_into(&new_password, "a brand new lighthouse keeper").await;
    browser.click(&browser.find("button[type=submit]").await).await;
    browser.wait_for_url(&callback).await;
    browser.go(&authorize).await;
    browser.wait_for_url(&format!("{}/t/acme/login", server.url)).await;
    sign_in(&browser).await;
    browser.wait_for_text("wrong").await;
    browser.type_into(&browser.find("#password").await, "a brand new lighthouse keeper").await;
    browser.click(&browser.find("button[type=submit]").await).await;
    browser.wait_for_url(&callback).await;
    let console = browser.console().await;
    assert!(console.iter().all(|m| !m.contains("Content Security Policy")), "{console:?}");
    browser.quit().await;
});

/// A first-party app of `acme` (no consent) and the callback it redirects to.
async fn first_party_app(server: &portcullis_testkit::TestServer) -> (String, String) {
    let callback = crate::webdriver::callback().await;
    let (id, _) = setup(
        server,
        json!({"client_name": "Browser app", "redirect_uris": [callback], "grant_types": ["authorization_code"], "first_party": true}),
    )
    .await;
    (id, callback)
}

async fn sign_in(browser: &Browser) {
    browser.type_into(&browser.find("#username").await, "alice").await;
    browser.type_into(&browser.find("#password").await, PASSWORD).await;
    browser.click(&browser.find("button[type=submit]").await).await;
}
