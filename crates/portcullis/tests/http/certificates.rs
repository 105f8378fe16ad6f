//! Sign-in with X.509 client certificates on the mutual-TLS listener, with a PKI made in the
//! test (rcgen): a CA with its CRL, the listener's own certificate, and client certificates —
//! valid ones naming alice by SAN e-mail, by UPN and by a subject bound to her, an expired one,
//! a revoked one, one from an unknown CA and one naming nobody. Through the pages (the browser
//! brings its flow's cookies to the listener's port) and the flow API; each refusal is a typed
//! flow error, counted and audited.

use std::path::PathBuf;

use portcullis::mtls::MtlsConfig;
use portcullis_testkit::{Engine, TestServer};
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CertifiedIssuer, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyIdMethod, KeyPair, KeyUsagePurpose, OtherNameValue, RevokedCertParams, SanType,
    SerialNumber,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use time::Duration;

use crate::browser::{Browser, field, location, query};
use crate::client_roles::payload;
use crate::flow_api::start;
use crate::oidc::{REDIRECT, consent, setup, web_client};
use crate::oidc_errors::{VERIFIER, authorize_url, exchange, request};

/// The UPN `otherName` of Microsoft smart-card logon.
const UPN: [u64; 9] = [1, 3, 6, 1, 4, 1, 311, 20, 2];

struct Pki {
    dir: tempfile::TempDir,
    ca: CertifiedIssuer<'static, KeyPair>,
    ca_pem: String,
}

/// A client certificate and its key, as one PEM for `reqwest::Identity`.
struct Client {
    pem: String,
}

impl Pki {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("ca");
        let ca_pem = ca.pem();
        Self { dir: tempfile::tempdir().expect("dir"), ca, ca_pem }
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    fn client(&self, cn: &str, sans: Vec<SanType>, serial: u64, valid: (i64, i64)) -> Client {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        // The most general first, as CAs issue them; RFC 4514 writes them the other way round.
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::OrganizationName, "Acme");
        params.distinguished_name.push(DnType::CommonName, cn);
        params.subject_alt_names = sans;
        params.serial_number = Some(SerialNumber::from(serial));
        let now = portcullis_core::Clock::now(&portcullis_core::SystemClock);
        params.not_before = now + Duration::days(valid.0);
        params.not_after = now + Duration::days(valid.1);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let key = KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &self.ca).expect("sign");
        Client { pem: format!("{}{}", cert.pem(), key.serialize_pem()) }
    }

    /// The listener's files: its certificate for localhost, the CA, and a CRL revoking `revoked`.
    fn listener(&self, revoked: u64) -> MtlsConfig {
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &self.ca).expect("sign");
        let now = portcullis_core::Clock::now(&portcullis_core::SystemClock);
        let crl = CertificateRevocationListParams {
            this_update: now - Duration::hours(1),
            next_update: now + Duration::days(7),
            crl_number: SerialNumber::from(1),
            issuing_distribution_point: None,
            revoked_certs: vec![RevokedCertParams {
                serial_number: SerialNumber::from(revoked),
                revocation_time: now - Duration::minutes(30),
                reason_code: None,
                invalidity_date: None,
            }],
            key_identifier_method: KeyIdMethod::Sha256,
        }
        .signed_by(&self.ca)
        .expect("crl");
        MtlsConfig {
            listen: "127.0.0.1:0".parse().expect("addr"),
            cert: self.write("server.pem", &cert.pem()),
            key: self.write("server.key", &key.serialize_pem()),
            client_ca: self.write("ca.pem", &self.ca_pem),
            crls: vec![self.write("ca.crl", &crl.pem().expect("pem"))],
            public_url: None,
        }
    }

    /// An HTTP client presenting `client` (or no certificate), trusting the test CA.
    fn http(&self, client: Option<&Client>) -> reqwest::Client {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .add_root_certificate(reqwest::Certificate::from_pem(self.ca_pem.as_bytes()).expect("ca"));
        if let Some(client) = client {
            builder = builder.identity(reqwest::Identity::from_pem(client.pem.as_bytes()).expect("identity"));
        }
        builder.build().expect("client")
    }
}

