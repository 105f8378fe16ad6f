//! A load generator for logins that `wrk` cannot script: passkey sign-ins (each answer signed
//! with P-256) and password + TOTP sign-ins (each code computed), through the flow API of a
//! running server (`bench/login` starts a release build). It makes its own users and
//! credentials through the admin API and the settings API, then runs `BENCH_CONNECTIONS`
//! concurrent logins for `BENCH_SECONDS` and prints one `RESULT` line.
//!
//! `BENCH_URL=… BENCH_TOKEN=… BENCH_METHOD=passkey|totp cargo bench -p portcullis --bench login_load`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ciborium::Value as Cbor;
use futures::StreamExt as _;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use portcullis_core::Clock as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

const PASSWORD: &str = "correct horse battery staple";
const REDIRECT: &str = "https://app.example.com/cb";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

struct Bench {
    http: reqwest::Client,
    url: String,
    token: String,
    client_id: String,
}

impl Bench {
    async fn admin(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let answer = self
            .http
            .request(method, format!("{}/admin/v1{path}", self.url))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .expect("admin");
        answer.json().await.unwrap_or(Value::Null)
    }

    /// Starts a login flow; returns its id, token and view.
    async fn start(&self) -> (String, String, Value) {
        let request = json!({
            "response_type": "code", "client_id": self.client_id, "redirect_uri": REDIRECT, "scope": "openid",
            "code_challenge": CHALLENGE, "code_challenge_method": "S256"
        });
        let flow: Value = self
            .http
            .post(format!("{}/t/bench/flows/login", self.url))
            .json(&request)
            .send()
            .await
            .expect("start")
            .json()
            .await
            .expect("json");
        (
            flow["id"].as_str().unwrap_or_default().to_owned(),
            flow["flow_token"].as_str().unwrap_or_default().to_owned(),
            flow,
        )
    }

    async fn step(&self, id: &str, token: &str, body: Value) -> Value {
        self.http
            .post(format!("{}/t/bench/flows/{id}", self.url))
            .header("Portcullis-Flow-Token", token)
            .json(&body)
            .send()
            .await
            .expect("step")
            .json()
            .await
            .unwrap_or(Value::Null)
    }

    /// An access token of `username` for the settings API (password login, code exchanged).
    async fn access_token(&self, username: &str) -> String {
        let (id, token, _) = self.start().await;
        let done =
            self.step(&id, &token, json!({"method": "password", "identifier": username, "password": PASSWORD})).await;
        let redirect = done["redirect_to"].as_str().unwrap_or_else(|| panic!("{done}")).to_owned();
        let code = url::Url::parse(&redirect)
            .expect("url")
            .query_pairs()
            .find(|(k, _)| k == "code")
            .expect("code")
            .1
            .into_owned();
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("client_id", self.client_id.as_str()),
            ("code_verifier", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        ];
        let tokens: Value = self
            .http
            .post(format!("{}/t/bench/token", self.url))
            .form(&form)
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("json");
        tokens["access_token"].as_str().unwrap_or_else(|| panic!("{tokens}")).to_owned()
    }

    async fn settings(&self, access: &str) -> (String, String, Value) {
        let flow: Value = self
            .http
            .post(format!("{}/t/bench/flows/settings", self.url))
            .bearer_auth(access)
            .send()
            .await
            .expect("settings")
            .json()
            .await
            .expect("json");
        (flow["id"].as_str().expect("id").to_owned(), flow["flow_token"].as_str().expect("token").to_owned(), flow)
    }
}

fn cbor(value: &Cbor) -> Vec<u8> {
    let mut bytes = Vec::new();
    ciborium::into_writer(value, &mut bytes).expect("cbor");
    bytes
}

