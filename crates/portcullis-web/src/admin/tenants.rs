use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use portcullis_core::model::page::Page;
use portcullis_core::model::tenant::{NewTenant, Tenant, TenantChanges};

use super::{PageParams, Problems, created};
use crate::AppState;
use crate::error::WebError;
use crate::extract::{Admin, ApiJson, ApiPath, ApiQuery};

/// List tenants (a tenant-scoped token sees its own).
#[utoipa::path(get, path = "/tenants", tag = "tenants", params(PageParams), responses((status = 200, body = Page<Tenant>), Problems))]
pub(crate) async fn list_tenants(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiQuery(page): ApiQuery<PageParams>,
) -> Result<Json<Page<Tenant>>, WebError> {
    Ok(Json(state.services.list_tenants(&who, page.cursor.as_deref(), page.limit).await?))
}

/// Create a tenant (global write token).
#[utoipa::path(post, path = "/tenants", tag = "tenants", request_body = NewTenant, responses((status = 201, body = Tenant), Problems))]
pub(crate) async fn create_tenant(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiJson(body): ApiJson<NewTenant>,
) -> Result<Response, WebError> {
    let tenant = state.services.create_tenant(&who, body).await?;
    Ok(created(format!("/admin/v1/tenants/{}", tenant.name), tenant))
}

/// Get a tenant.
#[utoipa::path(get, path = "/tenants/{tenant}", tag = "tenants", params(("tenant" = String, Path)), responses((status = 200, body = Tenant), Problems))]
pub(crate) async fn get_tenant(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<Tenant>, WebError> {
    Ok(Json(state.services.get_tenant(&who, &tenant).await?))
}

/// Change a tenant's display name or profile.
#[utoipa::path(patch, path = "/tenants/{tenant}", tag = "tenants", params(("tenant" = String, Path)), request_body = TenantChanges, responses((status = 200, body = Tenant), Problems))]
pub(crate) async fn update_tenant(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(body): ApiJson<TenantChanges>,
) -> Result<Json<Tenant>, WebError> {
    Ok(Json(state.services.update_tenant(&who, &tenant, body).await?))
}

/// Delete a tenant and everything in it (global write token; not `admin`).
#[utoipa::path(delete, path = "/tenants/{tenant}", tag = "tenants", params(("tenant" = String, Path)), responses((status = 204), Problems))]
pub(crate) async fn delete_tenant(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath(tenant): ApiPath<String>,
) -> Result<StatusCode, WebError> {
    state.services.delete_tenant(&who, &tenant).await?;
    Ok(StatusCode::NO_CONTENT)
}