fn email(address: &str) -> SanType {
    SanType::Rfc822Name(address.try_into().expect("ia5"))
}

/// Posts `{"method": "certificate"}` to a new flow through `http` at `base`; returns the answer.
async fn flow_with(server: &TestServer, client_id: &str, http: &reqwest::Client, base: &str) -> (StatusCode, Value) {
    let (id, token, flow) = start(server, client_id).await;
    assert!(flow["methods"].as_array().expect("methods").contains(&json!("certificate")), "{flow}");
    let answer = http
        .post(format!("{base}/t/acme/flows/{id}"))
        .header("Portcullis-Flow-Token", token)
        .json(&json!({"method": "certificate"}))
        .send()
        .await
        .expect("send");
    (answer.status(), answer.json().await.expect("json"))
}

async fn claims_of(server: &TestServer, id: &str, secret: &str, redirect: &str) -> Value {
    assert!(redirect.starts_with(REDIRECT), "{redirect}");
    let code = query(redirect)["code"].clone();
    let form = [("code", code.as_str()), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)];
    let (status, tokens) = exchange(server, id, secret, &form).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    payload(tokens["id_token"].as_str().expect("id token"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificates_sign_in_on_the_mutual_tls_listener() {
    for engine in portcullis_testkit::engines() {
        certificates_on(engine).await;
    }
}

async fn certificates_on(engine: Engine) {
    let pki = Pki::new("Acme Smart Card CA");
    let mtls = pki.listener(12);
    let server =
        TestServer::start_with(engine, "localhost", |config, _| config.mtls = Some(mtls)).await.expect("starts");
    eprintln!("client certificates on {engine:?}");
    let base = server.certificate_url.clone().expect("the listener's URL");
    assert!(base.starts_with("https://localhost:"), "{base}");
    let (id, secret) = setup(&server, web_client()).await;

    let by_email = pki.client("Alice Liddell", vec![email("alice@example.com")], 10, (-1, 365));
    let by_upn = pki.client(
        "Alice Liddell",
        vec![SanType::OtherName((
            UPN.iter().copied().chain([3]).collect(),
            OtherNameValue::Utf8String("alice".into()),
        ))],
        13,
        (-1, 365),
    );
    let by_subject = pki.client("Alice Card", Vec::new(), 14, (-1, 365));
    let expired = pki.client("Alice Liddell", vec![email("alice@example.com")], 11, (-400, -1));
    let revoked = pki.client("Alice Liddell", vec![email("alice@example.com")], 12, (-1, 365));
    let nobody = pki.client("Bob", vec![email("bob@example.com")], 15, (-1, 365));
    let stranger = Pki::new("Evil CA").client("Alice Liddell", vec![email("alice@example.com")], 10, (-1, 365));
    // A CA of the attacker's that copies the real one's name: its signatures do not verify.
    let impostor =
        Pki::new("Acme Smart Card CA").client("Alice Liddell", vec![email("alice@example.com")], 10, (-1, 365));

    // The pages: the sign-in page links to the listener; the browser brings its cookies there.
    let mut browser = Browser::new(&server.url);
    let to_login = location(&browser.get(&authorize_url(&request(&id, &[]))).await);
    let html = browser.get(&to_login).await.text().await.expect("html").replace("&#x2f;", "/");
    let link = html
        .split(&format!(r#"href="{base}"#))
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(|rest| format!("{base}{}", rest.replace("&amp;", "&")))
        .expect("a link to the certificate listener");
    let plain = browser.get(&link.replace(&base, &server.url)).await;
    assert_eq!(plain.status(), StatusCode::FORBIDDEN, "the plain listener has no certificate");
    browser.http = pki.http(Some(&by_email));
    let page = browser.get(&link).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(html.contains("CN=Alice Liddell,O=Acme"), "{html}");
    let (flow, csrf) = (field(&html, "flow"), field(&html, "csrf_token"));
    let forged =
        browser.post(&format!("{base}/t/acme/login/certificate"), &[("flow", &flow), ("csrf_token", "x")]).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let done =
        browser.post(&format!("{base}/t/acme/login/certificate"), &[("flow", &flow), ("csrf_token", &csrf)]).await;
    let redirect = consent(&mut browser, &location(&done), "allow").await;
    let claims = claims_of(&server, &id, &secret, &redirect).await;
    assert_eq!((claims["acr"].as_str(), claims["amr"].clone()), (Some("1"), json!(["sc"])));

    // A revoked certificate on the pages: a clear refusal.
    let mut other = Browser::new(&server.url);
    let to_login = location(&other.get(&authorize_url(&request(&id, &[]))).await);
    let html = other.get(&to_login).await.text().await.expect("html");
    let (flow, csrf) = (field(&html, "flow"), field(&html, "csrf_token"));
    other.http = pki.http(Some(&revoked));
    let refused =
        other.post(&format!("{base}/t/acme/login/certificate"), &[("flow", &flow), ("csrf_token", &csrf)]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused.text().await.expect("html").contains("<code>revoked</code>"));

    // The flow API, each certificate in a flow of its own.
    let (status, body) = flow_with(&server, &id, &pki.http(Some(&by_upn)), &base).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(matches!(body["step"].as_str(), Some("consent" | "complete")), "signed in by UPN: {body}");
    for (client, reason) in [
        (Some(&expired), "expired"),
        (Some(&revoked), "revoked"),
        (Some(&stranger), "unknown_ca"),
        (Some(&impostor), "invalid"),
        (Some(&nobody), "unmapped"),
        (Some(&by_subject), "unmapped"),
        (None, "no_certificate"),
    ] {
        let (status, body) = flow_with(&server, &id, &pki.http(client), &base).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_certificate")), "{body}");
        assert!(body["title"].as_str().is_some_and(|t| t.contains(reason)), "{reason}: {body}");
        assert_eq!(body["flow"]["step"], "authenticate", "the flow goes on");
    }
    let (status, body) = flow_with(&server, &id, &pki.http(Some(&by_email)), &server.url).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the plain listener never carries a certificate: {body}");

    // A subject an administrator binds to alice; once bound, nobody else's.
    let alice = crate::oidc::user_id(&server, "alice").await;
    let path = format!("/tenants/acme/users/{alice}/certificates");
    let (status, _) =
        server.admin_json(Method::POST, &path, Some(json!({"subject_dn": "Alice Card"}))).await.expect("bind");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, bound) = server
        .admin_json(Method::POST, &path, Some(json!({"subject_dn": "cn=alice card, o=ACME"})))
        .await
        .expect("bind");
    assert_eq!((status, bound["kind"].as_str()), (StatusCode::CREATED, Some("certificate")), "{bound}");
    let (status, _) = server
        .admin_json(Method::POST, &path, Some(json!({"subject_dn": "CN=Alice Card,O=Acme"})))
        .await
        .expect("bind");
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, body) = flow_with(&server, &id, &pki.http(Some(&by_subject)), &base).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(matches!(body["step"].as_str(), Some("consent" | "complete")), "signed in by subject: {body}");

    // Where every certificate sits on a smart card with a PIN, a certificate is two factors.
    let policy = json!({"mfa": "optional", "certificate_is_mfa": true, "certificate_mapping": ["email"]});
    let (status, _) = server.admin_json(Method::PUT, "/tenants/acme/auth-policy", Some(policy)).await.expect("policy");
    assert_eq!(status, StatusCode::OK);
    let (status, body) = flow_with(&server, &id, &pki.http(Some(&by_upn)), &base).await;
    assert_eq!(body["title"].as_str().map(|t| t.contains("unmapped")), Some(true), "UPN mapping is off now: {body}");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let mut card = Browser::new(&server.url);
    let to_login = location(&card.get(&authorize_url(&request(&id, &[]))).await);
    let html = card.get(&to_login).await.text().await.expect("html");
    let (flow, csrf) = (field(&html, "flow"), field(&html, "csrf_token"));
    card.http = pki.http(Some(&by_email));
    let done = card.post(&format!("{base}/t/acme/login/certificate"), &[("flow", &flow), ("csrf_token", &csrf)]).await;
    let redirect = location(&done);
    assert!(redirect.starts_with(REDIRECT), "consent is remembered: {redirect}");
    let claims = claims_of(&server, &id, &secret, &redirect).await;
    assert_eq!((claims["acr"].as_str(), claims["amr"].clone()), (Some("2"), json!(["sc", "pin", "mfa"])));

    // Every refusal was audited with its reason.
    let (_, audit) = server.admin_json(Method::GET, "/tenants/acme/audit?limit=200", None).await.expect("audit");
    let reasons: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["action"] == "login.failure" && e["after"]["method"] == "certificate")
        .filter_map(|e| e["after"]["reason"].as_str())
        .collect();
    for reason in ["expired", "revoked", "unknown_ca", "unmapped", "no_certificate"] {
        assert!(reasons.contains(&reason), "{reason} in {reasons:?}");
    }
    server.stop().await.expect("stops");
}

/// `client` as PKCS#12 without a password (what NSS imports), made by the `openssl` program;
/// `None` (after saying SKIPPED) without it.
fn pkcs12(pki: &Pki, client: &Client) -> Option<Vec<u8>> {
    let openssl = "/usr/bin/openssl";
    if !std::path::Path::new(openssl).exists() {
        portcullis_testkit::skipped(
            "client-certificate browser journey: /usr/bin/openssl is missing (scripts/check installs it)",
        );
        return None;
    }
    let pem = pki.write("browser-client.pem", &client.pem);
    let out = pki.dir.path().join("browser-client.p12");
    let status = std::process::Command::new(openssl)
        .args(["pkcs12", "-export", "-in", &pem.to_string_lossy(), "-out", &out.to_string_lossy(), "-passout", "pass:"])
        .status()
        .expect("openssl");
    assert!(status.success(), "openssl pkcs12");
    Some(std::fs::read(out).expect("p12"))
}

/// Headless Chromium holding alice's certificate in its NSS database: the sign-in page's link
/// leads to the mutual-TLS listener, where the browser presents the certificate (selected
/// without a prompt, as an administrator's auto-select policy does), the page names it, and
/// the confirmation signs in (`amr` `sc`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_browser_signs_in_with_its_client_certificate() {
    for engine in portcullis_testkit::engines() {
        certificate_in_chromium(engine).await;
    }
}

