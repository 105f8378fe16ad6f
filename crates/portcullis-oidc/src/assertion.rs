//! `private_key_jwt` client authentication (OIDC Core §9, RFC 7523 §2.2, §3): the client
//! signs a short-lived JWT with a key it registered; each assertion is accepted once.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_core::Services;
use portcullis_core::model::client::{ClientRecord, TokenEndpointAuthMethod};
use portcullis_crypto::verify::verify_client_jws;
use serde_json::Value;

use crate::error::OAuthError;
use crate::params::Params;

/// RFC 7523 §2.2.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The longest an assertion may be valid ahead: bounds how long its `jti` is kept.
const MAX_AHEAD: i64 = 3600;
/// Clock skew tolerated for `nbf` and `iat`.
const LEEWAY: i64 = 60;
/// The endpoints an assertion may be addressed to, besides the issuer itself.
const ENDPOINTS: &[&str] = &["token", "introspect", "revoke", "par", "device_authorization"];

fn refused(why: &str) -> OAuthError {
    OAuthError::invalid_client(format!("client assertion refused: {why}"))
}

/// The client `client_assertion` authenticates, after checking signature and claims and
/// spending its `jti`.
pub(crate) async fn authenticate(
    services: &Services,
    tenant: &str,
    issuer: &str,
    params: &Params,
    assertion: &str,
) -> Result<ClientRecord, OAuthError> {
    if params.single("client_assertion_type")? != Some(JWT_BEARER) {
        return Err(OAuthError::invalid_request(format!("client_assertion_type must be {JWT_BEARER}")));
    }
    // Which client claims to speak: read before verifying, only to find its keys.
    let unverified: Value = assertion
        .split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| refused("not a JWT"))?;
    let client_id = unverified.get("sub").and_then(Value::as_str).ok_or_else(|| refused("no sub"))?;
    if params.single("client_id")?.is_some_and(|id| id != client_id) {
        return Err(refused("client_id differs from the assertion's sub"));
    }
    let client = match services.client(tenant, client_id).await {
        Ok(Some(client)) => client,
        Ok(None) => return Err(refused("unknown client")),
        Err(portcullis_core::Error::NotFound(_)) => return Err(OAuthError::unknown_issuer()),
        Err(other) => return Err(other.into()),
    };
    if client.metadata.token_endpoint_auth_method != TokenEndpointAuthMethod::PrivateKeyJwt {
        return Err(refused("the client does not authenticate with private_key_jwt"));
    }
    let keys =
        crate::client_keys::keys(&client, false).await.ok_or_else(|| refused("the client's keys are unavailable"))?;
    let verified = match verify_client_jws(assertion, &keys) {
        Ok(verified) => verified,
        // Perhaps the client rotated its keys at its jwks_uri since they were fetched.
        Err(_) if client.metadata.jwks_uri.is_some() => {
            let keys = crate::client_keys::keys(&client, true)
                .await
                .ok_or_else(|| refused("the client's keys are unavailable"))?;
            verify_client_jws(assertion, &keys).map_err(|_| refused("the signature does not verify"))?
        }
        Err(_) => return Err(refused("the signature does not verify")),
    };
    let claims = &verified.payload;
    let now = services.now().unix_timestamp();
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("iss") != Some(client_id) || text("sub") != Some(client_id) {
        return Err(refused("iss and sub must be the client_id"));
    }
    let addressed = |aud: &str| aud == issuer || ENDPOINTS.iter().any(|e| aud == format!("{issuer}/{e}"));
    let aud_ok = match claims.get("aud") {
        Some(Value::String(one)) => addressed(one),
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).any(addressed),
        _ => false,
    };
    if !aud_ok {
        return Err(refused("aud must be this issuer or its endpoint"));
    }
    let exp = claims.get("exp").and_then(Value::as_i64).ok_or_else(|| refused("no exp"))?;
    if exp <= now || exp > now + MAX_AHEAD {
        return Err(refused("expired, or valid too far ahead"));
    }
    let not_yet = |name: &str| claims.get(name).and_then(Value::as_i64).is_some_and(|t| t > now + LEEWAY);
    if not_yet("nbf") || not_yet("iat") {
        return Err(refused("not valid yet"));
    }
    let jti = text("jti").ok_or_else(|| refused("no jti"))?;
    let expires_at = time::OffsetDateTime::from_unix_timestamp(exp).map_err(|_| refused("bad exp"))?;
    if !services.use_client_assertion(tenant, client_id, jti, expires_at).await? {
        return Err(refused("this assertion was already used (jti)"));
    }
    Ok(client)
}
