//! Client certificates as presented on the mutual-TLS listener (any bytes a client sends as its
//! certificate, verified or not) and certificate subjects as an administrator types them:
//! reading a certificate's identity never panics, and a subject's normal form is a fixed point.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_core::service::certificates::{identity_of, normalise_subject};

fuzz_target!(|data: &[u8]| {
    if let Some(identity) = identity_of(data) {
        assert_eq!(identity.fingerprint.len(), 64);
        if let Some(subject) = normalise_subject(&identity.subject) {
            assert_eq!(normalise_subject(&subject).as_deref(), Some(subject.as_str()));
        }
    }
    if let Ok(text) = std::str::from_utf8(data)
        && let Some(subject) = normalise_subject(text)
    {
        assert_eq!(normalise_subject(&subject).as_deref(), Some(subject.as_str()), "{text:?}");
    }
});
