//! Signing keys for JWS (RFC 7515): generation, public JWKs (RFC 7517/7518, RFC 8037), and
//! signatures, on aws-lc-rs. Private keys travel as PKCS#8 DER, which callers seal at rest.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RSA_PKCS1_SHA256,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use zeroize::Zeroizing;

/// The JWS algorithms Portcullis signs with (RFC 7518 §3.1, RFC 8037 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum JwsAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit keys: what OIDC requires by default for ID tokens.
    RS256,
    /// ECDSA P-256 with SHA-256: the default for access tokens (fast to sign).
    ES256,
    /// Ed25519.
    EdDSA,
}

impl JwsAlgorithm {
    /// Every algorithm, each of which a tenant always has an active key for.
    pub const ALL: [JwsAlgorithm; 3] = [Self::RS256, Self::ES256, Self::EdDSA];

    /// The `alg` header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::ES256 => "ES256",
            Self::EdDSA => "EdDSA",
        }
    }

    /// Parses an `alg` value.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

/// A key that could not be made, read or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("signing key error: {0}")]
pub struct SigningError(&'static str);

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A new private key for `alg`, as PKCS#8 DER.
pub fn generate(alg: JwsAlgorithm) -> Result<Zeroizing<Vec<u8>>, SigningError> {
    let rng = SystemRandom::new();
    let der = match alg {
        JwsAlgorithm::ES256 => EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| SigningError("P-256 generation"))?
            .as_ref()
            .to_vec(),
        JwsAlgorithm::EdDSA => {
            Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| SigningError("Ed25519 generation"))?.as_ref().to_vec()
        }
        JwsAlgorithm::RS256 => RsaKeyPair::generate(KeySize::Rsa2048)
            .and_then(|k| k.as_der())
            .map_err(|_| SigningError("RSA generation"))?
            .as_ref()
            .to_vec(),
    };
    Ok(Zeroizing::new(der))
}

/// The public JWK of a private key, with `kid`, `alg` and `use: sig`.
pub fn public_jwk(alg: JwsAlgorithm, kid: &str, pkcs8: &[u8]) -> Result<Value, SigningError> {
    let mut jwk = match alg {
        JwsAlgorithm::ES256 => {
            let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
                .map_err(|_| SigningError("not a P-256 PKCS#8 key"))?;
            // An uncompressed point: 0x04 ‖ x (32 bytes) ‖ y (32 bytes).
            let point = key.public_key().as_ref();
            if point.len() != 65 || point[0] != 4 {
                return Err(SigningError("unexpected P-256 public key form"));
            }
            json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..65])})
        }
        JwsAlgorithm::EdDSA => {
            let key = Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8)
                .map_err(|_| SigningError("not an Ed25519 PKCS#8 key"))?;
            json!({"kty": "OKP", "crv": "Ed25519", "x": b64(key.public_key().as_ref())})
        }
        JwsAlgorithm::RS256 => {
            let key = RsaKeyPair::from_pkcs8(pkcs8).map_err(|_| SigningError("not an RSA PKCS#8 key"))?;
            let public = key.public_key();
            json!({
                "kty": "RSA",
                "n": b64(public.modulus().big_endian_without_leading_zero()),
                "e": b64(public.exponent().big_endian_without_leading_zero()),
            })
        }
    };
    if let Value::Object(map) = &mut jwk {
        map.insert("kid".into(), json!(kid));
        map.insert("alg".into(), json!(alg.as_str()));
        map.insert("use".into(), json!("sig"));
    }
    Ok(jwk)
}

/// The RFC 7638 thumbprint of a public JWK: SHA-256 over its required members in
/// lexicographic order, base64url. Used as the `kid`.
pub fn thumbprint(jwk: &Value) -> Result<String, SigningError> {
    let member = |name: &str| jwk.get(name).and_then(Value::as_str).ok_or(SigningError("JWK member missing"));
    // serde_json's maps are ordered by key, so `json!` gives the canonical member order.
    let canonical = match member("kty")? {
        "EC" => json!({"crv": member("crv")?, "kty": "EC", "x": member("x")?, "y": member("y")?}),
        "RSA" => json!({"e": member("e")?, "kty": "RSA", "n": member("n")?}),
        "OKP" => json!({"crv": member("crv")?, "kty": "OKP", "x": member("x")?}),
        _ => return Err(SigningError("unsupported kty")),
    };
    Ok(b64(&<sha2::Sha256 as sha2::Digest>::digest(canonical.to_string().as_bytes())))
}

/// A private key parsed once and kept for signing many tokens.
pub struct Signer {
    alg: JwsAlgorithm,
    kid: String,
    key: ParsedKey,
}

enum ParsedKey {
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
    Rsa(RsaKeyPair),
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("alg", &self.alg).field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl Signer {
    /// Parses a PKCS#8 private key of `alg`.
    pub fn from_pkcs8(alg: JwsAlgorithm, kid: &str, pkcs8: &[u8]) -> Result<Self, SigningError> {
        let key = match alg {
            JwsAlgorithm::ES256 => ParsedKey::Ec(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
                    .map_err(|_| SigningError("P-256 key"))?,
            ),
            JwsAlgorithm::EdDSA => ParsedKey::Ed(
                Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8).map_err(|_| SigningError("Ed25519 key"))?,
            ),
            JwsAlgorithm::RS256 => ParsedKey::Rsa(RsaKeyPair::from_pkcs8(pkcs8).map_err(|_| SigningError("RSA key"))?),
        };
        Ok(Self { alg, kid: kid.to_owned(), key })
    }

    /// The algorithm.
    pub fn alg(&self) -> JwsAlgorithm {
        self.alg
    }