/// A `none`-attested registration of `key` under `credential_id` for the creation `options`.
fn registration(options: &Value, origin: &str, key: &SigningKey, credential_id: &[u8]) -> Value {
    let public_key = &options["publicKey"];
    let client_data =
        json!({"type": "webauthn.create", "challenge": public_key["challenge"], "origin": origin}).to_string();
    let point = key.verifying_key().to_encoded_point(false);
    let cose = Cbor::Map(vec![
        (Cbor::Integer(1.into()), Cbor::Integer(2.into())),
        (Cbor::Integer(3.into()), Cbor::Integer((-7).into())),
        (Cbor::Integer((-1).into()), Cbor::Integer(1.into())),
        (Cbor::Integer((-2).into()), Cbor::Bytes(point.x().expect("x").to_vec())),
        (Cbor::Integer((-3).into()), Cbor::Bytes(point.y().expect("y").to_vec())),
    ]);
    let mut auth_data = Sha256::digest(public_key["rp"]["id"].as_str().expect("rp").as_bytes()).to_vec();
    auth_data.push(0x45);
    auth_data.extend_from_slice(&[0; 4 + 16]);
    auth_data.extend_from_slice(&(credential_id.len() as u16).to_be_bytes());
    auth_data.extend_from_slice(credential_id);
    auth_data.extend_from_slice(&cbor(&cose));
    let object = Cbor::Map(vec![
        (Cbor::Text("fmt".into()), Cbor::Text("none".into())),
        (Cbor::Text("attStmt".into()), Cbor::Map(Vec::new())),
        (Cbor::Text("authData".into()), Cbor::Bytes(auth_data)),
    ]);
    let id = URL_SAFE_NO_PAD.encode(credential_id);
    json!({"id": id, "rawId": id, "type": "public-key", "extensions": {}, "response": {
        "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data), "attestationObject": URL_SAFE_NO_PAD.encode(cbor(&object))
    }})
}

/// An assertion of `key` for the request `options`, counter 0 (an authenticator without a
/// counter: concurrent sign-ins with one credential are then all valid).
fn assertion(options: &Value, origin: &str, key: &SigningKey, credential_id: &[u8], handle: &str) -> Value {
    let public_key = &options["publicKey"];
    let client_data =
        json!({"type": "webauthn.get", "challenge": public_key["challenge"], "origin": origin}).to_string();
    let mut auth_data = Sha256::digest(public_key["rpId"].as_str().expect("rp").as_bytes()).to_vec();
    auth_data.push(0x05);
    auth_data.extend_from_slice(&[0; 4]);
    let mut signed = auth_data.clone();
    signed.extend_from_slice(&Sha256::digest(client_data.as_bytes()));
    let signature: Signature = key.sign(&signed);
    let id = URL_SAFE_NO_PAD.encode(credential_id);
    json!({"id": id, "rawId": id, "type": "public-key", "extensions": {}, "response": {
        "authenticatorData": URL_SAFE_NO_PAD.encode(auth_data), "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data),
        "signature": URL_SAFE_NO_PAD.encode(signature.to_der().as_bytes()), "userHandle": handle
    }})
}

/// The step (30 s) the clock is in.
fn step_now() -> i64 {
    portcullis_core::SystemClock.now().unix_timestamp() / 30
}

/// The code of `uri` for `step`.
fn totp_code(uri: &str, step: i64) -> String {
    let totp = totp_rs::Totp::from_url(uri).expect("otpauth");
    totp.generate(u64::try_from(step * 30).expect("time")).to_string()
}

/// One user with the credential `method` signs in with: its username, its `otpauth` URI or
/// passkey handle, the passkey's key and id, and the last TOTP step it used.
type Credential = (String, String, Option<(SigningKey, [u8; 32])>, std::sync::atomic::AtomicI64);

/// Makes user number `n` with a TOTP authenticator or a passkey, through the settings API.
async fn make_user(bench: &Bench, url: &str, method: &str, n: usize) -> Credential {
    let username = format!("user{n}");
    let user = bench
        .admin(reqwest::Method::POST, "/tenants/bench/users", json!({"username": username, "password": PASSWORD}))
        .await;
    let access = bench.access_token(&username).await;
    let (id, flow_token, flow) = bench.settings(&access).await;
    if method == "totp" {
        let uri = flow["totp"]["otpauth_uri"].as_str().expect("uri").to_owned();
        let now = step_now();
        let done = bench.step(&id, &flow_token, json!({"method": "enrol_totp", "code": totp_code(&uri, now)})).await;
        assert_eq!(done["step"], "complete", "{done}");
        (username, uri, None, std::sync::atomic::AtomicI64::new(now))
    } else {
        let key = SigningKey::random(&mut rand::rngs::OsRng);
        let credential_id: [u8; 32] = rand::random();
        let answer = registration(&flow["passkey"], url, &key, &credential_id);
        let done = bench.step(&id, &flow_token, json!({"method": "passkey", "credential": answer})).await;
        assert_eq!(done["step"], "complete", "{done}");
        let handle =
            URL_SAFE_NO_PAD.encode(uuid::Uuid::parse_str(user["id"].as_str().expect("id")).expect("uuid").as_bytes());
        (username, handle, Some((key, credential_id)), std::sync::atomic::AtomicI64::new(0))
    }
}

