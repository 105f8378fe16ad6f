//! A user's second factors and login requirements, and the tenant's authentication policy
//! (issue 4 items 8 and 9).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use portcullis_core::model::auth_policy::AuthPolicy;
use portcullis_core::model::credential::{CredentialInfo, Requirement};
use portcullis_types::UserId;
use serde::{Deserialize, Serialize};

use super::Problems;
use crate::AppState;
use crate::error::WebError;
use crate::extract::{Admin, ApiJson, ApiPath};

/// List a user's second factors (authenticator apps, recovery codes), never their secrets.
#[utoipa::path(get, path = "/tenants/{tenant}/users/{id}/credentials", tag = "users", params(("tenant" = String, Path), ("id" = UserId, Path)), responses((status = 200, body = Vec<CredentialInfo>), Problems))]
pub(crate) async fn list_credentials(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, id)): ApiPath<(String, UserId)>,
) -> Result<Json<Vec<CredentialInfo>>, WebError> {
    Ok(Json(state.services.list_credentials(&who, &tenant, id).await?))
}

/// Remove one second factor; removing the last authenticator app removes the recovery codes.
#[utoipa::path(delete, path = "/tenants/{tenant}/users/{id}/credentials/{credential}", tag = "users", params(("tenant" = String, Path), ("id" = UserId, Path), ("credential" = String, Path)), responses((status = 204), Problems))]
pub(crate) async fn delete_credential(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, id, credential)): ApiPath<(String, UserId, String)>,
) -> Result<StatusCode, WebError> {
    state.services.delete_credential(&who, &tenant, id, &credential).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A certificate subject to bind to a user.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CertificateBinding {
    /// The subject distinguished name, most specific first: `CN=Alice Liddell,OU=Staff,O=Acme`.
    subject_dn: String,
}

/// Bind a client certificate's subject to the user: certificates with that subject (from the
/// configured CAs) then sign them in, when the policy's `certificate_mapping` holds
/// `subject_dn`. A subject bound to anyone in the tenant is a conflict.
#[utoipa::path(post, path = "/tenants/{tenant}/users/{id}/certificates", tag = "users", params(("tenant" = String, Path), ("id" = UserId, Path)), request_body = CertificateBinding, responses((status = 201, body = CredentialInfo), Problems))]
pub(crate) async fn bind_certificate(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, id)): ApiPath<(String, UserId)>,
    ApiJson(body): ApiJson<CertificateBinding>,
) -> Result<(StatusCode, Json<CredentialInfo>), WebError> {
    let bound = state.services.bind_certificate(&who, &tenant, id, &body.subject_dn).await?;
    Ok((StatusCode::CREATED, Json(bound)))
}

/// What `mfa:reset` does besides removing every second factor.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MfaReset {
    /// Make the user enrol a new second factor at their next login.
    #[serde(default)]
    require_enrolment: bool,
}

/// How many second factors a reset removed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct MfaResetDone {
    removed: u64,
}

/// Reset a user's MFA: every second factor and the recovery codes go (a lost phone).
#[utoipa::path(post, path = "/tenants/{tenant}/users/{id}/mfa:reset", tag = "users", params(("tenant" = String, Path), ("id" = UserId, Path)), request_body = MfaReset, responses((status = 200, body = MfaResetDone), Problems))]
pub(crate) async fn reset_mfa(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, id)): ApiPath<(String, UserId)>,
    ApiJson(body): ApiJson<MfaReset>,
) -> Result<Json<MfaResetDone>, WebError> {
    let removed = state.services.reset_mfa(&who, &tenant, id, body.require_enrolment).await?;
    Ok(Json(MfaResetDone { removed }))
}

/// What the user must do at their next login.
#[utoipa::path(get, path = "/tenants/{tenant}/users/{id}/requirements", tag = "users", params(("tenant" = String, Path), ("id" = UserId, Path)), responses((status = 200, body = Vec<Requirement>), Problems))]
pub(crate) async fn list_requirements(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, id)): ApiPath<(String, UserId)>,
) -> Result<Json<Vec<Requirement>>, WebError> {
    Ok(Json(state.services.list_requirements(&who, &tenant, id).await?))
}

fn requirement(text: &str) -> Result<Requirement, WebError> {
    Requirement::parse(text).ok_or_else(|| WebError::invalid("requirement", "must be enrol_mfa or change_password"))
}

/// Require `enrol_mfa` (enrol a second factor) or `change_password` at the user's next login.
#[utoipa::path(put, path = "/tenants/{tenant}/users/{id}/requirements/{requirement}", tag = "users", params(("tenant" = String, Path), ("id" = UserId, Path), ("requirement" = Requirement, Path)), responses((status = 204), Problems))]
pub(crate) async fn put_requirement(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, id, name)): ApiPath<(String, UserId, String)>,
) -> Result<StatusCode, WebError> {
    state.services.set_requirement(&who, &tenant, id, requirement(&name)?, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lift a requirement.
#[utoipa::path(delete, path = "/tenants/{tenant}/users/{id}/requirements/{requirement}", tag = "users", params(("tenant" = String, Path), ("id" = UserId, Path), ("requirement" = Requirement, Path)), responses((status = 204), Problems))]
pub(crate) async fn delete_requirement(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, id, name)): ApiPath<(String, UserId, String)>,
) -> Result<StatusCode, WebError> {
    state.services.set_requirement(&who, &tenant, id, requirement(&name)?, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The tenant's authentication policy: when a second factor is asked.
#[utoipa::path(get, path = "/tenants/{tenant}/auth-policy", tag = "users", params(("tenant" = String, Path)), responses((status = 200, body = AuthPolicy), Problems))]
pub(crate) async fn get_auth_policy(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<AuthPolicy>, WebError> {
    Ok(Json(state.services.get_auth_policy(&who, &tenant).await?))
}

/// Replace the tenant's authentication policy (`mfa`: `off`, `optional`, `required`).
#[utoipa::path(put, path = "/tenants/{tenant}/auth-policy", tag = "users", params(("tenant" = String, Path)), request_body = AuthPolicy, responses((status = 200, body = AuthPolicy), Problems))]
pub(crate) async fn put_auth_policy(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(policy): ApiJson<AuthPolicy>,
) -> Result<Json<AuthPolicy>, WebError> {
    Ok(Json(state.services.put_auth_policy(&who, &tenant, policy).await?))
}
