//! The hosted consent page: the last step of a login flow, where the user grants a client
//! the scopes it asked for (remembered per user and client) or, for a device flow, confirms
//! the device.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use portcullis_core::model::scope::ScopeDefinition;
use portcullis_core::model::session::{FlowRecord, FlowStep, SessionRecord};
use portcullis_oidc::authorize;

use super::login::{FlowQuery, load, posted};
use super::{Browser, authorize_error, error_page, flow_gone, form, respond};
use crate::AppState;
use crate::extract::{ApiPath, Context};
use crate::pages;

/// What a scope means, in words for the consent page: the tenant's description for its own.
fn describe(scope: &str, custom: &[ScopeDefinition]) -> String {
    if let Some(own) = custom.iter().find(|c| c.name == scope) {
        return own.description.clone();
    }
    match scope {
        "openid" | "profile" | "email" | "phone" | "address" | "offline_access" | "roles" | "groups" => {
            pages::i18n::text(&format!("scope.{scope}"))
        }
        other => pages::i18n::text("scope.other").replace("{scope}", other),
    }
}

/// The session the flow's user authenticated in, if still live.
async fn flow_session(state: &AppState, tenant: &str, flow: &FlowRecord) -> Result<SessionRecord, Response> {
    let id = flow.session_id.as_deref().unwrap_or_default();
    match state.services.session(tenant, id).await {
        Ok(Some(session)) if session.live(state.services.now()) => Ok(session),
        Ok(_) => Err(flow_gone(tenant)),
        Err(error) => Err(error_page(tenant, &error.into())),
    }
}

pub(super) async fn page(
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
    let session = match flow_session(&state, &tenant, &flow).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let username = match state.services.user_for_claims(&tenant, &client.client_id, session.user_id, false, None).await
    {
        Ok(Some((user, _))) => user.username,
        Ok(None) => return flow_gone(&tenant),
        Err(error) => return error_page(&tenant, &error.into()),
    };
    let custom = match state.services.custom_scopes(&tenant).await {
        Ok(custom) => custom,
        Err(error) => return error_page(&tenant, &error.into()),
    };
    let context = minijinja::context! {
        tenant,
        client_name => client.metadata.client_name,
        scopes => flow.request.scope.iter().map(|s| describe(s, &custom)).collect::<Vec<_>>(),
        username,
        action => format!("/t/{tenant}/consent"),
        flow => flow.id,
        csrf => browser.csrf(&flow.id),
    };
    pages::render(StatusCode::OK, "consent.html", context)
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
    let (flow, client) = match posted(&state, &tenant, &browser, &params, FlowStep::Consent).await {
        Ok(loaded) => loaded,
        Err(response) => return response,
    };
    let session = match flow_session(&state, &tenant, &flow).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let issuer = state.issuer(&tenant);
    if flow.request.device.is_some() {
        let approve = match params.single("decision").ok().flatten() {
            Some("allow") => true,
            Some("deny") => false,
            _ => {
                return pages::error(
                    StatusCode::BAD_REQUEST,
                    &tenant,
                    "error.choose",
                    "error.go_back_and_choose",
                    None,
                );
            }
        };
        let lifetime = portcullis_oidc::authorize::grant_lifetime(&client);
        return match state.services.decide_device(&tenant, &flow, &session, approve, lifetime, &context).await {
            Ok(true) => super::device::outcome(&tenant, approve),
            Ok(false) => flow_gone(&tenant),
            Err(error) => error_page(&tenant, &error.into()),
        };
    }
    match params.single("decision").ok().flatten() {
        Some("allow") => {
            let done = authorize::complete(
                &state.services,
                &tenant,
                &issuer,
                &client,
                &flow.request,
                Some(&flow),
                &session,
                true,
            )
            .await;
            match done {
                Ok(response) => respond(&response),
                Err(error) => authorize_error(&tenant, error),
            }
        }
        Some("deny") => respond(&authorize::denied(&flow.request, &issuer)),
        _ => pages::error(StatusCode::BAD_REQUEST, &tenant, "error.choose", "error.go_back_and_choose", None),
    }
}
