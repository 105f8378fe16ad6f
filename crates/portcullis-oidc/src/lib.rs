//! OAuth 2.0 and OpenID Connect (DESIGN §3): parses and validates protocol requests, applies
//! the grants through the core services, and mints tokens. It returns outcomes — a token
//! response, a redirect, or an [`OAuthError`] — and leaves HTTP and HTML to the web crate.

mod assertion;
pub mod authorize;
mod claims;
mod client_auth;
mod client_keys;
mod device;
pub mod discovery;
mod error;
pub mod id_token;
mod introspect;
pub mod logout;
mod par;
mod params;
pub mod registration;
mod revoke;
mod scopes;
mod token;
mod userinfo;

pub use client_auth::ClientCredentials;
pub use device::device_authorization;
pub use error::OAuthError;
pub use introspect::introspect;
pub use par::push;
pub use params::Params;
pub use revoke::revoke;
pub use token::{TokenRequest, TokenResponse, token};
pub use userinfo::{BearerError, bearer_grant, userinfo};
