use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use portcullis_core::model::client::{CreatedRegistrationToken, NewRegistrationToken, RegistrationToken};

use super::{Problems, created};
use crate::AppState;
use crate::error::WebError;
use crate::extract::{Admin, ApiJson, ApiPath};

/// List the tenant's initial access tokens for Dynamic Client Registration (never the tokens).
#[utoipa::path(get, path = "/tenants/{tenant}/registration-tokens", tag = "clients", params(("tenant" = String, Path)), responses((status = 200, body = Vec<RegistrationToken>), Problems))]
pub(crate) async fn list_registration_tokens(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<Vec<RegistrationToken>>, WebError> {
    Ok(Json(state.services.list_registration_tokens(&who, &tenant).await?))
}

/// Issue an initial access token: whoever holds it may register clients at
/// `{issuer}/register` (RFC 7591 §3), up to `max_uses` times. Registration is off until one
/// exists. The token is in this answer only.
#[utoipa::path(post, path = "/tenants/{tenant}/registration-tokens", tag = "clients", params(("tenant" = String, Path)), request_body = NewRegistrationToken, responses((status = 201, body = CreatedRegistrationToken), Problems))]
pub(crate) async fn create_registration_token(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(body): ApiJson<NewRegistrationToken>,
) -> Result<Response, WebError> {
    let token = state.services.create_registration_token(&who, &tenant, body).await?;
    Ok(created(format!("/admin/v1/tenants/{tenant}/registration-tokens/{}", token.token.id), token))
}

/// Revoke an initial access token; clients it registered stay.
#[utoipa::path(delete, path = "/tenants/{tenant}/registration-tokens/{id}", tag = "clients", params(("tenant" = String, Path), ("id" = String, Path)), responses((status = 204), Problems))]
pub(crate) async fn revoke_registration_token(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
) -> Result<StatusCode, WebError> {
    state.services.revoke_registration_token(&who, &tenant, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
