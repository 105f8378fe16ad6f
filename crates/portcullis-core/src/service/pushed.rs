//! Pushed authorization requests (RFC 9126): a client posts its request over an authenticated
//! back channel and sends the browser with only a reference to it.

use portcullis_crypto::secret::random_secret;
use time::Duration;

use super::Services;
use crate::error::Result;
use crate::model::session::{AuthorizationRequest, PushedRequest};

/// How long a `request_uri` may be used (RFC 9126 §2.2 suggests a short time).
pub const PUSHED_REQUEST_LIFETIME: Duration = Duration::seconds(60);

impl Services {
    /// Keeps a validated request of `client_id`; returns the random part of its `request_uri`.
    pub async fn push_request(&self, tenant: &str, client_id: &str, request: AuthorizationRequest) -> Result<String> {
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        let pushed = PushedRequest {
            id: random_secret(""),
            tenant_id: record.id,
            client_id: client_id.to_owned(),
            request,
            expires_at: now + PUSHED_REQUEST_LIFETIME,
        };
        tx.pushed_insert(&pushed).await?;
        tx.commit().await?;
        Ok(pushed.id)
    }

    /// Takes the pushed request `id` of `client_id`: once only, and only before it expires.
    pub async fn take_pushed_request(
        &self,
        tenant: &str,
        client_id: &str,
        id: &str,
    ) -> Result<Option<AuthorizationRequest>> {
        if id.is_empty() || id.len() > 128 {
            return Ok(None);
        }
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        let taken = tx.pushed_take(record.id, id).await?;
        tx.commit().await?;
        Ok(taken.filter(|p| p.client_id == client_id && p.expires_at > now).map(|p| p.request))
    }
}
