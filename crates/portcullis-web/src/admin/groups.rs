use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use portcullis_core::model::group::{Group, GroupChanges, NewGroup};
use portcullis_core::model::page::Page;
use portcullis_core::model::user::User;
use portcullis_types::{GroupId, UserId};

use super::{PageParams, Problems, created};
use crate::AppState;
use crate::error::WebError;
use crate::extract::{Admin, ApiJson, ApiPath, ApiQuery};

/// List groups.
#[utoipa::path(get, path = "/tenants/{tenant}/groups", tag = "groups", params(("tenant" = String, Path), PageParams), responses((status = 200, body = Page<Group>), Problems))]
pub(crate) async fn list_groups(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Json<Page<Group>>, WebError> {
    Ok(Json(state.services.list_groups(&who, &tenant, p.cursor.as_deref(), p.limit).await?))
}

/// Create a group, optionally inside another.
#[utoipa::path(post, path = "/tenants/{tenant}/groups", tag = "groups", params(("tenant" = String, Path)), request_body = NewGroup, responses((status = 201, body = Group), Problems))]
pub(crate) async fn create_group(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(body): ApiJson<NewGroup>,
) -> Result<Response, WebError> {
    let group = state.services.create_group(&who, &tenant, body).await?;
    Ok(created(format!("/admin/v1/tenants/{tenant}/groups/{}", group.id), group))
}

/// Get a group.
#[utoipa::path(get, path = "/tenants/{tenant}/groups/{id}", tag = "groups", params(("tenant" = String, Path), ("id" = GroupId, Path)), responses((status = 200, body = Group), Problems))]
pub(crate) async fn get_group(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, id)): ApiPath<(String, GroupId)>,
) -> Result<Json<Group>, WebError> {
    Ok(Json(state.services.get_group(&who, &tenant, id).await?))
}

/// Rename, describe or move a group (`parent_id: null` makes it top-level).
#[utoipa::path(patch, path = "/tenants/{tenant}/groups/{id}", tag = "groups", params(("tenant" = String, Path), ("id" = GroupId, Path)), request_body = GroupChanges, responses((status = 200, body = Group), Problems))]
pub(crate) async fn update_group(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, id)): ApiPath<(String, GroupId)>,
    ApiJson(body): ApiJson<GroupChanges>,
) -> Result<Json<Group>, WebError> {
    Ok(Json(state.services.update_group(&who, &tenant, id, body).await?))
}

/// Delete a group; its subgroups move up to its parent.
#[utoipa::path(delete, path = "/tenants/{tenant}/groups/{id}", tag = "groups", params(("tenant" = String, Path), ("id" = GroupId, Path)), responses((status = 204), Problems))]
pub(crate) async fn delete_group(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, id)): ApiPath<(String, GroupId)>,
) -> Result<StatusCode, WebError> {
    state.services.delete_group(&who, &tenant, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Direct members of a group (plain attributes only).
#[utoipa::path(get, path = "/tenants/{tenant}/groups/{id}/members", tag = "groups", params(("tenant" = String, Path), ("id" = GroupId, Path), PageParams), responses((status = 200, body = Page<User>), Problems))]
pub(crate) async fn list_members(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, id)): ApiPath<(String, GroupId)>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Json<Page<User>>, WebError> {
    Ok(Json(state.services.list_group_members(&who, &tenant, id, p.cursor.as_deref(), p.limit).await?))
}

/// Add a user to a group (idempotent).
#[utoipa::path(put, path = "/tenants/{tenant}/groups/{id}/members/{user}", tag = "groups", params(("tenant" = String, Path), ("id" = GroupId, Path), ("user" = UserId, Path)), responses((status = 204), Problems))]
pub(crate) async fn add_member(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, id, user)): ApiPath<(String, GroupId, UserId)>,
) -> Result<StatusCode, WebError> {
    state.services.set_group_member(&who, &tenant, id, user, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a user from a group.
#[utoipa::path(delete, path = "/tenants/{tenant}/groups/{id}/members/{user}", tag = "groups", params(("tenant" = String, Path), ("id" = GroupId, Path), ("user" = UserId, Path)), responses((status = 204), Problems))]
pub(crate) async fn remove_member(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, id, user)): ApiPath<(String, GroupId, UserId)>,
) -> Result<StatusCode, WebError> {
    state.services.set_group_member(&who, &tenant, id, user, false).await?;
    Ok(StatusCode::NO_CONTENT)
}
