//! Token introspection (RFC 7662) of the JWT access tokens this issuer signs.

use portcullis_core::Services;
use serde_json::{Value, json};

use crate::client_auth::credentials;
use crate::error::OAuthError;
use crate::token::TokenRequest;

/// Answers an introspection request. The caller must authenticate as a client of the tenant
/// (RFC 7662 §2.1). It learns about a token only if the token was issued to it or names one of
/// its registered `audiences` (RFC 7662 §4); anything else — invalid, expired, foreign — is
/// `{"active": false}`.
pub async fn introspect(
    services: &Services,
    tenant: &str,
    issuer: &str,
    request: &TokenRequest,
) -> Result<Value, OAuthError> {
    for (name, _) in &request.params {
        request.single(name)?;
    }
    let token = request.single("token")?.ok_or_else(|| OAuthError::invalid_request("token is missing"))?;
    let presented =
        credentials(request.authorization.as_deref(), request.single("client_id")?, request.single("client_secret")?)?;
    let caller = match services.authenticate_client(tenant, &presented.client_id, presented.presented()).await {
        Ok(client) => client,
        Err(portcullis_core::Error::NotFound(_)) => return Err(OAuthError::unknown_issuer()),
        Err(other) => return Err(other.into()),
    };
    let inactive = json!({"active": false});
    let Some(mut claims) = services.verify_access_token(tenant, issuer, token).await? else {
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
