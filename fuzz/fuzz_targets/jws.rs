//! Compact JWS from untrusted callers (introspection, later bearer tokens): any string is
//! verified or refused, never a panic, and nothing verifies without the key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_crypto::verify::{Verifier, verify_compact};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let jwk = serde_json::json!({
        "kty": "EC", "crv": "P-256", "kid": "k", "alg": "ES256",
        "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
    });
    let keys = [Verifier::from_jwk(&jwk).expect("valid key")];
    assert!(verify_compact(text, &keys).is_err(), "a forged token verified");
});
