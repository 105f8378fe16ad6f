//! Signing keys: every tenant signs with ES256, RS256 and EdDSA; rotation keeps old keys
//! published until the tokens they signed have expired. Signatures are checked with an
//! independent JOSE library against the published JWKS, as a relying party would.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use portcullis_crypto::signing::JwsAlgorithm;
use serde_json::{Value, json};

use crate::on_every_engine;

/// Verifies `jws` against `jwks` and returns its claims.
fn verify(jwks: &Value, jws: &str, alg: Algorithm) -> Result<Value, String> {
    let set: JwkSet = serde_json::from_value(jwks.clone()).map_err(|e| e.to_string())?;
    let kid = decode_header(jws).map_err(|e| e.to_string())?.kid.ok_or("no kid")?;
    let jwk = set.find(&kid).ok_or(format!("kid {kid} is not published"))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut validation = Validation::new(alg);
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    decode::<Value>(jws, &key, &validation).map(|data| data.claims).map_err(|e| e.to_string())
}

fn kid(jws: &str) -> String {
    decode_header(jws).expect("header").kid.expect("kid")
}

on_every_engine!(tenants_sign_with_every_algorithm_and_rotate, |fx| {
    let s = &fx.services;
    let jwks = s.jwks("acme").await.expect("jwks");
    let keys = jwks["keys"].as_array().expect("keys");
    let algs: Vec<&str> = keys.iter().map(|k| k["alg"].as_str().expect("alg")).collect();
    assert_eq!(algs.len(), 3);
    for alg in ["RS256", "ES256", "EdDSA"] {
        assert!(algs.contains(&alg), "{alg} is published");
    }
    assert!(keys.iter().all(|k| k.get("d").is_none() && k["use"] == "sig"), "public keys only");
    assert_eq!(s.jwks("nope").await.err(), Some(portcullis_core::Error::NotFound("tenant")));

    let payload = json!({"sub": "alice", "iss": "https://id.example.com/t/acme"}).to_string();
    let mut old_kids = Vec::new();
    for (ours, theirs) in [
        (JwsAlgorithm::ES256, Algorithm::ES256),
        (JwsAlgorithm::RS256, Algorithm::RS256),
        (JwsAlgorithm::EdDSA, Algorithm::EdDSA),
    ] {
        let jws = s.sign_jws("acme", ours, "JWT", payload.as_bytes()).await.expect("sign");
        assert_eq!(verify(&jwks, &jws, theirs).expect("verifies")["sub"], "alice");
        // A tampered payload does not verify.
        let mut parts: Vec<&str> = jws.split('.').collect();
        let forged = base64_url(&json!({"sub": "mallory"}).to_string());
        parts[1] = &forged;
        assert!(verify(&jwks, &parts.join("."), theirs).is_err());
        old_kids.push((jws, theirs));
    }

    // Rotation: new tokens carry new kids; tokens signed before still verify.
    let rotated = s.rotate_signing_keys(&fx.admin, "acme").await.expect("rotate");
    assert_eq!(rotated.len(), 3);
    let after = s.jwks("acme").await.expect("jwks");
    assert_eq!(after["keys"].as_array().map(Vec::len), Some(6));
    for (jws, alg) in &old_kids {
        assert!(verify(&after, jws, *alg).is_ok(), "old tokens verify after rotation");
    }
    let fresh = s.sign_jws("acme", JwsAlgorithm::ES256, "JWT", payload.as_bytes()).await.expect("sign");
    assert!(old_kids.iter().all(|(old, _)| kid(old) != kid(&fresh)));
    let listed = s.list_signing_keys(&fx.admin, "acme").await.expect("list");
    assert_eq!(listed.iter().filter(|k| k.status == "retired").count(), 3);

    // After the longest token lifetime, retired keys leave the JWKS.
    fx.clock.advance(time::Duration::hours(24) + time::Duration::minutes(6));
    let later = s.jwks("acme").await.expect("jwks");
    assert_eq!(later["keys"].as_array().map(Vec::len), Some(3));
    assert!(verify(&later, &old_kids[0].0, Algorithm::ES256).is_err());
    assert!(verify(&later, &fresh, Algorithm::ES256).is_ok());
});

on_every_engine!(private_keys_are_sealed_per_tenant, |fx| {
    // Another node with another master key cannot sign (or read) this tenant's keys.
    let jws = fx.services.sign_jws("acme", JwsAlgorithm::RS256, "JWT", b"{}").await.expect("sign");
    assert_eq!(jws.split('.').count(), 3);
    let store = fx.db.store().await.expect("store");
    let stranger = portcullis_core::Services::new(
        store,
        fx.clock.clone() as std::sync::Arc<dyn portcullis_core::Clock>,
        portcullis_core::keys::KeyRing::new(portcullis_crypto::envelope::Key::generate()),
        portcullis_core::hashing::HashPool::new(1, 4),
    );
    assert!(matches!(
        stranger.sign_jws("acme", JwsAlgorithm::RS256, "JWT", b"{}").await,
        Err(portcullis_core::Error::Internal(_))
    ));
});

fn base64_url(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

on_every_engine!(access_tokens_verify_until_they_expire, |fx| {
    let s = &fx.services;
    let issuer = "https://id.example.com/t/acme";
    let now = portcullis_core::Clock::now(fx.clock.as_ref()).unix_timestamp();
    let claims = |iss: &str| json!({"iss": iss, "sub": "c", "exp": now + 60, "iat": now}).to_string();
    let token = s.sign_jws("acme", JwsAlgorithm::ES256, "at+jwt", claims(issuer).as_bytes()).await.expect("sign");
    assert!(s.verify_access_token("acme", issuer, &token).await.expect("check").is_some());
    // Another issuer's claim, another type, another tenant: not this tenant's access token.
    let foreign = s
        .sign_jws("acme", JwsAlgorithm::ES256, "at+jwt", claims("https://evil.example").as_bytes())
        .await
        .expect("sign");
    assert!(s.verify_access_token("acme", issuer, &foreign).await.expect("check").is_none());
    let id_token = s.sign_jws("acme", JwsAlgorithm::RS256, "JWT", claims(issuer).as_bytes()).await.expect("sign");
    assert!(s.verify_access_token("acme", issuer, &id_token).await.expect("check").is_none(), "typ must be at+jwt");
    assert!(s.verify_access_token("admin", issuer, &token).await.expect("check").is_none(), "other tenant's keys");
    fx.clock.advance(time::Duration::seconds(61));
    assert!(s.verify_access_token("acme", issuer, &token).await.expect("check").is_none(), "expired");
});
