//! The JSON flow API as a native app drives it: start a flow for an authorization request,
//! pass each step by JSON (password, enrolling an authenticator an administrator required,
//! consent), get the redirect with the code and redeem it with PKCE; the error paths answer
//! with typed problems; an administrator lists and resets the user's second factors.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::browser::query;
use crate::client_roles::payload;
use crate::mfa::app_code;
use crate::oidc::{PASSWORD, REDIRECT, setup, web_client};
use crate::oidc_errors::{VERIFIER, exchange};
use crate::on_every_engine;

const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

pub fn authorization(client_id: &str) -> Value {
    json!({
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
        "scope": "openid email", "state": "s-api", "nonce": "n-api",
        "code_challenge": CHALLENGE, "code_challenge_method": "S256"
    })
}

/// Starts a flow; returns its id and token.
pub async fn start(server: &portcullis_testkit::TestServer, client_id: &str) -> (String, String, Value) {
    start_for(server, &authorization(client_id)).await
}

/// Starts a flow for the authorization `request`; returns its id and token.
pub async fn start_for(server: &portcullis_testkit::TestServer, request: &Value) -> (String, String, Value) {
    let answer = server.raw(Method::POST, "/t/acme/flows/login").json(request).send().await.expect("send");
    assert_eq!(answer.status(), StatusCode::CREATED);
    assert_eq!(answer.headers()["cache-control"], "no-store");
    let flow: Value = answer.json().await.expect("json");
    let id = flow["id"].as_str().expect("id").to_owned();
    (id, flow["flow_token"].as_str().expect("token").to_owned(), flow)
}

pub async fn step(
    server: &portcullis_testkit::TestServer,
    id: &str,
    token: &str,
    body: Value,
) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let answer = server
        .raw(Method::POST, &format!("/t/acme/flows/{id}"))
        .header("Portcullis-Flow-Token", token)
        .json(&body)
        .send()
        .await
        .expect("send");
    let (status, headers) = (answer.status(), answer.headers().clone());
    (status, answer.json().await.expect("json"), headers)
}

