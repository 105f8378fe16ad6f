use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use portcullis_core::model::page::Page;
use portcullis_core::model::role::{AssignRole, NewRole, Role, RoleAssignment, RoleChanges};
use portcullis_core::service::Assignee;
use portcullis_types::{GroupId, RoleId, UserId};

use super::{PageParams, Problems, created};
use crate::AppState;
use crate::error::WebError;
use crate::extract::{Admin, ApiJson, ApiPath, ApiQuery};

/// An optional JSON body: absent or empty means the default.
async fn optional_body(request: axum::extract::Request) -> Result<AssignRole, WebError> {
    let bytes = axum::body::to_bytes(request.into_body(), crate::MAX_JSON_BODY).await.map_err(|_| {
        WebError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large", "Payload too large", "the body is too large")
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(AssignRole::default());
    }
    crate::extract::decode_json(&bytes)
}

/// List roles.
#[utoipa::path(get, path = "/tenants/{tenant}/roles", tag = "roles", params(("tenant" = String, Path), PageParams), responses((status = 200, body = Page<Role>), Problems))]
pub(crate) async fn list_roles(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Json<Page<Role>>, WebError> {
    Ok(Json(state.services.list_roles(&who, &tenant, p.cursor.as_deref(), p.limit).await?))
}

/// Create a role, optionally composite.
#[utoipa::path(post, path = "/tenants/{tenant}/roles", tag = "roles", params(("tenant" = String, Path)), request_body = NewRole, responses((status = 201, body = Role), Problems))]
pub(crate) async fn create_role(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(body): ApiJson<NewRole>,
) -> Result<Response, WebError> {
    let role = state.services.create_role(&who, &tenant, body).await?;
    Ok(created(format!("/admin/v1/tenants/{tenant}/roles/{}", role.id), role))
}

/// Get a role.
#[utoipa::path(get, path = "/tenants/{tenant}/roles/{id}", tag = "roles", params(("tenant" = String, Path), ("id" = RoleId, Path)), responses((status = 200, body = Role), Problems))]
pub(crate) async fn get_role(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, id)): ApiPath<(String, RoleId)>,
) -> Result<Json<Role>, WebError> {
    Ok(Json(state.services.get_role(&who, &tenant, id).await?))
}

/// Rename, describe, or replace the composites of a role.
#[utoipa::path(patch, path = "/tenants/{tenant}/roles/{id}", tag = "roles", params(("tenant" = String, Path), ("id" = RoleId, Path)), request_body = RoleChanges, responses((status = 200, body = Role), Problems))]
pub(crate) async fn update_role(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, id)): ApiPath<(String, RoleId)>,
    ApiJson(body): ApiJson<RoleChanges>,
) -> Result<Json<Role>, WebError> {
    Ok(Json(state.services.update_role(&who, &tenant, id, body).await?))
}

/// Delete a role, its assignments and its place in composites.
#[utoipa::path(delete, path = "/tenants/{tenant}/roles/{id}", tag = "roles", params(("tenant" = String, Path), ("id" = RoleId, Path)), responses((status = 204), Problems))]
pub(crate) async fn delete_role(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, id)): ApiPath<(String, RoleId)>,
) -> Result<StatusCode, WebError> {
    state.services.delete_role(&who, &tenant, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A user's direct, unexpired role assignments.
#[utoipa::path(get, path = "/tenants/{tenant}/users/{id}/roles", tag = "roles", params(("tenant" = String, Path), ("id" = UserId, Path)), responses((status = 200, body = Vec<RoleAssignment>), Problems))]
pub(crate) async fn list_user_roles(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, id)): ApiPath<(String, UserId)>,
) -> Result<Json<Vec<RoleAssignment>>, WebError> {
    Ok(Json(state.services.list_assignments(&who, &tenant, Assignee::User(id)).await?))
}

/// Assign a role to a user, optionally until `expires_at`.
#[utoipa::path(put, path = "/tenants/{tenant}/users/{id}/roles/{role}", tag = "roles", params(("tenant" = String, Path), ("id" = UserId, Path), ("role" = RoleId, Path)), request_body(content = Option<AssignRole>), responses((status = 200, body = RoleAssignment), Problems))]
pub(crate) async fn assign_user_role(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, id, role)): ApiPath<(String, UserId, RoleId)>,
    request: axum::extract::Request,
) -> Result<Json<RoleAssignment>, WebError> {
    let body = optional_body(request).await?;
    Ok(Json(state.services.assign_role(&who, &tenant, Assignee::User(id), role, body).await?))
}

/// Remove a role from a user.
#[utoipa::path(delete, path = "/tenants/{tenant}/users/{id}/roles/{role}", tag = "roles", params(("tenant" = String, Path), ("id" = UserId, Path), ("role" = RoleId, Path)), responses((status = 204), Problems))]
pub(crate) async fn unassign_user_role(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, id, role)): ApiPath<(String, UserId, RoleId)>,
) -> Result<StatusCode, WebError> {
    state.services.unassign_role(&who, &tenant, Assignee::User(id), role).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A group's direct, unexpired role assignments.
#[utoipa::path(get, path = "/tenants/{tenant}/groups/{id}/roles", tag = "roles", params(("tenant" = String, Path), ("id" = GroupId, Path)), responses((status = 200, body = Vec<RoleAssignment>), Problems))]
pub(crate) async fn list_group_roles(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, id)): ApiPath<(String, GroupId)>,
) -> Result<Json<Vec<RoleAssignment>>, WebError> {
    Ok(Json(state.services.list_assignments(&who, &tenant, Assignee::Group(id)).await?))
}

/// Assign a role to a group (its members and subgroups' members inherit it).
#[utoipa::path(put, path = "/tenants/{tenant}/groups/{id}/roles/{role}", tag = "roles", params(("tenant" = String, Path), ("id" = GroupId, Path), ("role" = RoleId, Path)), request_body(content = Option<AssignRole>), responses((status = 200, body = RoleAssignment), Problems))]
pub(crate) async fn assign_group_role(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, id, role)): ApiPath<(String, GroupId, RoleId)>,
    request: axum::extract::Request,
) -> Result<Json<RoleAssignment>, WebError> {
    let body = optional_body(request).await?;
    Ok(Json(state.services.assign_role(&who, &tenant, Assignee::Group(id), role, body).await?))
}

/// Remove a role from a group.
#[utoipa::path(delete, path = "/tenants/{tenant}/groups/{id}/roles/{role}", tag = "roles", params(("tenant" = String, Path), ("id" = GroupId, Path), ("role" = RoleId, Path)), responses((status = 204), Problems))]
pub(crate) async fn unassign_group_role(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, id, role)): ApiPath<(String, GroupId, RoleId)>,
) -> Result<StatusCode, WebError> {
    state.services.unassign_role(&who, &tenant, Assignee::Group(id), role).await?;
    Ok(StatusCode::NO_CONTENT)
}
