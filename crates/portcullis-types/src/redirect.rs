use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// Why a redirect URI was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RedirectUriError(&'static str);

/// A registered redirect URI (RFC 6749 §3.1.2), checked against the OAuth 2.0 Security BCP
/// (RFC 9700 §2.1) and the native-app BCP (RFC 8252 §7):
/// - absolute, at most 2048 bytes, no fragment, no user info;
/// - `https`, or `http` only on a loopback host (`localhost`, `127.0.0.1`, `[::1]`);
/// - or a private-use scheme with a dot (reverse domain, e.g. `com.example.app:/callback`).
///
/// The text is kept exactly as registered: matching at the authorization endpoint is an
/// exact string comparison (RFC 9700 §4.1.3), never a normalised one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct RedirectUri(String);

impl RedirectUri {
    /// Parses a redirect URI for registration.
    pub fn parse(text: &str) -> Result<Self, RedirectUriError> {
        if text.is_empty() || text.len() > 2048 {
            return Err(RedirectUriError("must be 1 to 2048 bytes"));
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(RedirectUriError("must not contain spaces or control characters"));
        }
        let url = url::Url::parse(text).map_err(|_| RedirectUriError("must be an absolute URI"))?;
        if url.fragment().is_some() || text.contains('#') {
            return Err(RedirectUriError("must not contain a fragment (RFC 6749 §3.1.2)"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(RedirectUriError("must not contain user information"));
        }
        // The parser is lenient (`https:///x` gains a host); the text itself must carry one.
        let authority = text.split_once("://").map(|(_, rest)| rest);
        if matches!(url.scheme(), "http" | "https") && authority.is_none_or(|a| a.starts_with('/')) {
            return Err(RedirectUriError("must have a host"));
        }
        let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
        match url.scheme() {
            "https" if url.host_str().is_some() => {}
            "http" if loopback => {}
            "http" => return Err(RedirectUriError("http is allowed on loopback hosts only; use https")),
            "javascript" | "data" | "file" | "vbscript" | "about" | "blob" => {
                return Err(RedirectUriError("this scheme cannot be a redirect URI"));
            }
            scheme if scheme.contains('.') => {}
            _ => {
                return Err(RedirectUriError(
                    "use https, http on loopback, or a reverse-domain private-use scheme (RFC 8252 §7.1)",
                ));
            }
        }
        Ok(Self(text.to_owned()))
    }

    /// The URI as registered.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RedirectUri {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for RedirectUri {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::Custom("uri".to_owned())))
            .into()
    }
}
impl utoipa::ToSchema for RedirectUri {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted() {
        for ok in [
            "https://app.example.com/callback",
            "https://app.example.com/cb?tenant=a",
            "http://localhost:3000/callback",
            "http://127.0.0.1:49152/oauth",
            "http://[::1]:8080/cb",
            "com.example.app:/oauth2redirect",
        ] {
            assert!(RedirectUri::parse(ok).is_ok(), "{ok}");
        }
        // Kept exactly as given, for exact matching.
        assert_eq!(RedirectUri::parse("https://A.example.com/Cb").map(|u| u.0), Ok("https://A.example.com/Cb".into()));
    }

    #[test]
    fn refused() {
        for bad in [
            "",
            "/relative",
            "https://app.example.com/cb#frag",
            "https://app.example.com/cb#",
            "http://app.example.com/cb",
            "https://user:pass@app.example.com/cb",
            "javascript:alert(1)",
            "data:text/html,x",
            "myapp:/cb",
            "https://app.example.com/c b",
            "https:///nohost",
        ] {
            assert!(RedirectUri::parse(bad).is_err(), "{bad}");
        }
        assert!(RedirectUri::parse(&format!("https://a.example/{}", "x".repeat(2100))).is_err());
    }
}
