//! The hosted login page: the authentication step of a login flow (DESIGN §2). Further
//! authentication methods plug in as further steps of the same flow; consent is the next.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use portcullis_core::model::auth_policy::{FirstFactor, SecondFactorKind};
use portcullis_core::model::client::ClientRecord;
use portcullis_core::model::session::{FlowRecord, FlowStep, SessionRecord};
use portcullis_core::service::mail::CodePurpose;
use portcullis_core::service::signup::SignUp;
use portcullis_core::service::{CodeAtOnce, FlowProgress, LoginRefusal, SESSION_LIFETIME, SecondFactor};
use portcullis_oidc::OAuthError;
use portcullis_oidc::authorize;
use serde::Deserialize;

use super::{Browser, authorize_error, error_page, flow_gone, form, respond, see_other};
use crate::AppState;
use crate::extract::{ApiPath, Context};
use crate::pages;

/// How long the device cookie lives: as long as the longest a tenant may remember a browser
/// (each tenant's own limit is kept on the server).
const DEVICE_COOKIE_AGE: i64 = 90 * 24 * 3600;

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

/// A step of the flow as a page: the form of its current step, with `error` shown.
async fn step_page(
    state: &AppState,
    tenant: &str,
    browser: &Browser,
    flow: &FlowRecord,
    client: &ClientRecord,
    username: &str,
    error: Option<String>,
) -> Response {
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let common = minijinja::context! {
        tenant,
        client_name => client.metadata.client_name,
        action => format!("/t/{tenant}/login"),
        flow => flow.id,
        csrf => browser.csrf(&flow.id),
        error,
    };
    let services = &state.services;
    let policy = match flow.step() {
        FlowStep::Authenticate | FlowStep::SecondFactor | FlowStep::SmsCode | FlowStep::EnrolMfa => {
            match services.login_policy(tenant).await {
                Ok(policy) => Some(policy),
                Err(error) => return error_page(tenant, &error.into()),
            }
        }
        _ => None,
    };
    let first = |method| policy.as_ref().is_some_and(|p| p.allows_first_for(method, client));
    // "Remember this device" is offered with a second factor, never with a first.
    let remember_days = policy.as_ref().map(|p| p.remember_device_days).filter(|_| flow.state.pending_user.is_some());
    match flow.step() {
        FlowStep::Authenticate => {
            let passkey_options = match services.passkey_request(tenant, flow).await {
                Ok(options) => options.map(|o| o.to_string()),
                Err(error) => return error_page(tenant, &error.into()),
            };
            let scripted = passkey_options.is_some();
            let password = first(FirstFactor::Password);
            let mail = services.mail_enabled() && first(FirstFactor::EmailCode);
            let reset = services.mail_enabled() && password;
            let sms = services.sms_enabled() && first(FirstFactor::Sms);
            let certificate_url = state
                .certificate_url
                .as_ref()
                .filter(|_| first(FirstFactor::Certificate))
                .map(|url| format!("{url}/t/{tenant}/login/certificate?flow={}", flow.id));
            let signup = policy
                .as_ref()
                .is_some_and(|p| p.self_registration)
                .then(|| format!("/t/{tenant}/login/register?flow={}", flow.id));
            let context = minijinja::context! { username, passkey_options, password, mail, reset, sms, certificate_url, signup, ..common };
            let page = pages::render(status, "login.html", context);
            if scripted { pages::with_passkey_script(page) } else { page }
        }
        FlowStep::SecondFactor => {
            let methods = match services.second_factor_methods(tenant, flow).await {
                Ok(methods) => methods,
                Err(error) => return error_page(tenant, &error.into()),
            };
            let passkey_options = match methods.contains(&"passkey") {
                true => match services.passkey_request(tenant, flow).await {
                    Ok(options) => options.map(|o| o.to_string()),
                    Err(error) => return error_page(tenant, &error.into()),
                },
                false => None,
            };
            let scripted = passkey_options.is_some();
            let context = minijinja::context! { remember_days, methods, passkey_options, ..common };
            let page = pages::render(status, "login_code.html", context);
            if scripted { pages::with_passkey_script(page) } else { page }
        }
        FlowStep::SmsCode => {
            let remember_days = remember_days.filter(|_| !flow.state.amr.is_empty());
            pages::render(status, "login_sms_code.html", minijinja::context! { remember_days, ..common })
        }
        FlowStep::EnrolMfa => {
            // Each factor the policy lets the user enrol here: an authenticator app, a passkey,
            // a mobile number (then the code texted to it).
            let (qr, secret) = match flow.state.totp_secret.is_some() {
                true => match services.totp_enrolment(tenant, flow).await {
                    Ok(enrolment) => (Some(pages::inline_svg(&enrolment.qr_svg)), Some(enrolment.secret)),
                    Err(error) => return error_page(tenant, &error.into()),
                },
                false => (None, None),
            };
            let passkey_options = flow.state.webauthn_options.as_ref().map(ToString::to_string);
            let sms = policy.as_ref().is_some_and(|p| services.enrollable(p).contains(&SecondFactorKind::Sms));
            let sms_sent = flow.state.sms_code.is_some();
            let scripted = passkey_options.is_some();
            // More than an authenticator app to choose from: the page says so.
            let choice = scripted || sms;
            let context = minijinja::context! { qr, secret, passkey_options, sms, sms_sent, choice, ..common };
            let page = pages::render(status, "login_enrol.html", context);
            if scripted { pages::with_passkey_script(page) } else { page }
        }
        FlowStep::ChangePassword => pages::render(status, "login_new_password.html", common),
        FlowStep::EmailCode => {
            let signup = flow.state.email_code.as_ref().is_some_and(|sent| sent.signup);
            pages::render(status, "login_email_code.html", minijinja::context! { signup, ..common })
        }
        FlowStep::Consent | FlowStep::Settings => flow_gone(tenant),
    }
}

