//! Dynamic Client Registration (RFC 7591 §3) and client configuration (RFC 7592 §2). The
//! metadata rules are the admin API's; a registrant additionally may not make itself
//! first-party or grant itself audiences.

use portcullis_core::Services;
use portcullis_core::model::client::{Client, ClientMetadata, ClientWithSecret};
use portcullis_core::service::RequestContext;
use serde_json::{Value, json};

use crate::error::OAuthError;

fn invalid_token() -> OAuthError {
    OAuthError::new("invalid_token", 401, "the access token is missing, invalid, expired or used up")
}

/// Maps a service error to RFC 7591 §3.2.2 / RFC 7592 errors.
fn registration_error(error: portcullis_core::Error) -> OAuthError {
    match error {
        portcullis_core::Error::Unauthenticated => invalid_token(),
        portcullis_core::Error::Validation(fields) => {
            let redirect = fields.iter().any(|f| f.field.starts_with("redirect_uris"));
            let description =
                fields.iter().map(|f| format!("{}: {}", f.field, f.reason)).collect::<Vec<_>>().join("; ");
            let code = if redirect { "invalid_redirect_uri" } else { "invalid_client_metadata" };
            OAuthError::new(code, 400, description)
        }
        other => other.into(),
    }
}

fn metadata(body: &[u8]) -> Result<ClientMetadata, OAuthError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| OAuthError::new("invalid_client_metadata", 400, "the body must be a JSON object"))?;
    portcullis_core::model::from_json(value).map_err(registration_error)
}

/// The client as the registration endpoints show it (RFC 7591 §3.2.1, RFC 7592 §3).
fn shown(client: &Client, issuer: &str) -> Value {
    let mut value = json!(client);
    if let Value::Object(map) = &mut value {
        map.remove("created_at");
        map.remove("updated_at");
        map.insert("registration_client_uri".into(), json!(format!("{issuer}/register/{}", client.client_id)));
    }
    value
}

fn with_secret(answer: &ClientWithSecret, issuer: &str) -> Value {
    let mut value = shown(&answer.client, issuer);
    if let (Value::Object(map), Some(secret)) = (&mut value, &answer.client_secret) {
        map.insert("client_secret".into(), json!(secret));
        map.insert("client_secret_expires_at".into(), json!(0));
    }
    value
}

/// `POST {issuer}/register` with an initial access token.
pub async fn register(
    services: &Services,
    tenant: &str,
    issuer: &str,
    bearer: Option<&str>,
    body: &[u8],
    context: &RequestContext,
) -> Result<Value, OAuthError> {
    let token = bearer.ok_or_else(invalid_token)?;
    let asked = metadata(body)?;
    let registered = services.register_client(tenant, token, asked, context).await.map_err(registration_error)?;
    let mut value = with_secret(&registered.client, issuer);
    if let Value::Object(map) = &mut value {
        map.insert("registration_access_token".into(), json!(registered.registration_access_token));
    }
    Ok(value)
}

/// `GET {issuer}/register/{client_id}` (RFC 7592 §2.1).
pub async fn read(
    services: &Services,
    tenant: &str,
    issuer: &str,
    client_id: &str,
    bearer: Option<&str>,
) -> Result<Value, OAuthError> {
    let token = bearer.ok_or_else(invalid_token)?;
    let record = services.registered_client(tenant, client_id, token).await.map_err(registration_error)?;
    Ok(shown(&Client::from(&record), issuer))
}

/// `PUT {issuer}/register/{client_id}` (RFC 7592 §2.2): the whole metadata, replaced.
pub async fn update(
    services: &Services,
    tenant: &str,
    issuer: &str,
    client_id: &str,
    bearer: Option<&str>,
    body: &[u8],
    context: &RequestContext,
) -> Result<Value, OAuthError> {
    let token = bearer.ok_or_else(invalid_token)?;
    // RFC 7592 §2.2: the body carries client_id (and may echo the secret); neither is metadata.
    let mut value: Value = serde_json::from_slice(body)
        .map_err(|_| OAuthError::new("invalid_client_metadata", 400, "the body must be a JSON object"))?;
    if let Value::Object(map) = &mut value {
        if map.get("client_id").and_then(Value::as_str).is_some_and(|id| id != client_id) {
            return Err(OAuthError::new("invalid_client_metadata", 400, "client_id is not this client's"));
        }
        for echoed in [
            "client_id",
            "client_secret",
            "client_id_issued_at",
            "client_secret_expires_at",
            "registration_access_token",
            "registration_client_uri",
        ] {
            map.remove(echoed);
        }
    }
    let asked: ClientMetadata = portcullis_core::model::from_json(value).map_err(registration_error)?;
    let updated = services
        .update_registered_client(tenant, client_id, token, asked, context)
        .await
        .map_err(registration_error)?;
    Ok(with_secret(&updated, issuer))
}

/// `DELETE {issuer}/register/{client_id}` (RFC 7592 §2.3).
pub async fn delete(
    services: &Services,
    tenant: &str,
    client_id: &str,
    bearer: Option<&str>,
    context: &RequestContext,
) -> Result<(), OAuthError> {
    let token = bearer.ok_or_else(invalid_token)?;
    services.delete_registered_client(tenant, client_id, token, context).await.map_err(registration_error)
}
