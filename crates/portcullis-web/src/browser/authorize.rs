//! `GET` and `POST {issuer}/authorize` (RFC 6749 §3.1; OIDC Core §3.1.2.1 allows both).

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use portcullis_core::model::session::SessionRecord;
use portcullis_oidc::authorize::{self, Next};
use portcullis_oidc::{OAuthError, Params};

use super::{Browser, authorize_error, error_page, form, respond, see_other};
use crate::AppState;
use crate::cookies;
use crate::extract::ApiPath;

pub(super) async fn get(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::parse(query.unwrap_or_default().as_bytes());
    authorize(&state, &tenant, &headers, &params).await
}

pub(super) async fn post(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match form(&headers, &body) {
        Some(params) => authorize(&state, &tenant, &headers, &params).await,
        None => error_page(&tenant, &OAuthError::invalid_request("send the request as a form or a query")),
    }
}

/// The SSO session of the browser's cookie, if live.
pub(super) async fn current_session(
    state: &AppState,
    tenant: &str,
    headers: &HeaderMap,
) -> Result<Option<SessionRecord>, OAuthError> {
    match cookies::read(headers, &state.cookies.session(tenant)) {
        Some(secret) => Ok(state.services.session_by_cookie(tenant, &secret).await?),
        None => Ok(None),
    }
}

/// The live SSO session of a signed-in user's own page (its title: `heading`); without one, the
/// page saying to sign in first.
pub(super) async fn signed_in(
    state: &AppState,
    tenant: &str,
    headers: &HeaderMap,
    heading: &str,
) -> Result<SessionRecord, Response> {
    match current_session(state, tenant, headers).await {
        Ok(Some(session)) => Ok(session),
        Ok(None) => Err(crate::pages::error(
            axum::http::StatusCode::UNAUTHORIZED,
            tenant,
            heading,
            "account.sign_in_first",
            None,
        )),
        Err(error) => Err(error_page(tenant, &error)),
    }
}

async fn authorize(state: &AppState, tenant: &str, headers: &HeaderMap, params: &Params) -> Response {
    let issuer = state.issuer(tenant);
    let services = &state.services;
    let (client, request) = match authorize::validate(services, tenant, &issuer, params).await {
        Ok(valid) => valid,
        Err(error) => return authorize_error(tenant, error),
    };
    let browser = Browser::of(state, headers);
    let session = match current_session(state, tenant, headers).await {
        Ok(session) => session,
        Err(error) => return error_page(tenant, &error),
    };
    let next = authorize::decide(services, tenant, &issuer, &client, &request, session.as_ref()).await;
    let response = match next {
        Ok(Next::Done(response)) => respond(&response),
        Ok(step @ (Next::Login | Next::Consent | Next::StepUp)) => {
            let known = if matches!(step, Next::Login) { None } else { session.as_ref() };
            let step_up = matches!(step, Next::StepUp);
            match services.start_login_flow(tenant, &browser.secret, &client, request, known, step_up).await {
                Ok(flow) => {
                    let page = if matches!(step, Next::Consent) { "consent" } else { "login" };
                    see_other(&format!("/t/{tenant}/{page}?flow={}", flow.id))
                }
                Err(error) => error_page(tenant, &error.into()),
            }
        }
        Err(error) => authorize_error(tenant, error),
    };
    browser.attach(response)
}
