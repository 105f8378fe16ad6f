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

fn authorization(client_id: &str) -> Value {
    json!({
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
        "scope": "openid email", "state": "s-api", "nonce": "n-api",
        "code_challenge": CHALLENGE, "code_challenge_method": "S256"
    })
}

/// Starts a flow; returns its id and token.
pub async fn start(server: &portcullis_testkit::TestServer, client_id: &str) -> (String, String, Value) {
    let answer =
        server.raw(Method::POST, "/t/acme/flows/login").json(&authorization(client_id)).send().await.expect("send");
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
    let (_, users) = server.admin_json(Method::GET, "/tenants/acme/users?username=alice", None).await.expect("users");
    let alice = users["items"][0]["id"].as_str().expect("id").to_owned();
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
    assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("enrol_totp")), "{body}");
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
    let (_, users) = server.admin_json(Method::GET, "/tenants/acme/users?username=alice", None).await.expect("users");
    let alice = users["items"][0]["id"].as_str().expect("id").to_owned();
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
    assert_eq!(body["step"], "enrol_totp", "{body}");
});
