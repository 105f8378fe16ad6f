//! Passkeys in a real browser: headless Chromium with its virtual WebAuthn authenticator
//! registers a passkey on the account pages and signs in with it without a username (the
//! username field carries `autocomplete="username webauthn"` for conditional UI); an assertion
//! without user verification is refused; the ID token says what was used. The server is known
//! as `localhost`: WebAuthn cannot use an IP address as its relying party.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::DecodePrivateKey as _;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::client_roles::payload;
use crate::oidc::{PASSWORD, setup};
use crate::oidc_errors::{VERIFIER, exchange};
use crate::webdriver::Browser;

/// A native Android app the relying party names as one of its origins (`--passkey-origins`).
const ANDROID_APP: &str = "android:apk-key-hash:Pm7K9bLd2XQfV4nR8sT1uW3yZ6aC0eG5hJ-kM_oNpQs";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_browser_registers_a_passkey_and_signs_in_with_it() {
    for engine in portcullis_testkit::engines() {
        let server = portcullis_testkit::TestServer::start_with(engine, "localhost", |config, _| {
            config.passkey_origins = vec![ANDROID_APP.to_owned()];
        })
        .await
        .expect("server starts");
        eprintln!("passkeys on {engine:?}");
        let Some(browser) = Browser::start().await else { return };
        journey(&server, &browser).await;
        browser.quit().await;
        server.stop().await.expect("server stops");
    }
}

