//! OAuth 2.0 / OpenID Connect clients: registration rules (RFC 7591 §2, RFC 9700, RFC 8252)
//! and their administration. The secret is shown once and stored as a SHA-256 digest.

use portcullis_crypto::secret::{digest, random_secret};
use serde_json::{Value, json};

use super::audit::Change;
use super::user_codec::merge_patch;
use super::{Principal, Services};
use crate::error::{Error, FieldError, Result};
use crate::model::client::{
    Client, ClientMetadata, ClientRecord, ClientWithSecret, GrantType, RESPONSE_TYPES, TokenEndpointAuthMethod,
    canonical_response_type, scope_token_ok,
};
use crate::model::from_json;
use crate::model::page::{Page, decode_cursor, into_page, page_size};
use crate::model::tenant::TenantRecord;
use crate::model::token::Access;
use crate::store::StoreTx;

/// The prefix of client secrets, so secret scanners can spot a leaked one.
pub const CLIENT_SECRET_PREFIX: &str = "pcs_";

fn client_id_ok(id: &str) -> bool {
    // RFC 3986 unreserved characters: safe in URLs and in HTTP Basic credentials (no `:`).
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

fn web_url_ok(text: &str, https_only: bool) -> bool {
    let Ok(url) = url::Url::parse(text) else { return false };
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && (!https_only || loopback));
    scheme_ok && url.host_str().is_some() && text.len() <= 2048 && url.fragment().is_none()
}

