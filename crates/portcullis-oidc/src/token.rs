//! The token endpoint (RFC 6749 §3.2): the authorization code (§4.1.3, with PKCE, RFC 7636),
//! refresh token (§6, rotated, RFC 9700 §4.14.2) and client credentials (§4.4) grants. Access
//! tokens are JWTs per RFC 9068 with audiences from resource indicators (RFC 8707).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_core::Services;
use portcullis_core::model::client::{ClientRecord, GrantType, SigningAlgorithm, scope_token_ok};
use portcullis_core::model::session::GrantRecord;
use portcullis_core::model::user::UserRecord;
use portcullis_core::service::{DevicePoll, Redemption, RequestContext, Rotation};
use portcullis_crypto::signing::JwsAlgorithm;
use rand::RngCore;
use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use time::Duration;

use crate::client_auth::credentials;
use crate::error::OAuthError;
use crate::id_token::{self, IdTokenInput};
use crate::params::Params;

/// Access tokens live an hour unless the client says otherwise.
const DEFAULT_ACCESS_TOKEN_LIFETIME: u32 = 3600;

/// How long `client`'s access and ID tokens live, in seconds.
pub(crate) fn token_lifetime(client: &ClientRecord) -> u32 {
    client.metadata.access_token_lifetime.unwrap_or(DEFAULT_ACCESS_TOKEN_LIFETIME)
}
/// Refresh tokens expire after 30 idle days unless the client says otherwise.
const DEFAULT_REFRESH_IDLE: u32 = 30 * 24 * 3600;

/// A token-endpoint request as the web layer received it.
#[derive(Debug, Clone, Default)]
pub struct TokenRequest {
    pub params: Params,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
    /// Where it came from, for the audit log.
    pub context: RequestContext,
}

/// A successful token response (RFC 6749 §5.1, OIDC Core §3.1.3.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

/// Authenticates the client of a token, introspection or revocation request.
pub(crate) async fn authenticated_client(
    services: &Services,
    tenant: &str,
    issuer: &str,
    request: &TokenRequest,
) -> Result<ClientRecord, OAuthError> {
    let params = &request.params;
    if let Some(assertion) = params.single("client_assertion")? {
        if request.authorization.is_some() || params.single("client_secret")?.is_some() {
            return Err(OAuthError::invalid_request("use one client authentication method, not two (RFC 6749 §2.3)"));
        }
        return crate::assertion::authenticate(services, tenant, issuer, params, assertion).await;
    }
    let presented =
        credentials(request.authorization.as_deref(), params.single("client_id")?, params.single("client_secret")?)?;
    match services.authenticate_client(tenant, &presented.client_id, presented.presented()).await {
        Ok(client) => Ok(client),
        Err(portcullis_core::Error::NotFound(_)) => Err(OAuthError::unknown_issuer()),
        Err(other) => Err(other.into()),
    }
}

/// Handles a token request for the tenant whose issuer is `issuer`.
pub async fn token(
    services: &Services,
    tenant: &str,
    issuer: &str,
    request: &TokenRequest,
) -> Result<TokenResponse, OAuthError> {
    request.params.no_repeats(&["resource"])?;
    let grant_type =
        request.params.single("grant_type")?.ok_or_else(|| OAuthError::invalid_request("grant_type is missing"))?;
    let client = authenticated_client(services, tenant, issuer, request).await?;
    let wanted = match grant_type {
        "client_credentials" => GrantType::ClientCredentials,
        "authorization_code" => GrantType::AuthorizationCode,
        "refresh_token" => GrantType::RefreshToken,
        "urn:ietf:params:oauth:grant-type:device_code" => GrantType::DeviceCode,
        other => return Err(OAuthError::unsupported_grant_type(format!("unknown grant type {other}"))),
    };
    if !client.metadata.grant_types.contains(&wanted) {
        return Err(OAuthError::unauthorized_client(format!("the client is not registered for {grant_type}")));
    }
    let mint = Minter { services, tenant, issuer, client: &client };
    match wanted {
        GrantType::ClientCredentials => client_credentials(&mint, &request.params).await,
        GrantType::AuthorizationCode => authorization_code(&mint, request).await,
        GrantType::RefreshToken => refresh(&mint, request).await,
        GrantType::DeviceCode => device_code(&mint, request).await,
    }
}