/// A tenant that requires MFA and allows only passkeys as the second factor: the first login
/// after the password registers a passkey on the login's own page (Chromium's virtual
/// authenticator), and the next login asks for it after the password. The client allows only
/// passwords first, so no conditional request waits on the sign-in page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_browser_enrols_a_passkey_during_login_then_passes_it_after_the_password() {
    for engine in portcullis_testkit::engines() {
        let server = portcullis_testkit::TestServer::start_as(engine, "localhost").await.expect("server starts");
        eprintln!("passkey enrolment during login on {engine:?}");
        let Some(browser) = Browser::start().await else { return };
        let authenticator = browser.add_virtual_authenticator().await;
        let callback = crate::webdriver::callback().await;
        let client = json!({"client_name": "Passkey app", "redirect_uris": [callback], "grant_types": ["authorization_code"],
            "first_party": true, "first_factors": ["password"]});
        let (id, secret) = setup(&server, client).await;
        let policy = json!({"mfa": "required", "second_factors": ["passkey"]});
        let (status, body) =
            server.admin_json(Method::PUT, "/tenants/acme/auth-policy", Some(policy)).await.expect("policy");
        assert_eq!(status, StatusCode::OK, "{body}");
        let authorize = crate::webdriver::authorize_url(&server, &id, &callback, &[("prompt", "login")]);
        let amr_of = async |landed: String| {
            crate::webdriver::claims_of(&server, &id, &secret, &callback, &landed).await["amr"].clone()
        };

        // The password; then the login's page offers only a passkey, and registers one.
        browser.go(&authorize).await;
        browser.wait_for_url(&format!("{}/t/acme/login", server.url)).await;
        let username = browser.find("#username").await;
        assert_eq!(browser.attribute(&username, "autocomplete").await.as_deref(), Some("username"));
        browser.type_into(&username, "alice").await;
        browser.type_into(&browser.find("#password").await, PASSWORD).await;
        browser.click(&browser.find("button[type=submit]").await).await;
        browser.wait_for_text("Set up a second factor").await;
        let page = browser.source().await;
        assert!(!page.contains("totp-secret") && !page.contains(r#"value="add_sms""#), "only passkeys: {page}");
        browser.type_into(&browser.find("#passkey-name").await, "Laptop").await;
        browser.click(&browser.find("#passkey-button").await).await;
        browser.wait_for_text("Your recovery codes").await;
        browser.click(&browser.find("#continue").await).await;
        let landed = browser.wait_for_url(&callback).await;
        assert_eq!(amr_of(landed).await, json!(["pwd", "hwk", "user", "mfa"]));
        assert_eq!(browser.authenticator_credentials(&authenticator).await.len(), 1);

        // The next login: the password, then the passkey as the second factor.
        browser.go(&authorize).await;
        browser.wait_for_url(&format!("{}/t/acme/login", server.url)).await;
        browser.type_into(&browser.find("#username").await, "alice").await;
        browser.type_into(&browser.find("#password").await, PASSWORD).await;
        browser.click(&browser.find("button[type=submit]").await).await;
        browser.wait_for_text("Two-step verification").await;
        let button = browser.find("#passkey-form[data-ceremony=second] #passkey-button").await;
        browser.click(&button).await;
        let landed = browser.wait_for_url(&callback).await;
        assert_eq!(amr_of(landed).await, json!(["pwd", "hwk", "user", "mfa"]));
        let (_, audit) = server.admin_json(Method::GET, "/tenants/acme/audit?limit=200", None).await.expect("audit");
        let enrolled = audit["items"].as_array().expect("items").iter().find(|e| e["action"] == "credential.enrol");
        assert_eq!(enrolled.map(|e| e["after"]["flow"].clone()), Some(json!("login")), "{audit}");
        let console = browser.console().await;
        assert!(console.iter().all(|m| !m.contains("Content Security Policy")), "{console:?}");
        browser.quit().await;
        server.stop().await.expect("server stops");
    }
}

async fn journey(server: &portcullis_testkit::TestServer, browser: &Browser) {
    let authenticator = browser.add_virtual_authenticator().await;
    let callback = crate::webdriver::callback().await;
    let (id, secret) = setup(
        server,
        json!({"client_name": "Passkey app", "redirect_uris": [callback], "grant_types": ["authorization_code"], "first_party": true}),
    )
    .await;
    let authorize = crate::webdriver::authorize_url(server, &id, &callback, &[("prompt", "login")]);

    // Sign in with the password; the username field offers passkeys (conditional UI).
    browser.go(&authorize).await;
    browser.wait_for_url(&format!("{}/t/acme/login", server.url)).await;
    let username = browser.find("#username").await;
    assert_eq!(browser.attribute(&username, "autocomplete").await.as_deref(), Some("username webauthn"));
    browser.type_into(&username, "alice").await;
    browser.type_into(&browser.find("#password").await, PASSWORD).await;
    browser.click(&browser.find("form:not(#passkey-form) button[type=submit]").await).await;
    browser.wait_for_url(&callback).await;

    // Register a passkey on the account pages.
    browser.go(&format!("{}/t/acme/account/security", server.url)).await;
    browser.click(&browser.find("button[value=add_passkey]").await).await;
    browser.wait_for_url(&format!("{}/t/acme/account/passkey", server.url)).await;
    browser.type_into(&browser.find("#name").await, "Laptop").await;
    browser.click(&browser.find("#passkey-button").await).await;
    // Her first second factor: ten recovery codes come with it, shown once.
    browser.wait_for_text("Your recovery codes").await;
    assert_eq!(browser.source().await.matches("<li><code>").count(), 10);
    browser.click(&browser.find("#continue").await).await;
    browser.wait_for_url(&format!("{}/t/acme/account/security", server.url)).await;
    assert!(browser.source().await.contains("Laptop"));
    let held = browser.authenticator_credentials(&authenticator).await;
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0]["isResidentCredential"], true, "a discoverable credential, for usernameless sign-in");

    // Usernameless, through conditional UI: the login page's pending request is answered by
    // the authenticator (Chromium's virtual environment picks the one passkey, as a user picks it
    // from the username field's autofill) and the passkey alone signs in.
    browser.go(&authorize).await;
    let landed = browser.wait_for_url(&callback).await;
    let params: std::collections::BTreeMap<String, String> =
        url::Url::parse(&landed).expect("url").query_pairs().into_owned().collect();
    let form = [("code", params["code"].as_str()), ("redirect_uri", callback.as_str()), ("code_verifier", VERIFIER)];
    let (status, tokens) = exchange(server, &id, &secret, &form).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let claims = payload(tokens["id_token"].as_str().expect("id token"));
    assert_eq!(claims["acr"], "2");
    assert_eq!(claims["amr"], json!(["hwk", "user", "mfa"]));

    // Without user verification the passkey would be one factor: the authenticator cannot
    // answer a request that requires it, and the page says so; the flow stays at sign-in.
    browser.set_user_verified(&authenticator, false).await;
    browser.go(&authorize).await;
    browser.wait_for_url(&format!("{}/t/acme/login", server.url)).await;
    browser.click(&browser.find("#passkey-button").await).await;
    browser.wait_for_text("The passkey could not be used").await;

    let console = browser.console().await;
    assert!(console.iter().all(|m| !m.contains("Content Security Policy")), "{console:?}");
    let alice = crate::oidc::user_id(server, "alice").await;
    let (_, credentials) =
        server.admin_json(Method::GET, &format!("/tenants/acme/users/{alice}/credentials"), None).await.expect("list");
    assert_eq!(credentials[0]["kind"], "passkey");
    assert!(credentials[0]["last_used_at"].is_string(), "{credentials}");

    let held = browser.authenticator_credentials(&authenticator).await;
    attacks(server, &id, &callback, &held[0]).await;
    second_factor(server, &id, &secret, &callback, &held[0]).await;
    native_app(server, &id, &callback, &held[0]).await;
}

