//! The admin API's JSON decoding of a user document (create, import line, patched user):
//! any bytes give a value or a problem, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_core::model::user::UserDocument;

fuzz_target!(|data: &[u8]| {
    let _ = portcullis_core::model::decode_json_bytes::<UserDocument>(data);
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = portcullis_core::model::from_json::<UserDocument>(value);
    }
});
