//! Token introspection (RFC 7662) of the JWT access tokens this issuer signs.

use portcullis_core::Services;
use serde_json::{Map, Value, json};

use crate::error::OAuthError;
use crate::token::{TokenRequest, authenticated_client};

/// The claims of an access token this issuer signed that is still good: signature, `typ`,
/// `iss`, expiry, and — for tokens of a user grant — a grant not revoked since.
pub(crate) async fn live_access_token(
    services: &Services,
    tenant: &str,
    issuer: &str,
    token: &str,
) -> Result<Option<Map<String, Value>>, OAuthError> {
    let Some(claims) = services.verify_access_token(tenant, issuer, token).await? else { return Ok(None) };
    if let Some(grant) = claims.get("grant_id").and_then(Value::as_str)
        && services.live_grant(tenant, grant).await?.is_none()
    {
        return Ok(None);
    }
    Ok(Some(claims))
}

/// Answers an introspection request. The caller must authenticate as a client of the tenant
/// (RFC 7662 §2.1). It learns about a token only if the token was issued to it or names one of
/// its registered `audiences` (RFC 7662 §4); anything else — invalid, expired, revoked,
/// foreign — is `{"active": false}`.
pub async fn introspect(
    services: &Services,
    tenant: &str,
    issuer: &str,
    request: &TokenRequest,
) -> Result<Value, OAuthError> {
    request.params.no_repeats(&[])?;
    let token = request.params.single("token")?.ok_or_else(|| OAuthError::invalid_request("token is missing"))?;
    let caller = authenticated_client(services, tenant, issuer, request).await?;
    let inactive = json!({"active": false});
    let Some(mut claims) = live_access_token(services, tenant, issuer, token).await? else {
        return Ok(inactive);
    };
    let own = claims.get("client_id").and_then(Value::as_str) == Some(caller.client_id.as_str());
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let addressed = audiences.iter().any(|a| caller.metadata.audiences.iter().any(|mine| mine == a));
    if !own && !addressed {
        return Ok(inactive);
    }
    claims.insert("active".into(), json!(true));
    claims.insert("token_type".into(), json!("Bearer"));
    Ok(Value::Object(claims))
}
