//! `{issuer}/device`: where a user enters the code a device shows (RFC 8628 §3.3), then logs
//! in and confirms on the consent page. Approving or denying happens in `login`.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use portcullis_crypto::secret::digests_equal;
use serde::Deserialize;

use super::authorize::current_session;
use super::{Browser, error_page, form, see_other};
use crate::AppState;
use crate::extract::{ApiPath, Context};
use crate::pages;

#[derive(Debug, Deserialize)]
pub(super) struct CodeQuery {
    #[serde(default)]
    user_code: Option<String>,
}

fn code_form(tenant: &str, browser: &Browser, user_code: &str, error: Option<&str>) -> Response {
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let context = minijinja::context! {
        tenant,
        action => format!("/t/{tenant}/device"),
        csrf => browser.csrf("device"),
        user_code,
        error => error.map(pages::i18n::text),
    };
    browser.attach(pages::render(status, "device.html", context))
}

/// The outcome page after the consent step of a device flow.
pub(super) fn outcome(tenant: &str, approved: bool) -> Response {
    let outcome = if approved { "approved" } else { "denied" };
    pages::render(StatusCode::OK, "device.html", minijinja::context! { tenant, outcome })
}

pub(super) async fn page(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    headers: HeaderMap,
    Query(query): Query<CodeQuery>,
) -> Response {
    if let Err(error) = state.services.tenant_exists(&tenant).await {
        return error_page(&tenant, &error.into());
    }
    let browser = Browser::of(&state, &headers);
    code_form(&tenant, &browser, query.user_code.as_deref().unwrap_or_default(), None)
}

pub(super) async fn submit(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    Context(context): Context,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let browser = Browser::of(&state, &headers);
    let Some(params) = form(&headers, &body) else { return code_form(&tenant, &browser, "", Some("device.missing")) };
    let typed = params.single("user_code").ok().flatten().unwrap_or_default().to_owned();
    let csrf = params.single("csrf_token").ok().flatten().unwrap_or_default();
    if !digests_equal(csrf.as_bytes(), browser.csrf("device").as_bytes()) {
        return code_form(&tenant, &browser, &typed, Some("device.form_expired"));
    }
    let device = match state.services.device_by_user_code(&tenant, &typed, context.ip.as_deref()).await {
        Ok(Ok(Some(device))) => device,
        Ok(Ok(None)) => return code_form(&tenant, &browser, &typed, Some("device.invalid")),
        Ok(Err(retry_after)) => {
            let mut page =
                pages::error(StatusCode::TOO_MANY_REQUESTS, &tenant, "error.too_many", "error.wait", Some("throttled"));
            if let Ok(value) = axum::http::HeaderValue::from_str(&retry_after.to_string()) {
                page.headers_mut().insert(axum::http::header::RETRY_AFTER, value);
            }
            return page;
        }
        Err(error) => return error_page(&tenant, &error.into()),
    };
    let session = match current_session(&state, &tenant, &headers).await {
        Ok(session) => session,
        Err(error) => return error_page(&tenant, &error),
    };
    let mut request = device.request.clone();
    request.device = Some(hex::encode(&device.device_digest));
    let client = match state.services.client(&tenant, &device.client_id).await {
        Ok(Some(client)) => client,
        Ok(None) => {
            return error_page(&tenant, &portcullis_oidc::OAuthError::invalid_request("the client no longer exists"));
        }
        Err(error) => return error_page(&tenant, &error.into()),
    };
    let step_up = match &session {
        Some(session) => match state.services.session_suffices(&tenant, &client, &request, session).await {
            Ok(suffices) => !suffices,
            Err(error) => return error_page(&tenant, &error.into()),
        },
        None => false,
    };
    match state.services.start_login_flow(&tenant, &browser.secret, &client, request, session.as_ref(), step_up).await {
        Ok(flow) => {
            let step = if session.is_some() && !step_up { "consent" } else { "login" };
            browser.attach(see_other(&format!("/t/{tenant}/{step}?flow={}", flow.id)))
        }
        Err(error) => error_page(&tenant, &error.into()),
    }
}
