//! Dynamic Client Registration (RFC 7591) and its management protocol (RFC 7592). Off until
//! an administrator issues an initial access token; a registered client then manages itself
//! with the registration access token it received. Tokens are kept as SHA-256 digests.

use portcullis_crypto::secret::{digest, digests_equal, random_id, random_secret};
use serde_json::json;

use super::audit::Change;
use super::{Principal, RequestContext, Services};
use crate::error::{Error, FieldError, Result};
use crate::model::client::{
    ClientMetadata, ClientRecord, ClientWithSecret, CreatedRegistrationToken, NewRegistrationToken, RegistrationToken,
    RegistrationTokenRecord,
};
use crate::model::tenant::TenantRecord;
use crate::model::token::Access;

/// Prefix of initial access tokens, for secret scanners.
const INITIAL_TOKEN_PREFIX: &str = "pcr_";
/// Prefix of registration access tokens.
const REGISTRATION_TOKEN_PREFIX: &str = "pcm_";

/// A client registered by the protocol, with what it needs to manage itself.
#[derive(Debug, Clone)]
pub struct Registered {
    pub client: ClientWithSecret,
    /// RFC 7592 §3: shown once.
    pub registration_access_token: String,
}

/// What a registrant may not set: only an administrator makes a client first-party (no
/// consent screen) or lets it address resource servers.
fn check_self_registered(metadata: &ClientMetadata) -> Result<()> {
    let mut errors = Vec::new();
    if metadata.first_party {
        errors.push(FieldError::new("first_party", "only an administrator can make a client first-party"));
    }
    if !metadata.audiences.is_empty() {
        errors.push(FieldError::new("audiences", "only an administrator can grant audiences"));
    }
    // The server itself calls this URL at logout: from a stranger, plain http (allowed on
    // loopback for an administrator's local tests) would aim it at this host's own services.
    if metadata.backchannel_logout_uri.as_deref().is_some_and(|u| !u.starts_with("https://")) {
        errors.push(FieldError::new("backchannel_logout_uri", "must be https for a registered client"));
    }
    if metadata.jwks_uri.as_deref().is_some_and(|u| !u.starts_with("https://")) {
        errors.push(FieldError::new("jwks_uri", "must be https for a registered client"));
    }
    if metadata.client_id.is_some() {
        errors.push(FieldError::new("client_id", "the server assigns client_id (RFC 7591 §3.2.1)"));
    }
    if errors.is_empty() { Ok(()) } else { Err(Error::Validation(errors)) }
}

fn registrant(tenant: &TenantRecord, actor: String, context: &RequestContext) -> Principal {
    Principal::end_user(actor, tenant.name.clone(), context.clone())
}

impl Services {
    /// `POST …/registration-tokens`: an initial access token, shown once.
    pub async fn create_registration_token(
        &self,
        who: &Principal,
        tenant: &str,
        new: NewRegistrationToken,
    ) -> Result<CreatedRegistrationToken> {
        if new.name.trim().is_empty() || new.name.chars().count() > 200 {
            return Err(Error::invalid("name", "must be 1 to 200 characters"));
        }
        let now = self.clock.now();
        if new.expires_at.is_some_and(|at| at <= now) {
            return Err(Error::invalid("expires_at", "must be in the future"));
        }
        if new.max_uses == Some(0) {
            return Err(Error::invalid("max_uses", "must be at least 1, or absent for no limit"));
        }
        let mut tx = self.store.write().await?;
        let tenant_record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        let secret = random_secret(INITIAL_TOKEN_PREFIX);
        let record = RegistrationTokenRecord {
            id: random_id(),
            tenant_id: tenant_record.id,
            name: new.name,
            digest: digest(&secret).to_vec(),
            uses_left: new.max_uses,
            created_at: now,
            expires_at: new.expires_at,
            revoked_at: None,
        };
        tx.registration_token_insert(&record).await?;
        let token = RegistrationToken::from(&record);
        let change = Change {
            action: "registration_token.create",
            tenant: Some(tenant),
            target_type: "registration_token",
            target_id: Some(record.id.clone()),
            before: None,
            after: Some(json!(token)),
        };
        self.record(&mut tx, who, change).await?;
        tx.commit().await?;
        Ok(CreatedRegistrationToken { token, initial_access_token: secret })
    }

    /// `GET …/registration-tokens`.
    pub async fn list_registration_tokens(&self, who: &Principal, tenant: &str) -> Result<Vec<RegistrationToken>> {
        let mut tx = self.store.read().await?;
        let tenant_record = self.tenant_for(&mut tx, who, tenant, Access::Read).await?;
        Ok(tx.registration_token_list(tenant_record.id).await?.iter().map(RegistrationToken::from).collect())
    }

