//! Verification of compact JWS (RFC 7515 §7.1) against public JWKs: strict parsing of
//! untrusted tokens, only the algorithms Portcullis signs with, never `none`.

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ED25519, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::signing::JwsAlgorithm;

/// Longest token accepted: far above any token Portcullis issues, far below a DoS.
pub const MAX_JWS_LEN: usize = 16 * 1024;

/// Why a JWS was refused. Deliberately coarse: callers answer "inactive", not why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("malformed JWS")]
    Malformed,
    #[error("unknown key")]
    UnknownKey,
    #[error("bad signature")]
    Signature,
}

/// A public key to verify with, built from a published JWK.
#[derive(Debug, Clone)]
pub struct Verifier {
    kid: String,
    alg: JwsAlgorithm,
    key: PublicKey,
}

/// Keys are parsed once, when the verifier is built (EC points and Ed25519 keys are
/// validated then, not on every token).
#[derive(Clone)]
enum PublicKey {
    Parsed(ParsedPublicKey),
    Rsa { n: Vec<u8>, e: Vec<u8> },
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Parsed(_) => "PublicKey::Parsed",
            Self::Rsa { .. } => "PublicKey::Rsa",
        })
    }
}

fn member(jwk: &Value, name: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(jwk.get(name)?.as_str()?).ok()
}

impl Verifier {
    /// The verifier of a public JWK as `public_jwk` makes them.
    pub fn from_jwk(jwk: &Value) -> Option<Self> {
        let kid = jwk.get("kid")?.as_str()?.to_owned();
        let alg = JwsAlgorithm::parse(jwk.get("alg")?.as_str()?)?;
        let key = match (alg, jwk.get("kty")?.as_str()?) {
            (JwsAlgorithm::ES256, "EC") => {
                let (x, y) = (member(jwk, "x")?, member(jwk, "y")?);
                if x.len() != 32 || y.len() != 32 {
                    return None;
                }
                PublicKey::Parsed(ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, [&[4u8][..], &x, &y].concat()).ok()?)
            }
            (JwsAlgorithm::EdDSA, "OKP") => PublicKey::Parsed(ParsedPublicKey::new(&ED25519, member(jwk, "x")?).ok()?),
            (JwsAlgorithm::RS256, "RSA") => PublicKey::Rsa { n: member(jwk, "n")?, e: member(jwk, "e")? },
            _ => return None,
        };
        Some(Self { kid, alg, key })
    }

    /// The verifier of a key a client registered (RFC 7591 `jwks`): `alg` and `kid` may be
    /// absent, so the algorithm follows from the key type (P-256 → ES256, Ed25519 → EdDSA,
    /// RSA → RS256). Private members make the key unusable: a client never shares them.
    pub fn from_client_jwk(jwk: &Value) -> Option<Self> {
        if ["d", "p", "q", "dp", "dq", "qi", "k"].iter().any(|m| jwk.get(m).is_some()) {
            return None;
        }
        if jwk.get("use").and_then(Value::as_str).is_some_and(|u| u != "sig") {
            return None;
        }
        let inferred = match (jwk.get("kty")?.as_str()?, jwk.get("crv").and_then(Value::as_str)) {
            ("EC", Some("P-256")) => JwsAlgorithm::ES256,
            ("OKP", Some("Ed25519")) => JwsAlgorithm::EdDSA,
            ("RSA", _) => JwsAlgorithm::RS256,
            _ => return None,
        };
        if jwk.get("alg").and_then(Value::as_str).is_some_and(|a| JwsAlgorithm::parse(a) != Some(inferred)) {
            return None;
        }
        let mut normalized = jwk.clone();
        normalized["alg"] = Value::from(inferred.as_str());
        normalized["kid"] = Value::from(jwk.get("kid").and_then(Value::as_str).unwrap_or_default());
        Self::from_jwk(&normalized)
    }

    fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.key {
            PublicKey::Parsed(key) => key.verify_sig(message, signature).is_ok(),
            PublicKey::Rsa { n, e } => {
                RsaPublicKeyComponents { n, e }.verify(&RSA_PKCS1_2048_8192_SHA256, message, signature).is_ok()
            }
        }
    }
}

