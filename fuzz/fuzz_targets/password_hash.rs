//! Imported password hashes, as strings and as Keycloak/Firebase export objects: parsing and
//! bounds checks never panic (verification is left out: its cost is bounded, not small).
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_crypto::password::{ImportedHash, validate_stored_hash};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = validate_stored_hash(text);
    }
    if let Ok(imported) = serde_json::from_slice::<ImportedHash>(data) {
        let _ = imported.into_stored();
    }
});
