//! The signed-in user's second factors (`{issuer}/account/security`): list them, add an
//! authenticator app, a passkey or a mobile number through a settings flow
//! (`{issuer}/account/totp`, `…/passkey`, `…/sms`), remove one, renew the recovery codes.
//! Removing and renewing need a recent sign-in.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use portcullis_core::model::auth_policy::{FirstFactor, SecondFactorKind};
use portcullis_core::model::session::{FlowRecord, FlowStep, SessionRecord};
use portcullis_core::service::LoginRefusal;

use super::authorize::signed_in;
use super::login::{FlowQuery, recovery_codes_page};
use super::{Browser, error_page, flow_gone, form, see_other};
use crate::AppState;
use crate::extract::{ApiPath, Context};
use crate::pages;

/// The CSRF purpose of the security page's forms.
const PURPOSE: &str = "account-security";

fn sign_in_first(tenant: &str) -> Response {
    pages::error(StatusCode::UNAUTHORIZED, tenant, "security.title", "account.sign_in_first", None)
}

async fn session_of(state: &AppState, tenant: &str, headers: &HeaderMap) -> Result<SessionRecord, Response> {
    signed_in(state, tenant, headers, "security.title").await
}

async fn overview(
    state: &AppState,
    tenant: &str,
    browser: &Browser,
    session: &SessionRecord,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let credentials = match state.services.own_credentials(tenant, session).await {
        Ok(credentials) => credentials,
        Err(error) => return error_page(tenant, &error.into()),
    };
    let policy = match state.services.login_policy(tenant).await {
        Ok(policy) => policy,
        Err(error) => return error_page(tenant, &error.into()),
    };
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let passkeys = policy.allows_first(FirstFactor::Passkey) || policy.allows_second(SecondFactorKind::Passkey);
    let context = minijinja::context! {
        tenant,
        action => format!("/t/{tenant}/account/security"),
        csrf => browser.csrf(PURPOSE),
        credentials,
        totp => policy.allows_second(SecondFactorKind::Totp),
        passkeys => state.services.passkeys_enabled() && passkeys,
        sms => state.services.sms_enabled() && policy.allows_second(SecondFactorKind::Sms),
        notice,
        error,
    };
    browser.attach(pages::render(status, "account_security.html", context))
}