/// The granted scope for client credentials: the requested one if the client may have all of
/// it; the registered one when none was requested (RFC 6749 §3.3).
fn granted_scope(requested: Option<&str>, client: &ClientRecord) -> Result<Option<String>, OAuthError> {
    let Some(requested) = requested else {
        return Ok(client.metadata.scope.clone());
    };
    let allowed: Vec<&str> = client.metadata.scope.as_deref().map(|s| s.split(' ').collect()).unwrap_or_default();
    narrowed(requested, &allowed, "the client may not request the scope").map(Some)
}

/// `requested` checked token by token against `allowed`, without repeats.
fn narrowed(requested: &str, allowed: &[&str], refusal: &str) -> Result<String, OAuthError> {
    let mut granted = Vec::new();
    for token in requested.split(' ') {
        if !scope_token_ok(token) {
            return Err(OAuthError::invalid_scope("scope must be scope tokens separated by single spaces"));
        }
        if !allowed.contains(&token) {
            return Err(OAuthError::invalid_scope(format!("{refusal} {token}")));
        }
        if !granted.contains(&token) {
            granted.push(token);
        }
    }
    Ok(granted.join(" "))
}

/// RFC 8707 §2: a `resource` is an absolute URI without a fragment that the client may
/// address (one of its registered `audiences`).
pub(crate) fn resource_ok(resource: &str, client: &ClientRecord) -> Result<(), OAuthError> {
    let absolute = resource.split_once(':').is_some_and(|(scheme, _)| {
        !scheme.is_empty() && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    });
    if !absolute || resource.contains('#') {
        return Err(OAuthError::invalid_target("resource must be an absolute URI without a fragment"));
    }
    if !client.metadata.audiences.iter().any(|a| a == resource) {
        return Err(OAuthError::invalid_target(format!("the client may not request tokens for {resource}")));
    }
    Ok(())
}

/// The audiences of an access token: the requested resources, else the client's registered
/// audiences, else this issuer.
fn audiences(resources: &[&str], client: &ClientRecord, issuer: &str) -> Result<Vec<String>, OAuthError> {
    if resources.is_empty() {
        return Ok(if client.metadata.audiences.is_empty() {
            vec![issuer.to_owned()]
        } else {
            client.metadata.audiences.clone()
        });
    }
    let mut granted: Vec<String> = Vec::new();
    for resource in resources {
        resource_ok(resource, client)?;
        if !granted.iter().any(|g| g == resource) {
            granted.push((*resource).to_owned());
        }
    }
    Ok(granted)
}

/// Mints the tokens of one response.
struct Minter<'a> {
    services: &'a Services,
    tenant: &'a str,
    issuer: &'a str,
    client: &'a ClientRecord,
}