/// A passkey answer from the Android app the relying party names is accepted (a native app
/// drives the flow API with the platform's passkey API); one from another app is not.
async fn native_app(server: &portcullis_testkit::TestServer, client_id: &str, callback: &str, credential: &Value) {
    let counter = u32::try_from(credential["signCount"].as_u64().expect("sign count")).expect("u32") + 50;
    for (origin, accepted) in
        [("android:apk-key-hash:AnotherAppsSigningKeyHash0123456789abcdefgh", false), (ANDROID_APP, true)]
    {
        let (flow, token) = api_flow(server, client_id, callback).await;
        let now = challenge(server, &flow, &token).await;
        let assertion =
            Assertion { credential, rp_id: "localhost", origin, challenge: &now, counter, user_handle: None }.json();
        let (status, body) = submit(server, &flow, &token, assertion).await;
        if accepted {
            assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("complete")), "{origin}: {body}");
        } else {
            assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_passkey")), "{body}");
        }
    }
}

/// After a password, the user's passkey is the second factor (the tenant asks it of everyone
/// who has one): the flow's request names only her passkeys; a spent challenge is refused.
async fn second_factor(
    server: &portcullis_testkit::TestServer,
    client_id: &str,
    client_secret: &str,
    callback: &str,
    credential: &Value,
) {
    let counter = u32::try_from(credential["signCount"].as_u64().expect("sign count")).expect("u32") + 30;
    let (flow, token) = api_flow(server, client_id, callback).await;
    let answer = server
        .raw(Method::POST, &format!("/t/acme/flows/{flow}"))
        .header("Portcullis-Flow-Token", &token)
        .json(&json!({"method": "password", "identifier": "alice", "password": PASSWORD}))
        .send()
        .await
        .expect("send");
    let body: Value = answer.json().await.expect("json");
    let expected = json!(["passkey", "recovery_code"]);
    assert_eq!((body["step"].as_str(), body["methods"].clone()), (Some("second_factor"), expected), "{body}");
    let allowed = body["passkey"]["publicKey"]["allowCredentials"].as_array().expect("allowCredentials").clone();
    assert_eq!(allowed.len(), 1, "only her passkeys: {body}");
    assert_eq!(allowed[0]["id"], credential["credentialId"]);
    let first = challenge(server, &flow, &token).await;
    let origin = server.url.clone();
    let sign = |challenge: &str, counter: u32| {
        Assertion { credential, rp_id: "localhost", origin: &origin, challenge, counter, user_handle: None }.json()
    };
    let (status, body) = submit(server, &flow, &token, sign("c3BlbnQ", counter)).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_passkey")), "{body}");
    assert_eq!(body["flow"]["step"], "second_factor");
    let now = challenge(server, &flow, &token).await;
    assert_ne!(now, first, "a refused assertion spends the challenge");
    let (status, body) = submit(server, &flow, &token, sign(&now, counter + 1)).await;
    assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("complete")), "{body}");
    let redirect = body["redirect_to"].as_str().expect("redirect");
    let params: std::collections::BTreeMap<String, String> =
        url::Url::parse(redirect).expect("url").query_pairs().into_owned().collect();
    let form = [("code", params["code"].as_str()), ("redirect_uri", callback), ("code_verifier", VERIFIER)];
    let (status, tokens) = exchange(server, client_id, client_secret, &form).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let claims = payload(tokens["id_token"].as_str().expect("id token"));
    assert_eq!((claims["acr"].as_str(), claims["amr"].clone()), (Some("2"), json!(["pwd", "hwk", "user", "mfa"])));
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// An assertion signed with the authenticator's own key, with every part chosen by the test.
struct Assertion<'a> {
    credential: &'a Value,
    rp_id: &'a str,
    origin: &'a str,
    challenge: &'a str,
    counter: u32,
    user_handle: Option<&'a str>,
}

