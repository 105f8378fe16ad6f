//! OAuth 2.0 error responses (RFC 6749 §5.2, RFC 8707 §2).

use serde::Serialize;

/// An error as the token endpoint returns it: `{"error", "error_description"}` with its status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OAuthError {
    /// The registered error code.
    pub error: &'static str,
    /// A sentence for the client developer.
    pub error_description: String,
    /// 400, 401 (`invalid_client`), or 503/500 for our own failures.
    #[serde(skip)]
    pub status: u16,
}

impl OAuthError {
    /// An error with its code, status and description.
    pub fn new(error: &'static str, status: u16, description: impl Into<String>) -> Self {
        Self { error, error_description: description.into(), status }
    }

    /// The request is missing a parameter, repeats one, or is otherwise malformed.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new("invalid_request", 400, description)
    }

    /// Client authentication failed (unknown client, wrong secret, wrong method). Always 401,
    /// with `WWW-Authenticate` (RFC 6749 §5.2).
    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self::new("invalid_client", 401, description)
    }

    /// The client may not use this grant type.
    pub fn unauthorized_client(description: impl Into<String>) -> Self {
        Self::new("unauthorized_client", 400, description)
    }

    /// The grant type is not supported here.
    pub fn unsupported_grant_type(description: impl Into<String>) -> Self {
        Self::new("unsupported_grant_type", 400, description)
    }

    /// The scope is unknown, malformed, or beyond what the client may request.
    pub fn invalid_scope(description: impl Into<String>) -> Self {
        Self::new("invalid_scope", 400, description)
    }

    /// The requested resource is invalid or not allowed for the client (RFC 8707 §2).
    pub fn invalid_target(description: impl Into<String>) -> Self {
        Self::new("invalid_target", 400, description)
    }

    /// The code or refresh token is invalid, expired, revoked, spent, or another client's
    /// (RFC 6749 §5.2).
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new("invalid_grant", 400, description)
    }

    /// The issuer (tenant) does not exist: the endpoint is not there (404).
    pub fn unknown_issuer() -> Self {
        Self::new("invalid_request", 404, "no such issuer")
    }

    /// Our failure: the storage is unavailable or busy (503), or a bug (500).
    pub fn server_error(status: u16) -> Self {
        let error = if status == 503 { "temporarily_unavailable" } else { "server_error" };
        Self::new(error, status, "the server could not complete the request; try again")
    }
}

impl From<portcullis_core::Error> for OAuthError {
    fn from(error: portcullis_core::Error) -> Self {
        match error {
            portcullis_core::Error::Unauthenticated => Self::invalid_client("client authentication failed"),
            portcullis_core::Error::Busy | portcullis_core::Error::Unavailable(_) => Self::server_error(503),
            _ => Self::server_error(500),
        }
    }
}
