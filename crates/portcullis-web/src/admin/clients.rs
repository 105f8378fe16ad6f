use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use portcullis_core::model::client::{Client, ClientMetadata, ClientWithSecret};
use portcullis_core::model::page::Page;

use super::{PageParams, Problems, created};
use crate::AppState;
use crate::error::WebError;
use crate::extract::{Admin, ApiJson, ApiPath, ApiQuery};

/// List the tenant's OAuth clients (never their secrets).
#[utoipa::path(get, path = "/tenants/{tenant}/clients", tag = "clients", params(("tenant" = String, Path), PageParams), responses((status = 200, body = Page<Client>), Problems))]
pub(crate) async fn list_clients(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Json<Page<Client>>, WebError> {
    Ok(Json(state.services.list_clients(&who, &tenant, p.cursor.as_deref(), p.limit).await?))
}

/// Register a client with RFC 7591 metadata. The answer carries `client_id` and, for
/// `client_secret_basic`/`client_secret_post`, the `client_secret` — shown this once.
#[utoipa::path(post, path = "/tenants/{tenant}/clients", tag = "clients", params(("tenant" = String, Path)), request_body = ClientMetadata, responses((status = 201, body = ClientWithSecret), Problems))]
pub(crate) async fn create_client(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(body): ApiJson<ClientMetadata>,
) -> Result<Response, WebError> {
    let client = state.services.create_client(&who, &tenant, body).await?;
    Ok(created(format!("/admin/v1/tenants/{tenant}/clients/{}", client.client.client_id), client))
}

/// Get a client.
#[utoipa::path(get, path = "/tenants/{tenant}/clients/{client_id}", tag = "clients", params(("tenant" = String, Path), ("client_id" = String, Path)), responses((status = 200, body = Client), Problems))]
pub(crate) async fn get_client(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, client_id)): ApiPath<(String, String)>,
) -> Result<Json<Client>, WebError> {
    Ok(Json(state.services.get_client(&who, &tenant, &client_id).await?))
}

/// Change a client's metadata with a JSON merge patch (RFC 7396). Switching to a secret-based
/// `token_endpoint_auth_method` returns a new `client_secret`.
#[utoipa::path(patch, path = "/tenants/{tenant}/clients/{client_id}", tag = "clients", params(("tenant" = String, Path), ("client_id" = String, Path)),
    request_body(content = Object, content_type = "application/merge-patch+json"), responses((status = 200, body = ClientWithSecret), Problems))]
pub(crate) async fn update_client(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, client_id)): ApiPath<(String, String)>,
    ApiJson(patch): ApiJson<serde_json::Value>,
) -> Result<Json<ClientWithSecret>, WebError> {
    Ok(Json(state.services.update_client(&who, &tenant, &client_id, patch).await?))
}

/// Delete a client.
#[utoipa::path(delete, path = "/tenants/{tenant}/clients/{client_id}", tag = "clients", params(("tenant" = String, Path), ("client_id" = String, Path)), responses((status = 204), Problems))]
pub(crate) async fn delete_client(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, client_id)): ApiPath<(String, String)>,
) -> Result<StatusCode, WebError> {
    state.services.delete_client(&who, &tenant, &client_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replace the client's secret; the old one stops working at once. The new one is in this
/// answer only.
#[utoipa::path(post, path = "/tenants/{tenant}/clients/{client_id}/secret", tag = "clients", params(("tenant" = String, Path), ("client_id" = String, Path)), responses((status = 200, body = ClientWithSecret), Problems))]
pub(crate) async fn rotate_secret(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, client_id)): ApiPath<(String, String)>,
) -> Result<Json<ClientWithSecret>, WebError> {
    Ok(Json(state.services.rotate_client_secret(&who, &tenant, &client_id).await?))
}
