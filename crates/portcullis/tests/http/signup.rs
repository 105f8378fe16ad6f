//! Self-registration in a customer tenant, through the flow API and the hosted pages: the
//! account exists once the code mailed to its address comes back (address verified, the OAuth
//! request resumed); signing up with an address that has an account answers the same, and its
//! owner gets a sign-in code instead; a workforce tenant has no sign-up; without mail the
//! account is made at once, unverified.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::browser::{Browser, field, location, query};
use crate::client_roles::payload;
use crate::flow_api::{start, step};
use crate::oidc::{PASSWORD, REDIRECT, web_client};
use crate::oidc_errors::{VERIFIER, authorize_url, exchange, request};
use crate::on_every_engine;

const NEW_PASSWORD: &str = "a brand new passphrase of mine";

/// A customer tenant `acme` with alice (address not yet verified) and a first-party client.
async fn customer(server: &portcullis_testkit::TestServer) -> (String, String, String) {
    let (status, _) = server
        .admin_json(Method::POST, "/tenants", Some(json!({"name": "acme", "profile": "customer"})))
        .await
        .expect("tenant");
    assert_eq!(status, StatusCode::CREATED);
    let alice =
        json!({"username": "alice", "email": "alice@example.com", "email_verified": false, "password": PASSWORD});
    let (status, alice) = server.admin_json(Method::POST, "/tenants/acme/users", Some(alice)).await.expect("alice");
    assert_eq!(status, StatusCode::CREATED, "{alice}");
    let mut client = web_client();
    client["first_party"] = json!(true);
    let (_, client) = server.admin_json(Method::POST, "/tenants/acme/clients", Some(client)).await.expect("client");
    (
        client["client_id"].as_str().expect("id").to_owned(),
        client["client_secret"].as_str().expect("secret").to_owned(),
        alice["id"].as_str().expect("id").to_owned(),
    )
}

async fn claims_of(server: &portcullis_testkit::TestServer, id: &str, secret: &str, redirect: &str) -> Value {
    assert!(redirect.starts_with(REDIRECT), "{redirect}");
    let code = query(redirect)["code"].clone();
    let form = [("code", code.as_str()), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)];
    let (status, tokens) = exchange(server, id, secret, &form).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    payload(tokens["id_token"].as_str().expect("id token"))
}

fn code_in(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6).expect("a six-digit code").to_owned()
}

