use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use portcullis_core::model::schema::{AttributeDefinition, UserSchema};
use portcullis_types::AttributeName;

use super::Problems;
use crate::AppState;
use crate::error::WebError;
use crate::extract::{Admin, ApiJson, ApiPath};

/// The tenant's user schema.
#[utoipa::path(get, path = "/tenants/{tenant}/schema", tag = "schema", params(("tenant" = String, Path)), responses((status = 200, body = UserSchema), Problems))]
pub(crate) async fn get_schema(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<UserSchema>, WebError> {
    Ok(Json(state.services.get_schema(&who, &tenant).await?))
}

/// Create or replace one custom attribute (`unique` and `sensitive` are fixed once created).
#[utoipa::path(put, path = "/tenants/{tenant}/schema/attributes/{name}", tag = "schema", params(("tenant" = String, Path), ("name" = AttributeName, Path)), request_body = AttributeDefinition, responses((status = 200, body = AttributeDefinition), Problems))]
pub(crate) async fn put_attribute(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, name)): ApiPath<(String, AttributeName)>,
    ApiJson(body): ApiJson<AttributeDefinition>,
) -> Result<Json<AttributeDefinition>, WebError> {
    if body.name != name {
        return Err(WebError::invalid("name", "must equal the name in the path"));
    }
    Ok(Json(state.services.put_schema_attribute(&who, &tenant, body).await?))
}

/// Delete an attribute and every user's value of it.
#[utoipa::path(delete, path = "/tenants/{tenant}/schema/attributes/{name}", tag = "schema", params(("tenant" = String, Path), ("name" = AttributeName, Path)), responses((status = 204), Problems))]
pub(crate) async fn delete_attribute(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, name)): ApiPath<(String, AttributeName)>,
) -> Result<StatusCode, WebError> {
    state.services.delete_schema_attribute(&who, &tenant, name.as_str()).await?;
    Ok(StatusCode::NO_CONTENT)
}
