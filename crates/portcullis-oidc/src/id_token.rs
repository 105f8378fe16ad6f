//! ID tokens (OIDC Core §2, §3.1.3.6) and the hints that carry them back.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_core::Services;
use portcullis_core::model::client::{ClientRecord, SigningAlgorithm};
use portcullis_core::model::role::EffectiveAccess;
use portcullis_core::model::session::{AuthorizationRequest, GrantRecord, SessionRecord};
use portcullis_core::model::user::User;
use portcullis_crypto::signing::JwsAlgorithm;
use serde_json::{Value, json};
use sha2::{Digest, Sha256, Sha512};

use crate::claims::{Target, user_claims};
use crate::error::OAuthError;

/// The algorithm of a client's ID tokens: RS256 unless it registered another (OIDC Core
/// §3.1.3.7, OIDC Registration §2).
pub fn id_token_alg(client: &ClientRecord) -> JwsAlgorithm {
    match client.metadata.id_token_signed_response_alg {
        Some(SigningAlgorithm::ES256) => JwsAlgorithm::ES256,
        Some(SigningAlgorithm::EdDSA) => JwsAlgorithm::EdDSA,
        Some(SigningAlgorithm::RS256) | None => JwsAlgorithm::RS256,
    }
}

/// `at_hash` and `c_hash` (OIDC Core §3.1.3.6, §3.3.2.11): the left half of the hash of the
/// access token or code, with the hash of the ID token's algorithm (SHA-512 for Ed25519).
pub fn half_hash(alg: JwsAlgorithm, value: &str) -> String {
    let digest = match alg {
        JwsAlgorithm::EdDSA => Sha512::digest(value.as_bytes()).to_vec(),
        JwsAlgorithm::RS256 | JwsAlgorithm::ES256 => Sha256::digest(value.as_bytes()).to_vec(),
    };
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

/// What goes into one ID token.
pub struct IdTokenInput<'a> {
    pub client: &'a ClientRecord,
    pub grant: &'a GrantRecord,
    pub user: &'a User,
    pub access: &'a EffectiveAccess,
    pub access_token: &'a str,
    /// The nonce of the authorization request; omitted on refresh.
    pub nonce: Option<&'a str>,
    pub lifetime: u32,
    /// The tenant's own scopes, for their claim mappings.
    pub custom: &'a [portcullis_core::model::scope::ScopeDefinition],
}

/// How the user authenticated, for an ID token (OIDC Core §2).
struct Authentication<'a> {
    auth_time: i64,
    acr: &'a str,
    amr: &'a [String],
    sid: Option<&'a str>,
    nonce: Option<&'a str>,
}

/// Adds the claims every ID token of `client` carries, and signs: `hash` is `at_hash` or
/// `c_hash` with the value it binds.
#[allow(clippy::too_many_arguments)]
async fn sign(
    services: &Services,
    tenant: &str,
    issuer: &str,
    client: &ClientRecord,
    lifetime: u32,
    mut claims: serde_json::Map<String, Value>,
    how: Authentication<'_>,
    hash: (&str, &str),
) -> Result<String, OAuthError> {
    let alg = id_token_alg(client);
    let now = services.now().unix_timestamp();
    claims.insert("iss".into(), json!(issuer));
    claims.insert("aud".into(), json!(client.client_id));
    claims.insert("azp".into(), json!(client.client_id));
    claims.insert("exp".into(), json!(now + i64::from(lifetime)));
    claims.insert("iat".into(), json!(now));
    claims.insert("auth_time".into(), json!(how.auth_time));
    claims.insert("acr".into(), json!(how.acr));
    claims.insert("amr".into(), json!(how.amr));
    claims.insert(hash.0.into(), json!(half_hash(alg, hash.1)));
    if let Some(sid) = how.sid {
        claims.insert("sid".into(), json!(sid));
    }
    if let Some(nonce) = how.nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    let payload = Value::Object(claims).to_string();
    Ok(services.sign_jws(tenant, alg, "JWT", payload.as_bytes()).await?)
}

/// Mints an ID token for a grant (OIDC Core §2).
pub async fn mint(
    services: &Services,
    tenant: &str,
    issuer: &str,
    input: IdTokenInput<'_>,
) -> Result<String, OAuthError> {
    let details = &input.grant.details;
    let claims = user_claims(
        input.user,
        input.access,
        &input.grant.scope,
        details.claims.as_ref(),
        Target::IdToken,
        input.custom,
    );
    let how = Authentication {
        auth_time: details.auth_time,
        acr: &details.acr,
        amr: &details.amr,
        sid: input.grant.session_id.as_deref(),
        nonce: input.nonce,
    };
    let hash = ("at_hash", input.access_token);
    sign(services, tenant, issuer, input.client, input.lifetime, claims, how, hash).await
}

/// The ID token of a hybrid response (OIDC Core §3.3.2.11): who logged in, when and how,
/// bound to the code by `c_hash` and to the request by its nonce. The user's other claims come
/// with the token endpoint's ID token and from userinfo (OIDC Core §5.4).
pub async fn front_channel(
    services: &Services,
    tenant: &str,
    issuer: &str,
    client: &ClientRecord,
    request: &AuthorizationRequest,
    session: &SessionRecord,
    code: &str,
) -> Result<String, OAuthError> {
    let mut claims = serde_json::Map::new();
    claims.insert("sub".into(), json!(session.user_id.to_string()));
    let how = Authentication {
        auth_time: session.auth_time.unix_timestamp(),
        acr: &session.acr,
        amr: &session.amr,
        sid: Some(&session.id),
        nonce: request.nonce.as_deref(),
    };
    let lifetime = crate::token::token_lifetime(client);
    sign(services, tenant, issuer, client, lifetime, claims, how, ("c_hash", code)).await
}

/// The claims of an ID token this issuer signed, expired or not (an `id_token_hint` or a
/// logout hint, OIDC Core §3.1.2.1, RP-Initiated Logout §2); `None` for anything else.
pub async fn hint_claims(
    services: &Services,
    tenant: &str,
    issuer: &str,
    hint: &str,
) -> Result<Option<serde_json::Map<String, Value>>, OAuthError> {
    let Some(verified) = services.verify_signed(tenant, hint).await? else { return Ok(None) };
    let is_id_token = verified.header.get("typ").and_then(Value::as_str).is_none_or(|t| t == "JWT");
    let ours = verified.payload.get("iss").and_then(Value::as_str) == Some(issuer);
    Ok((is_id_token && ours && verified.payload.contains_key("sub")).then_some(verified.payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_matches_independent_implementations() {
        // PingFederate's developer guide (RS256).
        assert_eq!(half_hash(JwsAlgorithm::RS256, "dNZX1hEZ9wBCzNL40Upu646bdzQA"), "wfgvmE9VxjAudsl9lc6TqA");
        // npm oidc-token-hash's README: SHA-256 and SHA-512 (Ed25519) of one token.
        let token = "YmJiZTAwYmYtMzgyOC00NzhkLTkyOTItNjJjNDM3MGYzOWIy9sFhvH8K_x8UIHj1osisS57f5DduL-ar_qw5jl3lthwpMjm283aVMQXDmoqqqydDSqJfbhptzw8rUVwkuQbolw";
        assert_eq!(half_hash(JwsAlgorithm::ES256, token), "x7vk7f6BvQj0jQHYFIk4ag");
        assert_eq!(half_hash(JwsAlgorithm::EdDSA, token), "EGEAhGYyfuwDaVTifvrWSoD5MSy_5hZPy6I7Vm-7pTQ");
    }
}
