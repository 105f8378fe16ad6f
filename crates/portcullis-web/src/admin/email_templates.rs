//! A tenant's own texts for the mail it sends (issue 4 item 5), per purpose and language.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use portcullis_core::service::mail::{EmailTemplate, EmailTemplateView};

use super::Problems;
use crate::AppState;
use crate::error::WebError;
use crate::extract::{Admin, ApiJson, ApiPath};

/// The text of `login_code`, `password_reset` or `email_verification` mail in `en` or `de`: the tenant's, or the
/// built-in one (`custom: false`).
#[utoipa::path(get, path = "/tenants/{tenant}/email-templates/{purpose}/{language}", tag = "tenants", params(("tenant" = String, Path), ("purpose" = String, Path), ("language" = String, Path)), responses((status = 200, body = EmailTemplateView), Problems))]
pub(crate) async fn get_template(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, purpose, language)): ApiPath<(String, String, String)>,
) -> Result<Json<EmailTemplateView>, WebError> {
    Ok(Json(state.services.get_email_template(&who, &tenant, &purpose, &language).await?))
}

/// Set the tenant's text; `{code}`, `{link}` and `{tenant}` are filled in when it is sent.
#[utoipa::path(put, path = "/tenants/{tenant}/email-templates/{purpose}/{language}", tag = "tenants", params(("tenant" = String, Path), ("purpose" = String, Path), ("language" = String, Path)), request_body = EmailTemplate, responses((status = 204), Problems))]
pub(crate) async fn put_template(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, purpose, language)): ApiPath<(String, String, String)>,
    ApiJson(template): ApiJson<EmailTemplate>,
) -> Result<StatusCode, WebError> {
    state.services.set_email_template(&who, &tenant, &purpose, &language, Some(template)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Go back to the built-in text.
#[utoipa::path(delete, path = "/tenants/{tenant}/email-templates/{purpose}/{language}", tag = "tenants", params(("tenant" = String, Path), ("purpose" = String, Path), ("language" = String, Path)), responses((status = 204), Problems))]
pub(crate) async fn delete_template(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, purpose, language)): ApiPath<(String, String, String)>,
) -> Result<StatusCode, WebError> {
    state.services.set_email_template(&who, &tenant, &purpose, &language, None).await?;
    Ok(StatusCode::NO_CONTENT)
}