    /// `DELETE …/registration-tokens/{id}`: no more registrations with it.
    pub async fn revoke_registration_token(&self, who: &Principal, tenant: &str, id: &str) -> Result<()> {
        let mut tx = self.store.write().await?;
        let tenant_record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        if !tx.registration_token_revoke(tenant_record.id, id, self.clock.now()).await? {
            return Err(Error::NotFound("registration token"));
        }
        let change = Change {
            action: "registration_token.revoke",
            tenant: Some(tenant),
            target_type: "registration_token",
            target_id: Some(id.to_owned()),
            before: None,
            after: None,
        };
        self.record(&mut tx, who, change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// RFC 7591 §3.1: registers a client presented with an initial access token. An unknown,
    /// revoked, expired or used-up token is [`Error::Unauthenticated`].
    pub async fn register_client(
        &self,
        tenant: &str,
        initial_token: &str,
        metadata: ClientMetadata,
        context: &RequestContext,
    ) -> Result<Registered> {
        let now = self.clock.now();
        let wanted = digest(initial_token);
        let mut tx = self.store.write().await?;
        let tenant_record = self.cached_tenant(&mut tx, tenant).await?;
        let token = tx.registration_token_by_digest(&wanted).await?.ok_or(Error::Unauthenticated)?;
        let live = token.revoked_at.is_none() && token.expires_at.is_none_or(|at| at > now);
        if token.tenant_id != tenant_record.id || !live || !digests_equal(&token.digest, &wanted) {
            return Err(Error::Unauthenticated);
        }
        check_self_registered(&metadata)?;
        if !tx.registration_token_use(&token.id).await? {
            return Err(Error::Unauthenticated);
        }
        let access = random_secret(REGISTRATION_TOKEN_PREFIX);
        let who = registrant(&tenant_record, format!("registration_token:{}", token.id), context);
        let client =
            self.insert_client(&mut tx, &who, &tenant_record, metadata, Some(digest(&access).to_vec())).await?;
        tx.commit().await?;
        Ok(Registered { client, registration_access_token: access })
    }

    /// The registered client `client_id` if `access_token` is its registration access token
    /// (RFC 7592 §2); anything else is [`Error::Unauthenticated`], alike.
    pub async fn registered_client(&self, tenant: &str, client_id: &str, access_token: &str) -> Result<ClientRecord> {
        let mut tx = self.store.read().await?;
        let tenant_record = self.cached_tenant(&mut tx, tenant).await?;
        let client = tx.client_get(tenant_record.id, client_id).await?;
        let stored = client.as_ref().and_then(|c| c.registration_digest.clone()).unwrap_or_else(|| vec![0; 32]);
        let matches = digests_equal(&stored, &digest(access_token));
        match client {
            Some(client) if matches && client.registration_digest.is_some() => Ok(client),
            _ => Err(Error::Unauthenticated),
        }
    }

    /// RFC 7592 §2.2: replaces the registered client's metadata.
    pub async fn update_registered_client(
        &self,
        tenant: &str,
        client_id: &str,
        access_token: &str,
        metadata: ClientMetadata,
        context: &RequestContext,
    ) -> Result<ClientWithSecret> {
        let record = self.registered_client(tenant, client_id, access_token).await?;
        if metadata.client_id.as_deref().is_some_and(|id| id != client_id) {
            return Err(Error::invalid("client_id", "must be the client's own"));
        }
        let mut metadata = metadata;
        metadata.client_id = None;
        check_self_registered(&metadata)?;
        let mut tx = self.store.write().await?;
        let tenant_record = self.cached_tenant(&mut tx, tenant).await?;
        let who = registrant(&tenant_record, format!("client:{client_id}"), context);
        let updated = self.replace_client_metadata(&mut tx, &who, tenant, record, metadata).await?;
        tx.commit().await?;
        self.changed("client.update", Some(tenant), Some(client_id.to_owned()));
        Ok(updated)
    }

    /// RFC 7592 §2.3: the registered client deletes itself.
    pub async fn delete_registered_client(
        &self,
        tenant: &str,
        client_id: &str,
        access_token: &str,
        context: &RequestContext,
    ) -> Result<()> {
        self.registered_client(tenant, client_id, access_token).await?;
        let mut tx = self.store.write().await?;
        let tenant_record = self.cached_tenant(&mut tx, tenant).await?;
        tx.client_delete(tenant_record.id, client_id).await?;
        let who = registrant(&tenant_record, format!("client:{client_id}"), context);
        let change = Change {
            action: "client.delete",
            tenant: Some(tenant),
            target_type: "client",
            target_id: Some(client_id.to_owned()),
            before: None,
            after: None,
        };
        self.record(&mut tx, &who, change).await?;
        tx.commit().await?;
        self.changed("client.delete", Some(tenant), Some(client_id.to_owned()));
        Ok(())
    }
}