pub(super) async fn page(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    headers: HeaderMap,
    Query(query): Query<FlowQuery>,
) -> Response {
    let browser = Browser::of(&state, &headers);
    match load_login(&state, &tenant, &browser, &query.flow).await {
        Ok((flow, client)) => {
            let hint = flow.request.login_hint.clone().unwrap_or_default();
            step_page(&state, &tenant, &browser, &flow, &client, &hint, None).await
        }
        Err(response) => response,
    }
}

/// A login flow of this browser still authenticating, with its client.
async fn load_login(
    state: &AppState,
    tenant: &str,
    browser: &Browser,
    flow_id: &str,
) -> Result<(FlowRecord, ClientRecord), Response> {
    for step in [
        FlowStep::Authenticate,
        FlowStep::SecondFactor,
        FlowStep::EnrolMfa,
        FlowStep::EmailCode,
        FlowStep::SmsCode,
        FlowStep::ChangePassword,
    ] {
        match load(state, tenant, browser, flow_id, step).await {
            Ok(loaded) => return Ok(loaded),
            Err(_) if step != FlowStep::ChangePassword => {}
            Err(response) => return Err(response),
        }
    }
    Err(flow_gone(tenant))
}

/// The page for a refused step.
pub(super) fn refused(tenant: &str, refusal: LoginRefusal) -> Option<Response> {
    match refusal {
        LoginRefusal::Throttled { retry_after } => {
            let mut page =
                pages::error(StatusCode::TOO_MANY_REQUESTS, tenant, "error.too_many", "error.wait", Some("throttled"));
            if let Ok(value) = header::HeaderValue::from_str(&retry_after.to_string()) {
                page.headers_mut().insert(header::RETRY_AFTER, value);
            }
            Some(page)
        }
        LoginRefusal::FlowEnded => Some(pages::error(
            StatusCode::TOO_MANY_REQUESTS,
            tenant,
            "error.too_many",
            "error.start_again",
            Some("too_many_attempts"),
        )),
        LoginRefusal::InvalidCredentials
        | LoginRefusal::InvalidCode
        | LoginRefusal::InvalidPasskey
        | LoginRefusal::InvalidCertificate(_) => None,
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
    let flow_id = field("flow");
    let (flow, client) = match load_login(&state, &tenant, &browser, &flow_id).await {
        Ok(loaded) => loaded,
        Err(response) => return response,
    };
    if !browser.csrf_ok(&flow.id, params.single("csrf_token").ok().flatten()) {
        return pages::error(StatusCode::FORBIDDEN, &tenant, "error.form_expired", "error.reload", Some("csrf"));
    }
    let services = &state.services;
    let username = field("username");
    // A step that completes authentication for a request needing no consent ends in its code.
    let at_once = code_at_once(&flow, &client);
    let outcome = match flow.step() {
        FlowStep::Authenticate if matches!(field("method").as_str(), "email_code" | "recovery") => {
            if username.trim().is_empty() {
                let message = Some(pages::i18n::text("login.missing_identifier"));
                return step_page(&state, &tenant, &browser, &flow, &client, &username, message).await;
            }
            let purpose = if field("method") == "recovery" { CodePurpose::Recovery } else { CodePurpose::Login };
            let link = format!("{}/login/link", state.issuer(&tenant));
            services.send_email_code(&tenant, &flow, &username, purpose, &link, &context).await
        }
        FlowStep::Authenticate if field("method") == "register" => {
            let sign_up = SignUp { email: field("email"), password: field("new_password"), name: Some(field("name")) };
            let link = format!("{}/login/link", state.issuer(&tenant));
            match services.sign_up(&tenant, &flow, sign_up, &link, &context).await {
                Err(portcullis_core::Error::Validation(errors)) => {
                    let message = errors.first().map(|e| e.reason.clone());
                    return register_form(&tenant, &browser, &flow, &client, &field("email"), &field("name"), message);
                }
                Err(portcullis_core::Error::Conflict { .. }) => {
                    let message = Some(pages::i18n::text("login.register_exists"));
                    return register_form(&tenant, &browser, &flow, &client, &field("email"), &field("name"), message);
                }
                other => other,
            }
        }
        FlowStep::EmailCode => {
            services.submit_email_code(&tenant, &flow, Some(&field("code")), None, &context, at_once).await
        }
        FlowStep::Authenticate | FlowStep::SecondFactor if field("method") == "sms" => {
            let identifier = (flow.step() == FlowStep::Authenticate).then_some(username.as_str());
            if identifier.is_some_and(|u| u.trim().is_empty()) {
                let message = Some(pages::i18n::text("login.missing_identifier"));
                return step_page(&state, &tenant, &browser, &flow, &client, &username, message).await;
            }
            services.send_sms_code(&tenant, &flow, identifier, &context).await
        }
        FlowStep::SmsCode => {
            let remember = field("remember") == "on";
            services.submit_sms_code(&tenant, &flow, &field("code"), remember, &context, at_once).await
        }
        FlowStep::Authenticate | FlowStep::SecondFactor if field("method") == "passkey" => {
            services.login_with_passkey(&tenant, &flow, &field("credential"), &context, at_once).await
        }
        FlowStep::Authenticate => {
            let password = field("password");
            if username.is_empty() || password.is_empty() {
                return step_page(
                    &state,
                    &tenant,
                    &browser,
                    &flow,
                    &client,
                    &username,
                    Some(pages::i18n::text("login.missing")),
                )
                .await;
            }
            services.login_with_password(&tenant, &flow, &username, password, &context, at_once).await
        }
        FlowStep::SecondFactor => {
            let factor = match field("method").as_str() {
                "recovery_code" => SecondFactor::RecoveryCode(field("recovery_code")),
                _ => SecondFactor::Totp(field("code")),
            };
            let remember = field("remember") == "on";
            services.submit_second_factor(&tenant, &flow, factor, remember, &context, at_once).await
        }
        FlowStep::EnrolMfa => match field("method").as_str() {
            "passkey" => services.confirm_passkey(&tenant, &flow, &field("credential"), &field("name"), &context).await,
            "add_sms" => services
                .send_sms_enrolment(&tenant, &flow, &field("number"), &context)
                .await
                .map(|sent| sent.map(FlowProgress::next)),
            "code" => services.confirm_sms(&tenant, &flow, &field("code"), &context).await,
            _ => services.confirm_totp(&tenant, &flow, &field("code"), &field("name"), &context).await,
        },
        FlowStep::ChangePassword => {
            services.submit_new_password(&tenant, &flow, field("new_password"), &context).await.map(Ok)
        }
        FlowStep::Consent | FlowStep::Settings => return flow_gone(&tenant),
    };
    let progress = match outcome {
        Ok(Ok(progress)) => progress,
        Ok(Err(refusal)) => {
            if let Some(page) = refused(&tenant, refusal) {
                return page;
            }
            let message = match refusal {
                LoginRefusal::InvalidCredentials => "login.wrong",
                LoginRefusal::InvalidPasskey => "login.passkey_failed",
                _ => "login.wrong_code",
            };
            let message = Some(pages::i18n::text(message));
            // The flow as it is now: a spent passkey challenge is replaced by a new one.
            let flow = services.login_flow(&tenant, &flow.id, &browser.secret).await.unwrap_or(flow);
            return step_page(&state, &tenant, &browser, &flow, &client, &username, message).await;
        }
        Err(portcullis_core::Error::Busy) => {
            return pages::error(StatusCode::SERVICE_UNAVAILABLE, &tenant, "error.try_again", "error.busy", None);
        }
        Err(portcullis_core::Error::NotFound(_)) => return flow_gone(&tenant),
        Err(portcullis_core::Error::Validation(errors)) => {
            let message = errors.first().map(|e| e.reason.clone());
            return step_page(&state, &tenant, &browser, &flow, &client, &username, message).await;
        }
        Err(error) => return error_page(&tenant, &error.into()),
    };
    advance(&state, &tenant, &client, progress).await
}

/// The answer to a step that went through: the flow's next page (after a redirect, so a
/// reload does not post again), the recovery codes just made, or — authenticated — consent or
/// the client; with the session cookie when the session is new.
pub(super) async fn advance(
    state: &AppState,
    tenant: &str,
    client: &ClientRecord,
    progress: portcullis_core::service::FlowProgress,
) -> Response {
    let tenant = tenant.to_owned();
    let state = state.clone();
    for (session, grants) in progress.ended_sessions.clone() {
        super::notify(state.clone(), tenant.clone(), state.issuer(&tenant), session, grants);
    }
    let mut response = match (&progress.session, progress.recovery_codes.is_empty()) {
        (None, true) => see_other(&format!("/t/{tenant}/login?flow={}", progress.flow.id)),
        (Some(session), true) => proceed(&state, &tenant, &progress.flow, client, session, progress.code.clone()).await,
        (_, false) => {
            let next = if progress.session.is_some() {
                format!("/t/{tenant}/login/continue?flow={}", progress.flow.id)
            } else {
                format!("/t/{tenant}/login?flow={}", progress.flow.id)
            };
            recovery_codes_page(&tenant, &progress.recovery_codes, &next)
        }
    };
    if let Some(secret) = &progress.device_secret {
        let cookie = state.cookies.set(&state.cookies.device(), secret, DEVICE_COOKIE_AGE);
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    if let Some(secret) = &progress.cookie_secret {
        let cookie = state.cookies.set(&state.cookies.session(&tenant), secret, SESSION_LIFETIME.whole_seconds());
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// The recovery codes just made, shown once, with the way on.
pub(super) fn recovery_codes_page(tenant: &str, codes: &[String], next: &str) -> Response {
    let mut response =
        pages::render(StatusCode::OK, "recovery_codes.html", minijinja::context! { tenant, codes, next });
    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    response
}

/// `GET /t/{tenant}/login/link?flow=&token=`: the link of an e-mailed code. It completes only
/// in the browser that holds the flow: opened anywhere else, it says so and proves nothing (a
/// link sent to a victim cannot sign them into an attacker's session, or the reverse).
pub(super) async fn link(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    Context(context): Context,
    headers: HeaderMap,
    Query(query): Query<LinkQuery>,
) -> Response {
    let browser = Browser::of(&state, &headers);
    let (flow, client) = match load(&state, &tenant, &browser, &query.flow, FlowStep::EmailCode).await {
        Ok(loaded) => loaded,
        Err(_) => {
            let page = pages::error(
                StatusCode::BAD_REQUEST,
                &tenant,
                "error.link_other_browser",
                "error.link_other_browser_detail",
                Some("link_other_browser"),
            );
            return browser.attach(page);
        }
    };
    let at_once = code_at_once(&flow, &client);
    match state.services.submit_email_code(&tenant, &flow, None, Some(&query.token), &context, at_once).await {
        Ok(Ok(progress)) => advance(&state, &tenant, &client, progress).await,
        Ok(Err(refusal)) => match refused(&tenant, refusal) {
            Some(page) => page,
            None => {
                let message = Some(pages::i18n::text("login.wrong_code"));
                let flow = state.services.login_flow(&tenant, &flow.id, &browser.secret).await.unwrap_or(flow);
                step_page(&state, &tenant, &browser, &flow, &client, "", message).await
            }
        },
        Err(portcullis_core::Error::NotFound(_)) => flow_gone(&tenant),
        Err(error) => error_page(&tenant, &error.into()),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct LinkQuery {
    flow: String,
    token: String,
}

/// `GET /t/{tenant}/login/continue?flow=`: on from a page shown after authentication (the
/// recovery codes) to consent or the client.
pub(super) async fn resume(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    headers: HeaderMap,
    Query(query): Query<FlowQuery>,
) -> Response {
    let browser = Browser::of(&state, &headers);
    let (flow, client) = match load(&state, &tenant, &browser, &query.flow, FlowStep::Consent).await {
        Ok(loaded) => loaded,
        Err(response) => return response,
    };
    let session_id = flow.session_id.clone().unwrap_or_default();
    match state.services.session(&tenant, &session_id).await {
        Ok(Some(session)) if session.live(state.services.now()) => {
            proceed(&state, &tenant, &flow, &client, &session, None).await
        }
        Ok(_) => flow_gone(&tenant),
        Err(error) => error_page(&tenant, &error.into()),
    }
}

/// Whether an authenticated flow must ask for consent before it ends: always for a device
/// (the user confirms what they connect, RFC 8628 §5.4 remote phishing), never for a first-party
/// client, else when asked (`prompt=consent`) or when the remembered consent falls short.
pub(crate) async fn needs_consent(
    state: &AppState,
    tenant: &str,
    flow: &FlowRecord,
    client: &ClientRecord,
    session: &SessionRecord,
) -> Result<bool, portcullis_core::Error> {
    let request = &flow.request;
    if consent_never_needed(flow, client) {
        return Ok(false);
    }
    if request.device.is_some() {
        return Ok(true);
    }
    let asked = request.prompt.iter().any(|p| p == "consent");
    Ok(asked || !state.services.consent_covers(tenant, session.user_id, &client.client_id, &request.scope).await?)
}

/// A first-party client's request never asks for consent, except a device request (its
/// user confirms on the consent page what the other device asked for).
fn consent_never_needed(flow: &FlowRecord, client: &ClientRecord) -> bool {
    flow.request.device.is_none() && client.metadata.first_party
}

/// What a step that completes authentication may end in at once: the code, when the request
/// needs no consent.
pub(crate) fn code_at_once(flow: &FlowRecord, client: &ClientRecord) -> Option<CodeAtOnce> {
    consent_never_needed(flow, client).then(|| CodeAtOnce { grant_lifetime: authorize::grant_lifetime(client) })
}

/// After authentication: to the consent page, or straight back to the client — with `code`
/// when the step already ended the flow in one.
async fn proceed(
    state: &AppState,
    tenant: &str,
    flow: &FlowRecord,
    client: &ClientRecord,
    session: &SessionRecord,
    code: Option<String>,
) -> Response {
    let request = &flow.request;
    let issuer = state.issuer(tenant);
    let done = match code {
        Some(code) => authorize::with_code(&state.services, tenant, &issuer, client, request, session, code).await,
        None => {
            match needs_consent(state, tenant, flow, client, session).await {
                Ok(true) => return see_other(&format!("/t/{tenant}/consent?flow={}", flow.id)),
                Ok(false) => {}
                Err(error) => return error_page(tenant, &error.into()),
            }
            authorize::complete(&state.services, tenant, &issuer, client, request, Some(flow), session, false).await
        }
    };
    match done {
        Ok(response) => respond(&response),
        Err(error) => authorize_error(tenant, error),
    }
}

/// The sign-up form of a login flow at its first step, with `error` shown.
fn register_form(
    tenant: &str,
    browser: &Browser,
    flow: &FlowRecord,
    client: &ClientRecord,
    email: &str,
    name: &str,
    error: Option<String>,
) -> Response {
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let context = minijinja::context! {
        tenant,
        client_name => client.metadata.client_name,
        action => format!("/t/{tenant}/login"),
        back => format!("/t/{tenant}/login?flow={}", flow.id),
        flow => flow.id,
        csrf => browser.csrf(&flow.id),
        email,
        name,
        error,
    };
    pages::render(status, "login_register.html", context)
}

/// `GET /t/{tenant}/login/register?flow=`: the sign-up form, where the tenant lets visitors
/// create accounts.
pub(super) async fn register_page(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    headers: HeaderMap,
    Query(query): Query<FlowQuery>,
) -> Response {
    let browser = Browser::of(&state, &headers);
    let (flow, client) = match load(&state, &tenant, &browser, &query.flow, FlowStep::Authenticate).await {
        Ok(loaded) => loaded,
        Err(response) => return response,
    };
    match state.services.login_policy(&tenant).await.map(|policy| policy.self_registration) {
        Ok(true) => browser.attach(register_form(&tenant, &browser, &flow, &client, "", "", None)),
        Ok(false) => {
            pages::error(StatusCode::NOT_FOUND, &tenant, "error.cannot_complete", "login.register_closed", None)
        }
        Err(error) => error_page(&tenant, &error.into()),
    }
}
