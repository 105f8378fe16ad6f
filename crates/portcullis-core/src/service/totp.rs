//! TOTP (RFC 6238) as Portcullis uses it: SHA-1, six digits, 30-second steps, one step of skew
//! either side (§5.2), 160-bit seeds (RFC 4226 §4), the `otpauth://` URI authenticator apps
//! read, and its QR code drawn as SVG by the server (no script, no third party).

use qrcode::QrCode;
use qrcode::render::svg;
use rand::RngCore;
use totp_rs::{Builder, Secret, Totp};

use crate::error::{Error, Result};

/// Seed length in bytes (RFC 4226 §4 recommends 160 bits).
pub const SEED_BYTES: usize = 20;
/// Seconds per step (RFC 6238 §5.2).
pub const STEP_SECONDS: u64 = 30;

/// A fresh random seed.
pub fn new_seed() -> Vec<u8> {
    let mut seed = vec![0_u8; SEED_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    seed
}

/// Authenticator apps split the label at `:`; neither part may carry one.
fn label_part(text: &str) -> String {
    text.replace(':', "_")
}

fn totp(seed: &[u8], issuer: &str, account: &str) -> Result<Totp> {
    Builder::new()
        .with_secret(seed.to_vec())
        .with_issuer(Some(label_part(issuer)))
        .with_account_name(label_part(account))
        .build()
        .map_err(|e| Error::internal(format!("totp: {e:?}")))
}

/// The step `code` is valid for at `unix` seconds, within one step either side, if any.
pub fn check(seed: &[u8], code: &str, unix: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let time = u64::try_from(unix).ok()?;
    let step = totp(seed, "x", "x").ok()?.check(&code, time)?;
    i64::try_from(step).ok()
}

/// The code at `unix` seconds (tests and benchmarks play the authenticator app with it).
pub fn code_at(seed: &[u8], unix: u64) -> Result<String> {
    Ok(totp(seed, "x", "x")?.generate(unix).to_string())
}

/// What an authenticator app needs: the `otpauth://` URI, its QR code as SVG, and the seed in
/// base32 for typing by hand.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct TotpEnrolment {
    pub otpauth_uri: String,
    pub qr_svg: String,
    pub secret: String,
}

/// The enrolment of `seed` for `account` at `issuer` (the tenant's display name).
pub fn enrolment(seed: &[u8], issuer: &str, account: &str) -> Result<TotpEnrolment> {
    let uri = totp(seed, issuer, account)?.to_url().map_err(|e| Error::internal(format!("totp url: {e:?}")))?;
    let qr = QrCode::new(uri.as_bytes()).map_err(Error::internal)?;
    let qr_svg = qr.render::<svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build();
    Ok(TotpEnrolment { otpauth_uri: uri, qr_svg, secret: Secret::from(seed.to_vec()).to_base32() })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 seed "12345678901234567890": the last six digits.
    #[test]
    fn matches_the_rfc_test_vectors() {
        let seed = b"12345678901234567890";
        for (time, code) in
            [(59, "287082"), (1_111_111_109, "081804"), (1_234_567_890, "005924"), (2_000_000_000, "279037")]
        {
            assert_eq!(code_at(seed, time).unwrap_or_default(), code, "at {time}");
        }
    }

    #[test]
    fn accepts_one_step_either_side_and_no_more() {
        let seed = new_seed();
        let now = 1_700_000_000_i64;
        let step = now / 30;
        for (offset, expected) in
            [(-30, Some(step - 1)), (0, Some(step)), (30, Some(step + 1)), (-60, None), (60, None)]
        {
            let at = u64::try_from(now + offset).unwrap_or(0);
            let code = code_at(&seed, at).unwrap_or_default();
            assert_eq!(check(&seed, &code, now), expected, "offset {offset}");
        }
    }

    #[test]
    fn malformed_codes_are_refused() {
        let seed = new_seed();
        for code in ["", "12345", "1234567", "abcdef", "12 34 5", "１２３４５６"] {
            assert_eq!(check(&seed, code, 1_700_000_000), None, "{code:?}");
        }
    }

    #[test]
    fn enrolment_names_the_issuer_and_draws_a_qr_code() {
        let seed = new_seed();
        let enrolment = enrolment(&seed, "Acme: Corp", "alice@example.com").unwrap_or_else(|e| panic!("{e}"));
        assert!(
            enrolment.otpauth_uri.starts_with("otpauth://totp/Acme_%20Corp:alice%40example.com?"),
            "{}",
            enrolment.otpauth_uri
        );
        assert!(enrolment.otpauth_uri.contains(&format!("secret={}", enrolment.secret)));
        assert!(enrolment.qr_svg.starts_with("<?xml") && enrolment.qr_svg.contains("<svg"));
        assert!(!enrolment.qr_svg.contains("<script"));
    }
}