impl Minter<'_> {
    fn lifetime(&self) -> u32 {
        token_lifetime(self.client)
    }

    /// An RFC 9068 access token with `extra` claims (the user's, for user grants).
    async fn access_token(
        &self,
        subject: &str,
        audience: &[String],
        scope: Option<&str>,
        extra: Map<String, Value>,
    ) -> Result<String, OAuthError> {
        let now = self.services.now().unix_timestamp();
        let mut jti = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut jti);
        let mut claims = extra;
        claims.insert("iss".into(), json!(self.issuer));
        claims.insert("sub".into(), json!(subject));
        claims.insert("aud".into(), if audience.len() == 1 { json!(audience[0]) } else { json!(audience) });
        claims.insert("exp".into(), json!(now + i64::from(self.lifetime())));
        claims.insert("iat".into(), json!(now));
        claims.insert("jti".into(), json!(URL_SAFE_NO_PAD.encode(jti)));
        claims.insert("client_id".into(), json!(self.client.client_id));
        if let Some(scope) = scope {
            claims.insert("scope".into(), json!(scope));
        }
        let alg = match self.client.metadata.access_token_signed_response_alg {
            Some(SigningAlgorithm::RS256) => JwsAlgorithm::RS256,
            Some(SigningAlgorithm::EdDSA) => JwsAlgorithm::EdDSA,
            Some(SigningAlgorithm::ES256) | None => JwsAlgorithm::ES256,
        };
        let payload = Value::Object(claims).to_string();
        Ok(self.services.sign_jws(self.tenant, alg, "at+jwt", payload.as_bytes()).await?)
    }

    /// The response for a user grant: an access token carrying the grant, an ID token when
    /// `openid` was granted, and the refresh token if one was issued.
    async fn for_grant(
        &self,
        grant: &GrantRecord,
        scope: &str,
        resources: &[&str],
        nonce: Option<&str>,
        refresh_token: Option<String>,
        read: Option<UserRecord>,
    ) -> Result<TokenResponse, OAuthError> {
        let custom = self.services.custom_scopes(self.tenant).await?;
        let roles_in_token = self.client.metadata.roles_in_access_token;
        let with_access =
            roles_in_token || crate::claims::needs_access(&grant.scope, grant.details.claims.as_ref(), &custom);
        let found = self
            .services
            .user_for_claims(self.tenant, &self.client.client_id, grant.user_id, with_access, read)
            .await?;
        let Some((user, access)) = found else {
            return Err(OAuthError::invalid_grant("the user of this grant can no longer log in"));
        };
        let resources: Vec<&str> = if resources.is_empty() {
            grant.details.resource.iter().map(String::as_str).collect()
        } else {
            resources.to_vec()
        };
        let audience = audiences(&resources, self.client, self.issuer)?;
        let mut extra = Map::new();
        extra.insert("auth_time".into(), json!(grant.details.auth_time));
        extra.insert("acr".into(), json!(grant.details.acr));
        extra.insert("grant_id".into(), json!(grant.id));
        if let Some(sid) = &grant.session_id {
            extra.insert("sid".into(), json!(sid));
        }
        if roles_in_token {
            extra.insert("roles".into(), json!(access.roles.iter().map(|r| r.name.as_str()).collect::<Vec<_>>()));
        }
        let subject = user.id.to_string();
        let access_token = self.access_token(&subject, &audience, Some(scope), extra).await?;
        let id_token = if scope.split(' ').any(|s| s == "openid") {
            let input = IdTokenInput {
                client: self.client,
                grant,
                user: &user,
                access: &access,
                access_token: &access_token,
                nonce,
                lifetime: self.lifetime(),
                custom: &custom,
            };
            Some(id_token::mint(self.services, self.tenant, self.issuer, input).await?)
        } else {
            None
        };
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: self.lifetime(),
            scope: Some(scope.to_owned()),
            refresh_token,
            id_token,
        })
    }

    fn refresh_idle(&self) -> Duration {
        Duration::seconds(i64::from(self.client.metadata.refresh_token_lifetime.unwrap_or(DEFAULT_REFRESH_IDLE)))
    }
}

async fn client_credentials(mint: &Minter<'_>, params: &Params) -> Result<TokenResponse, OAuthError> {
    let scope = granted_scope(params.single("scope")?, mint.client)?;
    let audience = audiences(&params.all("resource"), mint.client, mint.issuer)?;
    // RFC 9068 §2.2; with no resource owner, `sub` names the client.
    let access_token = mint.access_token(&mint.client.client_id, &audience, scope.as_deref(), Map::new()).await?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: mint.lifetime(),
        scope,
        refresh_token: None,
        id_token: None,
    })
}