/// Checks the metadata and fills what follows from it; collects every problem.
fn normalize(metadata: &mut ClientMetadata) -> Result<()> {
    let mut errors = Vec::new();
    let mut fail = |field: &str, reason: &str| errors.push(FieldError::new(field, reason));
    if let Some(id) = &metadata.client_id
        && !client_id_ok(id)
    {
        fail("client_id", "must be 1 to 128 characters of A-Z, a-z, 0-9, '-', '.', '_', '~'");
    }
    let name = metadata.client_name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        fail("client_name", "must be 1 to 200 characters without control characters");
    }
    let grants = &mut metadata.grant_types;
    grants.sort_by_key(|g| *g as u8);
    grants.dedup();
    if grants.is_empty() {
        fail("grant_types", "must name at least one grant type");
    }
    let code = grants.contains(&GrantType::AuthorizationCode);
    if metadata.response_types.is_empty() && code {
        metadata.response_types = vec!["code".to_owned()];
    }
    // A response type is a set of words (RFC 6749 §3.1.1): keep each in one spelling.
    for response_type in &mut metadata.response_types {
        *response_type = canonical_response_type(response_type).unwrap_or_else(|| response_type.clone());
    }
    metadata.response_types.sort();
    metadata.response_types.dedup();
    if metadata.response_types.iter().any(|r| !RESPONSE_TYPES.contains(&r.as_str())) {
        fail(
            "response_types",
            "only \"code\" and \"code id_token\" are supported: no access token in the front channel (RFC 9700 §2.1.2)",
        );
    }
    if metadata.response_types.is_empty() == code {
        fail(
            "response_types",
            "code response types go with the authorization_code grant and only with it (RFC 7591 §2.1)",
        );
    }
    if code && metadata.redirect_uris.is_empty() {
        fail("redirect_uris", "the authorization_code grant needs at least one redirect URI");
    }
    if grants.contains(&GrantType::RefreshToken)
        && !grants.iter().any(|g| matches!(g, GrantType::AuthorizationCode | GrantType::DeviceCode))
    {
        fail("grant_types", "refresh_token needs authorization_code or device_code");
    }
    let method = metadata.token_endpoint_auth_method;
    if method == TokenEndpointAuthMethod::None {
        if grants.contains(&GrantType::ClientCredentials) {
            fail(
                "grant_types",
                "client_credentials needs a confidential client (token_endpoint_auth_method other than none)",
            );
        }
        if !metadata.require_pkce {
            fail("require_pkce", "public clients always use PKCE");
        }
    }
    match (&metadata.jwks, &metadata.jwks_uri) {
        (Some(_), Some(_)) => fail("jwks", "give jwks or jwks_uri, not both (RFC 7591 §2)"),
        (None, None) if method == TokenEndpointAuthMethod::PrivateKeyJwt => {
            fail("jwks", "private_key_jwt needs jwks or jwks_uri");
        }
        _ => {}
    }
    if let Some(jwks) = &metadata.jwks {
        check_jwks(jwks, &mut fail);
    }
    if metadata.jwks_uri.as_deref().is_some_and(|u| !web_url_ok(u, true)) {
        fail("jwks_uri", "must be an https URL (http only on loopback), without a fragment");
    }
    for (field, value) in [
        ("client_uri", &metadata.client_uri),
        ("logo_uri", &metadata.logo_uri),
        ("tos_uri", &metadata.tos_uri),
        ("policy_uri", &metadata.policy_uri),
    ] {
        if value.as_deref().is_some_and(|u| !web_url_ok(u, false)) {
            fail(field, "must be an http(s) URL");
        }
    }
    if metadata.backchannel_logout_uri.as_deref().is_some_and(|u| !web_url_ok(u, true)) {
        fail("backchannel_logout_uri", "must be an https URL (http only on loopback), without a fragment");
    }
    if let Some(scope) = &metadata.scope
        && (scope.len() > 4096 || scope.split(' ').any(|t| !scope_token_ok(t)))
    {
        fail("scope", "must be scope tokens separated by single spaces (RFC 6749 §3.3)");
    }
    if metadata.contacts.len() > 20
        || metadata.contacts.iter().any(|c| c.is_empty() || c.len() > 254 || c.chars().any(char::is_control))
    {
        fail("contacts", "at most 20 entries of 1 to 254 characters");
    }
    if metadata.default_acr_values.iter().any(|v| !crate::model::auth_policy::ACR_VALUES.contains(&v.as_str())) {
        fail("default_acr_values", "each value must be one of the supported acr values (\"1\", \"2\")");
    }
    if metadata.audiences.len() > 50
        || metadata
            .audiences
            .iter()
            .any(|a| a.is_empty() || a.len() > 2048 || a.chars().any(|c| c.is_whitespace() || c.is_control()))
    {
        fail("audiences", "at most 50 audiences of 1 to 2048 characters without spaces");
    }
    if metadata.redirect_uris.len() > 100 || metadata.post_logout_redirect_uris.len() > 100 {
        fail("redirect_uris", "at most 100 URIs");
    }
    if metadata.access_token_lifetime.is_some_and(|l| !(60..=86_400).contains(&l)) {
        fail("access_token_lifetime", "must be between 60 and 86400 seconds");
    }
    if metadata.refresh_token_lifetime.is_some_and(|l| !(60..=31_536_000).contains(&l)) {
        fail("refresh_token_lifetime", "must be between 60 seconds and one year");
    }
    if metadata.refresh_token_absolute_lifetime.is_some_and(|l| !(60..=31_536_000).contains(&l)) {
        fail("refresh_token_absolute_lifetime", "must be between 60 seconds and one year");
    }
    if let (Some(idle), Some(absolute)) = (metadata.refresh_token_lifetime, metadata.refresh_token_absolute_lifetime)
        && absolute < idle
    {
        fail("refresh_token_absolute_lifetime", "must not be shorter than refresh_token_lifetime");
    }
    if errors.is_empty() { Ok(()) } else { Err(Error::Validation(errors)) }
}

