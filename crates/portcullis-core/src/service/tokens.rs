//! Admin API tokens: authentication of bearer secrets, and their management.

use portcullis_crypto::secret::{digest, digests_equal, random_secret};
use portcullis_types::TokenId;
use serde_json::json;

use super::audit::Change;
use super::bootstrap::TOKEN_PREFIX;
use super::{Principal, RequestContext, Services};
use crate::error::{Error, Result};
use crate::model::page::{Page, decode_cursor, into_page, page_size};
use crate::model::token::{Access, CreatedToken, NewToken, Token, TokenRecord};

impl Services {
    /// Turns a bearer secret into a principal. Unknown, revoked and expired tokens are all
    /// [`Error::Unauthenticated`], alike.
    pub async fn authenticate(&self, bearer: &str, context: RequestContext) -> Result<Principal> {
        if bearer.is_empty() || bearer.len() > 512 {
            return Err(Error::Unauthenticated);
        }
        let wanted = digest(bearer);
        let now = self.clock.now();
        let record = match self.caches.token(&wanted, now) {
            Some(record) => record,
            None => {
                let mut tx = self.store.read().await?;
                let record = tx.token_by_digest(&wanted).await?.ok_or(Error::Unauthenticated)?;
                self.caches.put_token(record.clone(), now);
                record
            }
        };
        let live = record.revoked_at.is_none() && record.expires_at.is_none_or(|at| at > now);
        if !digests_equal(&record.digest, &wanted) || !live {
            return Err(Error::Unauthenticated);
        }
        Ok(Principal::token(record.id, record.tenant, record.access, context))
    }

    /// `POST /admin/v1/tokens`. A global write token may create any token; a tenant write token
    /// only tokens of its own tenant.
    pub async fn create_token(&self, who: &Principal, new: NewToken) -> Result<CreatedToken> {
        who.require(new.tenant.as_ref().map(|t| t.as_str()), Access::Write)?;
        if new.name.trim().is_empty() || new.name.chars().count() > 200 {
            return Err(Error::invalid("name", "must be 1 to 200 characters"));
        }
        let now = self.clock.now();
        if new.expires_at.is_some_and(|at| at <= now) {
            return Err(Error::invalid("expires_at", "must be in the future"));
        }
        let secret = random_secret(TOKEN_PREFIX);
        let record = TokenRecord {
            id: TokenId::new(),
            name: new.name,
            digest: digest(&secret).to_vec(),
            tenant: new.tenant,
            access: new.access,
            created_by: who.actor().to_owned(),
            created_at: now,
            expires_at: new.expires_at,
            revoked_at: None,
        };
        let mut tx = self.store.write().await?;
        if let Some(tenant) = &record.tenant {
            tx.tenant_by_name(tenant.as_str()).await?.ok_or(Error::NotFound("tenant"))?;
        }
        tx.token_insert(&record).await?;
        let token = Token::from(&record);
        self.record(
            &mut tx,
            who,
            Change {
                action: "token.create",
                tenant: record.tenant.as_ref().map(|t| t.as_str()),
                target_type: "token",
                target_id: Some(record.id.to_string()),
                before: None,
                after: Some(serde_json::to_value(&token)?),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(CreatedToken { token, secret })
    }

    /// `GET /admin/v1/tokens`: every token for a global token, the tenant's for a scoped one.
    pub async fn list_tokens(&self, who: &Principal, cursor: Option<&str>, limit: Option<u32>) -> Result<Page<Token>> {
        let tenant = who.tenant().map(|t| t.as_str().to_owned());
        who.require(tenant.as_deref(), Access::Read)?;
        let limit = page_size(limit)?;
        let after = decode_cursor(cursor)?;
        let mut tx = self.store.read().await?;
        let rows = tx.token_list(tenant.as_deref(), after.as_deref(), limit + 1).await?;
        let tokens = rows.iter().map(Token::from).collect();
        Ok(into_page(tokens, limit, |t: &Token| t.id.to_string()))
    }

    /// `DELETE /admin/v1/tokens/{id}`: revokes at once; the record stays for the audit trail.
    pub async fn revoke_token(&self, who: &Principal, id: TokenId) -> Result<()> {
        let mut tx = self.store.write().await?;
        let record = tx.token_get(id).await?.ok_or(Error::NotFound("token"))?;
        let scope = record.tenant.as_ref().map(|t| t.as_str().to_owned());
        who.require(scope.as_deref(), Access::Write).map_err(|_| Error::NotFound("token"))?;
        if record.revoked_at.is_some() {
            return Ok(());
        }
        tx.token_revoke(id, self.clock.now()).await?;
        self.record(
            &mut tx,
            who,
            Change {
                action: "token.revoke",
                tenant: scope.as_deref(),
                target_type: "token",
                target_id: Some(id.to_string()),
                before: Some(json!({"name": record.name})),
                after: None,
            },
        )
        .await?;
        tx.commit().await?;
        self.changed("token.revoke", scope.as_deref(), Some(id.to_string()));
        Ok(())
    }
}
