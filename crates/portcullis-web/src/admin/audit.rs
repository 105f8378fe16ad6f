use axum::Json;
use axum::extract::State;
use portcullis_core::clock::to_micros;
use portcullis_core::model::audit::{AuditEvent, AuditFilter};
use portcullis_core::model::page::Page;
use serde::Deserialize;
use time::OffsetDateTime;

use super::Problems;
use crate::AppState;
use crate::error::WebError;
use crate::extract::{Admin, ApiPath, ApiQuery};

/// Filters and paging of the audit log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditParams {
    /// E.g. `user.create`.
    action: Option<String>,
    /// E.g. `token:0190…`.
    actor: Option<String>,
    target_id: Option<String>,
    /// RFC 3339; events at or after.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>)]
    since: Option<OffsetDateTime>,
    /// RFC 3339; events before.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>)]
    until: Option<OffsetDateTime>,
    cursor: Option<String>,
    limit: Option<u32>,
}

/// The tenant's audit events, newest first.
#[utoipa::path(get, path = "/tenants/{tenant}/audit", tag = "audit", params(("tenant" = String, Path), AuditParams), responses((status = 200, body = Page<AuditEvent>), Problems))]
pub(crate) async fn list_audit(
    State(state): State<AppState>,
    Admin(who): Admin,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(p): ApiQuery<AuditParams>,
) -> Result<Json<Page<AuditEvent>>, WebError> {
    let filter = AuditFilter {
        tenant: None,
        action: p.action,
        actor: p.actor,
        target_id: p.target_id,
        since_micros: p.since.map(to_micros),
        until_micros: p.until.map(to_micros),
    };
    Ok(Json(state.services.list_audit(&who, &tenant, filter, p.cursor.as_deref(), p.limit).await?))
}
