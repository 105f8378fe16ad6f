//! The OpenID AuthZEN Authorization API 1.0 under each tenant's issuer: access evaluation
//! (§6), batch evaluations with their three semantics (§7), subject, resource and action
//! search (§8) and the policy decision point's metadata (§9). Callers are policy enforcement
//! points with an access token carrying the `authzen` scope (client credentials).
//!
//! Decisions combine the tenant's Cedar policies and relationship model in the order
//! `portcullis_core::service::DecisionView` documents (a forbid wins). A resource's
//! `properties` are its Cedar attributes; the request's `context` carries `ip`, `acr`, `amr`,
//! `risk` and `region`.
//!
//! Portcullis's extensions, in the places the specification leaves open: a
//! `context.consistency_token` in a request asks for an answer at least as fresh as that
//! write; every decision's `context` carries `reason_admin` (what decided) and the deciding
//! `policies`, or an `error`.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use portcullis_core::model::page::{decode_cursor, encode_cursor};
use portcullis_core::service::{
    AccessQuestion, CallerRefusal, Decision, DecisionCaller, DecisionView, Entity, RequestContext,
};
use portcullis_core::{Error, FieldError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::AppState;
use crate::error::WebError;
use crate::extract::{ApiJson, ApiPath, Context};
use crate::issuer::bearer;

/// Most evaluations one batch may hold.
const MAX_EVALUATIONS: usize = 1000;
/// Search results per page unless the caller asks for fewer.
const SEARCH_PAGE: usize = 100;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/t/{tenant}/access/v1/evaluation", post(evaluation))
        .route("/t/{tenant}/access/v1/evaluations", post(evaluations))
        .route("/t/{tenant}/access/v1/search/subject", post(search_subject))
        .route("/t/{tenant}/access/v1/search/resource", post(search_resource))
        .route("/t/{tenant}/access/v1/search/action", post(search_action))
        .route("/t/{tenant}/.well-known/authzen-configuration", get(metadata))
        // §9.2: the well-known path goes between the host and the PDP identifier's path.
        .route("/.well-known/authzen-configuration/t/{tenant}", get(metadata))
}

/// A subject or resource (§5.1, §5.2): `type` and `id` required; a resource's `properties`
/// are its attributes in Cedar policies (a directory user's come from the directory).
#[derive(Debug, Clone, Deserialize)]
struct EntityBody {
    #[serde(rename = "type")]
    kind: String,
    id: Option<String>,
    properties: Option<Map<String, Value>>,
}

/// An action (§5.3).
#[derive(Debug, Clone, Deserialize)]
struct ActionBody {
    name: String,
    #[allow(dead_code)]
    properties: Option<Map<String, Value>>,
}

/// One evaluation, or the defaults of a batch (§6.1, §7.1.1): any part may be missing here
/// and is checked once defaults are applied.
#[derive(Debug, Clone, Default, Deserialize)]
struct EvaluationBody {
    subject: Option<EntityBody>,
    action: Option<ActionBody>,
    resource: Option<EntityBody>,
    context: Option<Map<String, Value>>,
}

#[derive(Debug, Default, Deserialize)]
struct EvaluationsBody {
    #[serde(flatten)]
    defaults: EvaluationBody,
    evaluations: Option<Vec<EvaluationBody>>,
    options: Option<Map<String, Value>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Semantic {
    ExecuteAll,
    DenyOnFirstDeny,
    PermitOnFirstPermit,
}

/// The page of a search request (§8.2): `token` (or `next_token`, as earlier drafts name it)
/// and `limit`.
#[derive(Debug, Default, Deserialize)]
struct PageBody {
    token: Option<String>,
    next_token: Option<String>,
    limit: Option<usize>,
}

#[derive(Debug, Deserialize)]
struct SearchBody {
    subject: Option<EntityBody>,
    action: Option<ActionBody>,
    resource: Option<EntityBody>,
    context: Option<Map<String, Value>>,
    page: Option<PageBody>,
}

/// A decision as the specification shows it (§5.5).
#[derive(Debug, Serialize)]
struct DecisionBody {
    decision: bool,
    context: Value,
}

fn render(decision: &Decision) -> DecisionBody {
    let context = match decision.status {
        Some(status) => json!({"error": {"status": status, "message": decision.reason.detail}}),
        None if decision.reason.policies.is_empty() => json!({"reason_admin": {"en": decision.reason.detail}}),
        None => json!({"reason_admin": {"en": decision.reason.detail}, "policies": decision.reason.policies}),
    };
    DecisionBody { decision: decision.allowed, context }
}

fn invalid(field: &str, reason: &str) -> WebError {
    Error::Validation(vec![FieldError::new(field, reason)]).into()
}

/// The policy enforcement point calling, authenticated by its bearer token for the tenant of
/// the path; the rejection is the bearer challenge. Taken before the body is read.
struct Pep(DecisionCaller);

impl FromRequestParts<AppState> for Pep {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let ApiPath(tenant) =
            ApiPath::<String>::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        caller(state, &tenant, &parts.headers).await.map(Pep)
    }
}

