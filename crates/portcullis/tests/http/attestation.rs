//! A tenant that lets passkeys be registered only with known authenticator models (AAGUID
//! allow-list with each vendor's attestation root): registrations are built here as an
//! authenticator builds them — a P-256 credential, authenticator data with the model's AAGUID,
//! and a packed attestation signed by an attestation certificate (rcgen) under a vendor CA —
//! and sent through the settings API. A listed model under its CA registers; another model, a
//! CA that is not listed, and no attestation at all are refused. Also: a login that needs a
//! second factor registers its passkey through the flow API.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ciborium::Value as Cbor;
use p256::ecdsa::SigningKey;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, CustomExtension, DnType, IsCa, KeyPair, KeyUsagePurpose,
    SigningKey as _,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::flow_api::{access_token_of, start_settings, step};
use crate::oidc::{setup, web_client};

/// An attestation certificate (DER) and its key.
type Attestation<'a> = (&'a [u8], &'a KeyPair);

const ALLOWED: &str = "cb69481e-8ff7-4039-93ec-0a2729a154a8";
const OTHER_MODEL: &str = "ee882879-721c-4913-9775-3dfcce97072a";

fn vendor_ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("ca")
}

/// An attestation certificate of the model `aaguid` under `ca`, as FIDO's packed format wants
/// it (subject C, O, OU "Authenticator Attestation", CN; not a CA; the AAGUID extension).
fn attestation_certificate(ca: &CertifiedIssuer<'static, KeyPair>, aaguid: &str) -> (Vec<u8>, KeyPair) {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CountryName, "DE");
    params.distinguished_name.push(DnType::OrganizationName, "Acme Keys");
    params.distinguished_name.push(DnType::OrganizationalUnitName, "Authenticator Attestation");
    params.distinguished_name.push(DnType::CommonName, "Acme Key Series 5");
    params.is_ca = IsCa::ExplicitNoCa;
    let mut octets = vec![0x04, 0x10];
    octets.extend_from_slice(uuid::Uuid::parse_str(aaguid).expect("uuid").as_bytes());
    params.custom_extensions = vec![CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 45724, 1, 1, 4], octets)];
    let key = KeyPair::generate().expect("key");
    let cert = params.signed_by(&key, ca).expect("sign");
    (cert.der().to_vec(), key)
}

fn cbor(value: &Cbor) -> Vec<u8> {
    let mut bytes = Vec::new();
    ciborium::into_writer(value, &mut bytes).expect("cbor");
    bytes
}

