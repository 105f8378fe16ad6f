use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use portcullis_core::model::page::Page;
use portcullis_core::model::token::{CreatedToken, NewToken, Token};
use portcullis_types::TokenId;

use super::{PageParams, Problems, created};
use crate::AppState;
use crate::error::WebError;
use crate::extract::{Admin, ApiJson, ApiPath, ApiQuery};

/// List admin tokens (never their secrets).
#[utoipa::path(get, path = "/tokens", tag = "tokens", params(PageParams), responses((status = 200, body = Page<Token>), Problems))]
pub(crate) async fn list_tokens(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Json<Page<Token>>, WebError> {
    Ok(Json(state.services.list_tokens(&who, p.cursor.as_deref(), p.limit).await?))
}

/// Create an admin token: global or one tenant's, read or write. The secret is in this answer only.
#[utoipa::path(post, path = "/tokens", tag = "tokens", request_body = NewToken, responses((status = 201, body = CreatedToken), Problems))]
pub(crate) async fn create_token(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiJson(body): ApiJson<NewToken>,
) -> Result<Response, WebError> {
    let token = state.services.create_token(&who, body).await?;
    Ok(created(format!("/admin/v1/tokens/{}", token.token.id), token))
}

/// Revoke an admin token at once.
#[utoipa::path(delete, path = "/tokens/{id}", tag = "tokens", params(("id" = TokenId, Path)), responses((status = 204), Problems))]
pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath(id): ApiPath<TokenId>,
) -> Result<StatusCode, WebError> {
    state.services.revoke_token(&who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
