use axum::Json;
use axum::extract::State;
use portcullis_core::model::key::SigningKey;

use super::Problems;
use crate::AppState;
use crate::error::WebError;
use crate::extract::{Admin, ApiPath};

/// The tenant's published signing keys (public parts only): the active key of each algorithm
/// and retired keys still within their publication window.
#[utoipa::path(get, path = "/tenants/{tenant}/keys", tag = "keys", params(("tenant" = String, Path)), responses((status = 200, body = Vec<SigningKey>), Problems))]
pub(crate) async fn list_keys(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<Vec<SigningKey>>, WebError> {
    Ok(Json(state.services.list_signing_keys(&who, &tenant).await?))
}

/// Rotate: a new active key for every algorithm. Previous keys stop signing at once and stay in
/// the JWKS for 24 hours and 5 minutes, so every token they signed still verifies.
#[utoipa::path(post, path = "/tenants/{tenant}/keys:rotate", tag = "keys", params(("tenant" = String, Path)), responses((status = 200, body = Vec<SigningKey>), Problems))]
pub(crate) async fn rotate_keys(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<Vec<SigningKey>>, WebError> {
    Ok(Json(state.services.rotate_signing_keys(&who, &tenant).await?))
}