impl Assertion<'_> {
    fn json(&self) -> Value {
        let key_der = URL_SAFE_NO_PAD
            .decode(self.credential["privateKey"].as_str().expect("private key"))
            .or_else(|_| {
                base64::engine::general_purpose::STANDARD.decode(self.credential["privateKey"].as_str().expect("key"))
            })
            .expect("base64 key");
        let key = SigningKey::from_pkcs8_der(&key_der).expect("a P-256 PKCS#8 key");
        let mut authenticator_data = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        authenticator_data.push(0x01 | 0x04); // user present, user verified
        authenticator_data.extend_from_slice(&self.counter.to_be_bytes());
        let client_data = json!({
            "type": "webauthn.get", "challenge": self.challenge, "origin": self.origin, "crossOrigin": false
        })
        .to_string();
        let mut signed = authenticator_data.clone();
        signed.extend_from_slice(&Sha256::digest(client_data.as_bytes()));
        let signature: Signature = key.sign(&signed);
        let id = self.credential["credentialId"].as_str().expect("credential id").to_owned();
        let handle = self
            .user_handle
            .map(str::to_owned)
            .unwrap_or_else(|| self.credential["userHandle"].as_str().expect("handle").to_owned());
        json!({
            "id": id, "rawId": id, "type": "public-key", "extensions": {},
            "response": {
                "authenticatorData": b64(&authenticator_data),
                "clientDataJSON": b64(client_data.as_bytes()),
                "signature": b64(signature.to_der().as_bytes()),
                "userHandle": handle
            }
        })
    }
}

