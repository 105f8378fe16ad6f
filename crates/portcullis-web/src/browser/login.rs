//! The hosted login page: the authentication step of a login flow (DESIGN §2). Further
//! authentication methods plug in as further steps of the same flow; consent is the next.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use portcullis_core::model::client::ClientRecord;
use portcullis_core::model::session::{FlowRecord, FlowStep, SessionRecord};
use portcullis_core::service::{LoginRefusal, SESSION_LIFETIME};
use portcullis_oidc::OAuthError;
use portcullis_oidc::authorize;
use serde::Deserialize;

use super::{Browser, authorize_error, error_page, flow_gone, form, respond, see_other};
use crate::AppState;
use crate::extract::{ApiPath, Context};
use crate::pages;

#[derive(Debug, Deserialize)]
pub(super) struct FlowQuery {
    pub(super) flow: String,
}

/// The flow a form posts to (`flow`), with its client, once its CSRF token is checked.
pub(super) async fn posted(
    state: &AppState,
    tenant: &str,
    browser: &Browser,
    params: &portcullis_oidc::Params,
    step: FlowStep,
) -> Result<(FlowRecord, ClientRecord), Response> {
    let flow_id = params.single("flow").ok().flatten().unwrap_or_default();
    let (flow, client) = load(state, tenant, browser, flow_id, step).await?;
    if !browser.csrf_ok(&flow.id, params.single("csrf_token").ok().flatten()) {
        return Err(pages::error(StatusCode::FORBIDDEN, tenant, "error.form_expired", "error.reload", Some("csrf")));
    }
    Ok((flow, client))
}

/// A flow of this browser at `step`, with its client; or the response to send instead.
pub(super) async fn load(
    state: &AppState,
    tenant: &str,
    browser: &Browser,
    flow_id: &str,
    step: FlowStep,
) -> Result<(FlowRecord, ClientRecord), Response> {
    let flow = match state.services.login_flow(tenant, flow_id, &browser.secret).await {
        Ok(flow) if flow.step() == step => {
            pages::i18n::prefer(flow.request.ui_locales.as_deref());
            flow
        }
        Ok(_) | Err(portcullis_core::Error::NotFound(_)) => return Err(flow_gone(tenant)),
        Err(error) => return Err(error_page(tenant, &error.into())),
    };
    match state.services.client(tenant, &flow.request.client_id).await {
        Ok(Some(client)) => Ok((flow, client)),
        Ok(None) => Err(error_page(tenant, &OAuthError::invalid_request("the client no longer exists"))),
        Err(error) => Err(error_page(tenant, &error.into())),
    }
}

fn login_form(
    tenant: &str,
    browser: &Browser,
    flow: &FlowRecord,
    client: &ClientRecord,
    username: &str,
    error: Option<&str>,
) -> Response {
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let context = minijinja::context! {
        tenant,
        client_name => client.metadata.client_name,
        action => format!("/t/{tenant}/login"),
        flow => flow.id,
        csrf => browser.csrf(&flow.id),
        username,
        error => error.map(pages::i18n::text),
    };
    pages::render(status, "login.html", context)
}

pub(super) async fn page(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    headers: HeaderMap,
    Query(query): Query<FlowQuery>,
) -> Response {
    let browser = Browser::of(&state, &headers);
    match load(&state, &tenant, &browser, &query.flow, FlowStep::Authenticate).await {
        Ok((flow, client)) => {
            let hint = flow.request.login_hint.clone().unwrap_or_default();
            login_form(&tenant, &browser, &flow, &client, &hint, None)
        }
        Err(response) => response,
    }
}

pub(super) async fn submit(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    Context(context): Context,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let browser = Browser::of(&state, &headers);
    let Some(params) = form(&headers, &body) else { return flow_gone(&tenant) };
    let field = |name: &str| params.single(name).ok().flatten().unwrap_or_default().to_owned();
    let (flow, client) = match posted(&state, &tenant, &browser, &params, FlowStep::Authenticate).await {
        Ok(loaded) => loaded,
        Err(response) => return response,
    };
    let username = field("username");
    let password = field("password");
    if username.is_empty() || password.is_empty() {
        return login_form(&tenant, &browser, &flow, &client, &username, Some("login.missing"));
    }
    let outcome = state.services.login_with_password(&tenant, &flow, &username, password, &context).await;
    let (flow, new_session) = match outcome {
        Ok(Ok(done)) => done,
        Ok(Err(LoginRefusal::InvalidCredentials)) => {
            return login_form(&tenant, &browser, &flow, &client, &username, Some("login.wrong"));
        }
        Ok(Err(LoginRefusal::Throttled { retry_after })) => {
            let mut page =
                pages::error(StatusCode::TOO_MANY_REQUESTS, &tenant, "error.too_many", "error.wait", Some("throttled"));
            if let Ok(value) = header::HeaderValue::from_str(&retry_after.to_string()) {
                page.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return page;
        }
        Ok(Err(LoginRefusal::FlowEnded)) => {
            return pages::error(
                StatusCode::TOO_MANY_REQUESTS,
                &tenant,
                "error.too_many",
                "error.start_again",
                Some("too_many_attempts"),
            );
        }
        Err(portcullis_core::Error::Busy) => {
            return pages::error(StatusCode::SERVICE_UNAVAILABLE, &tenant, "error.try_again", "error.busy", None);
        }
        Err(error) => return error_page(&tenant, &error.into()),
    };
    let cookie = state.cookies.set(
        &state.cookies.session(&tenant),
        &new_session.cookie_secret,
        SESSION_LIFETIME.whole_seconds(),
    );
    let mut response = proceed(&state, &tenant, &flow, &client, &new_session.session).await;
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}

/// After authentication: to the consent page, or straight back to the client.
async fn proceed(
    state: &AppState,
    tenant: &str,
    flow: &FlowRecord,
    client: &ClientRecord,
    session: &SessionRecord,
) -> Response {
    let request = &flow.request;
    // A device flow always ends on the consent page: the user confirms what they connect
    // (RFC 8628 §5.4, remote phishing).
    if request.device.is_some() {
        return see_other(&format!("/t/{tenant}/consent?flow={}", flow.id));
    }
    let asked = request.prompt.iter().any(|p| p == "consent");
    let covered = state.services.consent_covers(tenant, session.user_id, &client.client_id, &request.scope).await;
    let needs_consent = match covered {
        Ok(covered) => !client.metadata.first_party && (asked || !covered),
        Err(error) => return error_page(tenant, &error.into()),
    };
    if needs_consent {
        return see_other(&format!("/t/{tenant}/consent?flow={}", flow.id));
    }
    let issuer = state.issuer(tenant);
    match authorize::complete(&state.services, tenant, &issuer, client, request, Some(flow), session, false).await {
        Ok(response) => respond(&response),
        Err(error) => authorize_error(tenant, error),
    }
}
