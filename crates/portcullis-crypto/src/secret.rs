//! High-entropy secrets (API tokens, later refresh tokens and codes): random generation,
//! storage as SHA-256 digests, constant-time comparison, keyed blind indexes.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A random secret of 32 bytes (256 bits), base64url-encoded, after `prefix` (for example
/// `pct_`), so that secret scanners can recognise a leaked Portcullis token.
pub fn random_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// A random public identifier of 128 bits, base64url (22 characters): unguessable, but not a
/// secret (session ids, flow ids, grant ids).
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The SHA-256 digest under which a high-entropy secret is stored. Salting is unnecessary:
/// the secret already carries 256 bits of entropy (DESIGN §4).
pub fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Compares two digests in constant time.
pub fn digests_equal(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// A keyed, deterministic index of a value (HMAC-SHA256), so that an encrypted attribute can be
/// checked for uniqueness without storing it in the clear.
pub fn blind_index(key: &[u8; 32], domain: &str, value: &str) -> [u8; 32] {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        // HMAC accepts keys of any length; this branch cannot be taken.
        return [0u8; 32];
    };
    mac.update(domain.as_bytes());
    mac.update(&[0]);
    mac.update(value.as_bytes());
    mac.finalize().into_bytes().into()
}

/// The signature of an outgoing webhook: hex HMAC-SHA256 under `secret` of
/// `{timestamp}.{body}` (the scheme Stripe and others use; the timestamp in the signed text lets
/// a receiver refuse replays).
pub fn webhook_signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        // HMAC accepts keys of any length; this branch cannot be taken.
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_prefixed() {
        let a = random_secret("pct_");
        let b = random_secret("pct_");
        assert!(a.starts_with("pct_"));
        assert_ne!(a, b);
        assert_eq!(a.len(), 4 + 43);
    }

    #[test]
    fn digests_compare() {
        let a = digest("x");
        assert!(digests_equal(&a, &digest("x")));
        assert!(!digests_equal(&a, &digest("y")));
        assert!(!digests_equal(&a, &a[..31]));
    }

    #[test]
    fn blind_index_depends_on_key_domain_and_value() {
        let k1 = [1u8; 32];
        let k2 = [2u8; 32];
        let base = blind_index(&k1, "ssn", "123");
        assert_eq!(base, blind_index(&k1, "ssn", "123"));
        assert_ne!(base, blind_index(&k2, "ssn", "123"));
        assert_ne!(base, blind_index(&k1, "tax", "123"));
        assert_ne!(base, blind_index(&k1, "ssn", "124"));
    }

    #[test]
    fn webhook_signatures_match_a_known_answer() {
        // Computed independently: Python's hmac.new(b"key", b"1.body", hashlib.sha256).
        let signature = webhook_signature(b"key", 1, b"body");
        assert_eq!(signature, "91b5374b153842ad05b2c4eab9349b8321b14703165bd3fb8b034dfb8be98ae5");
        assert_ne!(signature, webhook_signature(b"key", 2, b"body"), "the time is signed");
        assert_ne!(signature, webhook_signature(b"key", 1, b"bodY"), "the body is signed");
        assert_ne!(signature, webhook_signature(b"other", 1, b"body"), "the key matters");
    }
}
