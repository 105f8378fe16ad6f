//! The UserInfo endpoint (OIDC Core §5.3), protected by a bearer access token (RFC 6750).

use portcullis_core::Services;
use serde_json::{Map, Value};

use crate::claims::{Target, user_claims};
use crate::introspect::live_access_token;

/// Why a userinfo request fails (RFC 6750 §3.1): rendered as a `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BearerError {
    pub error: &'static str,
    pub description: &'static str,
    /// 400, 401 or 403; 503 when the storage is unavailable.
    pub status: u16,
}

impl BearerError {
    fn invalid_token(description: &'static str) -> Self {
        Self { error: "invalid_token", description, status: 401 }
    }
}

impl From<portcullis_core::Error> for BearerError {
    fn from(error: portcullis_core::Error) -> Self {
        let status = match error {
            portcullis_core::Error::Busy | portcullis_core::Error::Unavailable(_) => 503,
            portcullis_core::Error::NotFound(_) => 404,
            _ => 500,
        };
        Self { error: "server_error", description: "the request could not be completed", status }
    }
}

impl From<crate::OAuthError> for BearerError {
    fn from(error: crate::OAuthError) -> Self {
        Self { error: "server_error", description: "the request could not be completed", status: error.status }
    }
}

/// The claims of the user an access token speaks for, as its scope and the `claims` request
/// parameter release them. `token` comes from the `Authorization` header or the form body
/// (RFC 6750 §2.1, §2.2), never the query.
pub async fn userinfo(
    services: &Services,
    tenant: &str,
    issuer: &str,
    token: Option<&str>,
) -> Result<Map<String, Value>, BearerError> {
    let Some(token) = token else {
        return Err(BearerError { error: "invalid_request", description: "send an access token", status: 401 });
    };
    let Some(claims) = live_access_token(services, tenant, issuer, token).await? else {
        return Err(BearerError::invalid_token("the access token is invalid, expired or revoked"));
    };
    let scope = claims.get("scope").and_then(Value::as_str).unwrap_or_default();
    let grant_id = claims.get("grant_id").and_then(Value::as_str);
    let (Some(grant_id), true) = (grant_id, scope.split(' ').any(|s| s == "openid")) else {
        return Err(BearerError {
            error: "insufficient_scope",
            description: "the token was not issued with the openid scope",
            status: 403,
        });
    };
    let Some(grant) = services.live_grant(tenant, grant_id).await? else {
        return Err(BearerError::invalid_token("the access token is revoked"));
    };
    let custom = services.custom_scopes(tenant).await?;
    let with_access = crate::claims::needs_access(scope, grant.details.claims.as_ref(), &custom);
    let Some((user, access)) =
        services.user_for_claims(tenant, &grant.client_id, grant.user_id, with_access, None).await?
    else {
        return Err(BearerError::invalid_token("the user can no longer log in"));
    };
    Ok(user_claims(&user, &access, scope, grant.details.claims.as_ref(), Target::Userinfo, &custom))
}

/// The live grant an access token of this issuer belongs to (the user's own token, for the
/// account APIs): a valid, unexpired token of a grant not revoked, whose user may still log in
/// is the caller's business. Tokens of the client credentials grant have no user: refused.
pub async fn bearer_grant(
    services: &Services,
    tenant: &str,
    issuer: &str,
    token: Option<&str>,
) -> Result<portcullis_core::model::session::GrantRecord, BearerError> {
    let Some(token) = token else {
        return Err(BearerError { error: "invalid_request", description: "send an access token", status: 401 });
    };
    let Some(claims) = live_access_token(services, tenant, issuer, token).await? else {
        return Err(BearerError::invalid_token("the access token is invalid, expired or revoked"));
    };
    let Some(grant_id) = claims.get("grant_id").and_then(Value::as_str) else {
        return Err(BearerError::invalid_token("the access token speaks for no user"));
    };
    services
        .live_grant(tenant, grant_id)
        .await?
        .ok_or_else(|| BearerError::invalid_token("the access token is revoked"))
}
