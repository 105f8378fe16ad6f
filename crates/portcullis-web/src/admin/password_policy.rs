//! The tenant's password policy.

use axum::Json;
use axum::extract::State;
use portcullis_core::model::password_policy::PasswordPolicy;

use super::Problems;
use crate::AppState;
use crate::error::WebError;
use crate::extract::{Admin, ApiJson, ApiPath};

/// Read the tenant's password policy (its profile's defaults until one is set).
#[utoipa::path(get, path = "/tenants/{tenant}/password-policy", tag = "users", params(("tenant" = String, Path)), responses((status = 200, body = PasswordPolicy), Problems))]
pub(crate) async fn get_policy(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<PasswordPolicy>, WebError> {
    Ok(Json(state.services.get_password_policy(&who, &tenant).await?))
}

/// Replace the tenant's password policy; it applies to passwords set from now on.
#[utoipa::path(put, path = "/tenants/{tenant}/password-policy", tag = "users", params(("tenant" = String, Path)), request_body = PasswordPolicy, responses((status = 200, body = PasswordPolicy), Problems))]
pub(crate) async fn put_policy(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(policy): ApiJson<PasswordPolicy>,
) -> Result<Json<PasswordPolicy>, WebError> {
    Ok(Json(state.services.put_password_policy(&who, &tenant, policy).await?))
}