/// The answer of `navigator.credentials.create()` to `options` from an authenticator of model
/// `aaguid`, attested by `attestation` (`None`: the `none` format).
fn registration(options: &Value, origin: &str, aaguid: &str, attestation: Option<Attestation>) -> Value {
    let public_key = &options["publicKey"];
    let challenge = public_key["challenge"].as_str().expect("challenge");
    let rp_id = public_key["rp"]["id"].as_str().expect("rp id");
    let client_data =
        json!({"type": "webauthn.create", "challenge": challenge, "origin": origin, "crossOrigin": false}).to_string();
    let credential = SigningKey::random(&mut rand::rngs::OsRng);
    let point = credential.verifying_key().to_encoded_point(false);
    let cose_key = Cbor::Map(vec![
        (Cbor::Integer(1.into()), Cbor::Integer(2.into())),
        (Cbor::Integer(3.into()), Cbor::Integer((-7).into())),
        (Cbor::Integer((-1).into()), Cbor::Integer(1.into())),
        (Cbor::Integer((-2).into()), Cbor::Bytes(point.x().expect("x").to_vec())),
        (Cbor::Integer((-3).into()), Cbor::Bytes(point.y().expect("y").to_vec())),
    ]);
    let credential_id: [u8; 32] = rand::random();
    let mut auth_data = Sha256::digest(rp_id.as_bytes()).to_vec();
    auth_data.push(0x01 | 0x04 | 0x40); // user present, user verified, attested credential data
    auth_data.extend_from_slice(&0u32.to_be_bytes());
    auth_data.extend_from_slice(uuid::Uuid::parse_str(aaguid).expect("uuid").as_bytes());
    auth_data.extend_from_slice(&(credential_id.len() as u16).to_be_bytes());
    auth_data.extend_from_slice(&credential_id);
    auth_data.extend_from_slice(&cbor(&cose_key));
    let (format, statement) = match attestation {
        Some((certificate, key)) => {
            let mut signed = auth_data.clone();
            signed.extend_from_slice(&Sha256::digest(client_data.as_bytes()));
            let signature = key.sign(&signed).expect("sign");
            let statement = Cbor::Map(vec![
                (Cbor::Text("alg".into()), Cbor::Integer((-7).into())),
                (Cbor::Text("sig".into()), Cbor::Bytes(signature)),
                (Cbor::Text("x5c".into()), Cbor::Array(vec![Cbor::Bytes(certificate.to_vec())])),
            ]);
            ("packed", statement)
        }
        None => ("none", Cbor::Map(Vec::new())),
    };
    let attestation_object = Cbor::Map(vec![
        (Cbor::Text("fmt".into()), Cbor::Text(format.into())),
        (Cbor::Text("attStmt".into()), statement),
        (Cbor::Text("authData".into()), Cbor::Bytes(auth_data)),
    ]);
    let id = URL_SAFE_NO_PAD.encode(credential_id);
    json!({
        "id": id, "rawId": id, "type": "public-key", "extensions": {},
        "response": {
            "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data.as_bytes()),
            "attestationObject": URL_SAFE_NO_PAD.encode(cbor(&attestation_object)),
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_listed_authenticator_models_register_passkeys() {
    for engine in portcullis_testkit::engines() {
        let server = portcullis_testkit::TestServer::start_as(engine, "localhost").await.expect("server starts");
        eprintln!("attestation policy on {engine:?}");
        let vendor = vendor_ca("Acme Keys Attestation Root");
        let stranger = vendor_ca("Unknown Vendor Root");
        let mut client = web_client();
        client["first_party"] = json!(true);
        let (id, secret) = setup(&server, client).await;

        let bad = json!({"mfa": "optional", "passkey_authenticators": [{"aaguid": "nope", "name": "X", "attestation_ca": vendor.pem()}]});
        let (status, _) = server.admin_json(Method::PUT, "/tenants/acme/auth-policy", Some(bad)).await.expect("put");
        assert_eq!(status, StatusCode::BAD_REQUEST, "an AAGUID is a UUID");
        let bad = json!({"mfa": "optional", "passkey_authenticators": [{"aaguid": ALLOWED, "name": "X", "attestation_ca": "not PEM"}]});
        let (status, _) = server.admin_json(Method::PUT, "/tenants/acme/auth-policy", Some(bad)).await.expect("put");
        assert_eq!(status, StatusCode::BAD_REQUEST, "the root must be a certificate");
        let policy = json!({"mfa": "optional", "passkey_authenticators": [
            {"aaguid": ALLOWED, "name": "Acme Key Series 5", "attestation_ca": vendor.pem()}
        ]});
        let (status, _) = server.admin_json(Method::PUT, "/tenants/acme/auth-policy", Some(policy)).await.expect("put");
        assert_eq!(status, StatusCode::OK);

        let access = access_token_of(&server, &id, &secret).await;
        let (listed_cert, listed_key) = attestation_certificate(&vendor, ALLOWED);
        let (other_cert, other_key) = attestation_certificate(&vendor, OTHER_MODEL);
        let (stranger_cert, stranger_key) = attestation_certificate(&stranger, ALLOWED);
        let cases: [(&str, &str, Option<Attestation>); 4] = [
            ("another model of the vendor", OTHER_MODEL, Some((&other_cert, &other_key))),
            ("a CA not on the list", ALLOWED, Some((&stranger_cert, &stranger_key))),
            ("no attestation", ALLOWED, None),
            ("the listed model", ALLOWED, Some((&listed_cert, &listed_key))),
        ];
        for (name, aaguid, attestation) in cases {
            let accepted = name == "the listed model";
            let flow: Value = start_settings(&server, Some(&access)).await.json().await.expect("json");
            let options = &flow["passkey"];
            assert_eq!(options["publicKey"]["attestation"], "direct", "{name}: attestation is asked for: {flow}");
            let (flow_id, token) = (flow["id"].as_str().expect("id"), flow["flow_token"].as_str().expect("token"));
            let answer = registration(options, &server.url, aaguid, attestation);
            let (status, body, _) =
                step(&server, flow_id, token, json!({"method": "passkey", "credential": answer, "name": name})).await;
            if accepted {
                assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("complete")), "{name}: {body}");
            } else {
                assert_eq!(
                    (status, body["code"].as_str()),
                    (StatusCode::BAD_REQUEST, Some("invalid_passkey")),
                    "{name}: {body}"
                );
            }
        }
        let (_, audit) =
            server.admin_json(Method::GET, "/tenants/acme/audit?action=login.failure", None).await.expect("audit");
        let reasons: Vec<String> = audit["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|e| e["after"]["reason"].as_str().map(str::to_owned))
            .collect();
        assert_eq!(reasons.len(), 3, "each refusal audited: {reasons:?}");
        for why in ["aaguids allowed", "not trusted by one of the selected CA", "not a format valid for CA chain"] {
            assert!(reasons.iter().any(|r| r.contains(why)), "refused for {why:?}: {reasons:?}");
        }
        let alice = crate::oidc::user_id(&server, "alice").await;
        let (_, credentials) =
            server.admin_json(Method::GET, &format!("/tenants/acme/users/{alice}/credentials"), None).await.expect("c");
        let passkeys: Vec<&str> = credentials
            .as_array()
            .expect("list")
            .iter()
            .filter(|c| c["kind"] == "passkey")
            .filter_map(|c| c["name"].as_str())
            .collect();
        assert_eq!(passkeys, ["the listed model"], "{credentials}");

        // With the list emptied, any authenticator registers (no attestation asked).
        let (status, _) = server
            .admin_json(Method::PUT, "/tenants/acme/auth-policy", Some(json!({"mfa": "optional"})))
            .await
            .expect("put");
        assert_eq!(status, StatusCode::OK);
        let flow: Value = start_settings(&server, Some(&access)).await.json().await.expect("json");
        assert_ne!(flow["passkey"]["publicKey"]["attestation"], "direct", "{flow}");
        let (flow_id, token) = (flow["id"].as_str().expect("id"), flow["flow_token"].as_str().expect("token"));
        let answer = registration(&flow["passkey"], &server.url, OTHER_MODEL, None);
        let (status, body, _) = step(&server, flow_id, token, json!({"method": "passkey", "credential": answer})).await;
        assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("complete")), "{body}");
        server.stop().await.expect("server stops");
    }
}

/// A login that needs a second factor, on a tenant that allows only passkeys, registers one
/// through the flow API (a native app with the platform's passkey API): an answer for another
/// origin is refused and counted, and the flow still offers the same registration; the right
/// answer completes the login with the new passkey as its second factor, and recovery codes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_registers_its_second_factor_passkey_through_the_flow_api() {
    for engine in portcullis_testkit::engines() {
        let server = portcullis_testkit::TestServer::start_as(engine, "localhost").await.expect("server starts");
        eprintln!("passkey enrolment through the flow API on {engine:?}");
        let mut client = web_client();
        client["first_party"] = json!(true);
        let (id, secret) = setup(&server, client).await;
        let policy = json!({"mfa": "required", "second_factors": ["passkey"]});
        let (status, _) = server.admin_json(Method::PUT, "/tenants/acme/auth-policy", Some(policy)).await.expect("put");
        assert_eq!(status, StatusCode::OK);
        let (flow_id, token, _) = crate::flow_api::start(&server, &id).await;
        let password = json!({"method": "password", "identifier": "alice", "password": crate::oidc::PASSWORD});
        let (status, body, _) = step(&server, &flow_id, &token, password).await;
        assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("enrol_mfa")), "{body}");
        assert_eq!((body["methods"].clone(), body.get("totp")), (json!(["passkey"]), None), "{body}");
        let options = body["passkey"].clone();
        assert_eq!(options["publicKey"]["authenticatorSelection"]["userVerification"], "required", "{options}");

        let phished = registration(&options, "https://acme.example.net", ALLOWED, None);
        let (status, body, _) =
            step(&server, &flow_id, &token, json!({"method": "passkey", "credential": phished})).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_passkey")), "{body}");
        assert_eq!(body["flow"]["step"], "enrol_mfa", "the flow goes on: {body}");
        assert_eq!(body["flow"]["passkey"], options, "the same registration, still unanswered");

        let answer = registration(&options, &server.url, ALLOWED, None);
        let (status, body, _) =
            step(&server, &flow_id, &token, json!({"method": "passkey", "credential": answer, "name": "Phone"})).await;
        assert_eq!((status, body["step"].as_str()), (StatusCode::OK, Some("complete")), "first party: {body}");
        assert_eq!(body["recovery_codes"].as_array().map(Vec::len), Some(10), "{body}");
        let redirect = body["redirect_to"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned();
        let code = crate::browser::query(&redirect)["code"].clone();
        let form = [
            ("code", code.as_str()),
            ("redirect_uri", crate::oidc::REDIRECT),
            ("code_verifier", crate::oidc_errors::VERIFIER),
        ];
        let (status, tokens) = crate::oidc_errors::exchange(&server, &id, &secret, &form).await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        let claims = crate::client_roles::payload(tokens["id_token"].as_str().expect("id token"));
        assert_eq!((claims["acr"].as_str(), claims["amr"].clone()), (Some("2"), json!(["pwd", "hwk", "user", "mfa"])));
        server.stop().await.expect("server stops");
    }
}
