//! Admin API v1 (`/admin/v1`): thin handlers, one service call each. The OpenAPI document is
//! generated from the same route declarations, so it lists exactly what the server serves.

mod audit;
mod authz;
mod clients;
mod credentials;
mod email_templates;
mod groups;
mod keys;
mod password_policy;
mod registration;
mod roles;
mod schema;
mod scopes;
mod sessions;
mod sms_templates;
mod tenants;
mod tokens;
mod users;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::Problem;

/// The error answers every admin endpoint may give.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub(crate) enum Problems {
    /// Invalid values or malformed JSON.
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(Problem),
    /// Missing or invalid admin token.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// The token may not do this.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
    /// No such tenant or resource.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
    /// A uniqueness rule or the current state forbids the change.
    #[response(status = 409, content_type = "application/problem+json")]
    Conflict(Problem),
    /// The body is larger than 1 MiB.
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(Problem),
    /// The body is not JSON.
    #[response(status = 415, content_type = "application/problem+json")]
    UnsupportedMediaType(Problem),
    /// Busy or database unavailable; retry.
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(Problem),
}

/// Cursor pagination parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageParams {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–1000 (default 100).
    pub limit: Option<u32>,
}

/// `201 Created` with a `Location` header.
pub(crate) fn created<T: serde::Serialize>(location: String, body: T) -> Response {
    let mut response = (StatusCode::CREATED, axum::Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An admin API token (`pct_…`)."))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Portcullis admin API", version = "1", description = "Administration of tenants, users, groups, roles, the user schema, OAuth clients, authorization models and tuples, admin tokens and the audit log. Errors are RFC 9457 problem+json."),
    servers((url = "/admin/v1")),
    modifiers(&BearerAuth),
    components(schemas(Problem, portcullis_core::FieldError)),
    security(("bearer" = [])),
    tags(
        (name = "tenants"), (name = "users"), (name = "groups"), (name = "roles"),
        (name = "schema"), (name = "clients"), (name = "keys"), (name = "tokens"), (name = "audit"), (name = "authorization"),
        (name = "flows", description = "The JSON flow API of each issuer (`/t/{tenant}/flows/…`): native and single-page apps drive logins with it.")
    )
)]
struct ApiDoc;

/// The admin routes and their OpenAPI document.
pub fn router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(tenants::list_tenants, tenants::create_tenant))
        .routes(routes!(tenants::get_tenant, tenants::update_tenant, tenants::delete_tenant))
        .routes(routes!(users::list_users, users::create_user))
        .routes(routes!(users::import_users))
        .routes(routes!(users::get_user, users::update_user, users::delete_user))
        .routes(routes!(users::set_password))
        .routes(routes!(password_policy::get_policy, password_policy::put_policy))
        .routes(routes!(users::disable_user))
        .routes(routes!(users::enable_user))
        .routes(routes!(users::effective_access))
        .routes(routes!(roles::list_user_roles))
        .routes(routes!(roles::assign_user_role, roles::unassign_user_role))
        .routes(routes!(groups::list_groups, groups::create_group))
        .routes(routes!(groups::get_group, groups::update_group, groups::delete_group))
        .routes(routes!(groups::list_members))
        .routes(routes!(groups::add_member, groups::remove_member))
        .routes(routes!(roles::list_group_roles))
        .routes(routes!(roles::assign_group_role, roles::unassign_group_role))
        .routes(routes!(roles::list_roles, roles::create_role))
        .routes(routes!(roles::get_role, roles::update_role, roles::delete_role))
        .routes(routes!(schema::get_schema))
        .routes(routes!(schema::put_attribute, schema::delete_attribute))
        .routes(routes!(clients::list_clients, clients::create_client))
        .routes(routes!(clients::get_client, clients::update_client, clients::delete_client))
        .routes(routes!(clients::rotate_secret))
        .routes(routes!(registration::list_registration_tokens, registration::create_registration_token))
        .routes(routes!(registration::revoke_registration_token))
        .routes(routes!(scopes::list_scopes))
        .routes(routes!(scopes::put_scope, scopes::delete_scope))
        .routes(routes!(sessions::list_sessions, sessions::revoke_sessions))
        .routes(routes!(sessions::revoke_session))
        .routes(routes!(credentials::list_credentials))
        .routes(routes!(credentials::delete_credential))
        .routes(routes!(credentials::reset_mfa))
        .routes(routes!(credentials::bind_certificate))
        .routes(routes!(credentials::list_requirements))
        .routes(routes!(credentials::put_requirement, credentials::delete_requirement))
        .routes(routes!(credentials::get_auth_policy, credentials::put_auth_policy))
        .routes(routes!(email_templates::get_template, email_templates::put_template, email_templates::delete_template))
        .routes(routes!(
            sms_templates::get_sms_template,
            sms_templates::put_sms_template,
            sms_templates::delete_sms_template
        ))
        .routes(routes!(keys::list_keys))
        .routes(routes!(keys::rotate_keys))
        .routes(routes!(tokens::list_tokens, tokens::create_token))
        .routes(routes!(tokens::revoke_token))
        .routes(routes!(audit::list_audit))
        .routes(routes!(authz::get_model, authz::put_model))
        .routes(routes!(authz::list_tuples, authz::write_tuples))
        .routes(routes!(authz::query))
        .routes(routes!(authz::get_policies, authz::put_policies))
        .routes(routes!(authz::policy_schema))
        .routes(routes!(authz::test_policies))
        .routes(routes!(authz::get_settings, authz::put_settings))
        .split_for_parts();
    let mut doc = doc;
    doc.merge(crate::flows::openapi());
    (router, doc)
}