on_every_engine!(a_native_app_logs_in_through_the_flow_api, |server| {
    let (id, secret) = setup(&server, web_client()).await;
    let alice = crate::oidc::user_id(&server, "alice").await;
    let path = format!("/tenants/acme/users/{alice}/requirements/enrol_mfa");
    let (status, _) = server.admin_json(Method::PUT, &path, None).await.expect("require");
    assert_eq!(status, StatusCode::NO_CONTENT);

    // Bad starts.
    let bad = server
        .raw(Method::POST, "/t/acme/flows/login")
        .json(&json!({"client_id": id, "redirect_uri": "https://evil.example/cb", "response_type": "code"}))
        .send()
        .await
        .expect("send");
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_eq!(bad.headers()["content-type"], "application/problem+json");
    let malformed = server
        .raw(Method::POST, "/t/acme/flows/login")
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .expect("send");
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);

    let (flow_id, token, flow) = start(&server, &id).await;
    assert_eq!(
        (flow["step"].as_str(), flow["methods"].clone()),
        (Some("authenticate"), json!(["password", "email_code", "recovery"]))
    );
    assert_eq!(flow["client"]["client_name"], "Portal");

    // The flow answers only its token.
    let url = format!("/t/acme/flows/{flow_id}");
    assert_eq!(server.raw(Method::GET, &url).send().await.expect("send").status(), StatusCode::UNAUTHORIZED);
    let stolen = server.raw(Method::GET, &url).header("Portcullis-Flow-Token", "pcf_guess").send().await.expect("send");
    assert_eq!(stolen.status(), StatusCode::GONE);
    let shown = server.raw(Method::GET, &url).header("Portcullis-Flow-Token", &token).send().await.expect("send");
    assert_eq!(shown.status(), StatusCode::OK);
    assert!(shown.json::<Value>().await.expect("json").get("flow_token").is_none(), "the token is shown once");

    // Wrong method, wrong password, unknown fields.
    let (status, body, _) = step(&server, &flow_id, &token, json!({"method": "totp", "code": "123456"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_method")), "{body}");
    let (status, body, _) =
        step(&server, &flow_id, &token, json!({"method": "password", "identifier": "alice", "password": "nope"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_credentials")), "{body}");
    assert_eq!(body["flow"]["step"], "authenticate");
    let (status, _, _) = step(
        &server,
        &flow_id,
        &token,
        json!({"method": "password", "identifier": "alice", "password": PASSWORD, "extra": 1}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The password, then the enrolment the administrator required.
    let (status, body, _) =
        step(&server, &flow_id, &token, json!({"method": "password", "identifier": "alice", "password": PASSWORD}))
            .await;
    assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("enrol_mfa")), "{body}");
    let uri = body["totp"]["otpauth_uri"].as_str().expect("uri").to_owned();
    assert!(uri.starts_with("otpauth://totp/") && body["totp"]["qr_svg"].as_str().is_some_and(|s| s.contains("<svg")));
    let (status, body, _) = step(&server, &flow_id, &token, json!({"method": "enrol_totp", "code": "000000"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_code")), "{body}");
    let (status, body, headers) =
        step(&server, &flow_id, &token, json!({"method": "enrol_totp", "code": app_code(&uri, 0), "name": "Phone"}))
            .await;
    assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("consent")), "{body}");
    assert_eq!(body["recovery_codes"].as_array().map(Vec::len), Some(10));
    assert_eq!(body["scope"], json!(["openid", "email"]));
    assert!(headers.get("set-cookie").is_some(), "an SSO session for a single-page app on the issuer's site");

    let (status, body, _) = step(&server, &flow_id, &token, json!({"method": "consent", "decision": "allow"})).await;
    assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("complete")), "{body}");
    let redirect = body["redirect_to"].as_str().expect("redirect").to_owned();
    assert!(redirect.starts_with(REDIRECT), "{redirect}");
    let params = query(&redirect);
    assert_eq!(params["state"], "s-api");
    let form = [("code", params["code"].as_str()), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)];
    let (status, tokens) = exchange(&server, &id, &secret, &form).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let claims = payload(tokens["id_token"].as_str().expect("id token"));
    assert_eq!((claims["acr"].as_str(), claims["amr"].clone()), (Some("2"), json!(["pwd", "otp", "mfa"])));
    assert_eq!(claims["nonce"], "n-api");
    let ended = server.raw(Method::GET, &url).header("Portcullis-Flow-Token", &token).send().await.expect("send");
    assert_eq!(ended.status(), StatusCode::GONE, "the flow ends with its code");

    // The requirement is met; the administrator sees the second factors and resets them.
    let (_, requirements) =
        server.admin_json(Method::GET, &format!("/tenants/acme/users/{alice}/requirements"), None).await.expect("list");
    assert_eq!(requirements, json!([]));
    let (_, credentials) =
        server.admin_json(Method::GET, &format!("/tenants/acme/users/{alice}/credentials"), None).await.expect("list");
    let kinds: Vec<&str> = credentials.as_array().expect("list").iter().filter_map(|c| c["kind"].as_str()).collect();
    assert_eq!(kinds, ["totp", "recovery_codes"], "{credentials}");
    assert_eq!(credentials[0]["name"], "Phone");
    assert_eq!(credentials[1]["remaining"], 10);
    assert!(credentials.to_string().find("secret").is_none(), "never the seed");

    // A new flow asks for the code; five wrong ones end it; ten over all flows (the wrong
    // enrolment code counted too) make the user wait, even with the right code.
    let (flow_id, token, _) = start(&server, &id).await;
    let (_, body, _) =
        step(&server, &flow_id, &token, json!({"method": "password", "identifier": "alice", "password": PASSWORD}))
            .await;
    assert_eq!(body["step"], "second_factor", "{body}");
    assert_eq!(body["methods"], json!(["totp", "recovery_code"]));
    for attempt in 1..=5 {
        let (status, body, _) = step(&server, &flow_id, &token, json!({"method": "totp", "code": "000000"})).await;
        let expected = if attempt < 5 {
            (StatusCode::BAD_REQUEST, "invalid_code")
        } else {
            (StatusCode::GONE, "too_many_attempts")
        };
        assert_eq!((status, body["code"].as_str().unwrap_or_default()), expected, "attempt {attempt}: {body}");
    }
    let (flow_id, token, _) = start(&server, &id).await;
    step(&server, &flow_id, &token, json!({"method": "password", "identifier": "alice", "password": PASSWORD})).await;
    for _ in 0..4 {
        step(&server, &flow_id, &token, json!({"method": "totp", "code": "000000"})).await;
    }
    let (status, body, headers) =
        step(&server, &flow_id, &token, json!({"method": "totp", "code": app_code(&uri, 1)})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("throttled")), "{body}");
    assert!(headers.get("retry-after").is_some());

    let (status, reset) = server
        .admin_json(Method::POST, &format!("/tenants/acme/users/{alice}/mfa:reset"), Some(json!({})))
        .await
        .expect("reset");
    assert_eq!((status, reset["removed"].as_u64()), (StatusCode::OK, Some(2)), "{reset}");
    let (_, credentials) =
        server.admin_json(Method::GET, &format!("/tenants/acme/users/{alice}/credentials"), None).await.expect("list");
    assert_eq!(credentials, json!([]));
});

on_every_engine!(an_administrator_requires_a_new_password_and_mfa_by_policy, |server| {
    let (id, _) = setup(&server, web_client()).await;
    let alice = crate::oidc::user_id(&server, "alice").await;
    let (status, policy) = server.admin_json(Method::GET, "/tenants/acme/auth-policy", None).await.expect("policy");
    assert_eq!((status, policy["mfa"].as_str()), (StatusCode::OK, Some("optional")));
    let (status, _) = server
        .admin_json(Method::PUT, "/tenants/acme/auth-policy", Some(json!({"mfa": "sometimes"})))
        .await
        .expect("put");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let path = format!("/tenants/acme/users/{alice}/requirements/change_password");
    server.admin_json(Method::PUT, &path, None).await.expect("require");
    let (status, _) = server
        .admin_json(Method::PUT, &format!("/tenants/acme/users/{alice}/requirements/nonsense"), None)
        .await
        .expect("put");
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (flow_id, token, _) = start(&server, &id).await;
    let (_, body, _) =
        step(&server, &flow_id, &token, json!({"method": "password", "identifier": "alice", "password": PASSWORD}))
            .await;
    assert_eq!(body["step"], "change_password", "{body}");
    let (status, body, _) =
        step(&server, &flow_id, &token, json!({"method": "new_password", "password": "password123"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_value")), "{body}");
    let (status, body, _) =
        step(&server, &flow_id, &token, json!({"method": "new_password", "password": PASSWORD})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "not the current one: {body}");
    let (status, body, _) =
        step(&server, &flow_id, &token, json!({"method": "new_password", "password": "saffron lighthouse wanders"}))
            .await;
    assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("consent")), "{body}");

    // MFA required by policy: a user without a second factor enrols during the login.
    let (status, _) = server
        .admin_json(Method::PUT, "/tenants/acme/auth-policy", Some(json!({"mfa": "required"})))
        .await
        .expect("put");
    assert_eq!(status, StatusCode::OK);
    let (flow_id, token, _) = start(&server, &id).await;
    let (_, body, _) = step(
        &server,
        &flow_id,
        &token,
        json!({"method": "password", "identifier": "alice", "password": "saffron lighthouse wanders"}),
    )
    .await;
    assert_eq!(body["step"], "enrol_mfa", "{body}");
});

/// Signs alice in through the flow API with her password; returns the access token.
pub async fn access_token_of(server: &portcullis_testkit::TestServer, id: &str, secret: &str) -> String {
    let (flow_id, token, _) = start(server, id).await;
    let (_, mut body, _) =
        step(server, &flow_id, &token, json!({"method": "password", "identifier": "alice", "password": PASSWORD}))
            .await;
    if body["step"] == "consent" {
        body = step(server, &flow_id, &token, json!({"method": "consent", "decision": "allow"})).await.1;
    }
    let redirect = body["redirect_to"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned();
    let params = query(&redirect);
    let form = [("code", params["code"].as_str()), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)];
    let (status, tokens) = exchange(server, id, secret, &form).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    tokens["access_token"].as_str().expect("access token").to_owned()
}

pub async fn start_settings(server: &portcullis_testkit::TestServer, access_token: Option<&str>) -> reqwest::Response {
    let mut request = server.raw(Method::POST, "/t/acme/flows/settings");
    if let Some(access_token) = access_token {
        request = request.bearer_auth(access_token);
    }
    request.send().await.expect("send")
}

on_every_engine!(a_first_party_app_adds_second_factors_through_the_settings_api, |server| {
    let mut first_party = web_client();
    first_party["first_party"] = json!(true);
    let (id, secret) = setup(&server, first_party).await;
    let (other, other_secret) = {
        let answer: Value = server
            .admin(Method::POST, "/tenants/acme/clients")
            .json(&web_client())
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("json");
        (answer["client_id"].as_str().expect("id").to_owned(), answer["client_secret"].as_str().expect("s").to_owned())
    };

    // Only the user's own token of a first-party app opens a settings flow.
    let anonymous = start_settings(&server, None).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(anonymous.headers()["www-authenticate"].to_str().expect("ascii").starts_with("Bearer"));
    assert_eq!(start_settings(&server, Some("not-a-token")).await.status(), StatusCode::UNAUTHORIZED);
    let third_party = access_token_of(&server, &other, &other_secret).await;
    let refused = start_settings(&server, Some(&third_party)).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(refused.json::<Value>().await.expect("json")["code"], "first_party_only");

    // An authenticator app: the enrolment is in the flow; a wrong code counts; the right one
    // ends the flow with the recovery codes.
    let access = access_token_of(&server, &id, &secret).await;
    let answer = start_settings(&server, Some(&access)).await;
    assert_eq!(answer.status(), StatusCode::CREATED);
    let flow: Value = answer.json().await.expect("json");
    assert_eq!((flow["kind"].as_str(), flow["step"].as_str()), (Some("settings"), Some("settings")), "{flow}");
    assert_eq!(flow["methods"], json!(["enrol_totp", "add_sms"]), "no passkeys on an IP address");
    let (flow_id, token) = (flow["id"].as_str().expect("id"), flow["flow_token"].as_str().expect("token"));
    let uri = flow["totp"]["otpauth_uri"].as_str().expect("uri").to_owned();
    let (status, body, _) = step(&server, flow_id, token, json!({"method": "enrol_totp", "code": "000000"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_code")), "{body}");
    let (status, body, _) =
        step(&server, flow_id, token, json!({"method": "enrol_totp", "code": app_code(&uri, 0), "name": "App"})).await;
    assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("complete")), "{body}");
    assert_eq!(body["recovery_codes"].as_array().map(Vec::len), Some(10));
    let (status, _, _) =
        step(&server, flow_id, token, json!({"method": "enrol_totp", "code": app_code(&uri, 1)})).await;
    assert_eq!(status, StatusCode::GONE, "the flow ended with the enrolment");

    // A mobile number: texted a code, confirmed with it.
    let flow: Value = start_settings(&server, Some(&access)).await.json().await.expect("json");
    let (flow_id, token) = (flow["id"].as_str().expect("id"), flow["flow_token"].as_str().expect("token"));
    let (status, body, _) = step(&server, flow_id, token, json!({"method": "add_sms", "number": "12345"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_value")), "{body}");
    let (status, body, _) =
        step(&server, flow_id, token, json!({"method": "add_sms", "number": "+1 415 555 0100"})).await;
    assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("settings")), "{body}");
    assert!(body["methods"].as_array().expect("methods").contains(&json!("code")), "{body}");
    let sms = server.sms.wait_for("+14155550100", 1).await.expect("the code arrives");
    let (status, body, _) = step(&server, flow_id, token, json!({"method": "code", "code": sms.code()})).await;
    assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("complete")), "{body}");
    assert!(body.get("recovery_codes").is_none(), "she has them already: {body}");

    // The next login offers both.
    let (flow_id, token, _) = start(&server, &id).await;
    let (_, body, _) =
        step(&server, &flow_id, &token, json!({"method": "password", "identifier": "alice", "password": PASSWORD}))
            .await;
    assert_eq!(
        (body["step"].as_str(), body["methods"].clone()),
        (Some("second_factor"), json!(["totp", "sms", "recovery_code"]))
    );
    // The app's next code completes it, and the first-party request ends in its code in that
    // same step; the flow is gone after it.
    let (status, body, _) = step(&server, &flow_id, &token, json!({"method": "totp", "code": app_code(&uri, 1)})).await;
    assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("complete")), "{body}");
    let params = query(body["redirect_to"].as_str().unwrap_or_else(|| panic!("{body}")));
    let form = [("code", params["code"].as_str()), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)];
    let (status, tokens) = exchange(&server, &id, &secret, &form).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let claims = crate::client_roles::payload(tokens["id_token"].as_str().expect("id token"));
    assert_eq!((claims["acr"].as_str(), claims["amr"].clone()), (Some("2"), json!(["pwd", "otp", "mfa"])));
    let (status, _, _) = step(&server, &flow_id, &token, json!({"method": "totp", "code": app_code(&uri, 0)})).await;
    assert_eq!(status, StatusCode::GONE);
});