/// The caller, or the bearer challenge that refuses it (RFC 6750 §3).
async fn caller(state: &AppState, tenant: &str, headers: &HeaderMap) -> Result<DecisionCaller, Response> {
    let token = bearer(headers);
    let verdict = state.services.decision_caller(tenant, &state.issuer(tenant), token.as_deref()).await;
    let refusal = match verdict {
        Ok(Ok(caller)) => return Ok(caller),
        Ok(Err(refusal)) => refusal,
        Err(error) => return Err(WebError::from(error).into_response()),
    };
    let (status, challenge) = match (refusal, token.is_some()) {
        (CallerRefusal::InvalidToken, false) => (StatusCode::UNAUTHORIZED, "Bearer realm=\"portcullis\"".to_owned()),
        (CallerRefusal::InvalidToken, true) => (
            StatusCode::UNAUTHORIZED,
            "Bearer realm=\"portcullis\", error=\"invalid_token\", error_description=\"the access token is invalid, expired or revoked\"".to_owned(),
        ),
        (CallerRefusal::InsufficientScope, _) => (
            StatusCode::FORBIDDEN,
            format!("Bearer realm=\"portcullis\", error=\"insufficient_scope\", scope=\"{}\"", portcullis_core::service::AUTHZEN_SCOPE),
        ),
    };
    let mut response = WebError::new(
        status,
        if status == StatusCode::FORBIDDEN { "forbidden" } else { "unauthenticated" },
        if status == StatusCode::FORBIDDEN { "Forbidden" } else { "Unauthorized" },
        "send an access token with the authzen scope",
    )
    .into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    Err(response)
}

fn entity(body: &EntityBody, field: &str) -> Result<Entity, WebError> {
    let id = body.id.clone().ok_or_else(|| invalid(&format!("{field}/id"), "is required"))?;
    Ok(Entity { kind: body.kind.clone(), id, properties: body.properties.clone().unwrap_or_default() })
}

fn question(body: &EvaluationBody, at: &str) -> Result<AccessQuestion, WebError> {
    let subject = body.subject.as_ref().ok_or_else(|| invalid(&format!("{at}subject"), "is required"))?;
    let action = body.action.as_ref().ok_or_else(|| invalid(&format!("{at}action"), "is required"))?;
    let resource = body.resource.as_ref().ok_or_else(|| invalid(&format!("{at}resource"), "is required"))?;
    Ok(AccessQuestion {
        subject: entity(subject, &format!("{at}subject"))?,
        action: action.name.clone(),
        resource: entity(resource, &format!("{at}resource"))?,
        context: body.context.clone().unwrap_or_default(),
    })
}

fn consistency(context: Option<&Map<String, Value>>) -> Result<Option<String>, WebError> {
    match context.and_then(|c| c.get("consistency_token")) {
        None => Ok(None),
        Some(Value::String(token)) => Ok(Some(token.clone())),
        Some(_) => Err(invalid("context/consistency_token", "must be a string")),
    }
}

async fn view(
    state: &AppState,
    caller: &DecisionCaller,
    context: Option<&Map<String, Value>>,
    subjects: &[&Entity],
) -> Result<DecisionView, WebError> {
    let token = consistency(context)?;
    Ok(state.services.decision_view(caller, token.as_deref(), subjects).await?)
}

