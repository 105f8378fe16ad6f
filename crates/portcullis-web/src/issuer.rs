//! Public endpoints under each tenant's issuer, `{public_url}/t/{tenant}`.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::AppState;
use crate::error::WebError;
use crate::extract::ApiPath;

/// The routes under `/t/{tenant}`.
pub fn router() -> Router<AppState> {
    Router::new().route("/t/{tenant}/jwks", get(jwks))
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
