//! A tenant's own OAuth scopes and the claims each releases (issue 3 item 4: custom scopes
//! with claim mappings). Validated against the standard claims and the tenant's user schema.

use std::sync::Arc;

use serde_json::json;

use super::audit::Change;
use super::{Principal, Services};
use crate::error::{Error, FieldError, Result};
use crate::model::client::scope_token_ok;
use crate::model::scope::{BUILT_IN_SCOPES, STANDARD_CLAIMS, ScopeBody, ScopeDefinition};
use crate::model::token::Access;

impl Services {
    /// `GET …/scopes`.
    pub async fn list_scopes(&self, who: &Principal, tenant: &str) -> Result<Vec<ScopeDefinition>> {
        let mut tx = self.store.read().await?;
        let record = self.tenant_for(&mut tx, who, tenant, Access::Read).await?;
        tx.scope_list(record.id).await
    }

    /// `PUT …/scopes/{name}`: creates or replaces a scope. Its claims must be standard
    /// claims or attributes of the tenant's user schema.
    pub async fn put_scope(
        &self,
        who: &Principal,
        tenant: &str,
        name: &str,
        body: ScopeBody,
    ) -> Result<ScopeDefinition> {
        let mut errors = Vec::new();
        if !scope_token_ok(name) || name.len() > 100 || name.contains(' ') {
            errors.push(FieldError::new("name", "must be a scope token (RFC 6749 §3.3) of at most 100 characters"));
        }
        if BUILT_IN_SCOPES.contains(&name) || name == super::decisions::AUTHZEN_SCOPE {
            errors.push(FieldError::new("name", "is defined by OpenID Connect or Portcullis and cannot be redefined"));
        }
        if body.description.trim().is_empty() || body.description.chars().count() > 200 {
            errors.push(FieldError::new("description", "must be 1 to 200 characters"));
        }
        if body.claims.len() > 50 {
            errors.push(FieldError::new("claims", "at most 50"));
        }
        let mut tx = self.store.write().await?;
        let record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        let schema = self.schema_of(&mut tx, &record, false).await?;
        for (i, claim) in body.claims.iter().enumerate() {
            if !STANDARD_CLAIMS.contains(&claim.as_str()) && schema.get(claim).is_none() {
                errors.push(FieldError::new(
                    format!("claims/{i}"),
                    "is neither a standard claim nor a user-schema attribute",
                ));
            }
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let now = self.clock.now();
        let existing = tx.scope_list(record.id).await?.into_iter().find(|s| s.name == name);
        let scope = ScopeDefinition {
            name: name.to_owned(),
            description: body.description,
            claims: body.claims,
            created_at: existing.as_ref().map_or(now, |s| s.created_at),
            updated_at: now,
        };
        tx.scope_put(record.id, &scope).await?;
        let change = Change {
            action: "scope.put",
            tenant: Some(tenant),
            target_type: "scope",
            target_id: Some(name.to_owned()),
            before: existing.map(|s| json!(s)),
            after: Some(json!(scope)),
        };
        self.record(&mut tx, who, change).await?;
        tx.commit().await?;
        self.changed("scope.put", Some(tenant), Some(name.to_owned()));
        Ok(scope)
    }

    /// `DELETE …/scopes/{name}`. Grants that hold it keep it; its claims are no longer released.
    pub async fn delete_scope(&self, who: &Principal, tenant: &str, name: &str) -> Result<()> {
        let mut tx = self.store.write().await?;
        let record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        if !tx.scope_delete(record.id, name).await? {
            return Err(Error::NotFound("scope"));
        }
        let change = Change {
            action: "scope.delete",
            tenant: Some(tenant),
            target_type: "scope",
            target_id: Some(name.to_owned()),
            before: None,
            after: None,
        };
        self.record(&mut tx, who, change).await?;
        tx.commit().await?;
        self.changed("scope.delete", Some(tenant), Some(name.to_owned()));
        Ok(())
    }

    /// The tenant's own scopes, from this node's cache when it holds them.
    pub async fn custom_scopes(&self, tenant: &str) -> Result<Arc<Vec<ScopeDefinition>>> {
        let now = self.clock.now();
        if let Some(scopes) = self.caches.scopes(tenant, now) {
            return Ok(scopes);
        }
        let mut tx = self.store.read().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        let scopes = Arc::new(tx.scope_list(record.id).await?);
        self.caches.put_scopes(tenant, scopes.clone(), now);
        Ok(scopes)
    }
}
