//! `{issuer}/register`: Dynamic Client Registration (RFC 7591) and client configuration
//! (RFC 7592). JSON in and out; errors are RFC 7591 §3.2.2 JSON with a `Bearer` challenge
//! on 401.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use portcullis_oidc::OAuthError;
use portcullis_oidc::registration;

use crate::AppState;
use crate::extract::{ApiPath, Context};
use crate::issuer::{bearer, no_store};

/// The registration routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/t/{tenant}/register", post(register))
        .route("/t/{tenant}/register/{client_id}", axum::routing::get(read).put(update).delete(delete))
}

fn error(error: OAuthError) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = (status, axum::Json(&error)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer error=\"invalid_token\""));
    }
    response
}

fn json_body(headers: &HeaderMap) -> Result<(), OAuthError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    if json {
        Ok(())
    } else {
        Err(OAuthError::new("invalid_client_metadata", 400, "send the metadata as application/json"))
    }
}

async fn register(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    Context(context): Context,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = json_body(&headers) {
        return error(refused);
    }
    let issuer = state.issuer(&tenant);
    let token = bearer(&headers);
    match registration::register(&state.services, &tenant, &issuer, token.as_deref(), &body, &context).await {
        Ok(answer) => {
            let mut response = no_store(answer);
            *response.status_mut() = StatusCode::CREATED;
            response
        }
        Err(refused) => error(refused),
    }
}

async fn read(
    State(state): State<AppState>,
    ApiPath((tenant, client_id)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let issuer = state.issuer(&tenant);
    match registration::read(&state.services, &tenant, &issuer, &client_id, bearer(&headers).as_deref()).await {
        Ok(answer) => no_store(answer),
        Err(refused) => error(refused),
    }
}

async fn update(
    State(state): State<AppState>,
    ApiPath((tenant, client_id)): ApiPath<(String, String)>,
    Context(context): Context,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = json_body(&headers) {
        return error(refused);
    }
    let issuer = state.issuer(&tenant);
    let token = bearer(&headers);
    match registration::update(&state.services, &tenant, &issuer, &client_id, token.as_deref(), &body, &context).await {
        Ok(answer) => no_store(answer),
        Err(refused) => error(refused),
    }
}

async fn delete(
    State(state): State<AppState>,
    ApiPath((tenant, client_id)): ApiPath<(String, String)>,
    Context(context): Context,
    headers: HeaderMap,
) -> Response {
    match registration::delete(&state.services, &tenant, &client_id, bearer(&headers).as_deref(), &context).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(refused) => error(refused),
    }
}
