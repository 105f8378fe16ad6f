//! The browser's cookies (DESIGN §6): `__Host-` prefixed, `Secure`, `HttpOnly`,
//! `SameSite=Lax`, path `/`. When the public URL is plain `http` (a development machine),
//! browsers would drop `Secure` cookies, so the prefix and `Secure` are left off there.

use axum::http::{HeaderMap, HeaderValue, header};

/// How this server's cookies are named and flagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CookiePolicy {
    secure: bool,
}

impl CookiePolicy {
    /// The policy for a server reached at `public_url`.
    pub fn for_public_url(public_url: &str) -> Self {
        Self { secure: public_url.starts_with("https://") }
    }

    fn prefix(self) -> &'static str {
        if self.secure { "__Host-" } else { "" }
    }

    /// The cookie binding flows to one browser (shared by every tenant).
    pub fn browser(self) -> String {
        format!("{}portcullis-browser", self.prefix())
    }

    /// The cookie a browser is remembered by ("remember this device"; shared by every tenant,
    /// remembered per user).
    pub fn device(self) -> String {
        format!("{}portcullis-device", self.prefix())
    }

    /// The SSO session cookie of one tenant.
    pub fn session(self, tenant: &str) -> String {
        format!("{}portcullis-session-{tenant}", self.prefix())
    }

    /// A `Set-Cookie` value; `max_age` 0 deletes the cookie.
    pub fn set(self, name: &str, value: &str, max_age: i64) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        let text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
        HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
    }
}

/// The value of cookie `name` in the request, if sent once with a sane value.
pub fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    let mut found = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned());
    let value = found.next()?;
    let sane = !value.is_empty()
        && value.len() <= 128
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b));
    (sane && found.next().is_none()).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_cookies_are_host_prefixed_and_secure() {
        let policy = CookiePolicy::for_public_url("https://id.example.com");
        assert_eq!(policy.session("acme"), "__Host-portcullis-session-acme");
        let set = policy.set(&policy.browser(), "abc", 60);
        assert_eq!(set, "__Host-portcullis-browser=abc; Path=/; HttpOnly; SameSite=Lax; Max-Age=60; Secure");
        let plain = CookiePolicy::for_public_url("http://127.0.0.1:8080");
        assert_eq!(
            plain.set("portcullis-browser", "abc", 0),
            "portcullis-browser=abc; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
        );
    }

    #[test]
    fn reading_refuses_repeats_and_odd_values() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; b=x-y_z"));
        assert_eq!(read(&headers, "b").as_deref(), Some("x-y_z"));
        assert_eq!(read(&headers, "c"), None);
        headers.append(header::COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(read(&headers, "b"), None, "a cookie sent twice is ignored");
        headers.insert(header::COOKIE, HeaderValue::from_static("b=\"quoted\""));
        assert_eq!(read(&headers, "b"), None);
    }
}