/// A verified JWS: its header and payload as JSON objects.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    pub header: serde_json::Map<String, Value>,
    pub payload: serde_json::Map<String, Value>,
}

fn decode_object(part: &str) -> Result<serde_json::Map<String, Value>, VerifyError> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| VerifyError::Malformed)?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(VerifyError::Malformed),
    }
}

/// Verifies a client's compact JWS (a `private_key_jwt` assertion) with its registered
/// keys: the one its `kid` names, or, without a `kid`, each key of the header's algorithm.
pub fn verify_client_jws(jws: &str, keys: &[Verifier]) -> Result<Verified, VerifyError> {
    verify_with(jws, |kid, alg| keys.iter().filter(|k| k.alg == alg && kid.is_none_or(|kid| k.kid == kid)).collect())
}

/// Verifies a compact JWS with the key its `kid` names among `keys`. The header's `alg` must
/// be the key's own (no algorithm confusion); `crit` is refused (RFC 7515 §4.1.11: none are
/// understood).
pub fn verify_compact(jws: &str, keys: &[Verifier]) -> Result<Verified, VerifyError> {
    verify_with(jws, |kid, alg| match kid {
        Some(kid) => keys.iter().filter(|k| k.kid == kid && k.alg == alg).take(1).collect(),
        None => Vec::new(),
    })
}

