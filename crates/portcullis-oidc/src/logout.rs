//! Logout: RP-initiated (OpenID Connect RP-Initiated Logout 1.0) and back-channel logout
//! tokens (OpenID Connect Back-Channel Logout 1.0 §2.4).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_core::Services;
use portcullis_core::model::client::ClientRecord;
use rand::RngCore;
use serde_json::{Value, json};

use crate::error::OAuthError;
use crate::id_token::{hint_claims, id_token_alg};
use crate::params::Params;

/// A validated logout request.
#[derive(Debug, Clone, Default)]
pub struct LogoutRequest {
    /// The client the request names (through `id_token_hint` or `client_id`).
    pub client: Option<ClientRecord>,
    /// The session the hint was issued in (`sid`), if it named one.
    pub hinted_session: Option<String>,
    /// Where to send the browser afterwards: registered for `client`, with `state` added.
    pub redirect: Option<String>,
}

/// Validates a logout request (RP-Initiated Logout §2, §3): the hint must be an ID token of
/// this issuer, `client_id` must agree with it, and `post_logout_redirect_uri` must be one the
/// client registered, exactly. Errors are shown to the user, never redirected.
pub async fn validate(
    services: &Services,
    tenant: &str,
    issuer: &str,
    params: &Params,
) -> Result<LogoutRequest, OAuthError> {
    params.no_repeats(&[])?;
    let mut request = LogoutRequest::default();
    let mut client_id = params.single("client_id")?.map(str::to_owned);
    if let Some(hint) = params.single("id_token_hint")? {
        let claims = hint_claims(services, tenant, issuer, hint)
            .await?
            .ok_or_else(|| OAuthError::invalid_request("id_token_hint is not an ID token this issuer made"))?;
        let audience = match claims.get("aud") {
            Some(Value::String(one)) => Some(one.clone()),
            Some(Value::Array(many)) if many.len() == 1 => many[0].as_str().map(str::to_owned),
            _ => None,
        };
        if client_id.is_some() && audience.is_some() && client_id != audience {
            return Err(OAuthError::invalid_request("client_id is not the audience of id_token_hint"));
        }
        client_id = client_id.or(audience);
        request.hinted_session = claims.get("sid").and_then(Value::as_str).map(str::to_owned);
    }
    if let Some(client_id) = &client_id {
        request.client = Some(
            services
                .client(tenant, client_id)
                .await?
                .ok_or_else(|| OAuthError::invalid_request("the client is not registered"))?,
        );
    }
    if let Some(uri) = params.single("post_logout_redirect_uri")? {
        let client = request
            .client
            .as_ref()
            .ok_or_else(|| OAuthError::invalid_request("post_logout_redirect_uri needs id_token_hint or client_id"))?;
        if !client.metadata.post_logout_redirect_uris.iter().any(|r| r.as_str() == uri) {
            return Err(OAuthError::invalid_request("post_logout_redirect_uri is not registered for this client"));
        }
        let mut target = uri.to_owned();
        if let Some(state) = params.single("state")? {
            let query = url::form_urlencoded::Serializer::new(String::new()).append_pair("state", state).finish();
            target.push(if target.contains('?') { '&' } else { '?' });
            target.push_str(&query);
        }
        request.redirect = Some(target);
    }
    Ok(request)
}

/// A logout token for `client` about session `sid` of user `sub` (Back-Channel Logout §2.4),
/// signed like the client's ID tokens, with `typ: logout+jwt` (§2.4, RFC 8417 style).
pub async fn logout_token(
    services: &Services,
    tenant: &str,
    issuer: &str,
    client: &ClientRecord,
    sub: &str,
    sid: &str,
) -> Result<String, OAuthError> {
    let now = services.now().unix_timestamp();
    let mut jti = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut jti);
    let claims = json!({
        "iss": issuer,
        "sub": sub,
        "aud": client.client_id,
        "iat": now,
        "exp": now + 120,
        "jti": URL_SAFE_NO_PAD.encode(jti),
        "sid": sid,
        "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
    });
    let payload = claims.to_string();
    Ok(services.sign_jws(tenant, id_token_alg(client), "logout+jwt", payload.as_bytes()).await?)
}
