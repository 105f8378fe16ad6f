//! Token revocation (RFC 7009).

use portcullis_core::Services;
use serde_json::Value;

use crate::error::OAuthError;
use crate::introspect::live_access_token;
use crate::token::{TokenRequest, authenticated_client};

/// Revokes a refresh token or an access token of the calling client, and with either the
/// whole grant (RFC 7009 §2.1). Unknown, invalid and other clients' tokens get the same
/// success answer (§2.2), so a caller learns nothing about them.
pub async fn revoke(services: &Services, tenant: &str, issuer: &str, request: &TokenRequest) -> Result<(), OAuthError> {
    request.params.no_repeats(&[])?;
    let token = request.params.single("token")?.ok_or_else(|| OAuthError::invalid_request("token is missing"))?;
    let client = authenticated_client(services, tenant, issuer, request).await?;
    let hint = request.params.single("token_type_hint")?;
    let context = &request.context;
    if hint != Some("access_token") && services.revoke_refresh_token(tenant, &client.client_id, token, context).await? {
        return Ok(());
    }
    // Client-credentials tokens carry no grant: they live until they expire (RFC 7009 §2:
    // revoking self-contained tokens is optional).
    if let Some(claims) = live_access_token(services, tenant, issuer, token).await?
        && claims.get("client_id").and_then(Value::as_str) == Some(client.client_id.as_str())
        && let Some(grant) = claims.get("grant_id").and_then(Value::as_str)
    {
        services.revoke_grant(tenant, &client.client_id, grant, context).await?;
        return Ok(());
    }
    if hint == Some("access_token") {
        services.revoke_refresh_token(tenant, &client.client_id, token, context).await?;
    }
    Ok(())
}
