//! The token endpoint (RFC 6749 §3.2). Grants offered so far: client credentials (§4.4).
//! Access tokens are JWTs per RFC 9068 with audiences from resource indicators (RFC 8707).

use std::collections::BTreeSet;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_core::Services;
use portcullis_core::model::client::{ClientRecord, GrantType, SigningAlgorithm, scope_token_ok};
use portcullis_crypto::signing::JwsAlgorithm;
use rand::RngCore;
use serde::Serialize;
use serde_json::{Value, json};

use crate::client_auth::credentials;
use crate::error::OAuthError;

/// Access tokens live an hour unless the client says otherwise.
const DEFAULT_ACCESS_TOKEN_LIFETIME: u32 = 3600;

/// A token request as the web layer received it.
#[derive(Debug, Clone, Default)]
pub struct TokenRequest {
    /// The form parameters in order, repeats included (so they can be refused).
    pub params: Vec<(String, String)>,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
}

impl TokenRequest {
    /// The single value of `name`. RFC 6749 §3.2: parameters must not repeat.
    pub(crate) fn single(&self, name: &str) -> Result<Option<&str>, OAuthError> {
        let mut values = self.params.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(OAuthError::invalid_request(format!("the parameter {name} is repeated")));
        }
        // RFC 6749 §3.1: parameters sent without a value are treated as omitted.
        Ok(first.filter(|v| !v.is_empty()))
    }

    /// Every value of a parameter that may repeat (RFC 8707 `resource`).
    fn all(&self, name: &str) -> Vec<&str> {
        self.params.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// Handles a token request for the tenant whose issuer is `issuer`.
pub async fn token(
    services: &Services,
    tenant: &str,
    issuer: &str,
    request: &TokenRequest,
) -> Result<TokenResponse, OAuthError> {
    for (name, _) in &request.params {
        if name != "resource" {
            request.single(name)?;
        }
    }
    let grant_type =
        request.single("grant_type")?.ok_or_else(|| OAuthError::invalid_request("grant_type is missing"))?;
    let presented =
        credentials(request.authorization.as_deref(), request.single("client_id")?, request.single("client_secret")?)?;
    let client = match services.authenticate_client(tenant, &presented.client_id, presented.presented()).await {
        Ok(client) => client,
        Err(portcullis_core::Error::NotFound(_)) => return Err(OAuthError::unknown_issuer()),
        Err(other) => return Err(other.into()),
    };
    match grant_type {
        "client_credentials" => client_credentials(services, tenant, issuer, request, &client).await,
        "authorization_code" | "refresh_token" | "urn:ietf:params:oauth:grant-type:device_code" => {
            Err(OAuthError::unsupported_grant_type(format!("{grant_type} is not offered by this server yet")))
        }
        other => Err(OAuthError::unsupported_grant_type(format!("unknown grant type {other}"))),
    }
}

/// The granted scope: the requested one if the client may have all of it; the registered one
/// when none was requested (RFC 6749 §3.3).
fn granted_scope(requested: Option<&str>, client: &ClientRecord) -> Result<Option<String>, OAuthError> {
    let allowed: BTreeSet<&str> = client.metadata.scope.as_deref().map(|s| s.split(' ').collect()).unwrap_or_default();
    let Some(requested) = requested else {
        return Ok(client.metadata.scope.clone());
    };
    let mut granted = Vec::new();
    for token in requested.split(' ') {
        if !scope_token_ok(token) {
            return Err(OAuthError::invalid_scope("scope must be scope tokens separated by single spaces"));
        }
        if !allowed.contains(token) {
            return Err(OAuthError::invalid_scope(format!("the client may not request the scope {token}")));
        }
        if !granted.contains(&token) {
            granted.push(token);
        }
    }
    Ok(Some(granted.join(" ")))
}

/// RFC 8707 §2: each `resource` is an absolute URI without a fragment, and must be one the
/// client may address. Without one, the token is for the client's registered audiences, or
/// for this issuer when it has none.
fn audiences(resources: Vec<&str>, client: &ClientRecord, issuer: &str) -> Result<Vec<String>, OAuthError> {
    if resources.is_empty() {
        return Ok(if client.metadata.audiences.is_empty() {
            vec![issuer.to_owned()]
        } else {
            client.metadata.audiences.clone()
        });
    }
    let mut granted = Vec::new();
    for resource in resources {
        let absolute = resource.split_once(':').is_some_and(|(scheme, _)| {
            !scheme.is_empty() && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        });
        if !absolute || resource.contains('#') {
            return Err(OAuthError::invalid_target("resource must be an absolute URI without a fragment"));
        }
        if !client.metadata.audiences.iter().any(|a| a == resource) {
            return Err(OAuthError::invalid_target(format!("the client may not request tokens for {resource}")));
        }
        if !granted.iter().any(|g| g == resource) {
            granted.push(resource.to_owned());
        }
    }
    Ok(granted)
}

async fn client_credentials(
    services: &Services,
    tenant: &str,
    issuer: &str,
    request: &TokenRequest,
    client: &ClientRecord,
) -> Result<TokenResponse, OAuthError> {
    if !client.metadata.grant_types.contains(&GrantType::ClientCredentials) {
        return Err(OAuthError::unauthorized_client("the client is not registered for client_credentials"));
    }
    let scope = granted_scope(request.single("scope")?, client)?;
    let audience = audiences(request.all("resource"), client, issuer)?;
    let lifetime = client.metadata.access_token_lifetime.unwrap_or(DEFAULT_ACCESS_TOKEN_LIFETIME);
    let now = services.now().unix_timestamp();
    let mut jti = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut jti);
    // RFC 9068 §2.2; with no resource owner, `sub` names the client.
    let mut claims = json!({
        "iss": issuer,
        "sub": client.client_id,
        "aud": if audience.len() == 1 { json!(audience[0]) } else { json!(audience) },
        "exp": now + i64::from(lifetime),
        "iat": now,
        "jti": URL_SAFE_NO_PAD.encode(jti),
        "client_id": client.client_id,
    });
    if let (Some(scope), Value::Object(map)) = (&scope, &mut claims) {
        map.insert("scope".into(), json!(scope));
    }
    let alg = match client.metadata.access_token_signed_response_alg {
        Some(SigningAlgorithm::RS256) => JwsAlgorithm::RS256,
        Some(SigningAlgorithm::EdDSA) => JwsAlgorithm::EdDSA,
        Some(SigningAlgorithm::ES256) | None => JwsAlgorithm::ES256,
    };
    let access_token = services.sign_jws(tenant, alg, "at+jwt", claims.to_string().as_bytes()).await?;
    Ok(TokenResponse { access_token, token_type: "Bearer", expires_in: lifetime, scope })
}
