use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use futures::TryStreamExt;
use portcullis_core::model::page::Page;
use portcullis_core::model::role::EffectiveAccess;
use portcullis_core::model::user::{SetPassword, User, UserDocument, UserStatus};
use portcullis_core::service::{ImportReport, UserQuery};
use portcullis_types::UserId;
use serde::Deserialize;

use super::{Problems, created};
use crate::AppState;
use crate::error::WebError;
use crate::extract::{Admin, ApiJson, ApiPath, ApiQuery};

/// Filters and paging of `GET …/users`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct UserListParams {
    /// Exact username, case-insensitive.
    username: Option<String>,
    /// Exact e-mail, case-insensitive.
    email: Option<String>,
    status: Option<UserStatus>,
    /// `name:value` of a non-sensitive custom attribute.
    attribute: Option<String>,
    cursor: Option<String>,
    /// 1–1000, default 100.
    limit: Option<u32>,
}

/// List users, filtered, by cursor.
#[utoipa::path(get, path = "/tenants/{tenant}/users", tag = "users", params(("tenant" = String, Path), UserListParams), responses((status = 200, body = Page<User>), Problems))]
pub(crate) async fn list_users(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(p): ApiQuery<UserListParams>,
) -> Result<Json<Page<User>>, WebError> {
    let query = UserQuery { username: p.username, email: p.email, status: p.status, attribute: p.attribute };
    Ok(Json(state.services.list_users(&who, &tenant, query, p.cursor.as_deref(), p.limit).await?))
}

/// Create a user; `password` (hashed with argon2id) or `password_hash` (imported) optional.
#[utoipa::path(post, path = "/tenants/{tenant}/users", tag = "users", params(("tenant" = String, Path)), request_body = UserDocument, responses((status = 201, body = User), Problems))]
pub(crate) async fn create_user(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(body): ApiJson<UserDocument>,
) -> Result<Response, WebError> {
    let user = state.services.create_user(&who, &tenant, body).await?;
    Ok(created(format!("/admin/v1/tenants/{tenant}/users/{}", user.id), user))
}

/// Bulk import: one user document per line (NDJSON, `application/x-ndjson`), streamed and
/// committed in batches of 1000. Bad lines are reported; the rest imports.
#[utoipa::path(post, path = "/tenants/{tenant}/users:import", tag = "users", params(("tenant" = String, Path)),
    request_body(content = String, content_type = "application/x-ndjson", description = "One user document (as for create) per line."),
    responses((status = 200, body = ImportReport), Problems))]
pub(crate) async fn import_users(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath(tenant): ApiPath<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<ImportReport>, WebError> {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    if !matches!(media.as_deref(), Some("application/x-ndjson" | "application/jsonl" | "application/ndjson")) {
        return Err(WebError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            "send the users as application/x-ndjson, one JSON object per line",
        ));
    }
    let stream = body.into_data_stream().map_err(std::io::Error::other);
    let reader = tokio::io::BufReader::with_capacity(256 * 1024, tokio_util::io::StreamReader::new(stream));
    Ok(Json(state.services.import_users(&who, &tenant, reader).await?))
}

/// Get a user (sensitive attributes decrypted).
#[utoipa::path(get, path = "/tenants/{tenant}/users/{id}", tag = "users", params(("tenant" = String, Path), ("id" = UserId, Path)), responses((status = 200, body = User), Problems))]
pub(crate) async fn get_user(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, id)): ApiPath<(String, UserId)>,
) -> Result<Json<User>, WebError> {
    Ok(Json(state.services.get_user(&who, &tenant, id).await?))
}

/// Update a user with a JSON merge patch (RFC 7396): absent fields stay, `null` removes.
#[utoipa::path(patch, path = "/tenants/{tenant}/users/{id}", tag = "users", params(("tenant" = String, Path), ("id" = UserId, Path)),
    request_body(content = Object, content_type = "application/merge-patch+json"), responses((status = 200, body = User), Problems))]
pub(crate) async fn update_user(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, id)): ApiPath<(String, UserId)>,
    ApiJson(patch): ApiJson<serde_json::Value>,
) -> Result<Json<User>, WebError> {
    Ok(Json(state.services.update_user(&who, &tenant, id, patch).await?))
}

/// Delete a user; their data key is destroyed with them.
#[utoipa::path(delete, path = "/tenants/{tenant}/users/{id}", tag = "users", params(("tenant" = String, Path), ("id" = UserId, Path)), responses((status = 204), Problems))]
pub(crate) async fn delete_user(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, id)): ApiPath<(String, UserId)>,
) -> Result<StatusCode, WebError> {
    state.services.delete_user(&who, &tenant, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set a user's password (or an imported hash).
#[utoipa::path(put, path = "/tenants/{tenant}/users/{id}/password", tag = "users", params(("tenant" = String, Path), ("id" = UserId, Path)), request_body = SetPassword, responses((status = 204), Problems))]
pub(crate) async fn set_password(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, id)): ApiPath<(String, UserId)>,
    ApiJson(body): ApiJson<SetPassword>,
) -> Result<StatusCode, WebError> {
    state.services.set_password(&who, &tenant, id, body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Disable a user.
#[utoipa::path(post, path = "/tenants/{tenant}/users/{id}/disable", tag = "users", params(("tenant" = String, Path), ("id" = UserId, Path)), responses((status = 200, body = User), Problems))]
pub(crate) async fn disable_user(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, id)): ApiPath<(String, UserId)>,
) -> Result<Json<User>, WebError> {
    Ok(Json(state.services.set_user_status(&who, &tenant, id, UserStatus::Disabled).await?))
}

/// Enable a user (status `active`).
#[utoipa::path(post, path = "/tenants/{tenant}/users/{id}/enable", tag = "users", params(("tenant" = String, Path), ("id" = UserId, Path)), responses((status = 200, body = User), Problems))]
pub(crate) async fn enable_user(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, id)): ApiPath<(String, UserId)>,
) -> Result<Json<User>, WebError> {
    Ok(Json(state.services.set_user_status(&who, &tenant, id, UserStatus::Active).await?))
}

/// Every group (direct and enclosing) and role (direct, through groups and composites) of a user.
#[utoipa::path(get, path = "/tenants/{tenant}/users/{id}/effective", tag = "users", params(("tenant" = String, Path), ("id" = UserId, Path)), responses((status = 200, body = EffectiveAccess), Problems))]
pub(crate) async fn effective_access(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, id)): ApiPath<(String, UserId)>,
) -> Result<Json<EffectiveAccess>, WebError> {
    Ok(Json(state.services.effective_access(&who, &tenant, id).await?))
}