/// Starts a flow-API login; returns its id and token.
async fn api_flow(server: &portcullis_testkit::TestServer, client_id: &str, callback: &str) -> (String, String) {
    let request = json!({
        "response_type": "code", "client_id": client_id, "redirect_uri": callback, "scope": "openid",
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
    assert_eq!(flow["methods"], json!(["password", "passkey", "email_code", "recovery"]), "{flow}");
    (flow["id"].as_str().expect("id").to_owned(), flow["flow_token"].as_str().expect("token").to_owned())
}

/// The flow's current passkey challenge.
async fn challenge(server: &portcullis_testkit::TestServer, flow: &str, token: &str) -> String {
    let shown: Value = server
        .raw(Method::GET, &format!("/t/acme/flows/{flow}"))
        .header("Portcullis-Flow-Token", token)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    shown["passkey"]["publicKey"]["challenge"].as_str().unwrap_or_else(|| panic!("{shown}")).to_owned()
}

async fn submit(
    server: &portcullis_testkit::TestServer,
    flow: &str,
    token: &str,
    credential: Value,
) -> (StatusCode, Value) {
    let answer = server
        .raw(Method::POST, &format!("/t/acme/flows/{flow}"))
        .header("Portcullis-Flow-Token", token)
        .json(&json!({"method": "passkey", "credential": credential}))
        .send()
        .await
        .expect("send");
    (answer.status(), answer.json().await.expect("json"))
}

/// Assertions an attacker might send through the flow API, each signed with the real key:
/// wrong origin, wrong RP id, a replayed counter, another user's handle, a replayed assertion;
/// every one refused and audited, and the challenge replaced after each.
async fn attacks(server: &portcullis_testkit::TestServer, client_id: &str, callback: &str, credential: &Value) {
    let origin = server.url.clone();
    let counter = u32::try_from(credential["signCount"].as_u64().expect("sign count")).expect("u32");
    assert!(counter >= 1, "the authenticator counts its signatures: {credential}");
    let (bob_status, bob) = server
        .admin_json(
            Method::POST,
            "/tenants/acme/users",
            Some(json!({"username": "bob", "password": "an entirely different passphrase"})),
        )
        .await
        .expect("bob");
    assert_eq!(bob_status, StatusCode::CREATED);
    let bob_handle = b64(uuid_bytes(bob["id"].as_str().expect("id")).as_slice());

    let (flow, token) = api_flow(server, client_id, callback).await;
    let first = challenge(server, &flow, &token).await;
    let cases: [(&str, &str, &str, u32, Option<&str>); 4] = [
        ("another origin", "localhost", "https://evil.example", counter + 10, None),
        ("another relying party", "evil.example", &origin, counter + 10, None),
        ("a counter that went back", "localhost", &origin, counter, None),
        ("another user's handle", "localhost", &origin, counter + 10, Some(&bob_handle)),
    ];
    let mut last = first.clone();
    for (name, rp_id, from, count, handle) in cases {
        let now = challenge(server, &flow, &token).await;
        let assertion =
            Assertion { credential, rp_id, origin: from, challenge: &now, counter: count, user_handle: handle };
        let (status, body) = submit(server, &flow, &token, assertion.json()).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_passkey")),
            "{name}: {body}"
        );
        let next = challenge(server, &flow, &token).await;
        assert_ne!(next, now, "{name}: a refused assertion spends the challenge");
        last = next;
    }
    let good = Assertion {
        credential,
        rp_id: "localhost",
        origin: &origin,
        challenge: &last,
        counter: counter + 20,
        user_handle: None,
    }
    .json();
    let (status, body) = submit(server, &flow, &token, good.clone()).await;
    assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("complete")), "{body}");

    // The same assertion again, in a new flow: its challenge is not this flow's.
    let (flow, token) = api_flow(server, client_id, callback).await;
    let (status, body) = submit(server, &flow, &token, good).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_passkey")), "replay: {body}");
    let (status, body) = submit(server, &flow, &token, json!({"id": "x"})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_passkey")),
        "malformed: {body}"
    );

    let (_, audit) =
        server.admin_json(Method::GET, "/tenants/acme/audit?action=login.failure", None).await.expect("audit");
    let refused =
        audit["items"].as_array().expect("items").iter().filter(|e| e["after"]["method"] == "passkey").count();
    assert_eq!(refused, 6, "every refused assertion is audited: {audit}");
    let reasons: Vec<&str> =
        audit["items"].as_array().expect("items").iter().filter_map(|e| e["after"]["reason"].as_str()).collect();
    for why in [
        "origin does not match",
        "relying party id hash",
        "compromised",
        "unknown passkey",
        "challenge differs",
        "malformed",
    ] {
        assert!(reasons.iter().any(|r| r.contains(why)), "refused for {why:?}: {reasons:?}");
    }
}

fn uuid_bytes(text: &str) -> Vec<u8> {
    hex::decode(text.replace('-', "")).expect("a UUID")
}
