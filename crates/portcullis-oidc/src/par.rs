//! The pushed authorization request endpoint (RFC 9126 §2).

use portcullis_core::Services;
use serde_json::{Value, json};

use crate::authorize::{REQUEST_URI_PREFIX, check_request};
use crate::error::OAuthError;
use crate::token::{TokenRequest, authenticated_client};

/// Validates and keeps an authorization request pushed by an authenticated client; answers
/// its `request_uri` (RFC 9126 §2.2). Errors are JSON (§2.3), never redirects.
pub async fn push(
    services: &Services,
    tenant: &str,
    issuer: &str,
    request: &TokenRequest,
) -> Result<Value, OAuthError> {
    let client = authenticated_client(services, tenant, issuer, request).await?;
    let params = &request.params;
    let redirect_uri =
        params.single("redirect_uri")?.ok_or_else(|| OAuthError::invalid_request("redirect_uri is missing"))?;
    if !client.metadata.redirect_uris.iter().any(|r| crate::authorize::redirect_matches(r.as_str(), redirect_uri)) {
        return Err(OAuthError::invalid_request("redirect_uri is not registered for this client"));
    }
    let custom = services.custom_scopes(tenant).await?;
    let validated = check_request(&client, redirect_uri, params, &custom)?;
    let id = services.push_request(tenant, &client.client_id, validated).await?;
    Ok(json!({
        "request_uri": format!("{REQUEST_URI_PREFIX}{id}"),
        "expires_in": portcullis_core::service::PUSHED_REQUEST_LIFETIME.whole_seconds(),
    }))
}
