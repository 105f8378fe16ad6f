//! Public endpoints under each tenant's issuer, `{public_url}/t/{tenant}`.

use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use portcullis_oidc::{OAuthError, TokenRequest};

use crate::AppState;
use crate::error::WebError;
use crate::extract::ApiPath;

/// The routes under `/t/{tenant}`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/t/{tenant}/jwks", get(jwks))
        .route("/t/{tenant}/token", post(token))
        .route("/t/{tenant}/introspect", post(introspect))
}

/// The tenant's JWK Set (RFC 7517 §5): every key that may have signed a token still valid.
/// Browsers may fetch it (CORS), and caches may keep it for a minute: relying parties refetch
/// on an unknown `kid` anyway.
async fn jwks(State(state): State<AppState>, ApiPath(tenant): ApiPath<String>) -> Result<Response, WebError> {
    let set = state.services.jwks(&tenant).await?;
    let mut response = Json(set).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    Ok(response)
}

/// Renders an OAuth error (RFC 6749 §5.2): JSON, never cached; `invalid_client` with a
/// `WWW-Authenticate` challenge.
fn oauth_error(error: OAuthError) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = (status, Json(&error)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"portcullis\""));
    }
    if status.is_server_error() {
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

/// Reads an OAuth form POST (RFC 6749 §3.2, RFC 7662 §2.1).
fn read_form(headers: &HeaderMap, body: Result<Bytes, BytesRejection>) -> Result<TokenRequest, OAuthError> {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
    if !form {
        return Err(OAuthError::invalid_request("send the request as application/x-www-form-urlencoded"));
    }
    let body = body.map_err(|_| OAuthError::invalid_request("the body could not be read or is too large"))?;
    if std::str::from_utf8(&body).is_err() {
        return Err(OAuthError::invalid_request("the body is not UTF-8"));
    }
    Ok(TokenRequest {
        params: url::form_urlencoded::parse(&body).into_owned().collect(),
        authorization: headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_owned),
    })
}

/// A JSON answer that must not be cached (RFC 6749 §5.1).
fn no_store<T: serde::Serialize>(body: T) -> Response {
    let mut response = Json(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// The token endpoint (RFC 6749 §3.2): the grant logic is `portcullis-oidc`'s.
async fn token(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let request = match read_form(&headers, body) {
        Ok(request) => request,
        Err(error) => return oauth_error(error),
    };
    match portcullis_oidc::token(&state.services, &tenant, &state.issuer(&tenant), &request).await {
        Ok(answer) => no_store(answer),
        Err(error) => oauth_error(error),
    }
}

/// The introspection endpoint (RFC 7662 §2).
async fn introspect(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let request = match read_form(&headers, body) {
        Ok(request) => request,
        Err(error) => return oauth_error(error),
    };
    match portcullis_oidc::introspect(&state.services, &tenant, &state.issuer(&tenant), &request).await {
        Ok(answer) => no_store(answer),
        Err(error) => oauth_error(error),
    }
}
