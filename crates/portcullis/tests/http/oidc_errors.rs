//! The error paths of the authorization, token, userinfo, revocation and logout endpoints over
//! raw HTTP (RFC 6749 §4.1.2.1, §5.2; OIDC Core §3.1.2.6; RFC 6750 §3.1): each error in the
//! place the specifications put it, and nothing issued by a refused request.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::browser::{Browser, field, location, query};
use crate::oidc::{PASSWORD, REDIRECT, consent, http, log_in, setup, web_client};
use crate::on_every_engine;

/// RFC 7636 Appendix B.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// Where an error must land.
#[derive(Debug)]
enum Expect {
    /// An error page with this status, and no redirect anywhere.
    Page(u16),
    /// A redirect to the client with this `error`, the request's `state` and `iss`.
    Redirect(&'static str),
}

/// A named authorization request and where its error must land.
type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Expect);
/// A named token request: client, secret, form, and the status and error it must get.
type TokenCase<'a> = (&'a str, &'a str, &'a str, Vec<(&'a str, &'a str)>, StatusCode, &'a str);

pub fn authorize_url(pairs: &[(&str, &str)]) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    format!("/t/acme/authorize?{query}")
}

/// The standard request of client `id`, with `changes` applied: `Some` sets, `None` removes,
/// and a name starting with `+` appends a repeat.
pub fn request<'a>(id: &'a str, changes: &[(&'a str, Option<&'a str>)]) -> Vec<(&'a str, &'a str)> {
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", id),
        ("redirect_uri", REDIRECT),
        ("scope", "openid email"),
        ("state", "s-123"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    for (name, value) in changes {
        if let Some(repeat) = name.strip_prefix('+') {
            pairs.push((repeat, value.unwrap_or_default()));
            continue;
        }
        pairs.retain(|(k, _)| k != name);
        if let Some(value) = value {
            pairs.push((name, value));
        }
    }
    pairs
}

on_every_engine!(authorization_errors_go_where_the_specs_say, |server| {
    let (web, _) = setup(&server, web_client()).await;
    let spa: Value = server
        .admin(Method::POST, "/tenants/acme/clients")
        .json(&json!({"client_name": "SPA", "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let spa = spa["client_id"].as_str().expect("id").to_owned();
    let machine: Value = server
        .admin(Method::POST, "/tenants/acme/clients")
        .json(&json!({"client_name": "Batch", "grant_types": ["client_credentials"], "redirect_uris": [REDIRECT]}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let machine = machine["client_id"].as_str().expect("id").to_owned();
    let legacy: Value = server
        .admin(Method::POST, "/tenants/acme/clients")
        .json(&json!({"client_name": "Legacy", "redirect_uris": [REDIRECT], "require_pkce": false}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let (legacy, legacy_secret) = (
        legacy["client_id"].as_str().expect("id").to_owned(),
        legacy["client_secret"].as_str().expect("secret").to_owned(),
    );

    let cases: Vec<Case> = vec![
        ("no client_id", request(&web, &[("client_id", None)]), Expect::Page(400)),
        ("unknown client", request(&web, &[("client_id", Some("nobody"))]), Expect::Page(400)),
        (
            "unregistered redirect_uri",
            request(&web, &[("redirect_uri", Some("https://evil.example/cb"))]),
            Expect::Page(400),
        ),
        (
            "redirect_uri with a different path",
            request(&web, &[("redirect_uri", Some("https://app.example.com/cb/x"))]),
            Expect::Page(400),
        ),
        ("no redirect_uri for openid", request(&web, &[("redirect_uri", None)]), Expect::Page(400)),
        ("repeated client_id", request(&web, &[("+client_id", Some("other"))]), Expect::Page(400)),
        ("no response_type", request(&web, &[("response_type", None)]), Expect::Redirect("invalid_request")),
        (
            "implicit response_type",
            request(&web, &[("response_type", Some("token"))]),
            Expect::Redirect("unsupported_response_type"),
        ),
        (
            "access token in the front channel",
            request(&web, &[("response_type", Some("code token"))]),
            Expect::Redirect("unsupported_response_type"),
        ),
        ("unknown scope", request(&web, &[("scope", Some("openid admin:all"))]), Expect::Redirect("invalid_scope")),
        ("malformed scope", request(&web, &[("scope", Some("openid \"x\""))]), Expect::Redirect("invalid_scope")),
        (
            "public client without PKCE",
            request(&spa, &[("code_challenge", None), ("code_challenge_method", None)]),
            Expect::Redirect("invalid_request"),
        ),
        (
            "confidential client without PKCE",
            request(&web, &[("code_challenge", None), ("code_challenge_method", None)]),
            Expect::Redirect("invalid_request"),
        ),
        ("plain PKCE", request(&web, &[("code_challenge_method", Some("plain"))]), Expect::Redirect("invalid_request")),
        (
            "short code_challenge",
            request(&web, &[("code_challenge", Some("abc"))]),
            Expect::Redirect("invalid_request"),
        ),
        (
            "prompt=none without a session",
            request(&web, &[("prompt", Some("none"))]),
            Expect::Redirect("login_required"),
        ),
        (
            "prompt=none with login",
            request(&web, &[("prompt", Some("none login"))]),
            Expect::Redirect("invalid_request"),
        ),
        ("unknown prompt", request(&web, &[("prompt", Some("always"))]), Expect::Redirect("invalid_request")),
        ("repeated scope", request(&web, &[("+scope", Some("email"))]), Expect::Redirect("invalid_request")),
        (
            "request object",
            request(&web, &[("request", Some("eyJhbGciOiJub25lIn0.e30."))]),
            Expect::Redirect("request_not_supported"),
        ),
        (
            "unknown request_uri",
            request(&web, &[("request_uri", Some("urn:ietf:params:oauth:request_uri:nope"))]),
            Expect::Page(400),
        ),
        ("JARM response_mode", request(&web, &[("response_mode", Some("jwt"))]), Expect::Redirect("invalid_request")),
        ("negative max_age", request(&web, &[("max_age", Some("-1"))]), Expect::Redirect("invalid_request")),
        ("claims not JSON", request(&web, &[("claims", Some("{oops"))]), Expect::Redirect("invalid_request")),
        (
            "resource not allowed",
            request(&web, &[("resource", Some("https://api.example.com"))]),
            Expect::Redirect("invalid_target"),
        ),
        ("client without the code grant", request(&machine, &[]), Expect::Redirect("unauthorized_client")),
        (
            "forged id_token_hint",
            request(&web, &[("id_token_hint", Some("eyJhbGciOiJSUzI1NiJ9.e30.c2ln"))]),
            Expect::Redirect("invalid_request"),
        ),
    ];
    let mut browser = Browser::new(&server.url);
    for (name, pairs, expect) in cases {
        let response = browser.get(&authorize_url(&pairs)).await;
        match expect {
            Expect::Page(status) => {
                assert_eq!(response.status().as_u16(), status, "{name}");
                assert!(response.headers().get("location").is_none(), "{name}: never redirect to an untrusted URI");
                let html = response.text().await.expect("html");
                assert!(html.contains("Error code"), "{name}: {html}");
            }
            Expect::Redirect(error) => {
                let target = location(&response);
                assert!(target.starts_with(REDIRECT), "{name}: {target}");
                let params = query(&target);
                assert_eq!(params.get("error").map(String::as_str), Some(error), "{name}: {target}");
                assert_eq!(params.get("state").map(String::as_str), Some("s-123"), "{name}");
                assert_eq!(params.get("iss"), Some(&format!("{}/t/acme", server.url)), "{name}");
                assert!(!params.contains_key("code"), "{name}");
            }
        }
    }
    // No issuer, no page for it.
    let response = browser.get("/t/nowhere/authorize?client_id=x").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // A legacy client that opted out of PKCE still cannot send a verifier for a code that had
    // no challenge (RFC 9700 §2.1.1: downgrade).
    let pairs = request(&legacy, &[("code_challenge", None), ("code_challenge_method", None)]);
    let answer = log_in(&mut browser, &authorize_url(&pairs), PASSWORD).await;
    let back = consent(&mut browser, &location(&answer), "allow").await;
    let code = query(&back)["code"].clone();
    let (status, body) = exchange(
        &server,
        &legacy,
        &legacy_secret,
        &[("code", &code), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)],
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")), "{body}");
    let (status, body) =
        exchange(&server, &legacy, &legacy_secret, &[("code", &code), ("redirect_uri", REDIRECT)]).await;
    assert_eq!(status, StatusCode::OK, "without the verifier it is the legacy flow: {body}");
});

/// Runs the pages for client `id` with the standard request; returns the code.
pub async fn code_for(browser: &mut Browser, id: &str, changes: &[(&str, Option<&str>)]) -> String {
    let url = authorize_url(&request(id, changes));
    let first = browser.get(&url).await;
    let mut target = location(&first);
    if target.starts_with("/t/acme/login") {
        let html = browser.get(&target).await.text().await.expect("html");
        let (flow, csrf) = (field(&html, "flow"), field(&html, "csrf_token"));
        let answer = browser
            .post(
                "/t/acme/login",
                &[("flow", &flow), ("csrf_token", &csrf), ("username", "alice"), ("password", PASSWORD)],
            )
            .await;
        target = location(&answer);
    }
    if target.starts_with("/t/acme/consent") {
        target = consent(browser, &target, "allow").await;
    }
    query(&target).get("code").cloned().unwrap_or_else(|| panic!("no code in {target}"))
}

pub async fn exchange(
    server: &portcullis_testkit::TestServer,
    id: &str,
    secret: &str,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut body = vec![("grant_type", "authorization_code")];
    body.extend_from_slice(form);
    let response =
        server.raw(Method::POST, "/t/acme/token").basic_auth(id, Some(secret)).form(&body).send().await.expect("send");
    let status = response.status();
    assert_eq!(response.headers()["cache-control"], "no-store");
    (status, response.json().await.expect("json"))
}

on_every_engine!(token_errors_and_code_replay, |server| {
    let (id, secret) = setup(&server, web_client()).await;
    let other: Value = server
        .admin(Method::POST, "/tenants/acme/clients")
        .json(&web_client())
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let (other_id, other_secret) =
        (other["client_id"].as_str().expect("id"), other["client_secret"].as_str().expect("secret"));
    let mut browser = Browser::new(&server.url);
    let code = code_for(&mut browser, &id, &[]).await;

    let bad: Vec<TokenCase> = vec![
        (
            "wrong client secret",
            &id,
            "nope",
            vec![("code", &code), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)],
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            "another client's code",
            other_id,
            other_secret,
            vec![("code", &code), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)],
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        ),
        (
            "wrong redirect_uri",
            &id,
            &secret,
            vec![("code", &code), ("redirect_uri", "https://app.example.com/other"), ("code_verifier", VERIFIER)],
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        ),
        (
            "missing redirect_uri",
            &id,
            &secret,
            vec![("code", &code), ("code_verifier", VERIFIER)],
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        ),
        (
            "missing verifier",
            &id,
            &secret,
            vec![("code", &code), ("redirect_uri", REDIRECT)],
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        ),
        (
            "wrong verifier",
            &id,
            &secret,
            vec![
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX"),
            ],
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        ),
        (
            "unknown code",
            &id,
            &secret,
            vec![("code", "made-up"), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)],
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        ),
        (
            "missing code",
            &id,
            &secret,
            vec![("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
    ];
    for (name, client, client_secret, form, status, error) in bad {
        let (got, body) = exchange(&server, client, client_secret, &form).await;
        assert_eq!((got, body["error"].as_str()), (status, Some(error)), "{name}: {body}");
    }
    // None of the refusals spent the code; the right request redeems it once.
    let (status, tokens) =
        exchange(&server, &id, &secret, &[("code", &code), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)])
            .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let refresh = tokens["refresh_token"].as_str().expect("refresh").to_owned();
    let access = tokens["access_token"].as_str().expect("access").to_owned();
    // Replay: refused, and what the code issued is revoked (RFC 6749 §4.1.2).
    let (status, body) =
        exchange(&server, &id, &secret, &[("code", &code), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)])
            .await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    let refreshed = server
        .raw(Method::POST, "/t/acme/token")
        .basic_auth(&id, Some(&secret))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .send()
        .await
        .expect("send");
    assert_eq!(refreshed.status(), StatusCode::BAD_REQUEST, "the refresh token died with the replayed code");
    let introspected: Value = server
        .raw(Method::POST, "/t/acme/introspect")
        .basic_auth(&id, Some(&secret))
        .form(&[("token", access.as_str())])
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(introspected, json!({"active": false}), "so did the access token");
    let audit: Value = server
        .admin(Method::GET, "/tenants/acme/audit?action=grant.code_replay")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(1), "the replay is audited: {audit}");

    // Refresh: a wider scope than granted is refused; tampered and foreign tokens are invalid.
    let code = code_for(&mut browser, &id, &[]).await;
    let (_, tokens) =
        exchange(&server, &id, &secret, &[("code", &code), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)])
            .await;
    let refresh = tokens["refresh_token"].as_str().expect("refresh").to_owned();
    let wider = server
        .raw(Method::POST, "/t/acme/token")
        .basic_auth(&id, Some(&secret))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", &refresh), ("scope", "openid phone")])
        .send()
        .await
        .expect("send");
    let wider: Value = wider.json().await.expect("json");
    assert_eq!(wider["error"], "invalid_scope", "{wider}");
    let narrower: Value = server
        .raw(Method::POST, "/t/acme/token")
        .basic_auth(&id, Some(&secret))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", &refresh), ("scope", "openid")])
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(narrower["scope"], "openid", "the refused wider request spent nothing: {narrower}");
    let refresh = narrower["refresh_token"].as_str().expect("rotated").to_owned();
    let foreign = server
        .raw(Method::POST, "/t/acme/token")
        .basic_auth(other_id, Some(other_secret))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "not-a-real-token")])
        .send()
        .await
        .expect("send");
    assert_eq!(foreign.json::<Value>().await.expect("json")["error"], "invalid_grant");

    // Userinfo: no token, a tampered token, a client-credentials token, a token in the query.
    let access = tokens["access_token"].as_str().expect("access").to_owned();
    let none = server.raw(Method::GET, "/t/acme/userinfo").send().await.expect("send");
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    assert!(none.headers()["www-authenticate"].to_str().expect("ascii").starts_with("Bearer"));
    let mut parts: Vec<String> = access.split('.').map(str::to_owned).collect();
    let mut payload: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).expect("b64")).expect("json");
    payload["sub"] = json!("someone-else");
    parts[1] = URL_SAFE_NO_PAD.encode(payload.to_string());
    let tampered = server.raw(Method::GET, "/t/acme/userinfo").bearer_auth(parts.join(".")).send().await.expect("send");
    assert_eq!(tampered.status(), StatusCode::UNAUTHORIZED);
    assert!(tampered.headers()["www-authenticate"].to_str().expect("ascii").contains("invalid_token"));
    let in_query =
        server.raw(Method::GET, &format!("/t/acme/userinfo?access_token={access}")).send().await.expect("send");
    assert_eq!(in_query.status(), StatusCode::UNAUTHORIZED, "tokens in URLs are not read (RFC 9700 §2.5)");
    let ok = server
        .raw(Method::POST, "/t/acme/userinfo")
        .form(&[("access_token", access.as_str())])
        .send()
        .await
        .expect("send");
    assert_eq!(ok.status(), StatusCode::OK, "RFC 6750 §2.2 form body");
    let twice = server
        .raw(Method::POST, "/t/acme/userinfo")
        .bearer_auth(&access)
        .form(&[("access_token", access.as_str())])
        .send()
        .await
        .expect("send");
    assert_eq!(twice.status(), StatusCode::BAD_REQUEST);

    // Revocation needs client authentication; another client's token is left alone.
    let anonymous =
        server.raw(Method::POST, "/t/acme/revoke").form(&[("token", refresh.as_str())]).send().await.expect("send");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let foreign = server
        .raw(Method::POST, "/t/acme/revoke")
        .basic_auth(other_id, Some(other_secret))
        .form(&[("token", refresh.as_str())])
        .send()
        .await
        .expect("send");
    assert_eq!(foreign.status(), StatusCode::OK, "RFC 7009 §2.2: same answer");
    let still = server.raw(Method::GET, "/t/acme/userinfo").bearer_auth(&access).send().await.expect("send");
    assert_eq!(still.status(), StatusCode::OK, "another client cannot revoke it");
    let revoked = server
        .raw(Method::POST, "/t/acme/revoke")
        .basic_auth(&id, Some(&secret))
        .form(&[("token", access.as_str()), ("token_type_hint", "access_token")])
        .send()
        .await
        .expect("send");
    assert_eq!(revoked.status(), StatusCode::OK);
    let after = server.raw(Method::GET, "/t/acme/userinfo").bearer_auth(&access).send().await.expect("send");
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED, "revoking the access token ends its grant");
    let _ = http();
});

