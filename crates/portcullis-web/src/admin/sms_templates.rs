//! A tenant's own text for the codes it sends by text message (issue 4 item 6), per language.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use portcullis_core::service::sms::{SmsTemplate, SmsTemplateView};

use super::Problems;
use crate::AppState;
use crate::error::WebError;
use crate::extract::{Admin, ApiJson, ApiPath};

/// The text of code messages in `en` or `de`: the tenant's, or the built-in one (`custom: false`).
#[utoipa::path(get, path = "/tenants/{tenant}/sms-templates/{language}", tag = "tenants", params(("tenant" = String, Path), ("language" = String, Path)), responses((status = 200, body = SmsTemplateView), Problems))]
pub(crate) async fn get_sms_template(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, language)): ApiPath<(String, String)>,
) -> Result<Json<SmsTemplateView>, WebError> {
    Ok(Json(state.services.get_sms_template(&who, &tenant, &language).await?))
}

/// Set the tenant's text (at most 306 characters); `{code}`, `{tenant}` and `{minutes}` are
/// filled in when it is sent, and an origin-bound line (`@host #code`) is added when the
/// public URL names a domain.
#[utoipa::path(put, path = "/tenants/{tenant}/sms-templates/{language}", tag = "tenants", params(("tenant" = String, Path), ("language" = String, Path)), request_body = SmsTemplate, responses((status = 204), Problems))]
pub(crate) async fn put_sms_template(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, language)): ApiPath<(String, String)>,
    ApiJson(template): ApiJson<SmsTemplate>,
) -> Result<StatusCode, WebError> {
    state.services.set_sms_template(&who, &tenant, &language, Some(template)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Go back to the built-in text.
#[utoipa::path(delete, path = "/tenants/{tenant}/sms-templates/{language}", tag = "tenants", params(("tenant" = String, Path), ("language" = String, Path)), responses((status = 204), Problems))]
pub(crate) async fn delete_sms_template(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath((tenant, language)): ApiPath<(String, String)>,
) -> Result<StatusCode, WebError> {
    state.services.set_sms_template(&who, &tenant, &language, None).await?;
    Ok(StatusCode::NO_CONTENT)
}