/// §6: one decision.
async fn evaluation(
    State(state): State<AppState>,
    Pep(caller): Pep,
    Context(context): Context,
    ApiJson(body): ApiJson<EvaluationBody>,
) -> Result<Response, WebError> {
    let question = question(&body, "")?;
    single(&state, &caller, &context, body.context.as_ref(), question).await
}

/// Decides one question, logs it if sampled, renders it.
async fn single(
    state: &AppState,
    caller: &DecisionCaller,
    context: &RequestContext,
    request_context: Option<&Map<String, Value>>,
    question: AccessQuestion,
) -> Result<Response, WebError> {
    let view = view(state, caller, request_context, &[&question.subject]).await?;
    let decision = view.decide(&question)?;
    state.services.log_decisions(caller, context, &view, &[(&question, &decision)]);
    Ok(Json(render(&decision)).into_response())
}

/// §7: many decisions, each part defaulting to the request's top level; executed in order
/// and stopped as `options.evaluations_semantic` says.
async fn evaluations(
    State(state): State<AppState>,
    Pep(caller): Pep,
    Context(context): Context,
    ApiJson(body): ApiJson<EvaluationsBody>,
) -> Result<Response, WebError> {
    let semantic = match body.options.as_ref().and_then(|o| o.get("evaluations_semantic")) {
        None => Semantic::ExecuteAll,
        Some(Value::String(s)) if s == "execute_all" => Semantic::ExecuteAll,
        Some(Value::String(s)) if s == "deny_on_first_deny" => Semantic::DenyOnFirstDeny,
        Some(Value::String(s)) if s == "permit_on_first_permit" => Semantic::PermitOnFirstPermit,
        Some(_) => {
            return Err(invalid(
                "options/evaluations_semantic",
                "is one of execute_all, deny_on_first_deny, permit_on_first_permit",
            ));
        }
    };
    let items = match &body.evaluations {
        // §7.1: without an evaluations array, the request is a single evaluation.
        None => {
            let question = question(&body.defaults, "")?;
            return single(&state, &caller, &context, body.defaults.context.as_ref(), question).await;
        }
        Some(items) => items,
    };
    if items.len() > MAX_EVALUATIONS {
        return Err(invalid("evaluations", &format!("at most {MAX_EVALUATIONS}")));
    }
    let d = &body.defaults;
    let questions = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let merged = EvaluationBody {
                subject: item.subject.clone().or_else(|| d.subject.clone()),
                action: item.action.clone().or_else(|| d.action.clone()),
                resource: item.resource.clone().or_else(|| d.resource.clone()),
                context: item.context.clone().or_else(|| d.context.clone()),
            };
            question(&merged, &format!("evaluations/{i}/"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let subjects: Vec<&Entity> = questions.iter().map(|q| &q.subject).collect();
    let view = view(&state, &caller, d.context.as_ref(), &subjects).await?;
    let mut decisions = Vec::with_capacity(questions.len());
    for question in &questions {
        let decision = view.decide(question)?;
        let stop = match semantic {
            Semantic::ExecuteAll => false,
            Semantic::DenyOnFirstDeny => !decision.allowed,
            Semantic::PermitOnFirstPermit => decision.allowed,
        };
        decisions.push(decision);
        if stop {
            break;
        }
    }
    let answered: Vec<_> = questions.iter().zip(&decisions).collect();
    state.services.log_decisions(&caller, &context, &view, &answered);
    let answers: Vec<DecisionBody> = decisions.iter().map(render).collect();
    Ok(Json(json!({ "evaluations": answers })).into_response())
}

/// One page of sorted `results` after the request's page token (the last id of the previous
/// page), with the next token — empty on the last page (§8.2).
fn page<T: Serialize>(
    ids: Vec<String>,
    page: Option<&PageBody>,
    item: impl Fn(String) -> T,
) -> Result<Value, WebError> {
    let limit = page.and_then(|p| p.limit).unwrap_or(SEARCH_PAGE);
    if !(1..=1000).contains(&limit) {
        return Err(invalid("page/limit", "must be between 1 and 1000"));
    }
    let token = page.and_then(|p| p.token.as_deref().or(p.next_token.as_deref())).filter(|t| !t.is_empty());
    let after = decode_cursor(token).map_err(|_| invalid("page/token", "not a token returned by this server"))?;
    let start = after.map_or(0, |last| ids.partition_point(|id| *id <= last));
    let rest = ids.len().saturating_sub(start);
    let chosen: Vec<String> = ids.into_iter().skip(start).take(limit).collect();
    let next = if rest > limit { chosen.last().map(|id| encode_cursor(id)).unwrap_or_default() } else { String::new() };
    let count = chosen.len();
    let results: Vec<T> = chosen.into_iter().map(item).collect();
    Ok(json!({"results": results, "page": {"next_token": next, "count": count}}))
}

fn required<'a, T>(value: &'a Option<T>, field: &str) -> Result<&'a T, WebError> {
    value.as_ref().ok_or_else(|| invalid(field, "is required"))
}