/// The strict parse shared by both: `candidates(kid, alg)` names the keys to try.
fn verify_with<'k>(
    jws: &str,
    candidates: impl Fn(Option<&str>, JwsAlgorithm) -> Vec<&'k Verifier>,
) -> Result<Verified, VerifyError> {
    if jws.len() > MAX_JWS_LEN || !jws.is_ascii() {
        return Err(VerifyError::Malformed);
    }
    let mut parts = jws.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(VerifyError::Malformed);
    };
    let header = decode_object(header_b64)?;
    if header.contains_key("crit") {
        return Err(VerifyError::Malformed);
    }
    let kid = match header.get("kid") {
        Some(Value::String(kid)) => Some(kid.as_str()),
        Some(_) => return Err(VerifyError::Malformed),
        None => None,
    };
    let alg = header.get("alg").and_then(Value::as_str).and_then(JwsAlgorithm::parse).ok_or(VerifyError::Malformed)?;
    let keys = candidates(kid, alg);
    if keys.is_empty() {
        return Err(VerifyError::UnknownKey);
    }
    let signature = URL_SAFE_NO_PAD.decode(signature_b64).map_err(|_| VerifyError::Malformed)?;
    let signing_input = &jws[..header_b64.len() + 1 + payload_b64.len()];
    if !keys.iter().any(|key| key.verify(signing_input.as_bytes(), &signature)) {
        return Err(VerifyError::Signature);
    }
    Ok(Verified { header, payload: decode_object(payload_b64)? })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::signing::{Signer, generate, public_jwk};

    fn key(alg: JwsAlgorithm, kid: &str) -> (Signer, Verifier) {
        let private = generate(alg).expect("key");
        let jwk = public_jwk(alg, kid, &private).expect("jwk");
        (Signer::from_pkcs8(alg, kid, &private).expect("signer"), Verifier::from_jwk(&jwk).expect("verifier"))
    }

    #[test]
    fn round_trip_for_every_algorithm() {
        for alg in JwsAlgorithm::ALL {
            let (signer, verifier) = key(alg, "k");
            let jws = signer.compact_jws("at+jwt", br#"{"sub":"a"}"#).expect("sign");
            let verified = verify_compact(&jws, &[verifier]).expect("verifies");
            assert_eq!(verified.payload["sub"], "a");
            assert_eq!(verified.header["typ"], "at+jwt");
        }
    }

    #[test]
    fn attacks_and_garbage_are_refused() {
        let (signer, verifier) = key(JwsAlgorithm::ES256, "k");
        let (_, other) = key(JwsAlgorithm::ES256, "k");
        let keys = [verifier];
        let jws = signer.compact_jws("at+jwt", br#"{"sub":"a"}"#).expect("sign");
        let (input, _) = jws.rsplit_once('.').expect("parts");
        let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
        // Another key with the same kid.
        assert_eq!(verify_compact(&jws, &[other]), Err(VerifyError::Signature));
        // A changed payload.
        let forged = format!(
            "{}.{}.{}",
            input.split('.').next().expect("h"),
            b64(&json!({"sub": "root"})),
            jws.rsplit('.').next().expect("s")
        );
        assert_eq!(verify_compact(&forged, &keys), Err(VerifyError::Signature));
        // alg none, and an alg that is not the key's.
        let none = format!("{}.{}.", b64(&json!({"alg": "none", "kid": "k"})), b64(&json!({"sub": "root"})));
        assert!(verify_compact(&none, &keys).is_err());
        let swapped = format!("{}.{}", b64(&json!({"alg": "RS256", "kid": "k"})), jws.split_once('.').expect("rest").1);
        assert_eq!(verify_compact(&swapped, &keys), Err(VerifyError::UnknownKey));
        // Unknown kid, crit, wrong shapes.
        let unknown = format!("{}.{}", b64(&json!({"alg": "ES256", "kid": "x"})), jws.split_once('.').expect("rest").1);
        assert_eq!(verify_compact(&unknown, &keys), Err(VerifyError::UnknownKey));
        let crit = format!(
            "{}.{}",
            b64(&json!({"alg": "ES256", "kid": "k", "crit": ["exp"]})),
            jws.split_once('.').expect("rest").1
        );
        assert_eq!(verify_compact(&crit, &keys), Err(VerifyError::Malformed));
        for garbage in ["", ".", "..", "a.b.c", "a.b.c.d", &"a".repeat(MAX_JWS_LEN + 1), "é.é.é", &format!("{jws}.")]
        {
            assert!(verify_compact(garbage, &keys).is_err(), "{garbage:.40}");
        }
    }

    #[test]
    fn jwks_that_do_not_match_their_alg_are_ignored() {
        assert!(
            Verifier::from_jwk(&json!({"kid": "k", "alg": "ES256", "kty": "RSA", "n": "AQAB", "e": "AQAB"})).is_none()
        );
        assert!(Verifier::from_jwk(&json!({"kid": "k", "alg": "HS256", "kty": "oct", "k": "AA"})).is_none());
        assert!(Verifier::from_jwk(&json!({"kid": "k", "alg": "ES256", "kty": "EC", "x": "AA", "y": "AA"})).is_none());
    }

    #[test]
    fn client_keys_without_alg_or_kid() {
        let private = generate(JwsAlgorithm::EdDSA).expect("key");
        let mut jwk = public_jwk(JwsAlgorithm::EdDSA, "k", &private).expect("jwk");
        let object = jwk.as_object_mut().expect("object");
        object.remove("alg");
        object.remove("kid");
        let verifier = Verifier::from_client_jwk(&jwk).expect("inferred EdDSA");
        let signer = Signer::from_pkcs8(JwsAlgorithm::EdDSA, "k", &private).expect("signer");
        let jws = signer.compact_jws("JWT", b"{\"sub\":\"c\"}").expect("sign");
        // Signed with a kid the client's key lacks: refused; without one: tried by algorithm.
        assert_eq!(verify_client_jws(&jws, std::slice::from_ref(&verifier)).err(), Some(VerifyError::UnknownKey));
        let parts: Vec<&str> = jws.split('.').collect();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"EdDSA"}"#);
        let unsigned = format!("{header}.{}", parts[1]);
        let resigned = signer.sign(unsigned.as_bytes()).expect("sign");
        let no_kid = format!("{unsigned}.{}", URL_SAFE_NO_PAD.encode(resigned));
        assert!(verify_client_jws(&no_kid, std::slice::from_ref(&verifier)).is_ok());
        assert!(verify_compact(&no_kid, std::slice::from_ref(&verifier)).is_err(), "our own tokens always name a kid");
        // A key declaring another algorithm than its type, or carrying private parts, is unusable.
        let mut lying = jwk.clone();
        lying["alg"] = json!("RS256");
        assert!(Verifier::from_client_jwk(&lying).is_none());
        let mut private_part = jwk.clone();
        private_part["d"] = json!("AAAA");
        assert!(Verifier::from_client_jwk(&private_part).is_none());
    }
}