pub(super) async fn page(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    headers: HeaderMap,
) -> Response {
    let browser = Browser::of(&state, &headers);
    match session_of(&state, &tenant, &headers).await {
        Ok(session) => overview(&state, &tenant, &browser, &session, None, None).await,
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
    let session = match session_of(&state, &tenant, &headers).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let Some(params) = form(&headers, &body) else { return sign_in_first(&tenant) };
    let field = |name: &str| params.single(name).ok().flatten().unwrap_or_default().to_owned();
    if !browser.csrf_ok(PURPOSE, params.single("csrf_token").ok().flatten()) {
        return pages::error(StatusCode::FORBIDDEN, &tenant, "error.form_expired", "error.reload", Some("csrf"));
    }
    let services = &state.services;
    let message_for = |error: &portcullis_core::Error| match error {
        portcullis_core::Error::Forbidden(_) => Some(pages::i18n::text("security.sign_in_again")),
        portcullis_core::Error::NotFound(_) | portcullis_core::Error::Validation(_) => {
            Some(pages::i18n::text("error.reload"))
        }
        _ => None,
    };
    match field("action").as_str() {
        "add_totp" | "add_passkey" | "add_sms" => {
            let flow = match services
                .start_settings(&tenant, &browser.secret, session.user_id, Some(session.id.clone()), None)
                .await
            {
                Ok(flow) => flow,
                Err(error) => return error_page(&tenant, &error.into()),
            };
            match field("action").as_str() {
                "add_totp" => see_other(&format!("/t/{tenant}/account/totp?flow={}", flow.id)),
                "add_passkey" if flow.state.webauthn_options.is_some() => {
                    see_other(&format!("/t/{tenant}/account/passkey?flow={}", flow.id))
                }
                "add_passkey" => error_page(&tenant, &portcullis_core::Error::NotFound("passkeys").into()),
                _ => match services.send_sms_enrolment(&tenant, &flow, &field("number"), &context).await {
                    Ok(Ok(flow)) => see_other(&format!("/t/{tenant}/account/sms?flow={}", flow.id)),
                    Ok(Err(_)) => pages::error(
                        StatusCode::TOO_MANY_REQUESTS,
                        &tenant,
                        "error.too_many",
                        "error.wait",
                        Some("throttled"),
                    ),
                    Err(portcullis_core::Error::Validation(errors)) => {
                        let message = errors.first().map(|e| e.reason.clone());
                        overview(&state, &tenant, &browser, &session, None, message).await
                    }
                    Err(error) => error_page(&tenant, &error.into()),
                },
            }
        }
        "remove" => match services.remove_own_credential(&tenant, &session, &field("credential"), &context).await {
            Ok(()) => {
                let notice = Some(pages::i18n::text("security.removed"));
                overview(&state, &tenant, &browser, &session, notice, None).await
            }
            Err(error) => match message_for(&error) {
                Some(message) => overview(&state, &tenant, &browser, &session, None, Some(message)).await,
                None => error_page(&tenant, &error.into()),
            },
        },
        "recovery_codes" => match services.renew_own_recovery_codes(&tenant, &session, &context).await {
            Ok(codes) => recovery_codes_page(&tenant, &codes, &format!("/t/{tenant}/account/security")),
            Err(error) => match message_for(&error) {
                Some(message) => overview(&state, &tenant, &browser, &session, None, Some(message)).await,
                None => error_page(&tenant, &error.into()),
            },
        },
        _ => overview(&state, &tenant, &browser, &session, None, Some(pages::i18n::text("error.reload"))).await,
    }
}

fn enrol_form(tenant: &str, browser: &Browser, flow: &str, qr: &str, secret: &str, error: Option<String>) -> Response {
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let context = minijinja::context! {
        tenant,
        action => format!("/t/{tenant}/account/totp"),
        flow,
        csrf => browser.csrf(flow),
        qr => pages::inline_svg(qr),
        secret,
        error,
    };
    pages::render(status, "login_enrol.html", context)
}

/// A settings flow of this browser and of the signed-in user.
async fn settings_flow(
    state: &AppState,
    tenant: &str,
    browser: &Browser,
    session: &SessionRecord,
    id: &str,
) -> Result<FlowRecord, Response> {
    match state.services.login_flow(tenant, id, &browser.secret).await {
        Ok(flow) if flow.step() == FlowStep::Settings && flow.user_id == Some(session.user_id) => Ok(flow),
        Ok(_) | Err(portcullis_core::Error::NotFound(_)) => Err(flow_gone(tenant)),
        Err(error) => Err(error_page(tenant, &error.into())),
    }
}

pub(super) async fn totp_page(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    headers: HeaderMap,
    Query(query): Query<FlowQuery>,
) -> Response {
    let (browser, flow) = match shown(&state, &tenant, &headers, &query.flow).await {
        Ok(shown) => shown,
        Err(response) => return response,
    };
    match state.services.totp_enrolment(&tenant, &flow).await {
        Ok(e) => enrol_form(&tenant, &browser, &flow.id, &e.qr_svg, &e.secret, None),
        Err(error) => error_page(&tenant, &error.into()),
    }
}

/// A settings flow of this browser and the signed-in user, for its page: the browser and the
/// flow; or the page to answer instead.
async fn shown(
    state: &AppState,
    tenant: &str,
    headers: &HeaderMap,
    flow_id: &str,
) -> Result<(Browser, FlowRecord), Response> {
    let browser = Browser::of(state, headers);
    let session = session_of(state, tenant, headers).await?;
    let flow = settings_flow(state, tenant, &browser, &session, flow_id).await?;
    Ok((browser, flow))
}

/// A form posted to a settings flow of the signed-in user, its CSRF token checked: the browser,
/// the session, the form and the flow; or the page to answer instead.
async fn posted(
    state: &AppState,
    tenant: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Browser, SessionRecord, portcullis_oidc::Params, FlowRecord), Response> {
    let browser = Browser::of(state, headers);
    let session = session_of(state, tenant, headers).await?;
    let Some(params) = form(headers, body) else { return Err(flow_gone(tenant)) };
    let flow_id = params.single("flow").ok().flatten().unwrap_or_default().to_owned();
    let flow = settings_flow(state, tenant, &browser, &session, &flow_id).await?;
    if !browser.csrf_ok(&flow.id, params.single("csrf_token").ok().flatten()) {
        return Err(pages::error(StatusCode::FORBIDDEN, tenant, "error.form_expired", "error.reload", Some("csrf")));
    }
    Ok((browser, session, params, flow))
}

pub(super) async fn totp_submit(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    Context(context): Context,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (browser, session, params, flow) = match posted(&state, &tenant, &headers, &body).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let field = |name: &str| params.single(name).ok().flatten().unwrap_or_default().to_owned();
    let services = &state.services;
    match services.confirm_totp(&tenant, &flow, &field("code"), &field("name"), &context).await {
        Ok(Ok(progress)) if !progress.recovery_codes.is_empty() => {
            recovery_codes_page(&tenant, &progress.recovery_codes, &format!("/t/{tenant}/account/security"))
        }
        Ok(Ok(_)) => {
            let notice = Some(pages::i18n::text("security.enrolled"));
            overview(&state, &tenant, &browser, &session, notice, None).await
        }
        Ok(Err(LoginRefusal::InvalidCode)) => match services.totp_enrolment(&tenant, &flow).await {
            Ok(e) => {
                let message = Some(pages::i18n::text("login.wrong_code"));
                enrol_form(&tenant, &browser, &flow.id, &e.qr_svg, &e.secret, message)
            }
            Err(error) => error_page(&tenant, &error.into()),
        },
        Ok(Err(_)) => {
            pages::error(StatusCode::TOO_MANY_REQUESTS, &tenant, "error.too_many", "error.wait", Some("throttled"))
        }
        Err(portcullis_core::Error::NotFound(_)) => flow_gone(&tenant),
        Err(error) => error_page(&tenant, &error.into()),
    }
}

fn passkey_form(tenant: &str, browser: &Browser, flow: &FlowRecord, error: Option<String>) -> Response {
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let context = minijinja::context! {
        tenant,
        action => format!("/t/{tenant}/account/passkey"),
        flow => flow.id,
        csrf => browser.csrf(&flow.id),
        passkey_options => flow.state.webauthn_options.as_ref().map(ToString::to_string),
        error,
    };
    pages::with_passkey_script(pages::render(status, "account_passkey.html", context))
}

pub(super) async fn passkey_page(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    headers: HeaderMap,
    Query(query): Query<FlowQuery>,
) -> Response {
    match shown(&state, &tenant, &headers, &query.flow).await {
        Ok((browser, flow)) if flow.state.webauthn_options.is_some() => passkey_form(&tenant, &browser, &flow, None),
        Ok(_) => flow_gone(&tenant),
        Err(response) => response,
    }
}

pub(super) async fn passkey_submit(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    Context(context): Context,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (browser, session, params, flow) = match posted(&state, &tenant, &headers, &body).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let field = |name: &str| params.single(name).ok().flatten().unwrap_or_default().to_owned();
    match state.services.confirm_passkey(&tenant, &flow, &field("credential"), &field("name"), &context).await {
        Ok(Ok(progress)) if !progress.recovery_codes.is_empty() => {
            recovery_codes_page(&tenant, &progress.recovery_codes, &format!("/t/{tenant}/account/security"))
        }
        Ok(Ok(_)) => {
            let notice = Some(pages::i18n::text("security.passkey_added"));
            overview(&state, &tenant, &browser, &session, notice, None).await
        }
        // The ceremony's challenge is spent: the next try starts a new one.
        Ok(Err(LoginRefusal::InvalidPasskey)) => {
            let error = Some(pages::i18n::text("login.passkey_failed"));
            overview(&state, &tenant, &browser, &session, None, error).await
        }
        Ok(Err(_)) => pages::error(StatusCode::TOO_MANY_REQUESTS, &tenant, "error.too_many", "error.start_again", None),
        Err(portcullis_core::Error::NotFound(_)) => flow_gone(&tenant),
        Err(error) => error_page(&tenant, &error.into()),
    }
}

fn sms_form(tenant: &str, browser: &Browser, flow: &str, error: Option<String>) -> Response {
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let context = minijinja::context! {
        tenant,
        action => format!("/t/{tenant}/account/sms"),
        flow,
        csrf => browser.csrf(flow),
        error,
    };
    pages::render(status, "account_sms.html", context)
}

/// `GET {issuer}/account/sms?flow=`: the code texted to the number being added.
pub(super) async fn sms_page(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    headers: HeaderMap,
    Query(query): Query<FlowQuery>,
) -> Response {
    match shown(&state, &tenant, &headers, &query.flow).await {
        Ok((browser, flow)) if flow.state.sms_code.is_some() => sms_form(&tenant, &browser, &flow.id, None),
        Ok(_) => flow_gone(&tenant),
        Err(response) => response,
    }
}

pub(super) async fn sms_submit(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    Context(context): Context,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (browser, session, params, flow) = match posted(&state, &tenant, &headers, &body).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let code = params.single("code").ok().flatten().unwrap_or_default().to_owned();
    match state.services.confirm_sms(&tenant, &flow, &code, &context).await {
        Ok(Ok(progress)) if !progress.recovery_codes.is_empty() => {
            recovery_codes_page(&tenant, &progress.recovery_codes, &format!("/t/{tenant}/account/security"))
        }
        Ok(Ok(_)) => {
            let notice = Some(pages::i18n::text("security.sms_added"));
            overview(&state, &tenant, &browser, &session, notice, None).await
        }
        Ok(Err(LoginRefusal::InvalidCode)) => {
            sms_form(&tenant, &browser, &flow.id, Some(pages::i18n::text("login.wrong_code")))
        }
        Ok(Err(_)) => pages::error(StatusCode::TOO_MANY_REQUESTS, &tenant, "error.too_many", "error.start_again", None),
        Err(portcullis_core::Error::NotFound(_)) => flow_gone(&tenant),
        Err(error) => error_page(&tenant, &error.into()),
    }
}