on_every_engine!(visitors_sign_up_with_a_confirmed_address, |server| {
    let (id, secret, alice) = customer(&server).await;

    // The flow API: bad input, then a new account confirmed by the mailed code.
    let (flow_id, token, flow) = start(&server, &id).await;
    assert!(flow["methods"].as_array().expect("methods").contains(&json!("register")), "{flow}");
    for (bad, what) in [
        (json!({"method": "register", "email": "not-an-address", "password": NEW_PASSWORD}), "email"),
        (json!({"method": "register", "email": "new@example.com", "password": "short"}), "password"),
        (json!({"method": "register", "email": "new@example.com", "password": "password123"}), "common password"),
    ] {
        let (status, body, _) = step(&server, &flow_id, &token, bad).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_value")), "{what}: {body}");
    }
    let signup =
        json!({"method": "register", "email": "New@Example.com", "password": NEW_PASSWORD, "name": "New Person"});
    let (status, body, _) = step(&server, &flow_id, &token, signup).await;
    assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("email_code")), "{body}");
    let mail = server.mail.wait_for("New@Example.com", 1).await.expect("the confirmation arrives");
    assert!(mail.subject.starts_with("Confirm your e-mail address"), "{mail:?}");
    let (_, users) = server.admin_json(Method::GET, "/tenants/acme/users?limit=10", None).await.expect("users");
    assert_eq!(users["items"].as_array().map(Vec::len), Some(1), "no account before the address is confirmed");
    let (status, body, _) = step(&server, &flow_id, &token, json!({"method": "code", "code": "000000"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_code")), "{body}");
    let (status, body, _) =
        step(&server, &flow_id, &token, json!({"method": "code", "code": code_in(&mail.text)})).await;
    assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("complete")), "{body}");
    let claims = claims_of(&server, &id, &secret, body["redirect_to"].as_str().expect("redirect")).await;
    assert_eq!((claims["acr"].as_str(), claims["amr"].clone()), (Some("1"), json!(["pwd"])));
    let (_, users) =
        server.admin_json(Method::GET, "/tenants/acme/users?username=New@Example.com", None).await.expect("users");
    let user = &users["items"][0];
    assert_eq!(
        (user["email"].as_str(), user["email_verified"].as_bool()),
        (Some("New@Example.com"), Some(true)),
        "{users}"
    );
    assert_eq!(user["name"], "New Person");
    assert_eq!(claims["sub"], user["id"]);

    // The new account signs in with its password.
    let (flow_id, token, _) = start(&server, &id).await;
    let login = json!({"method": "password", "identifier": "new@example.com", "password": NEW_PASSWORD});
    let (status, body, _) = step(&server, &flow_id, &token, login).await;
    assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("complete")), "{body}");

    // An address with an account: the same answer; its owner gets a sign-in code, and nothing
    // of the account changes but that the address is now proved.
    let (flow_id, token, _) = start(&server, &id).await;
    let taken = json!({"method": "register", "email": "alice@example.com", "password": NEW_PASSWORD});
    let (status, body, _) = step(&server, &flow_id, &token, taken).await;
    assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("email_code")), "{body}");
    let mail = server.mail.wait_for("alice@example.com", 1).await.expect("a sign-in code arrives");
    assert!(mail.subject.starts_with("Your sign-in code"), "{mail:?}");
    let (status, body, _) =
        step(&server, &flow_id, &token, json!({"method": "code", "code": code_in(&mail.text)})).await;
    assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("complete")), "{body}");
    let claims = claims_of(&server, &id, &secret, body["redirect_to"].as_str().expect("redirect")).await;
    assert_eq!((claims["sub"].as_str(), claims["amr"].clone()), (Some(alice.as_str()), json!(["email"])));
    let (_, account) =
        server.admin_json(Method::GET, &format!("/tenants/acme/users/{alice}"), None).await.expect("get");
    assert_eq!(account["email_verified"], true, "the code proved the address: {account}");
    let (flow_id, token, _) = start(&server, &id).await;
    let old = json!({"method": "password", "identifier": "alice", "password": PASSWORD});
    let (status, body, _) = step(&server, &flow_id, &token, old).await;
    assert_eq!(
        (status, body["step"].as_str()),
        (StatusCode::OK, Some("complete")),
        "her password is unchanged: {body}"
    );

    // The pages: a link on the sign-in page, a form with the password manager's values.
    let mut browser = Browser::new(&server.url);
    let to_login = location(&browser.get(&authorize_url(&request(&id, &[]))).await);
    let html = browser.get(&to_login).await.text().await.expect("html").replace("&#x2f;", "/");
    let to_register = html
        .split(r#"<a href=""#)
        .filter_map(|rest| rest.split('"').next())
        .find(|href| href.contains("/login/register"))
        .expect("a sign-up link")
        .replace("&amp;", "&");
    let html = browser.get(&to_register).await.text().await.expect("html");
    assert!(html.contains(r#"autocomplete="email""#) && html.contains(r#"autocomplete="new-password""#), "{html}");
    let (flow, csrf) = (field(&html, "flow"), field(&html, "csrf_token"));
    let form = [
        ("flow", flow.as_str()),
        ("csrf_token", csrf.as_str()),
        ("method", "register"),
        ("email", "page@example.com"),
        ("name", ""),
        ("new_password", "short"),
    ];
    let weak = browser.post("/t/acme/login", &form).await;
    assert_eq!(weak.status(), StatusCode::BAD_REQUEST);
    assert!(weak.text().await.expect("html").contains("page@example.com"), "the form keeps what was typed");
    let mut form = form;
    form[5].1 = NEW_PASSWORD;
    let answer = browser.post("/t/acme/login", &form).await;
    assert_eq!(location(&answer), to_login, "the same flow, now at the code");
    let html = browser.get(&to_login).await.text().await.expect("html");
    assert!(html.contains("confirm the address"), "{html}");
    let mail = server.mail.wait_for("page@example.com", 1).await.expect("arrives");
    let done =
        browser.post("/t/acme/login", &[("flow", &flow), ("csrf_token", &csrf), ("code", &code_in(&mail.text))]).await;
    let claims = claims_of(&server, &id, &secret, &location(&done)).await;
    assert_eq!(claims["email"], "page@example.com");

    let (_, audit) =
        server.admin_json(Method::GET, "/tenants/acme/audit?action=user.register", None).await.expect("audit");
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(2), "{audit}");
});

on_every_engine!(a_workforce_tenant_has_no_sign_up, |server| {
    let (id, _) = crate::oidc::setup(&server, web_client()).await;
    let (flow_id, token, flow) = start(&server, &id).await;
    assert!(!flow["methods"].as_array().expect("methods").contains(&json!("register")), "{flow}");
    let signup = json!({"method": "register", "email": "new@example.com", "password": NEW_PASSWORD});
    let (status, body, _) = step(&server, &flow_id, &token, signup).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_method")), "{body}");
    let mut browser = Browser::new(&server.url);
    let to_login = location(&browser.get(&authorize_url(&request(&id, &[]))).await);
    let html = browser.get(&to_login).await.text().await.expect("html");
    assert!(!html.contains("/login/register"), "no sign-up link");
    let flow = field(&html, "flow");
    let closed = browser.get(&format!("/t/acme/login/register?flow={flow}")).await;
    assert_eq!(closed.status(), StatusCode::NOT_FOUND);
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_mail_the_account_is_made_at_once_unverified() {
    let server =
        portcullis_testkit::TestServer::start_with(portcullis_testkit::Engine::Sqlite, "127.0.0.1", |config, _| {
            config.smtp_url = None;
        })
        .await
        .expect("server starts");
    let (id, _, _) = customer(&server).await;
    let (flow_id, token, _) = start(&server, &id).await;
    let signup = json!({"method": "register", "email": "new@example.com", "password": NEW_PASSWORD});
    let (status, body, _) = step(&server, &flow_id, &token, signup.clone()).await;
    assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("complete")), "{body}");
    let (_, users) =
        server.admin_json(Method::GET, "/tenants/acme/users?username=new@example.com", None).await.expect("users");
    assert_eq!(users["items"][0]["email_verified"], false, "{users}");
    let (flow_id, token, _) = start(&server, &id).await;
    let (status, _, _) = step(&server, &flow_id, &token, signup).await;
    assert_eq!(status, StatusCode::CONFLICT, "without mail, a taken address cannot be hidden");
    server.stop().await.expect("stops");
}