    /// Signs `message` as JWS does: ES256 signatures are the 64-byte `r ‖ s` (RFC 7518 §3.4).
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SigningError> {
        match &self.key {
            ParsedKey::Ec(key) => Ok(key
                .sign(&SystemRandom::new(), message)
                .map_err(|_| SigningError("ES256 signing"))?
                .as_ref()
                .to_vec()),
            ParsedKey::Ed(key) => Ok(key.sign(message).as_ref().to_vec()),
            ParsedKey::Rsa(key) => {
                let mut signature = vec![0u8; key.public_modulus_len()];
                key.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), message, &mut signature)
                    .map_err(|_| SigningError("RS256 signing"))?;
                Ok(signature)
            }
        }
    }

    /// A JWS in compact serialization (RFC 7515 §7.1) with header `{alg, kid, typ}`.
    pub fn compact_jws(&self, typ: &str, payload: &[u8]) -> Result<String, SigningError> {
        let header = json!({"alg": self.alg.as_str(), "kid": self.kid, "typ": typ}).to_string();
        let signing_input = format!("{}.{}", b64(header.as_bytes()), b64(payload));
        let signature = self.sign(signing_input.as_bytes())?;
        Ok(format!("{signing_input}.{}", b64(&signature)))
    }
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_FIXED, ED25519, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents, UnparsedPublicKey,
    };

    use super::*;

    fn field(jwk: &Value, name: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(jwk[name].as_str().expect("field")).expect("base64url")
    }

    /// Verifies with a public key rebuilt from the published JWK alone, as a relying party does.
    fn verify_with_jwk(jwk: &Value, message: &[u8], signature: &[u8]) -> bool {
        match jwk["kty"].as_str() {
            Some("EC") => {
                let mut point = vec![4u8];
                point.extend(field(jwk, "x"));
                point.extend(field(jwk, "y"));
                UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point).verify(message, signature).is_ok()
            }
            Some("OKP") => UnparsedPublicKey::new(&ED25519, field(jwk, "x")).verify(message, signature).is_ok(),
            Some("RSA") => RsaPublicKeyComponents { n: field(jwk, "n"), e: field(jwk, "e") }
                .verify(&RSA_PKCS1_2048_8192_SHA256, message, signature)
                .is_ok(),
            _ => false,
        }
    }

    #[test]
    fn every_algorithm_signs_what_its_jwk_verifies() {
        for alg in JwsAlgorithm::ALL {
            let key = generate(alg).expect("generate");
            let jwk = public_jwk(alg, "k1", &key).expect("jwk");
            assert_eq!(jwk["alg"], alg.as_str());
            assert!(jwk.get("d").is_none(), "no private part in a public JWK");
            let signature = Signer::from_pkcs8(alg, "k1", &key).expect("signer").sign(b"payload").expect("sign");
            assert!(verify_with_jwk(&jwk, b"payload", &signature), "{alg:?}");
            assert!(!verify_with_jwk(&jwk, b"payloaD", &signature), "{alg:?} tampered message");
            let other = public_jwk(alg, "k2", &generate(alg).expect("generate")).expect("jwk");
            assert!(!verify_with_jwk(&other, b"payload", &signature), "{alg:?} other key");
        }
    }

    #[test]
    fn jwk_shapes() {
        let es = public_jwk(JwsAlgorithm::ES256, "e", &generate(JwsAlgorithm::ES256).expect("key")).expect("jwk");
        assert_eq!((field(&es, "x").len(), field(&es, "y").len()), (32, 32));
        let rsa = public_jwk(JwsAlgorithm::RS256, "r", &generate(JwsAlgorithm::RS256).expect("key")).expect("jwk");
        assert_eq!(field(&rsa, "n").len(), 256, "2048-bit modulus without a leading zero");
        assert_eq!(rsa["e"], "AQAB");
        let ed = public_jwk(JwsAlgorithm::EdDSA, "d", &generate(JwsAlgorithm::EdDSA).expect("key")).expect("jwk");
        assert_eq!(field(&ed, "x").len(), 32);
    }

    #[test]
    fn compact_jws_verifies_over_its_signing_input() {
        let key = generate(JwsAlgorithm::ES256).expect("key");
        let jwk = public_jwk(JwsAlgorithm::ES256, "kid-1", &key).expect("jwk");
        let jws = Signer::from_pkcs8(JwsAlgorithm::ES256, "kid-1", &key)
            .expect("signer")
            .compact_jws("at+jwt", br#"{"sub":"x"}"#)
            .expect("jws");
        let (input, signature) = jws.rsplit_once('.').expect("three parts");
        assert!(verify_with_jwk(&jwk, input.as_bytes(), &URL_SAFE_NO_PAD.decode(signature).expect("b64")));
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(input.split('.').next().expect("header")).expect("b64"))
                .expect("json");
        assert_eq!(header, json!({"alg": "ES256", "kid": "kid-1", "typ": "at+jwt"}));
    }

    /// RFC 7638 §3.1's example.
    #[test]
    fn thumbprint_of_the_rfc_example() {
        let jwk = json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        });
        assert_eq!(thumbprint(&jwk).expect("thumbprint"), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
        assert!(thumbprint(&json!({"kty": "oct", "k": "x"})).is_err());
    }

    #[test]
    fn garbage_keys_are_errors() {
        for alg in JwsAlgorithm::ALL {
            assert!(public_jwk(alg, "k", b"not a key").is_err());
            assert!(Signer::from_pkcs8(alg, "k", b"not a key").is_err());
        }
        let es = generate(JwsAlgorithm::ES256).expect("key");
        assert!(public_jwk(JwsAlgorithm::RS256, "k", &es).is_err(), "a key of another type is refused");
    }
}