async fn certificate_in_chromium(engine: Engine) {
    let pki = Pki::new("Acme Smart Card CA");
    let server = TestServer::start_with(engine, "localhost", |config, _| config.mtls = Some(pki.listener(99)))
        .await
        .expect("starts");
    eprintln!("client certificate in Chromium on {engine:?}");
    let base = server.certificate_url.clone().expect("the listener's URL");
    let alice = pki.client("Alice Liddell", vec![email("alice@example.com")], 10, (-1, 365));
    let Some(p12) = pkcs12(&pki, &alice) else { return };
    let Some(browser) = crate::webdriver::Browser::start_with_certificate(&p12, &pki.ca_pem, &base).await else {
        return;
    };
    let callback = crate::webdriver::callback().await;
    let client = json!({"client_name": "Card app", "redirect_uris": [callback], "grant_types": ["authorization_code"],
        "first_party": true});
    let (id, secret) = setup(&server, client).await;
    browser.go(&crate::webdriver::authorize_url(&server, &id, &callback, &[])).await;
    browser.wait_for_url(&format!("{}/t/acme/login", server.url)).await;
    browser.click(&browser.find(&format!("a[href^='{base}']")).await).await;
    browser.wait_for_url(&format!("{base}/t/acme/login/certificate")).await;
    browser.wait_for_text("CN=Alice Liddell,O=Acme").await;
    browser.click(&browser.find("button[type=submit]").await).await;
    let landed = browser.wait_for_url(&callback).await;
    let claims = crate::webdriver::claims_of(&server, &id, &secret, &callback, &landed).await;
    assert_eq!((claims["acr"].as_str(), claims["amr"].clone()), (Some("1"), json!(["sc"])));
    let console = browser.console().await;
    assert!(console.iter().all(|m| !m.contains("Content Security Policy")), "{console:?}");
    browser.quit().await;
    server.stop().await.expect("stops");
}
