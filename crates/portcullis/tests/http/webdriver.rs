//! A small W3C WebDriver client over `reqwest` for the browser journeys: Debian's `chromium`
//! driven headless by its `chromedriver`, started on a random port for each test. When either
//! program is missing the journey says so on stderr (`SKIPPED …`) and does not run;
//! `scripts/check` installs both.

use std::os::unix::process::CommandExt as _;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The W3C name of an element reference in a response.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A headless Chromium session.
pub struct Browser {
    http: reqwest::Client,
    base: String,
    driver: Child,
    profile: tempfile::TempDir,
    /// The browser's home, when it holds an NSS database of its own.
    _home: Option<tempfile::TempDir>,
}

impl Browser {
    /// Starts chromedriver and a browser session; `None` (after saying SKIPPED) when the
    /// programs are not installed.
    pub async fn start() -> Option<Self> {
        Self::launch(None, tempfile::tempdir().expect("profile dir")).await
    }

    /// Starts a browser that holds a client certificate (`pkcs12`, no password) in its NSS
    /// database, trusts `ca_pem` for servers, and presents the certificate to `origin` without
    /// asking (the `auto_select_certificate` setting a user or policy makes). `None` (after
    /// saying SKIPPED) when chromium or NSS's `certutil`/`pk12util` are missing.
    pub async fn start_with_certificate(pkcs12: &[u8], ca_pem: &str, origin: &str) -> Option<Self> {
        let (certutil, pk12util) = ("/usr/bin/certutil", "/usr/bin/pk12util");
        if !std::path::Path::new(certutil).exists() || !std::path::Path::new(pk12util).exists() {
            portcullis_testkit::skipped(
                "client-certificate browser journey: /usr/bin/certutil or /usr/bin/pk12util is missing (scripts/check installs Debian's libnss3-tools)",
            );
            return None;
        }
        // Chromium on Linux keeps client certificates and local trust in $HOME/.pki/nssdb.
        let home = tempfile::tempdir().expect("home");
        let nssdb = home.path().join(".pki/nssdb");
        std::fs::create_dir_all(&nssdb).expect("nssdb dir");
        let db = format!("sql:{}", nssdb.display());
        let (p12, ca) = (home.path().join("client.p12"), home.path().join("ca.pem"));
        std::fs::write(&p12, pkcs12).expect("p12");
        std::fs::write(&ca, ca_pem).expect("ca");
        let run = |program: &str, args: &[&str]| {
            let status = Command::new(program).args(args).stdout(Stdio::null()).status().expect(program);
            assert!(status.success(), "{program} {args:?}");
        };
        run(certutil, &["-N", "-d", &db, "--empty-password"]);
        run(pk12util, &["-i", &p12.to_string_lossy(), "-d", &db, "-W", ""]);
        run(certutil, &["-A", "-d", &db, "-n", "test-ca", "-t", "C,,", "-i", &ca.to_string_lossy()]);
        let profile = tempfile::tempdir().expect("profile dir");
        std::fs::create_dir_all(profile.path().join("Default")).expect("profile");
        let setting = json!({"setting": {"filters": [{}]}});
        let preferences = json!({"profile": {"content_settings": {"exceptions": {
            "auto_select_certificate": {format!("{origin},*"): setting}
        }}}});
        std::fs::write(profile.path().join("Default/Preferences"), preferences.to_string()).expect("preferences");
        Self::launch(Some(home), profile).await
    }

