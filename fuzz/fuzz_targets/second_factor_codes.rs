//! Codes typed into the second-factor step and `acr_values` from untrusted requests: any text
//! is refused or accepted without a panic; a TOTP code passes only as six digits and only for a
//! step within one of now (RFC 6238 §5.2); `acr_values` asks for more than one factor only when
//! every value Portcullis knows in it does; a typed mobile number is E.164 once normalised, or
//! refused, and the international prefixes of a policy are checked without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_core::service::asked_acr;
use portcullis_core::model::auth_policy::valid_sms_prefix;
use portcullis_core::service::sms::{masked, normalise_number};
use portcullis_core::service::totp;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let seed = b"12345678901234567890";
    let now = 1_700_000_000_i64;
    if let Some(step) = totp::check(seed, text, now) {
        let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        assert!(digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()), "{text:?}");
        assert!((step - now / 30).abs() <= 1);
    }
    if let Some(acr) = asked_acr(text.split(' ')) {
        assert_eq!(acr, "2");
        assert!(text.split(' ').all(|v| v != "1"), "{text:?}");
    }
    if let Some(number) = normalise_number(text) {
        let digits = &number[1..];
        assert!(number.starts_with('+') && (8..=15).contains(&digits.len()), "{text:?} -> {number}");
        assert!(digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0'), "{number}");
        assert_eq!(normalise_number(&number).as_deref(), Some(number.as_str()), "normalising is idempotent");
        assert!(masked(&number).ends_with(&number[number.len() - 4..]));
    }
    let _ = valid_sms_prefix(text);
});