/// RFC 7636 §4.6: `BASE64URL(SHA256(code_verifier)) == code_challenge`, compared in
/// constant time.
fn pkce_ok(verifier: &str, challenge: &str) -> bool {
    let valid = (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    valid && portcullis_crypto::secret::digests_equal(computed.as_bytes(), challenge.as_bytes())
}

async fn authorization_code(mint: &Minter<'_>, request: &TokenRequest) -> Result<TokenResponse, OAuthError> {
    let params = &request.params;
    let code = params.single("code")?.ok_or_else(|| OAuthError::invalid_request("code is missing"))?;
    let invalid = || OAuthError::invalid_grant("the code is invalid, expired, or was issued to another client");
    let grant = mint.services.find_code(mint.tenant, code).await?.ok_or_else(invalid)?;
    if grant.client_id != mint.client.client_id {
        return Err(invalid());
    }
    if grant.code_used_at.is_none() {
        // RFC 6749 §4.1.3: the redirect URI must be the one of the authorization request.
        if params.single("redirect_uri")? != Some(grant.details.redirect_uri.as_str()) {
            return Err(OAuthError::invalid_grant("redirect_uri differs from the authorization request's"));
        }
        match (&grant.details.code_challenge, params.single("code_verifier")?) {
            (Some(challenge), Some(verifier)) if pkce_ok(verifier, challenge) => {}
            (Some(_), Some(_)) => return Err(OAuthError::invalid_grant("code_verifier does not match (RFC 7636)")),
            (Some(_), None) => return Err(OAuthError::invalid_grant("code_verifier is missing (RFC 7636)")),
            // RFC 9700 §2.1.1: a verifier for a request without a challenge is a downgrade.
            (None, Some(_)) => return Err(OAuthError::invalid_grant("no code_challenge was sent for this code")),
            (None, None) => {}
        }
    }
    let refresh = mint.client.metadata.grant_types.contains(&GrantType::RefreshToken).then(|| mint.refresh_idle());
    let redemption = mint.services.redeem_code(mint.tenant, &grant, refresh, &request.context).await?;
    let Redemption::Redeemed { refresh_token } = redemption else {
        return Err(OAuthError::invalid_grant("the code was already used; what it issued is now revoked"));
    };
    let resources = params.all("resource");
    for resource in &resources {
        if !grant.details.resource.is_empty() && !grant.details.resource.iter().any(|r| r == resource) {
            return Err(OAuthError::invalid_target(format!("{resource} was not in the authorization request")));
        }
    }
    mint.for_grant(&grant, &grant.scope, &resources, grant.details.nonce.as_deref(), refresh_token, None).await
}

async fn refresh(mint: &Minter<'_>, request: &TokenRequest) -> Result<TokenResponse, OAuthError> {
    let params = &request.params;
    let token =
        params.single("refresh_token")?.ok_or_else(|| OAuthError::invalid_request("refresh_token is missing"))?;
    // RFC 6749 §6: a narrower scope may be asked for, never a wider one.
    let asked: Option<Vec<&str>> = match params.single("scope")? {
        Some(requested) => {
            if !requested.split(' ').all(scope_token_ok) {
                return Err(OAuthError::invalid_scope("scope must be scope tokens separated by single spaces"));
            }
            Some(requested.split(' ').collect())
        }
        None => None,
    };
    let idle = mint.refresh_idle();
    let client_id = &mint.client.client_id;
    let rotation = mint
        .services
        .rotate_refresh_token(mint.tenant, client_id, token, asked.as_deref(), idle, &request.context)
        .await?;
    let (grant, refresh_token, user) = match rotation {
        Rotation::Rotated { grant, refresh_token, user } => (grant, refresh_token, user),
        Rotation::Invalid => return Err(OAuthError::invalid_grant("the refresh token is invalid or expired")),
        Rotation::Replayed => {
            return Err(OAuthError::invalid_grant("the refresh token was already used; its family is now revoked"));
        }
        Rotation::ScopeTooWide => return Err(OAuthError::invalid_scope("the grant does not include all of the scope")),
    };
    let scope = match asked {
        Some(asked) => {
            let mut unique: Vec<&str> = Vec::new();
            for s in asked {
                if !unique.contains(&s) {
                    unique.push(s);
                }
            }
            unique.join(" ")
        }
        None => grant.scope.clone(),
    };
    mint.for_grant(&grant, &scope, &params.all("resource"), None, Some(refresh_token), Some(*user)).await
}

/// RFC 8628 §3.4, §3.5: one poll of the device.
async fn device_code(mint: &Minter<'_>, request: &TokenRequest) -> Result<TokenResponse, OAuthError> {
    let code =
        request.params.single("device_code")?.ok_or_else(|| OAuthError::invalid_request("device_code is missing"))?;
    let poll = mint.services.poll_device(mint.tenant, &mint.client.client_id, code).await?;
    let grant = match poll {
        DevicePoll::Approved(grant) => grant,
        DevicePoll::Pending => {
            return Err(OAuthError::new("authorization_pending", 400, "the user has not decided yet"));
        }
        DevicePoll::SlowDown => {
            return Err(OAuthError::new("slow_down", 400, "poll less often: the interval grew by 5 s"));
        }
        DevicePoll::Denied => return Err(OAuthError::new("access_denied", 400, "the user denied the request")),
        DevicePoll::Expired => return Err(OAuthError::new("expired_token", 400, "the device code has expired")),
        DevicePoll::Invalid => return Err(OAuthError::invalid_grant("the device code is invalid or already used")),
    };
    let refresh_token = if mint.client.metadata.grant_types.contains(&GrantType::RefreshToken) {
        Some(mint.services.issue_refresh_token(mint.tenant, &grant, mint.refresh_idle()).await?)
    } else {
        None
    };
    mint.for_grant(&grant, &grant.scope, &[], None, refresh_token, None).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_matches_the_rfc_example() {
        // RFC 7636 Appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(pkce_ok(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        assert!(!pkce_ok(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"));
        assert!(!pkce_ok("short", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
    }
}
