//! `{issuer}/logout`: RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) and the
//! back-channel logout notifications it sends (Back-Channel Logout 1.0 §2.5).

use std::collections::BTreeSet;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use portcullis_core::model::session::{GrantRecord, SessionRecord};
use portcullis_oidc::{OAuthError, Params, logout};

use super::authorize::current_session;
use super::{Browser, error_page, form, see_other};
use crate::AppState;
use crate::extract::{ApiPath, Context};
use crate::pages;

/// How long one back-channel notification may take (§2.5 asks for a prompt answer).
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(5);

/// The waits before a second and a third attempt, when a relying party could not be reached or
/// answered 5xx/429. A 4xx is the relying party refusing the token (Back-Channel Logout §2.8):
/// sending it again would not change that.
const NOTIFY_RETRIES: [Duration; 2] = [Duration::from_secs(1), Duration::from_secs(4)];

pub(super) async fn get(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    Context(context): Context,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::parse(query.unwrap_or_default().as_bytes());
    run(&state, &tenant, &context, &headers, params, false).await
}

pub(super) async fn post(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    Context(context): Context,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(mut params) = form(&headers, &body) else {
        return error_page(&tenant, &OAuthError::invalid_request("send the request as a form or a query"));
    };
    let browser = Browser::of(&state, &headers);
    let confirmed = params.single("confirm").ok().flatten() == Some("yes")
        && browser.csrf_ok("logout", params.single("csrf_token").ok().flatten());
    params.0.retain(|(k, _)| k != "confirm" && k != "csrf_token");
    run(&state, &tenant, &context, &headers, params, confirmed).await
}

async fn run(
    state: &AppState,
    tenant: &str,
    context: &portcullis_core::service::RequestContext,
    headers: &HeaderMap,
    params: Params,
    confirmed: bool,
) -> Response {
    // RP-Initiated Logout §2: the client may name the user's languages.
    pages::i18n::prefer(params.single("ui_locales").ok().flatten());
    let issuer = state.issuer(tenant);
    let request = match logout::validate(&state.services, tenant, &issuer, &params).await {
        Ok(request) => request,
        Err(error) => return error_page(tenant, &error),
    };
    let browser = Browser::of(state, headers);
    let session = match current_session(state, tenant, headers).await {
        Ok(session) => session,
        Err(error) => return error_page(tenant, &error),
    };
    if let Some(session) = &session {
        // Without proof that the client speaks for this very session, the user confirms
        // (RP-Initiated Logout §2: protects against logout CSRF).
        let hinted = request.hinted_session.as_deref() == Some(session.id.as_str());
        if !hinted && !confirmed {
            let client_name = request.client.as_ref().map(|c| c.metadata.client_name.clone());
            let context = minijinja::context! {
                tenant,
                client_name,
                done => false,
                action => format!("/t/{tenant}/logout"),
                csrf => browser.csrf("logout"),
                carried => params.0,
            };
            return browser.attach(pages::render(StatusCode::OK, "logout.html", context));
        }
        match state.services.end_session(tenant, &session.id, context).await {
            Ok(grants) => notify(state.clone(), tenant.to_owned(), issuer.clone(), session.clone(), grants),
            Err(error) => return error_page(tenant, &error.into()),
        }
    }
    let mut response = match &request.redirect {
        Some(target) => see_other(target),
        None => pages::render(StatusCode::OK, "logout.html", minijinja::context! { tenant, done => true }),
    };
    let clear = state.cookies.set(&state.cookies.session(tenant), "", 0);
    response.headers_mut().append(header::SET_COOKIE, clear);
    browser.attach(response)
}

/// Sends a logout token to every client of the session that registered a back-channel
/// logout URI, in the background and each on its own: logout never waits on a relying party,
/// and a slow one delays no other.
pub(crate) fn notify(
    state: AppState,
    tenant: String,
    issuer: String,
    session: SessionRecord,
    grants: Vec<GrantRecord>,
) {
    let clients: BTreeSet<String> = grants.into_iter().map(|g| g.client_id).collect();
    tokio::spawn(async move {
        for client_id in clients {
            let Ok(Some(client)) = state.services.client(&tenant, &client_id).await else { continue };
            let Some(uri) = client.metadata.backchannel_logout_uri.clone() else { continue };
            let sub = session.user_id.to_string();
            let token = match logout::logout_token(&state.services, &tenant, &issuer, &client, &sub, &session.id).await
            {
                Ok(token) => token,
                Err(error) => {
                    tracing::warn!(client = %client_id, error = %error.error_description, "logout token not minted");
                    continue;
                }
            };
            tokio::spawn(deliver(state.http.clone(), uri, token, client_id));
        }
    });
}

/// Posts one logout token, trying again after [`NOTIFY_RETRIES`] while the relying party is
/// unreachable or failing.
async fn deliver(http: reqwest::Client, uri: String, token: String, client_id: String) {
    for attempt in 0..=NOTIFY_RETRIES.len() {
        let sent = http.post(&uri).timeout(NOTIFY_TIMEOUT).form(&[("logout_token", &token)]).send().await;
        match sent {
            Ok(answer) if answer.status().is_success() => return,
            Ok(answer) if answer.status().is_server_error() || answer.status().as_u16() == 429 => {
                tracing::warn!(client = %client_id, status = %answer.status(), attempt, "back-channel logout failed");
            }
            Ok(answer) => {
                tracing::warn!(client = %client_id, status = %answer.status(), "back-channel logout refused");
                return;
            }
            Err(error) => tracing::warn!(client = %client_id, %error, attempt, "back-channel logout not delivered"),
        }
        let Some(wait) = NOTIFY_RETRIES.get(attempt) else { return };
        tokio::time::sleep(*wait).await;
    }
}