    async fn launch(home: Option<tempfile::TempDir>, profile: tempfile::TempDir) -> Option<Self> {
        if !std::path::Path::new(CHROMIUM).exists() || !std::path::Path::new(CHROMEDRIVER).exists() {
            portcullis_testkit::skipped(
                "browser journeys: /usr/bin/chromium or /usr/bin/chromedriver is missing (scripts/check installs Debian's chromium and chromium-driver)",
            );
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
        let mut driver = Command::new(CHROMEDRIVER);
        if let Some(home) = &home {
            driver.env("HOME", home.path());
        }
        let driver = driver
            .arg(format!("--port={port}"))
            // Its own process group, so that a test that fails before `quit` can still end
            // chromedriver and the browsers it started (see `Drop`).
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        for _ in 0..200 {
            if http.get(format!("{base}/status")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let mut browser = Self { http, base, driver, profile, _home: home };
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--no-first-run".to_owned(),
            format!("--user-data-dir={}", browser.profile.path().display()),
        ];
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let session = browser.call(reqwest::Method::POST, "/session", Some(capabilities)).await;
        let id = session["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {session}")).to_owned();
        browser.base = format!("{}/session/{id}", browser.base);
        Some(browser)
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request.send().await.expect("webdriver").json().await.expect("json");
        if answer["value"].get("error").is_some() {
            panic!("webdriver {path}: {answer}");
        }
        answer["value"].clone()
    }

    pub async fn go(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url}))).await;
    }

    pub async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None).await.as_str().expect("url").to_owned()
    }

    pub async fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", None).await.as_str().expect("source").to_owned()
    }

    /// The element a CSS selector finds (the page must hold it).
    pub async fn find(&self, css: &str) -> String {
        let found =
            self.call(reqwest::Method::POST, "/element", Some(json!({"using": "css selector", "value": css}))).await;
        found[ELEMENT].as_str().unwrap_or_else(|| panic!("no element {css}")).to_owned()
    }

    pub async fn attribute(&self, element: &str, name: &str) -> Option<String> {
        self.call(reqwest::Method::GET, &format!("/element/{element}/attribute/{name}"), None)
            .await
            .as_str()
            .map(str::to_owned)
    }

    pub async fn type_into(&self, element: &str, text: &str) {
        self.call(reqwest::Method::POST, &format!("/element/{element}/value"), Some(json!({"text": text}))).await;
    }

    pub async fn click(&self, element: &str) {
        self.call(reqwest::Method::POST, &format!("/element/{element}/click"), Some(json!({}))).await;
    }

    /// The browser console since the last call (CSP violations show up here).
    pub async fn console(&self) -> Vec<String> {
        let entries = self.call(reqwest::Method::POST, "/se/log", Some(json!({"type": "browser"}))).await;
        entries
            .as_array()
            .map(|e| e.iter().filter_map(|x| x["message"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    }

    /// Waits until the browser is at a URL starting with `prefix`.
    pub async fn wait_for_url(&self, prefix: &str) -> String {
        for _ in 0..200 {
            let url = self.url().await;
            if url.starts_with(prefix) {
                return url;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the browser never reached {prefix}; it is at {}", self.url().await);
    }

    /// Waits until the page holds `text`.
    pub async fn wait_for_text(&self, text: &str) {
        for _ in 0..200 {
            if self.source().await.contains(text) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the page never showed {text:?}: {}", self.source().await);
    }

    /// Adds Chromium's virtual WebAuthn authenticator (WebAuthn Level 3 §11.3): a platform
    /// authenticator with resident keys that verifies its user, as a phone's screen lock does.
    /// Returns its id.
    pub async fn add_virtual_authenticator(&self) -> String {
        let options = json!({
            "protocol": "ctap2", "transport": "internal", "hasResidentKey": true,
            "hasUserVerification": true, "isUserConsenting": true, "isUserVerified": true
        });
        let id = self.call(reqwest::Method::POST, "/webauthn/authenticator", Some(options)).await;
        id.as_str().expect("authenticator id").to_owned()
    }

    /// The credentials the virtual authenticator `id` holds.
    pub async fn authenticator_credentials(&self, id: &str) -> Vec<Value> {
        let list = self.call(reqwest::Method::GET, &format!("/webauthn/authenticator/{id}/credentials"), None).await;
        list.as_array().cloned().unwrap_or_default()
    }

    /// Whether the virtual authenticator `id` verifies its user from now on.
    pub async fn set_user_verified(&self, id: &str, verified: bool) {
        let body = json!({"isUserVerified": verified});
        self.call(reqwest::Method::POST, &format!("/webauthn/authenticator/{id}/uv"), Some(body)).await;
    }

    pub async fn quit(mut self) {
        let _ = self.http.delete(&self.base).send().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    /// Ends chromedriver's whole process group (its browsers too), also when a test panicked
    /// before `quit`: nothing is left running after the test process moves on.
    fn drop(&mut self) {
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        let _ = self.driver.wait();
    }
}

/// A relying party's callback that just answers, on a loopback port of its own: where a
/// browser journey ends. Returns its URL.
pub async fn callback() -> String {
    let app = axum::Router::new().route("/cb", axum::routing::get(|| async { "signed in" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let callback = format!("http://127.0.0.1:{}/cb", listener.local_addr().expect("addr").port());
    tokio::spawn(async move { axum::serve(listener, app).await });
    callback
}

/// The authorization request a browser journey starts with: the code flow with PKCE (the
/// challenge of [`crate::oidc_errors::VERIFIER`]) for `openid`, to `callback`, with `extra`
/// parameters (`prompt`, …).
pub fn authorize_url(
    server: &portcullis_testkit::TestServer,
    client_id: &str,
    callback: &str,
    extra: &[(&str, &str)],
) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", callback),
            ("scope", "openid"),
            ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
            ("code_challenge_method", "S256"),
        ])
        .extend_pairs(extra.iter().copied())
        .finish();
    format!("{}/t/acme/authorize?{query}", server.url)
}

/// The ID token's claims for the code a journey landed with at `landed` (the callback's URL).
pub async fn claims_of(
    server: &portcullis_testkit::TestServer,
    client_id: &str,
    secret: &str,
    callback: &str,
    landed: &str,
) -> Value {
    let params: std::collections::BTreeMap<String, String> =
        url::Url::parse(landed).expect("url").query_pairs().into_owned().collect();
    let form = [
        ("code", params["code"].as_str()),
        ("redirect_uri", callback),
        ("code_verifier", crate::oidc_errors::VERIFIER),
    ];
    let (status, tokens) = crate::oidc_errors::exchange(server, client_id, secret, &form).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{tokens}");
    crate::client_roles::payload(tokens["id_token"].as_str().expect("id token"))
}
