//! The tenant's authorization model, relationship tuples and queries over them, and its
//! Cedar policies.

use axum::Json;
use axum::extract::State;
use portcullis_authz::cedar::PolicyDocument;
use portcullis_core::model::authz::AuthzSettings;
use portcullis_core::model::page::Page;
use portcullis_core::service::{
    AuthzQuery, ModelView, PoliciesView, PolicyTest, PolicyTestResult, QueryAnswer, TupleFilterBody, TupleWrite,
    Written,
};
use portcullis_core::{Error, FieldError};
use serde::Deserialize;

use super::Problems;
use crate::AppState;
use crate::error::WebError;
use crate::extract::{Admin, ApiJson, ApiPath, ApiQuery};

/// A model, as JSON or in the text form: exactly one of the two.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ModelBody {
    /// `{"types": {"user": {}, "doc": {"relations": {"viewer": {"direct": [{"type": "user"}]}}}}}`;
    /// rewrites are `direct`, `computed`, `tuple_to_userset`, `union`, `intersection`, `exclusion`.
    #[schema(value_type = Option<Object>)]
    model: Option<serde_json::Value>,
    /// The text form: `type user` / `type doc` / `  relations` / `    define viewer: [user] or editor`.
    dsl: Option<String>,
}

/// Filter and page of `GET …/authz/tuples`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct TupleListParams {
    /// `type:id`.
    object: Option<String>,
    relation: Option<String>,
    /// `type:id`, `type:id#relation` or `type:*`.
    subject: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1–1000 (default 100).
    limit: Option<u32>,
}