/// A client's JWK Set must hold public keys only: a private key sent here would be a leak.
fn check_jwks(jwks: &Value, fail: &mut impl FnMut(&str, &str)) {
    let Some(keys) = jwks.get("keys").and_then(Value::as_array) else {
        return fail("jwks", "must be a JWK Set: {\"keys\": [...]}");
    };
    if keys.is_empty() || keys.len() > 20 {
        return fail("jwks", "must hold 1 to 20 keys");
    }
    for key in keys {
        let Some(object) = key.as_object() else { return fail("jwks", "every key must be a JSON object") };
        if !object.get("kty").is_some_and(Value::is_string) {
            return fail("jwks", "every key needs a kty (RFC 7517 §4.1)");
        }
        if ["d", "p", "q", "dp", "dq", "qi", "k", "oth"].iter().any(|private| object.contains_key(*private)) {
            return fail("jwks", "must hold public keys only: a private key was sent");
        }
    }
}

impl Services {
    /// `POST …/clients`.
    pub async fn create_client(
        &self,
        who: &Principal,
        tenant: &str,
        metadata: ClientMetadata,
    ) -> Result<ClientWithSecret> {
        let mut tx = self.store.write().await?;
        let tenant_record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        let created = self.insert_client(&mut tx, who, &tenant_record, metadata, None).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Validates and inserts a new client, with its audit event, inside `tx`.
    pub(crate) async fn insert_client(
        &self,
        tx: &mut Box<dyn StoreTx>,
        who: &Principal,
        tenant: &TenantRecord,
        mut metadata: ClientMetadata,
        registration_digest: Option<Vec<u8>>,
    ) -> Result<ClientWithSecret> {
        normalize(&mut metadata)?;
        let client_id = metadata.client_id.take().unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
        let secret = metadata.token_endpoint_auth_method.uses_secret().then(|| random_secret(CLIENT_SECRET_PREFIX));
        let now = self.clock.now();
        let record = ClientRecord {
            tenant_id: tenant.id,
            client_id,
            secret_digest: secret.as_deref().map(|s| digest(s).to_vec()),
            registration_digest,
            metadata,
            created_at: now,
            updated_at: now,
        };
        tx.client_insert(&record).await?;
        let client = Client::from(&record);
        let change = Change {
            action: "client.create",
            tenant: Some(tenant.name.as_str()),
            target_type: "client",
            target_id: Some(record.client_id.clone()),
            before: None,
            after: Some(json!(client)),
        };
        self.record(tx, who, change).await?;
        Ok(ClientWithSecret { client, client_secret_expires_at: secret.as_ref().map(|_| 0), client_secret: secret })
    }

    /// `GET …/clients`.
    pub async fn list_clients(
        &self,
        who: &Principal,
        tenant: &str,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<Client>> {
        let limit = page_size(limit)?;
        let after = decode_cursor(cursor)?;
        let mut tx = self.store.read().await?;
        let tenant_record = self.tenant_for(&mut tx, who, tenant, Access::Read).await?;
        let rows = tx.client_list(tenant_record.id, after.as_deref(), limit + 1).await?;
        Ok(into_page(rows.iter().map(Client::from).collect(), limit, |c: &Client| c.client_id.clone()))
    }

    /// `GET …/clients/{client_id}`.
    pub async fn get_client(&self, who: &Principal, tenant: &str, client_id: &str) -> Result<Client> {
        let mut tx = self.store.read().await?;
        let tenant_record = self.tenant_for(&mut tx, who, tenant, Access::Read).await?;
        let record = tx.client_get(tenant_record.id, client_id).await?.ok_or(Error::NotFound("client"))?;
        Ok(Client::from(&record))
    }

    /// `PATCH …/clients/{client_id}`: a JSON merge patch of the metadata. Switching to a
    /// secret-based authentication method creates a secret (shown in this answer only);
    /// switching away from one deletes it.
    pub async fn update_client(
        &self,
        who: &Principal,
        tenant: &str,
        client_id: &str,
        patch: Value,
    ) -> Result<ClientWithSecret> {
        let Value::Object(changes) = &patch else {
            return Err(Error::invalid("", "a merge patch must be a JSON object"));
        };
        for field in ["client_id", "client_id_issued_at", "client_secret", "created_at", "updated_at"] {
            if changes.contains_key(field) {
                return Err(Error::invalid(field, "cannot be changed by PATCH"));
            }
        }
        let mut tx = self.store.write().await?;
        let tenant_record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        let record = tx.client_get(tenant_record.id, client_id).await?.ok_or(Error::NotFound("client"))?;
        let mut document = serde_json::to_value(&record.metadata)?;
        merge_patch(&mut document, &patch);
        let metadata: ClientMetadata = from_json(document)?;
        let updated = self.replace_client_metadata(&mut tx, who, tenant, record, metadata).await?;
        tx.commit().await?;
        self.changed("client.update", Some(tenant), Some(client_id.to_owned()));
        Ok(updated)
    }

    /// Replaces a client's metadata inside `tx`, audited. Switching to a secret-based method
    /// creates a secret (returned once); switching away deletes it.
    pub(crate) async fn replace_client_metadata(
        &self,
        tx: &mut Box<dyn StoreTx>,
        who: &Principal,
        tenant: &str,
        mut record: ClientRecord,
        mut metadata: ClientMetadata,
    ) -> Result<ClientWithSecret> {
        normalize(&mut metadata)?;
        let before = Client::from(&record);
        let mut secret = None;
        match (metadata.token_endpoint_auth_method.uses_secret(), record.secret_digest.is_some()) {
            (true, false) => {
                let fresh = random_secret(CLIENT_SECRET_PREFIX);
                record.secret_digest = Some(digest(&fresh).to_vec());
                secret = Some(fresh);
            }
            (false, true) => record.secret_digest = None,
            _ => {}
        }
        record.metadata = metadata;
        record.updated_at = self.clock.now();
        tx.client_update(&record).await?;
        let client = Client::from(&record);
        let change = Change {
            action: "client.update",
            tenant: Some(tenant),
            target_type: "client",
            target_id: Some(record.client_id.clone()),
            before: Some(json!(before)),
            after: Some(json!(client)),
        };
        self.record(tx, who, change).await?;
        Ok(ClientWithSecret { client, client_secret_expires_at: secret.as_ref().map(|_| 0), client_secret: secret })
    }

    /// `POST …/clients/{client_id}/secret`: replaces the secret; the old one stops working.
    pub async fn rotate_client_secret(
        &self,
        who: &Principal,
        tenant: &str,
        client_id: &str,
    ) -> Result<ClientWithSecret> {
        let mut tx = self.store.write().await?;
        let tenant_record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        let mut record = tx.client_get(tenant_record.id, client_id).await?.ok_or(Error::NotFound("client"))?;
        if !record.metadata.token_endpoint_auth_method.uses_secret() {
            return Err(Error::conflict(
                "token_endpoint_auth_method",
                "this client does not authenticate with a secret",
            ));
        }
        let secret = random_secret(CLIENT_SECRET_PREFIX);
        record.secret_digest = Some(digest(&secret).to_vec());
        record.updated_at = self.clock.now();
        tx.client_update(&record).await?;
        self.record(
            &mut tx,
            who,
            Change {
                action: "client.secret.rotate",
                tenant: Some(tenant),
                target_type: "client",
                target_id: Some(client_id.to_owned()),
                before: None,
                after: None,
            },
        )
        .await?;
        tx.commit().await?;
        self.changed("client.secret.rotate", Some(tenant), Some(client_id.to_owned()));
        Ok(ClientWithSecret {
            client: Client::from(&record),
            client_secret: Some(secret),
            client_secret_expires_at: Some(0),
        })
    }

    /// `DELETE …/clients/{client_id}`.
    pub async fn delete_client(&self, who: &Principal, tenant: &str, client_id: &str) -> Result<()> {
        let mut tx = self.store.write().await?;
        let tenant_record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        let record = tx.client_get(tenant_record.id, client_id).await?.ok_or(Error::NotFound("client"))?;
        tx.client_delete(tenant_record.id, client_id).await?;
        tx.roles_of_client_delete(tenant_record.id, client_id).await?;
        self.record(
            &mut tx,
            who,
            Change {
                action: "client.delete",
                tenant: Some(tenant),
                target_type: "client",
                target_id: Some(client_id.to_owned()),
                before: Some(json!(Client::from(&record))),
                after: None,
            },
        )
        .await?;
        tx.commit().await?;
        self.changed("client.delete", Some(tenant), Some(client_id.to_owned()));
        Ok(())
    }
}

/// How a client presented itself at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresentedAuth<'a> {
    /// `Authorization: Basic` (RFC 6749 §2.3.1).
    Basic(&'a str),
    /// `client_secret` in the form body.
    Post(&'a str),
    /// No secret: a public client.
    None,
}

/// The digest every unknown client is compared against, so an unknown `client_id` costs the
/// same as a wrong secret.
const UNKNOWN_CLIENT_DIGEST: [u8; 32] = [0; 32];

impl Services {
    /// The current time, from the services' clock (protocol crates mint tokens with it).
    pub fn now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }

    /// The client `client_id` of `tenant`, from this node's cache when it holds it; `None`
    /// when there is no such client, [`Error::NotFound`] when there is no such tenant.
    /// The client `client_id` of `tenant`, from this node's cache or inside `tx`.
    pub(crate) async fn client_in(
        &self,
        tx: &mut Box<dyn StoreTx>,
        tenant: &TenantRecord,
        client_id: &str,
    ) -> Result<Option<ClientRecord>> {
        let now = self.clock.now();
        if let Some(client) = self.caches.client(tenant.name.as_str(), client_id, now) {
            return Ok(Some(client));
        }
        let client = tx.client_get(tenant.id, client_id).await?;
        if let Some(client) = &client {
            self.caches.put_client(tenant.name.as_str(), client.clone(), now);
        }
        Ok(client)
    }

    pub async fn client(&self, tenant: &str, client_id: &str) -> Result<Option<ClientRecord>> {
        let now = self.clock.now();
        if let Some(client) = self.caches.client(tenant, client_id, now) {
            return Ok(Some(client));
        }
        let mut tx = self.store.read().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        let client = tx.client_get(record.id, client_id).await?;
        if let Some(client) = &client {
            self.caches.put_client(tenant, client.clone(), now);
        }
        Ok(client)
    }

    /// Accepts the `jti` of a verified client assertion once (RFC 7523 §3 item 7): false
    /// for a replay. Kept until `expires_at`.
    pub async fn use_client_assertion(
        &self,
        tenant: &str,
        client_id: &str,
        jti: &str,
        expires_at: time::OffsetDateTime,
    ) -> Result<bool> {
        if jti.is_empty() || jti.len() > 256 {
            return Ok(false);
        }
        let mut tx = self.store.write().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        let fresh = tx.client_assertion_record(record.id, client_id, jti, expires_at).await?;
        tx.commit().await?;
        Ok(fresh)
    }

    /// Authenticates a client at the token endpoint of `tenant`. Unknown clients, wrong
    /// secrets and a method other than the registered one are all [`Error::Unauthenticated`];
    /// secrets are compared as SHA-256 digests in constant time.
    pub async fn authenticate_client(
        &self,
        tenant: &str,
        client_id: &str,
        presented: PresentedAuth<'_>,
    ) -> Result<ClientRecord> {
        let client = self.client(tenant, client_id).await?;
        let secret = match presented {
            PresentedAuth::Basic(secret) | PresentedAuth::Post(secret) => Some(secret),
            PresentedAuth::None => None,
        };
        let stored =
            client.as_ref().and_then(|c| c.secret_digest.clone()).unwrap_or_else(|| UNKNOWN_CLIENT_DIGEST.to_vec());
        let secret_matches = secret.is_some_and(|s| portcullis_crypto::secret::digests_equal(&stored, &digest(s)));
        let Some(client) = client else { return Err(Error::Unauthenticated) };
        let method_matches = matches!(
            (client.metadata.token_endpoint_auth_method, presented),
            (TokenEndpointAuthMethod::ClientSecretBasic, PresentedAuth::Basic(_))
                | (TokenEndpointAuthMethod::ClientSecretPost, PresentedAuth::Post(_))
                | (TokenEndpointAuthMethod::None, PresentedAuth::None)
        );
        let secret_ok = match client.metadata.token_endpoint_auth_method {
            TokenEndpointAuthMethod::ClientSecretBasic | TokenEndpointAuthMethod::ClientSecretPost => secret_matches,
            TokenEndpointAuthMethod::None => true,
            // RFC 7523 assertions come with their own issue slice; until then such clients
            // cannot authenticate here.
            TokenEndpointAuthMethod::PrivateKeyJwt => false,
        };
        if method_matches && secret_ok { Ok(client) } else { Err(Error::Unauthenticated) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(value: Value) -> Result<ClientMetadata> {
        let mut metadata: ClientMetadata = from_json(value)?;
        normalize(&mut metadata)?;
        Ok(metadata)
    }

    fn fields(result: Result<ClientMetadata>) -> Vec<String> {
        match result {
            Err(Error::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_web_app_gets_code_and_pkce_by_default() {
        let m = metadata(json!({"client_name": "Portal", "redirect_uris": ["https://portal.example.com/cb"]}))
            .expect("valid");
        assert_eq!(m.response_types, ["code"]);
        assert_eq!(m.token_endpoint_auth_method, TokenEndpointAuthMethod::ClientSecretBasic);
        assert!(m.require_pkce);
    }

    #[test]
    fn a_machine_client_needs_no_redirect_uri() {
        let m = metadata(json!({"client_name": "Batch", "grant_types": ["client_credentials"]})).expect("valid");
        assert!(m.response_types.is_empty());
    }

    #[test]
    fn refusals_name_the_field() {
        assert_eq!(fields(metadata(json!({"client_name": "x"}))), ["redirect_uris"]);
        assert_eq!(
            fields(metadata(
                json!({"client_name": "x", "grant_types": ["client_credentials"], "token_endpoint_auth_method": "none"})
            )),
            ["grant_types"]
        );
        assert_eq!(
            fields(metadata(
                json!({"client_name": "x", "redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "none", "require_pkce": false})
            )),
            ["require_pkce"]
        );
        assert_eq!(
            fields(metadata(
                json!({"client_name": "x", "grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt"})
            )),
            ["jwks"]
        );
        assert_eq!(
            fields(metadata(
                json!({"client_name": "x", "grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt",
                "jwks": {"keys": [{"kty": "EC", "crv": "P-256", "x": "a", "y": "b", "d": "secret"}]}})
            )),
            ["jwks"]
        );
        assert_eq!(fields(metadata(json!({"client_name": "x", "grant_types": ["refresh_token"]}))), ["grant_types"]);
        assert_eq!(
            fields(metadata(
                json!({"client_name": "x", "grant_types": ["client_credentials"], "scope": "read  write"})
            )),
            ["scope"]
        );
        assert_eq!(
            fields(metadata(
                json!({"client_name": "x", "grant_types": ["client_credentials"], "response_types": ["token"]})
            )),
            ["response_types", "response_types"]
        );
        assert_eq!(
            fields(metadata(
                json!({"client_name": "x", "grant_types": ["client_credentials"], "client_id": "has:colon"})
            )),
            ["client_id"]
        );
    }

    #[test]
    fn wire_format_refusals() {
        // The password and implicit grants do not exist here.
        assert!(from_json::<ClientMetadata>(json!({"client_name": "x", "grant_types": ["password"]})).is_err());
        assert!(from_json::<ClientMetadata>(json!({"client_name": "x", "grant_types": ["implicit"]})).is_err());
        assert!(
            from_json::<ClientMetadata>(json!({"client_name": "x", "redirect_uris": ["https://a.example/cb#x"]}))
                .is_err()
        );
        assert!(from_json::<ClientMetadata>(json!({"client_name": "x", "unknown": 1})).is_err());
    }
}