/// §8.4: the subjects of a type that may do the action to the resource.
async fn search_subject(
    State(state): State<AppState>,
    Pep(caller): Pep,
    ApiJson(body): ApiJson<SearchBody>,
) -> Result<Response, WebError> {
    let kind = required(&body.subject, "subject")?.kind.clone();
    let action = required(&body.action, "action")?.name.clone();
    let resource = entity(required(&body.resource, "resource")?, "resource")?;
    let view = view(&state, &caller, body.context.as_ref(), &[]).await?;
    let (ids, wildcard) = view.subjects(&kind, &action, &resource)?;
    let mut answer = page(ids, body.page.as_ref(), |id| json!({"type": kind, "id": id}))?;
    if wildcard {
        // Every subject of the type may (a `type:*` tuple); the listed ones are those named.
        answer["context"] = json!({"all_of_type": true});
    }
    Ok(Json(answer).into_response())
}

/// §8.5: the resources of a type on which the subject may do the action.
async fn search_resource(
    State(state): State<AppState>,
    Pep(caller): Pep,
    ApiJson(body): ApiJson<SearchBody>,
) -> Result<Response, WebError> {
    let subject = entity(required(&body.subject, "subject")?, "subject")?;
    let action = required(&body.action, "action")?.name.clone();
    let kind = required(&body.resource, "resource")?.kind.clone();
    let view = view(&state, &caller, body.context.as_ref(), &[&subject]).await?;
    let ids = view.resources(&subject, &action, &kind)?;
    Ok(Json(page(ids, body.page.as_ref(), |id| json!({"type": kind, "id": id}))?).into_response())
}

/// §8.6: the actions the subject may do to the resource.
async fn search_action(
    State(state): State<AppState>,
    Pep(caller): Pep,
    ApiJson(body): ApiJson<SearchBody>,
) -> Result<Response, WebError> {
    let subject = entity(required(&body.subject, "subject")?, "subject")?;
    let resource = entity(required(&body.resource, "resource")?, "resource")?;
    let view = view(&state, &caller, body.context.as_ref(), &[&subject]).await?;
    let declared = state.services.declared_actions(&caller).await?;
    let names = view.actions(&subject, &resource, &declared)?;
    Ok(Json(page(names, body.page.as_ref(), |name| json!({"name": name}))?).into_response())
}

/// §9: the policy decision point's metadata; its identifier is the tenant's issuer.
async fn metadata(State(state): State<AppState>, ApiPath(tenant): ApiPath<String>) -> Result<Response, WebError> {
    state.services.tenant_exists(&tenant).await?;
    let pdp = state.issuer(&tenant);
    let mut response = Json(json!({
        "policy_decision_point": pdp,
        "access_evaluation_endpoint": format!("{pdp}/access/v1/evaluation"),
        "access_evaluations_endpoint": format!("{pdp}/access/v1/evaluations"),
        "search_subject_endpoint": format!("{pdp}/access/v1/search/subject"),
        "search_resource_endpoint": format!("{pdp}/access/v1/search/resource"),
        "search_action_endpoint": format!("{pdp}/access/v1/search/action"),
    }))
    .into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
    Ok(response)
}
