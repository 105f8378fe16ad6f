//! The device authorization endpoint (RFC 8628 §3.1, §3.2).

use portcullis_core::Services;
use portcullis_core::model::client::GrantType;
use portcullis_core::model::session::AuthorizationRequest;
use portcullis_core::service::{DEVICE_CODE_LIFETIME, DEVICE_POLL_INTERVAL};
use serde_json::{Value, json};

use crate::error::OAuthError;
use crate::scopes;
use crate::token::{TokenRequest, authenticated_client, resource_ok};

/// Starts a device authorization for an authenticated (or public) client: the device code to
/// poll with, the user code to show, and where the user goes.
pub async fn device_authorization(
    services: &Services,
    tenant: &str,
    issuer: &str,
    request: &TokenRequest,
) -> Result<Value, OAuthError> {
    request.params.no_repeats(&["resource"])?;
    let client = authenticated_client(services, tenant, issuer, request).await?;
    if !client.metadata.grant_types.contains(&GrantType::DeviceCode) {
        return Err(OAuthError::unauthorized_client("the client is not registered for the device grant"));
    }
    let custom = services.custom_scopes(tenant).await?;
    let mut scope: Vec<String> = Vec::new();
    for token in request.params.single("scope")?.unwrap_or_default().split(' ').filter(|t| !t.is_empty()) {
        if !portcullis_core::model::client::scope_token_ok(token) || !scopes::allowed(&client, token, &custom) {
            return Err(OAuthError::invalid_scope(format!("the client may not request the scope {token}")));
        }
        if !scope.iter().any(|s| s == token) {
            scope.push(token.to_owned());
        }
    }
    let mut resource: Vec<String> = Vec::new();
    for r in request.params.all("resource") {
        resource_ok(r, &client)?;
        if !resource.iter().any(|x| x == r) {
            resource.push(r.to_owned());
        }
    }
    let asked = AuthorizationRequest {
        client_id: client.client_id.clone(),
        redirect_uri: String::new(),
        scope,
        resource,
        ..Default::default()
    };
    let started = services.start_device(tenant, asked).await?;
    let verification_uri = format!("{issuer}/device");
    Ok(json!({
        "device_code": started.device_code,
        "user_code": started.user_code,
        "verification_uri_complete": format!("{verification_uri}?user_code={}", started.user_code),
        "verification_uri": verification_uri,
        "expires_in": DEVICE_CODE_LIFETIME.whole_seconds(),
        "interval": DEVICE_POLL_INTERVAL,
    }))
}
