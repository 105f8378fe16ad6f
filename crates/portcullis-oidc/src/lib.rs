//! OAuth 2.0 and OpenID Connect (DESIGN §3): parses and validates protocol requests, applies
//! the grants through the core services, and mints tokens. It returns outcomes — a token
//! response or an [`OAuthError`] — and leaves HTTP to the web crate.

mod client_auth;
mod error;
mod introspect;
mod token;

pub use client_auth::ClientCredentials;
pub use error::OAuthError;
pub use introspect::introspect;
pub use token::{TokenRequest, TokenResponse, token};
