//! How a client authenticates at the token endpoint (RFC 6749 §2.3): HTTP Basic with the
//! form-urlencoded id and secret, or both in the body; never both methods at once.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::percent_decode_str;
use portcullis_core::service::PresentedAuth;

use crate::error::OAuthError;

/// The client's claimed identity and how it proved it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    pub client_id: String,
    secret: Option<String>,
    basic: bool,
}

impl ClientCredentials {
    /// What the core service checks.
    pub fn presented(&self) -> PresentedAuth<'_> {
        match (&self.secret, self.basic) {
            (Some(secret), true) => PresentedAuth::Basic(secret),
            (Some(secret), false) => PresentedAuth::Post(secret),
            (None, _) => PresentedAuth::None,
        }
    }
}

/// RFC 6749 §2.3.1: the id and secret are `application/x-www-form-urlencoded` before Base64.
fn form_decode(text: &str) -> Option<String> {
    percent_decode_str(&text.replace('+', " ")).decode_utf8().ok().map(|s| s.into_owned())
}

fn basic(header: &str) -> Result<(String, String), OAuthError> {
    let bad = || OAuthError::invalid_client("malformed Basic credentials");
    let encoded = header.strip_prefix("Basic ").or_else(|| header.strip_prefix("basic ")).ok_or_else(bad)?;
    let raw = STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (id, secret) = text.split_once(':').ok_or_else(bad)?;
    Ok((form_decode(id).ok_or_else(bad)?, form_decode(secret).ok_or_else(bad)?))
}

/// Reads the client's credentials from the `Authorization` header and the form.
pub(crate) fn credentials(
    authorization: Option<&str>,
    form_client_id: Option<&str>,
    form_secret: Option<&str>,
) -> Result<ClientCredentials, OAuthError> {
    match (authorization, form_secret) {
        (Some(_), Some(_)) => {
            Err(OAuthError::invalid_request("use one client authentication method, not two (RFC 6749 §2.3)"))
        }
        (Some(header), None) if !header.starts_with("Bearer ") => {
            let (client_id, secret) = basic(header)?;
            if form_client_id.is_some_and(|id| id != client_id) {
                return Err(OAuthError::invalid_request("client_id in the body differs from the Authorization header"));
            }
            Ok(ClientCredentials { client_id, secret: Some(secret), basic: true })
        }
        (_, secret) => {
            let client_id = form_client_id.ok_or_else(|| OAuthError::invalid_client("no client authentication"))?;
            Ok(ClientCredentials { client_id: client_id.to_owned(), secret: secret.map(str::to_owned), basic: false })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        // RFC 6749 §2.3.1: "s3cr%3At+x" is the secret "s3cr:t x".
        let header = format!("Basic {}", STANDARD.encode("my%20app:s3cr%3At+x"));
        let credentials = credentials(Some(&header), None, None).expect("valid");
        assert_eq!(credentials.client_id, "my app");
        assert_eq!(credentials.presented(), PresentedAuth::Basic("s3cr:t x"));
    }

    #[test]
    fn refusals() {
        let header = format!("Basic {}", STANDARD.encode("a:b"));
        assert_eq!(credentials(Some(&header), None, Some("b")).map_err(|e| e.error), Err("invalid_request"));
        assert_eq!(credentials(Some(&header), Some("other"), None).map_err(|e| e.error), Err("invalid_request"));
        assert_eq!(credentials(None, None, None).map_err(|e| e.error), Err("invalid_client"));
        assert_eq!(credentials(Some("Basic !!!"), None, None).map_err(|e| e.error), Err("invalid_client"));
        let no_colon = format!("Basic {}", STANDARD.encode("abc"));
        assert_eq!(credentials(Some(&no_colon), None, None).map_err(|e| e.error), Err("invalid_client"));
        let post = credentials(None, Some("app"), Some("s")).expect("post");
        assert_eq!(post.presented(), PresentedAuth::Post("s"));
        assert_eq!(credentials(None, Some("spa"), None).expect("public").presented(), PresentedAuth::None);
    }
}
