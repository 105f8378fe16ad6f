//! Opening sealed values and wrapped keys read from the database: garbage is an error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_crypto::envelope::Key;

fuzz_target!(|data: &[u8]| {
    let key = Key::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").expect("valid key");
    assert!(key.open(b"aad", data).is_err() || data.len() >= 29);
    let _ = key.unwrap_key(b"aad", data);
});
