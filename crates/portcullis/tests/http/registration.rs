//! Dynamic Client Registration (RFC 7591) and client configuration (RFC 7592): off until an
//! administrator issues an initial access token; a registrant cannot promote itself.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::browser::Browser;
use crate::oidc::{REDIRECT, setup, web_client};
use crate::oidc_errors::{VERIFIER, code_for, exchange};
use crate::on_every_engine;

on_every_engine!(dynamic_registration_with_initial_access_tokens, |server| {
    setup(&server, web_client()).await;
    let register = |token: Option<&str>, body: Value| {
        let mut request = server.raw(Method::POST, "/t/acme/register").json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move {
            let response = request.send().await.expect("send");
            let status = response.status();
            let challenge = response.headers().get("www-authenticate").map(|v| v.to_str().expect("ascii").to_owned());
            (status, challenge, response.json::<Value>().await.expect("json"))
        }
    };
    let app = json!({"client_name": "Partner app", "redirect_uris": [REDIRECT], "grant_types": ["authorization_code", "refresh_token"]});
    // Off by default: nothing registers without an initial access token.
    let (status, challenge, body) = register(None, app.clone()).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_token")));
    assert!(challenge.is_some_and(|c| c.starts_with("Bearer")));
    let (status, _, _) = register(Some("pcr_guess"), app.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let issued: Value = server
        .admin(Method::POST, "/tenants/acme/registration-tokens")
        .json(&json!({"name": "partners", "max_uses": 2}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let initial = issued["initial_access_token"].as_str().unwrap_or_else(|| panic!("{issued}")).to_owned();
    let listed: Value = server
        .admin(Method::GET, "/tenants/acme/registration-tokens")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(listed[0]["uses_left"], 2);
    assert!(!listed.to_string().contains(&initial), "the token is shown once");

    // A registrant may not make itself first-party or grant itself audiences, nor use a bad redirect.
    let (status, _, body) =
        register(Some(&initial), json!({"client_name": "x", "redirect_uris": [REDIRECT], "first_party": true})).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_client_metadata")), "{body}");
    let (_, _, body) =
        register(Some(&initial), json!({"client_name": "x", "redirect_uris": ["http://evil.example/cb"]})).await;
    assert_eq!(body["error"], "invalid_redirect_uri", "{body}");
    let (_, _, body) = register(
        Some(&initial),
        json!({"client_name": "x", "redirect_uris": [REDIRECT], "backchannel_logout_uri": "http://127.0.0.1:5432/"}),
    )
    .await;
    assert_eq!(body["error"], "invalid_client_metadata", "no server-side requests to this host: {body}");
    let (_, _, body) = register(Some(&initial), json!({"client_name": "x", "grant_types": ["password"]})).await;
    assert_eq!(body["error"], "invalid_client_metadata", "{body}");

    let (status, _, client) = register(Some(&initial), app.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{client}");
    let id = client["client_id"].as_str().expect("client_id").to_owned();
    let secret = client["client_secret"].as_str().expect("secret").to_owned();
    let access = client["registration_access_token"].as_str().expect("registration access token").to_owned();
    assert_eq!(client["registration_client_uri"], format!("{}/t/acme/register/{id}", server.url));
    assert_eq!(client["client_secret_expires_at"], 0);

    // The registered client works: a code flow through the pages, with consent (not first-party).
    let mut browser = Browser::new(&server.url);
    let code = code_for(&mut browser, &id, &[]).await;
    let (status, tokens) =
        exchange(&server, &id, &secret, &[("code", &code), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)])
            .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");

    // RFC 7592: read, replace, delete with the registration access token — and only with it.
    let uri = format!("/t/acme/register/{id}");
    let read = server.raw(Method::GET, &uri).bearer_auth(&access).send().await.expect("send");
    assert_eq!(read.status(), StatusCode::OK);
    assert!(read.json::<Value>().await.expect("json").get("client_secret").is_none());
    assert_eq!(
        server.raw(Method::GET, &uri).bearer_auth(&initial).send().await.expect("send").status(),
        StatusCode::UNAUTHORIZED
    );
    let admin_made: Value =
        server.admin(Method::GET, "/tenants/acme/clients").send().await.expect("send").json().await.expect("json");
    let portal = admin_made["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|c| c["client_name"] == "Portal")
        .expect("portal")["client_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let foreign =
        server.raw(Method::GET, &format!("/t/acme/register/{portal}")).bearer_auth(&access).send().await.expect("send");
    assert_eq!(foreign.status(), StatusCode::UNAUTHORIZED, "a client manages itself only");
    let mut replaced = app.clone();
    replaced["client_id"] = json!(id);
    replaced["client_name"] = json!("Partner app v2");
    let updated = server.raw(Method::PUT, &uri).bearer_auth(&access).json(&replaced).send().await.expect("send");
    assert_eq!(updated.status(), StatusCode::OK);
    assert_eq!(updated.json::<Value>().await.expect("json")["client_name"], "Partner app v2");
    replaced["first_party"] = json!(true);
    let promoted = server.raw(Method::PUT, &uri).bearer_auth(&access).json(&replaced).send().await.expect("send");
    assert_eq!(promoted.status(), StatusCode::BAD_REQUEST, "no promotion through RFC 7592 either");

    // max_uses: the second registration is the last.
    let (status, _, _) = register(Some(&initial), app.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _, _) = register(Some(&initial), app.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "used up");

    let deleted = server.raw(Method::DELETE, &uri).bearer_auth(&access).send().await.expect("send");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        server.raw(Method::GET, &uri).bearer_auth(&access).send().await.expect("send").status(),
        StatusCode::UNAUTHORIZED
    );
    let audit: Value = server
        .admin(Method::GET, "/tenants/acme/audit?action=client.create")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let actors: Vec<&str> =
        audit["items"].as_array().expect("items").iter().filter_map(|e| e["actor"].as_str()).collect();
    assert!(actors.iter().any(|a| a.starts_with("registration_token:")), "{actors:?}");
});