on_every_engine!(the_policy_names_the_methods_a_tenant_allows, |server| {
    let (id, _) = setup(&server, web_client()).await;
    let policy = json!({"mfa": "optional", "first_factors": ["password"], "second_factors": ["sms"]});
    let (status, shown) = server.admin_json(Method::PUT, "/tenants/acme/auth-policy", Some(policy)).await.expect("put");
    assert_eq!(status, StatusCode::OK, "{shown}");
    let bad = json!({"mfa": "optional", "first_factors": ["carrier_pigeon"]});
    let (status, _) = server.admin_json(Method::PUT, "/tenants/acme/auth-policy", Some(bad)).await.expect("put");
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Only the password is offered and taken; codes by e-mail are refused even when forged.
    let (flow_id, token, flow) = start(&server, &id).await;
    assert_eq!(flow["methods"], json!(["password", "recovery"]), "{flow}");
    let (status, body, _) =
        step(&server, &flow_id, &token, json!({"method": "email_code", "identifier": "alice"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_method")), "{body}");
    let mut browser = crate::browser::Browser::new(&server.url);
    let to_login = crate::browser::location(
        &browser.get(&crate::oidc_errors::authorize_url(&crate::oidc_errors::request(&id, &[]))).await,
    );
    let html = browser.get(&to_login).await.text().await.expect("html");
    assert!(!html.contains(r#"value="email_code""#), "not offered: {html}");
    let (flow, csrf) = (crate::browser::field(&html, "flow"), crate::browser::field(&html, "csrf_token"));
    let forged = browser
        .post(
            "/t/acme/login",
            &[("flow", &flow), ("csrf_token", &csrf), ("method", "email_code"), ("username", "alice")],
        )
        .await;
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    assert!(forged.text().await.expect("html").contains("does not allow"));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(server.mail.all().is_empty(), "no mail went out");

    // Settings offer only the second factors allowed: no authenticator app here.
    let mut first_party = web_client();
    first_party["first_party"] = json!(true);
    let (_, client) =
        server.admin_json(Method::POST, "/tenants/acme/clients", Some(first_party)).await.expect("client");
    let (cid, csecret) = (client["client_id"].as_str().expect("id"), client["client_secret"].as_str().expect("s"));
    let access = access_token_of(&server, cid, csecret).await;
    let flow: Value = start_settings(&server, Some(&access)).await.json().await.expect("json");
    assert_eq!(flow["methods"], json!(["add_sms"]), "{flow}");
    let (flow_id, token) = (flow["id"].as_str().expect("id"), flow["flow_token"].as_str().expect("token"));
    let uri = flow["totp"]["otpauth_uri"].as_str().expect("uri").to_owned();
    let (status, body, _) =
        step(&server, flow_id, token, json!({"method": "enrol_totp", "code": app_code(&uri, 0)})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_method")), "{body}");
});

on_every_engine!(a_client_narrows_the_methods_that_sign_in_to_it, |server| {
    let (_, _) = setup(&server, web_client()).await;
    let mut narrow = web_client();
    narrow["first_factors"] = json!(["email_code"]);
    let (status, client) =
        server.admin_json(Method::POST, "/tenants/acme/clients", Some(narrow)).await.expect("client");
    assert_eq!(status, StatusCode::CREATED, "{client}");
    assert_eq!(client["first_factors"], json!(["email_code"]));
    let id = client["client_id"].as_str().expect("id").to_owned();
    let (flow_id, token, flow) = start(&server, &id).await;
    assert_eq!(flow["methods"], json!(["email_code"]), "{flow}");
    let password = json!({"method": "password", "identifier": "alice", "password": PASSWORD});
    let (status, body, _) = step(&server, &flow_id, &token, password).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_method")), "{body}");
    let mut browser = crate::browser::Browser::new(&server.url);
    let to_login = crate::browser::location(
        &browser.get(&crate::oidc_errors::authorize_url(&crate::oidc_errors::request(&id, &[]))).await,
    );
    let html = browser.get(&to_login).await.text().await.expect("html");
    assert!(!html.contains(r#"name="password""#) && html.contains(r#"value="email_code""#), "{html}");
    let (flow, csrf) = (crate::browser::field(&html, "flow"), crate::browser::field(&html, "csrf_token"));
    let forged = browser
        .post("/t/acme/login", &[("flow", &flow), ("csrf_token", &csrf), ("username", "alice"), ("password", PASSWORD)])
        .await;
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST, "a password is refused even when posted");
    let (status, body, _) =
        step(&server, &flow_id, &token, json!({"method": "email_code", "identifier": "alice"})).await;
    assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("email_code")), "{body}");
});
