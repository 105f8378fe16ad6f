use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use portcullis_core::model::session::SessionInfo;
use portcullis_types::UserId;

use super::Problems;
use crate::AppState;
use crate::error::WebError;
use crate::extract::{Admin, ApiPath};

/// List a user's live SSO sessions.
#[utoipa::path(get, path = "/tenants/{tenant}/users/{id}/sessions", tag = "users", params(("tenant" = String, Path), ("id" = UserId, Path)), responses((status = 200, body = Vec<SessionInfo>), Problems))]
pub(crate) async fn list_sessions(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, id)): ApiPath<(String, UserId)>,
) -> Result<Json<Vec<SessionInfo>>, WebError> {
    Ok(Json(state.services.list_user_sessions(&who, &tenant, id).await?))
}

/// Sign the user out everywhere: every session ends, its grants without `offline_access` are
/// revoked, and each client with a back-channel logout URI is told.
#[utoipa::path(delete, path = "/tenants/{tenant}/users/{id}/sessions", tag = "users", params(("tenant" = String, Path), ("id" = UserId, Path)), responses((status = 204), Problems))]
pub(crate) async fn revoke_sessions(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, id)): ApiPath<(String, UserId)>,
) -> Result<StatusCode, WebError> {
    let ended = state.services.revoke_user_sessions(&who, &tenant, id, None).await?;
    notify_all(&state, &tenant, ended);
    Ok(StatusCode::NO_CONTENT)
}

/// End one session of the user.
#[utoipa::path(delete, path = "/tenants/{tenant}/users/{id}/sessions/{sid}", tag = "users", params(("tenant" = String, Path), ("id" = UserId, Path), ("sid" = String, Path)), responses((status = 204), Problems))]
pub(crate) async fn revoke_session(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, id, sid)): ApiPath<(String, UserId, String)>,
) -> Result<StatusCode, WebError> {
    let ended = state.services.revoke_user_sessions(&who, &tenant, id, Some(&sid)).await?;
    notify_all(&state, &tenant, ended);
    Ok(StatusCode::NO_CONTENT)
}

fn notify_all(
    state: &AppState,
    tenant: &str,
    ended: Vec<(portcullis_core::model::session::SessionRecord, Vec<portcullis_core::model::session::GrantRecord>)>,
) {
    for (session, grants) in ended {
        crate::browser::notify(state.clone(), tenant.to_owned(), state.issuer(tenant), session, grants);
    }
}
