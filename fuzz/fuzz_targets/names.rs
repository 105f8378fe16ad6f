//! Tenant and attribute names and redirect URIs from URLs and bodies: parse or refuse, and whatever parses is
//! safe to place in a URL path and a JSON path.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_types::{AttributeName, RedirectUri, TenantName};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(name) = TenantName::parse(text) {
        assert!(name.as_str().bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
    }
    if let Ok(name) = AttributeName::parse(text) {
        assert!(!name.as_str().contains(['"', '.', '$', '\\', '\'']));
    }
    if let Ok(uri) = RedirectUri::parse(text) {
        let lower = uri.as_str().to_ascii_lowercase();
        assert!(!uri.as_str().contains('#') && !lower.starts_with("javascript:") && !lower.starts_with("data:"));
        assert_eq!(uri.as_str(), text, "kept verbatim for exact matching");
    }
});