#[tokio::main]
async fn main() {
    let url = std::env::var("BENCH_URL").expect("BENCH_URL");
    let token = std::env::var("BENCH_TOKEN").expect("BENCH_TOKEN");
    let method = std::env::var("BENCH_METHOD").unwrap_or_else(|_| "passkey".to_owned());
    let connections: usize = std::env::var("BENCH_CONNECTIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(8);
    let seconds: u64 = std::env::var("BENCH_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(20);
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let mut bench = Bench { http, url: url.clone(), token, client_id: String::new() };
    bench.admin(reqwest::Method::POST, "/tenants", json!({"name": "bench"})).await;
    // Users sign in with their password to enrol what they are then measured with; the
    // workforce default (MFA required) would have them enrol during that first login.
    let policy = bench.admin(reqwest::Method::PUT, "/tenants/bench/auth-policy", json!({"mfa": "optional"})).await;
    assert_eq!(policy["mfa"], "optional", "{policy}");
    let client = bench
        .admin(
            reqwest::Method::POST,
            "/tenants/bench/clients",
            json!({"client_name": "Native", "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none", "first_party": true}),
        )
        .await;
    bench.client_id = client["client_id"].as_str().expect("client id").to_owned();
    // A code counts once per user and step, and a user's next login needs a later step than
    // its last: from the step after enrolment, each user signs in about once per 30 seconds
    // (plus the step ahead that is accepted). TOTP needs many users: by default enough for
    // 150 logins a second over the run.
    let users = if method == "totp" {
        std::env::var("BENCH_USERS").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
            let per_user = seconds.div_ceil(30) + 1;
            usize::try_from((150 * seconds).div_ceil(per_user)).expect("users")
        })
    } else {
        1
    };
    // Users are made eight at a time (each costs the server two password hashes).
    let bench = Arc::new(bench);
    let made = futures::stream::iter(0..users)
        .map(|n| {
            let (bench, url, method) = (bench.clone(), url.clone(), method.clone());
            async move { make_user(&bench, &url, &method, n).await }
        })
        .buffer_unordered(8);
    let credentials: Vec<_> = made.collect().await;
    let credentials = Arc::new(credentials);
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let latencies = Arc::new(std::sync::Mutex::new(Vec::new()));
    let cursor = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (bench, credentials, done, failed, latencies, url, cursor) = (
            bench.clone(),
            credentials.clone(),
            done.clone(),
            failed.clone(),
            latencies.clone(),
            url.clone(),
            cursor.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while Instant::now() < until {
                let begun = Instant::now();
                let ok = if let (_, handle, Some((key, credential_id)), _) = &credentials[0] {
                    let (id, token, flow) = bench.start().await;
                    let answer = assertion(&flow["passkey"], &url, key, credential_id, handle);
                    bench.step(&id, &token, json!({"method": "passkey", "credential": answer})).await["step"]
                        == "complete"
                } else {
                    // The next user with a step left: the one after its last, within now ± 1.
                    let mut chosen = None;
                    for _ in 0..credentials.len() {
                        let (username, uri, _, last) =
                            &credentials[cursor.fetch_add(1, Ordering::Relaxed) % credentials.len()];
                        let now = step_now();
                        let previous = last.load(Ordering::SeqCst);
                        let step = (previous + 1).max(now - 1);
                        if step <= now + 1
                            && last.compare_exchange(previous, step, Ordering::SeqCst, Ordering::SeqCst).is_ok()
                        {
                            chosen = Some((username.clone(), totp_code(uri, step)));
                            break;
                        }
                    }
                    let Some((username, code)) = chosen else {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    };
                    let (id, token, _) = bench.start().await;
                    let first = bench
                        .step(&id, &token, json!({"method": "password", "identifier": username, "password": PASSWORD}))
                        .await;
                    first["step"] == "second_factor"
                        && bench.step(&id, &token, json!({"method": "totp", "code": code})).await["step"] == "complete"
                };
                if ok {
                    done.fetch_add(1, Ordering::Relaxed);
                    latencies.lock().expect("lock").push(begun.elapsed().as_secs_f64() * 1000.0);
                } else {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut latencies = latencies.lock().expect("lock").clone();
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    println!(
        "RESULT method={method} connections={connections} logins={} per_second={:.1} failed={} p50_ms={:.1} p99_ms={:.1}",
        done.load(Ordering::Relaxed),
        done.load(Ordering::Relaxed) as f64 / elapsed,
        failed.load(Ordering::Relaxed),
        at(0.5),
        at(0.99)
    );
}
