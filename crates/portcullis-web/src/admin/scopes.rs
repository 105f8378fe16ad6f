use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use portcullis_core::model::scope::{ScopeBody, ScopeDefinition};

use super::Problems;
use crate::AppState;
use crate::error::WebError;
use crate::extract::{Admin, ApiJson, ApiPath};

/// List the tenant's own OAuth scopes and the claims each releases.
#[utoipa::path(get, path = "/tenants/{tenant}/scopes", tag = "clients", params(("tenant" = String, Path)), responses((status = 200, body = Vec<ScopeDefinition>), Problems))]
pub(crate) async fn list_scopes(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<Vec<ScopeDefinition>>, WebError> {
    Ok(Json(state.services.list_scopes(&who, &tenant).await?))
}

/// Create or replace a scope: clients without a registered `scope` may request it, and a
/// grant of it releases `claims` (standard claims or user-schema attributes) in ID tokens and
/// at userinfo. The built-in scopes cannot be redefined.
#[utoipa::path(put, path = "/tenants/{tenant}/scopes/{name}", tag = "clients", params(("tenant" = String, Path), ("name" = String, Path)), request_body = ScopeBody, responses((status = 200, body = ScopeDefinition), Problems))]
pub(crate) async fn put_scope(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, name)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<ScopeBody>,
) -> Result<Json<ScopeDefinition>, WebError> {
    Ok(Json(state.services.put_scope(&who, &tenant, &name, body).await?))
}

/// Delete a scope.
#[utoipa::path(delete, path = "/tenants/{tenant}/scopes/{name}", tag = "clients", params(("tenant" = String, Path), ("name" = String, Path)), responses((status = 204), Problems))]
pub(crate) async fn delete_scope(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, name)): ApiPath<(String, String)>,
) -> Result<StatusCode, WebError> {
    state.services.delete_scope(&who, &tenant, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
