//! Rules for the standard claims (OIDC Core §5.1) and the login keys.

use crate::error::FieldError;
use crate::model::user::{Address, StandardClaims};

const MAX_TEXT: usize = 255;
const MAX_URL: usize = 2048;

/// The case-folded form under which usernames and e-mail addresses are unique and looked up.
pub(crate) fn login_key(value: &str) -> String {
    value.to_lowercase()
}

fn text_ok(value: &str, max: usize) -> bool {
    !value.is_empty() && value.chars().count() <= max && !value.chars().any(char::is_control)
}

/// Usernames: 1–255 characters, no control characters, no surrounding space, no `@` unless
/// it is an e-mail-like login (allowed: many tenants use the e-mail as username).
pub(crate) fn check_username(value: &str, errors: &mut Vec<FieldError>) {
    if !text_ok(value, MAX_TEXT) || value.trim() != value {
        errors.push(FieldError::new(
            "username",
            "must be 1 to 255 characters, without control characters or surrounding spaces",
        ));
    }
}

/// A pragmatic e-mail check (RFC 5321 lengths, one `@`, a dotted or local domain); the
/// address is proven by verification, not by syntax.
pub(crate) fn check_email(value: &str, errors: &mut Vec<FieldError>) {
    let valid = value.len() <= 254
        && value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && local.len() <= 64
                && !domain.is_empty()
                && !domain.contains('@')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !value.chars().any(|c| c.is_whitespace() || c.is_control());
    if !valid {
        errors.push(FieldError::new("email", "must be an e-mail address like name@example.com"));
    }
}

fn check_text(field: &str, value: Option<&String>, errors: &mut Vec<FieldError>) {
    if let Some(value) = value
        && !text_ok(value, MAX_TEXT)
    {
        errors.push(FieldError::new(field, "must be 1 to 255 characters without control characters"));
    }
}

fn check_url(field: &str, value: Option<&String>, errors: &mut Vec<FieldError>) {
    if let Some(value) = value {
        let scheme_ok = value.starts_with("https://") || value.starts_with("http://");
        if !scheme_ok || value.len() > MAX_URL || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            errors.push(FieldError::new(field, "must be an http(s) URL of at most 2048 characters"));
        }
    }
}

fn birthdate_ok(value: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match value.split('-').collect::<Vec<_>>().as_slice() {
        [year] => year.len() == 4 && digits(year),
        [year, month, day] if year.len() == 4 && month.len() == 2 && day.len() == 2 => {
            if !(digits(year) && digits(month) && digits(day)) {
                return false;
            }
            // `0000` means "year withheld" (OIDC Core §5.1); check against a leap year.
            let year: i32 = if *year == "0000" { 2000 } else { year.parse().unwrap_or(-1) };
            let (Ok(month), Ok(day)) = (month.parse::<u8>(), day.parse::<u8>()) else {
                return false;
            };
            time::Month::try_from(month).ok().and_then(|m| time::Date::from_calendar_date(year, m, day).ok()).is_some()
        }
        _ => false,
    }
}

fn locale_ok(value: &str) -> bool {
    let mut parts = value.split(['-', '_']);
    let first_ok =
        parts.next().is_some_and(|p| (2..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphabetic()));
    first_ok
        && value.len() <= 35
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

fn zoneinfo_ok(value: &str) -> bool {
    (1..=64).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b))
}

/// E.164: `+`, then 7 to 15 digits, the first not 0.
fn phone_ok(value: &str) -> bool {
    value.strip_prefix('+').is_some_and(|digits| {
        (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0')
    })
}

fn check_address(address: Option<&Address>, errors: &mut Vec<FieldError>) {
    let Some(address) = address else { return };
    let fields = [
        ("address/formatted", &address.formatted, 1024),
        ("address/street_address", &address.street_address, 1024),
        ("address/locality", &address.locality, MAX_TEXT),
        ("address/region", &address.region, MAX_TEXT),
        ("address/postal_code", &address.postal_code, 32),
        ("address/country", &address.country, MAX_TEXT),
    ];
    for (field, value, max) in fields {
        if let Some(value) = value {
            // Street addresses may span lines (OIDC Core §5.1.1); other controls are refused.
            let bad = value.is_empty()
                || value.chars().count() > max
                || value.chars().any(|c| c.is_control() && c != '\n' && c != '\r');
            if bad {
                errors.push(FieldError::new(field, format!("must be 1 to {max} characters")));
            }
        }
    }
}

/// Checks every standard claim, collecting all problems.
pub(crate) fn check_claims(claims: &StandardClaims, errors: &mut Vec<FieldError>) {
    check_text("name", claims.name.as_ref(), errors);
    check_text("given_name", claims.given_name.as_ref(), errors);
    check_text("family_name", claims.family_name.as_ref(), errors);
    check_text("middle_name", claims.middle_name.as_ref(), errors);
    check_text("nickname", claims.nickname.as_ref(), errors);
    check_text("gender", claims.gender.as_ref(), errors);
    check_url("profile", claims.profile.as_ref(), errors);
    check_url("picture", claims.picture.as_ref(), errors);
    check_url("website", claims.website.as_ref(), errors);
    if claims.birthdate.as_deref().is_some_and(|b| !birthdate_ok(b)) {
        errors.push(FieldError::new("birthdate", "must be YYYY-MM-DD, 0000-MM-DD or YYYY"));
    }
    if claims.locale.as_deref().is_some_and(|l| !locale_ok(l)) {
        errors.push(FieldError::new("locale", "must be a BCP 47 language tag such as en-US"));
    }
    if claims.zoneinfo.as_deref().is_some_and(|z| !zoneinfo_ok(z)) {
        errors.push(FieldError::new("zoneinfo", "must be a time zone name such as Europe/Paris"));
    }
    if claims.phone_number.as_deref().is_some_and(|p| !phone_ok(p)) {
        errors.push(FieldError::new("phone_number", "must be in E.164 form, e.g. +14155550100"));
    }
    if claims.phone_number.is_none() && claims.phone_number_verified {
        errors.push(FieldError::new("phone_number_verified", "needs a phone_number"));
    }
    check_address(claims.address.as_ref(), errors);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn birthdates() {
        for ok in ["1990-02-28", "2000-02-29", "0000-02-29", "1987"] {
            assert!(birthdate_ok(ok), "{ok}");
        }
        for bad in ["1990-02-30", "1999-02-29", "90-01-01", "1990-1-1", "abcd", "", "1990-13-01"] {
            assert!(!birthdate_ok(bad), "{bad}");
        }
    }

    #[test]
    fn phones_locales_zones() {
        assert!(phone_ok("+14155550100"));
        assert!(!phone_ok("14155550100"));
        assert!(!phone_ok("+0123456789"));
        assert!(!phone_ok("+1 415 555"));
        assert!(locale_ok("en-US") && locale_ok("de") && locale_ok("zh-Hant-TW"));
        assert!(!locale_ok("english!") && !locale_ok("e") && !locale_ok(""));
        assert!(zoneinfo_ok("Europe/Paris") && !zoneinfo_ok("Europe/Paris;DROP"));
    }

    #[test]
    fn emails() {
        let check = |e: &str| {
            let mut errors = Vec::new();
            check_email(e, &mut errors);
            errors.is_empty()
        };
        assert!(check("a@example.com") && check("first.last+tag@sub.example.org"));
        for bad in ["", "a", "@example.com", "a@", "a@@b", "a b@example.com", "a@.com", "a@b."] {
            assert!(!check(bad), "{bad}");
        }
    }
}