/// Read the tenant's authorization model, as JSON and in the text form.
#[utoipa::path(get, path = "/tenants/{tenant}/authz/model", tag = "authorization", params(("tenant" = String, Path)), responses((status = 200, body = ModelView), Problems))]
pub(crate) async fn get_model(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<ModelView>, WebError> {
    Ok(Json(state.services.get_authz_model(&who, &tenant).await?))
}

/// Replace the tenant's authorization model (Zanzibar rewrite rules: direct subjects, unions,
/// intersections, exclusions, computed usersets, tuple-to-userset). Types `role` with relation
/// `assignee` and `group` with relation `member` are also filled from the directory.
#[utoipa::path(put, path = "/tenants/{tenant}/authz/model", tag = "authorization", params(("tenant" = String, Path)), request_body = ModelBody, responses((status = 200, body = ModelView), Problems))]
pub(crate) async fn put_model(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(body): ApiJson<ModelBody>,
) -> Result<Json<ModelView>, WebError> {
    let model = match (body.model, body.dsl) {
        (Some(json), None) => portcullis_core::model::from_json(serde_json::json!({ "model": json }))
            .map(|wrapped: Wrapped| wrapped.model)?,
        (None, Some(text)) => portcullis_authz::dsl::parse(&text).map_err(|e| Error::invalid("dsl", e.to_string()))?,
        _ => {
            return Err(Error::Validation(vec![FieldError::new("", "send exactly one of model and dsl")]).into());
        }
    };
    Ok(Json(state.services.put_authz_model(&who, &tenant, model).await?))
}

/// Names the JSON model's fields from `model/…` in errors.
#[derive(Deserialize)]
struct Wrapped {
    model: portcullis_authz::Model,
}

/// List stored relationship tuples (`object#relation@subject`) matching a filter.
#[utoipa::path(get, path = "/tenants/{tenant}/authz/tuples", tag = "authorization", params(("tenant" = String, Path), TupleListParams), responses((status = 200, body = Page<String>), Problems))]
pub(crate) async fn list_tuples(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(p): ApiQuery<TupleListParams>,
) -> Result<Json<Page<String>>, WebError> {
    let filter = TupleFilterBody { object: p.object, relation: p.relation, subject: p.subject };
    Ok(Json(state.services.list_tuples(&who, &tenant, &filter, p.cursor.as_deref(), p.limit).await?))
}

/// Add and delete tuples in one transaction, checked against the model and the
/// preconditions: all or nothing. Answers with the consistency token of the new revision.
#[utoipa::path(post, path = "/tenants/{tenant}/authz/tuples", tag = "authorization", params(("tenant" = String, Path)), request_body = TupleWrite, responses((status = 200, body = Written), Problems))]
pub(crate) async fn write_tuples(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(body): ApiJson<TupleWrite>,
) -> Result<Json<Written>, WebError> {
    Ok(Json(state.services.write_tuples(&who, &tenant, body).await?))
}

/// Check, expand, list objects or list subjects, at least as fresh as a consistency token.
#[utoipa::path(post, path = "/tenants/{tenant}/authz/query", tag = "authorization", params(("tenant" = String, Path)), request_body = AuthzQuery, responses((status = 200, body = QueryAnswer), Problems))]
pub(crate) async fn query(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(body): ApiJson<AuthzQuery>,
) -> Result<Json<QueryAnswer>, WebError> {
    Ok(Json(state.services.authz_query(&who, &tenant, body).await?))
}

/// Read the tenant's Cedar policy document.
#[utoipa::path(get, path = "/tenants/{tenant}/authz/policies", tag = "authorization", params(("tenant" = String, Path)), responses((status = 200, body = PoliciesView), Problems))]
pub(crate) async fn get_policies(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<PoliciesView>, WebError> {
    Ok(Json(state.services.get_authz_policies(&who, &tenant).await?))
}

/// Replace the tenant's Cedar policy document: `{"policies": "<Cedar>", "links": [{"id",
/// "template", "principal", "resource"}], "entity_types": {"title": {"region": "String"}},
/// "actions": {"stream": ["title"]}}`. Compiled and validated against the derived schema.
#[utoipa::path(put, path = "/tenants/{tenant}/authz/policies", tag = "authorization", params(("tenant" = String, Path)), request_body = Object, responses((status = 200, body = PoliciesView), Problems))]
pub(crate) async fn put_policies(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(document): ApiJson<PolicyDocument>,
) -> Result<Json<PoliciesView>, WebError> {
    Ok(Json(state.services.put_authz_policies(&who, &tenant, document).await?))
}

/// The Cedar schema (JSON form) derived from the user schema, the model and the document:
/// `User` (with the user's non-sensitive attributes, member of `Role` and `Group`), each model
/// type, each relation as an action, and the request context (`ip`, `now`, `acr`, `amr`,
/// `risk`, `region`).
#[utoipa::path(get, path = "/tenants/{tenant}/authz/policies/schema", tag = "authorization", params(("tenant" = String, Path)), responses((status = 200, body = Object), Problems))]
pub(crate) async fn policy_schema(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<serde_json::Value>, WebError> {
    Ok(Json(state.services.authz_policy_schema(&who, &tenant).await?))
}

/// Would this request be allowed, and which policies or relation decided? Decided exactly as
/// the AuthZEN API decides, with an optional document tried instead of the stored one.
#[utoipa::path(post, path = "/tenants/{tenant}/authz/policies:test", tag = "authorization", params(("tenant" = String, Path)), request_body = PolicyTest, responses((status = 200, body = PolicyTestResult), Problems))]
pub(crate) async fn test_policies(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(test): ApiJson<PolicyTest>,
) -> Result<Json<PolicyTestResult>, WebError> {
    Ok(Json(state.services.test_authz_policies(&who, &tenant, test).await?))
}

/// Read the tenant's authorization settings.
#[utoipa::path(get, path = "/tenants/{tenant}/authz/settings", tag = "authorization", params(("tenant" = String, Path)), responses((status = 200, body = AuthzSettings), Problems))]
pub(crate) async fn get_settings(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<AuthzSettings>, WebError> {
    Ok(Json(state.services.get_authz_settings(&who, &tenant).await?))
}

/// Replace the tenant's authorization settings: `decision_log_sample`, the share of AuthZEN
/// decisions written to the audit log (`authz.decision` events), 0 to 1.
#[utoipa::path(put, path = "/tenants/{tenant}/authz/settings", tag = "authorization", params(("tenant" = String, Path)), request_body = AuthzSettings, responses((status = 200, body = AuthzSettings), Problems))]
pub(crate) async fn put_settings(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(settings): ApiJson<AuthzSettings>,
) -> Result<Json<AuthzSettings>, WebError> {
    Ok(Json(state.services.put_authz_settings(&who, &tenant, settings).await?))
}