on_every_engine!(login_page_refusals, |server| {
    let (id, _) = setup(&server, web_client()).await;
    let mut browser = Browser::new(&server.url);
    let url = authorize_url(&request(&id, &[]));
    let to_login = location(&browser.get(&url).await);
    let html = browser.get(&to_login).await.text().await.expect("html");
    let (flow, csrf) = (field(&html, "flow"), field(&html, "csrf_token"));

    // Another browser cannot use the flow, even with its id and token.
    let mut thief = Browser::new(&server.url);
    let stolen = thief.get(&to_login).await;
    assert_eq!(stolen.status(), StatusCode::BAD_REQUEST);
    let stolen = thief
        .post("/t/acme/login", &[("flow", &flow), ("csrf_token", &csrf), ("username", "alice"), ("password", PASSWORD)])
        .await;
    assert_eq!(stolen.status(), StatusCode::BAD_REQUEST);
    // A wrong CSRF token is refused before the password is looked at.
    let forged = browser
        .post(
            "/t/acme/login",
            &[("flow", &flow), ("csrf_token", "forged"), ("username", "alice"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    // Wrong password and unknown user read the same; the fifth failure ends the flow.
    let wrong = browser
        .post("/t/acme/login", &[("flow", &flow), ("csrf_token", &csrf), ("username", "alice"), ("password", "wrong")])
        .await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    let wrong_text = wrong.text().await.expect("html");
    let unknown = browser
        .post(
            "/t/acme/login",
            &[("flow", &flow), ("csrf_token", &csrf), ("username", "mallory"), ("password", "wrong")],
        )
        .await;
    let unknown_text = unknown.text().await.expect("html");
    assert_eq!(wrong_text.replace("alice", "mallory"), unknown_text, "no user enumeration");
    for _ in 0..2 {
        browser
            .post(
                "/t/acme/login",
                &[("flow", &flow), ("csrf_token", &csrf), ("username", "alice"), ("password", "wrong")],
            )
            .await;
    }
    let ended = browser
        .post("/t/acme/login", &[("flow", &flow), ("csrf_token", &csrf), ("username", "alice"), ("password", "wrong")])
        .await;
    assert_eq!(ended.status(), StatusCode::TOO_MANY_REQUESTS);
    let after = browser
        .post("/t/acme/login", &[("flow", &flow), ("csrf_token", &csrf), ("username", "alice"), ("password", PASSWORD)])
        .await;
    assert_eq!(after.status(), StatusCode::BAD_REQUEST, "the flow is over");
    let audit: Value = server
        .admin(Method::GET, "/tenants/acme/audit?action=login.failure")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(5), "{audit}");

    // Denying consent sends access_denied back.
    let answer = log_in(&mut browser, &url, PASSWORD).await;
    let back = consent(&mut browser, &location(&answer), "deny").await;
    assert_eq!(query(&back).get("error").map(String::as_str), Some("access_denied"));

    // prompt=none with a session but no consent yet: consent_required; prompt=login shows the page.
    let none = location(&browser.get(&authorize_url(&request(&id, &[("prompt", Some("none"))]))).await);
    assert_eq!(query(&none).get("error").map(String::as_str), Some("consent_required"), "{none}");
    let login = location(&browser.get(&authorize_url(&request(&id, &[("prompt", Some("login"))]))).await);
    assert!(login.starts_with("/t/acme/login"), "{login}");
    // An id_token_hint naming someone else than the logged-in user: not silently alice.
    let bob = json!({"username": "bob", "password": "another long password"});
    assert!(
        server.admin(Method::POST, "/tenants/acme/users").json(&bob).send().await.expect("send").status().is_success()
    );
    let secret = {
        let rotated: Value = server
            .admin(Method::POST, &format!("/tenants/acme/clients/{id}/secret"))
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("json");
        rotated["client_secret"].as_str().expect("secret").to_owned()
    };
    let mut bobs = Browser::new(&server.url);
    let to_login = location(&bobs.get(&url).await);
    let html = bobs.get(&to_login).await.text().await.expect("html");
    let answer = bobs
        .post(
            "/t/acme/login",
            &[
                ("flow", &field(&html, "flow")),
                ("csrf_token", &field(&html, "csrf_token")),
                ("username", "bob"),
                ("password", "another long password"),
            ],
        )
        .await;
    let back = consent(&mut bobs, &location(&answer), "allow").await;
    let (_, tokens) = exchange(
        &server,
        &id,
        &secret,
        &[("code", &query(&back)["code"]), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)],
    )
    .await;
    let bobs_id_token = tokens["id_token"].as_str().expect("id token").to_owned();
    let hinted = location(
        &browser
            .get(&authorize_url(&request(&id, &[("id_token_hint", Some(&bobs_id_token)), ("prompt", Some("none"))])))
            .await,
    );
    assert_eq!(query(&hinted).get("error").map(String::as_str), Some("login_required"), "{hinted}");
    let hinted =
        location(&browser.get(&authorize_url(&request(&id, &[("id_token_hint", Some(&bobs_id_token))]))).await);
    assert!(hinted.starts_with("/t/acme/login"), "alice's session is not used for bob: {hinted}");
    // max_age=0 forces a fresh login too.
    let fresh = location(&browser.get(&authorize_url(&request(&id, &[("max_age", Some("0"))]))).await);
    assert!(fresh.starts_with("/t/acme/login"), "{fresh}");
});

on_every_engine!(a_disabled_users_refresh_token_stops_working, |server| {
    let (id, secret) = setup(&server, web_client()).await;
    let mut browser = Browser::new(&server.url);
    let url = authorize_url(&request(&id, &[("scope", Some("openid offline_access"))]));
    let to_consent = location(&log_in(&mut browser, &url, PASSWORD).await);
    let back = consent(&mut browser, &to_consent, "allow").await;
    let code = query(&back)["code"].clone();
    let (status, tokens) =
        exchange(&server, &id, &secret, &[("code", &code), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)])
            .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let refresh = |token: String| {
        let request = server
            .raw(Method::POST, "/t/acme/token")
            .basic_auth(&id, Some(&secret))
            .form(&[("grant_type", "refresh_token".to_owned()), ("refresh_token", token)]);
        async move {
            let response = request.send().await.expect("send");
            (response.status(), response.json::<Value>().await.expect("json"))
        }
    };
    let (status, rotated) = refresh(tokens["refresh_token"].as_str().expect("refresh").to_owned()).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let users: Value = server
        .admin(Method::GET, "/tenants/acme/users?username=alice")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let user = users["items"][0]["id"].as_str().expect("alice").to_owned();
    let patched = server
        .admin(Method::PATCH, &format!("/tenants/acme/users/{user}"))
        .json(&json!({"status": "disabled"}))
        .send()
        .await
        .expect("send");
    assert_eq!(patched.status(), StatusCode::OK);
    let (status, refused) = refresh(rotated["refresh_token"].as_str().expect("refresh").to_owned()).await;
    assert_eq!((status, refused["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")), "{refused}");
});
