//! The browser side of the issuer (OIDC Core §3.1.2): the authorization endpoint, the hosted
//! login and consent pages that drive a login flow, and logout. Handlers are thin: protocol
//! decisions are `portcullis-oidc`'s, state is the core services'.

mod account;
mod authorize;
mod certificate;
mod consent;
mod device;
mod login;
mod logout;
mod security;

pub(crate) use login::{code_at_once, needs_consent};
pub(crate) use logout::notify;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_crypto::secret::{digests_equal, random_secret};
use portcullis_oidc::OAuthError;
use portcullis_oidc::authorize::{AuthorizationResponse, AuthorizeError, ResponseMode};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::cookies;
use crate::pages;

/// How long the browser cookie lives: longer than any flow.
const BROWSER_COOKIE_AGE: i64 = 30 * 24 * 3600;

/// The routes of the hosted pages.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/t/{tenant}/authorize", get(authorize::get).post(authorize::post))
        .route("/t/{tenant}/login", get(login::page).post(login::submit))
        .route("/t/{tenant}/login/continue", get(login::resume))
        .route("/t/{tenant}/login/link", get(login::link))
        .route("/t/{tenant}/login/register", get(login::register_page))
        .route("/t/{tenant}/login/certificate", get(certificate::page).post(certificate::submit))
        .route("/t/{tenant}/consent", get(consent::page).post(consent::submit))
        .route("/t/{tenant}/logout", get(logout::get).post(logout::post))
        .route("/t/{tenant}/device", get(device::page).post(device::submit))
        .route("/t/{tenant}/account/password", get(account::page).post(account::submit))
        .route("/t/{tenant}/account/security", get(security::page).post(security::submit))
        .route("/t/{tenant}/account/totp", get(security::totp_page).post(security::totp_submit))
        .route("/t/{tenant}/account/passkey", get(security::passkey_page).post(security::passkey_submit))
        .route("/t/{tenant}/account/sms", get(security::sms_page).post(security::sms_submit))
        .layer(axum::middleware::from_fn(pages::i18n::scope))
        .route("/assets/portcullis.css", get(pages::stylesheet))
        .route("/assets/form-post.js", get(pages::form_post_script))
        .route("/assets/passkey.js", get(pages::passkey_script))
}

/// The browser's binding secret: the one it sent, or a new one to set.
struct Browser {
    secret: String,
    set_cookie: Option<HeaderValue>,
}

impl Browser {
    fn of(state: &AppState, headers: &HeaderMap) -> Self {
        let name = state.cookies.browser();
        match cookies::read(headers, &name) {
            Some(secret) => Self { secret, set_cookie: None },
            None => {
                let secret = random_secret("");
                let set_cookie = Some(state.cookies.set(&name, &secret, BROWSER_COOKIE_AGE));
                Self { secret, set_cookie }
            }
        }
    }

    /// Adds the cookie to `response` if it is new.
    fn attach(&self, mut response: Response) -> Response {
        if let Some(cookie) = &self.set_cookie {
            response.headers_mut().append(header::SET_COOKIE, cookie.clone());
        }
        response
    }

    /// The CSRF token of a form about `purpose` (a flow id, or `logout`): derived from the
    /// browser's HttpOnly secret, so another site can neither read nor compute it.
    fn csrf(&self, purpose: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"portcullis-csrf\0");
        hasher.update(self.secret.as_bytes());
        hasher.update(b"\0");
        hasher.update(purpose.as_bytes());
        URL_SAFE_NO_PAD.encode(hasher.finalize())
    }

    fn csrf_ok(&self, purpose: &str, presented: Option<&str>) -> bool {
        presented.is_some_and(|p| digests_equal(p.as_bytes(), self.csrf(purpose).as_bytes()))
    }
}

/// A 303 redirect (the browser follows with GET, RFC 9110 §15.4.4).
fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// An authorization response, in its response mode.
fn respond(response: &AuthorizationResponse) -> Response {
    match response.mode {
        ResponseMode::FormPost => pages::form_post(&response.redirect_uri, &response.params),
        ResponseMode::Query | ResponseMode::Fragment => see_other(&response.location()),
    }
}

/// An OAuth error shown as a page (RFC 6749 §4.1.2.1).
fn error_page(tenant: &str, error: &OAuthError) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
    let heading = if status.is_server_error() { "error.try_again" } else { "error.cannot_complete" };
    pages::error_with(status, tenant, heading, &error.error_description, Some(error.error))
}

/// An authorization error: a page when the client cannot be trusted, else a redirect.
fn authorize_error(tenant: &str, error: AuthorizeError) -> Response {
    match error {
        AuthorizeError::Page(error) => error_page(tenant, &error),
        AuthorizeError::Redirect(response) => respond(&response),
    }
}

/// A form POST's parameters, if it is one.
fn form(headers: &HeaderMap, body: &[u8]) -> Option<portcullis_oidc::Params> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
    (is_form && std::str::from_utf8(body).is_ok()).then(|| portcullis_oidc::Params::parse(body))
}

/// The page for a flow that is gone, expired, or another browser's.
fn flow_gone(tenant: &str) -> Response {
    pages::error(StatusCode::BAD_REQUEST, tenant, "error.flow_expired", "error.start_again", Some("flow_expired"))
}
