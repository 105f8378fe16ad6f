//! First start on an empty database: the `admin` tenant and one bootstrap admin token. A
//! marker in the database makes this happen once, whatever the restarts.

use portcullis_crypto::secret::{digest, random_secret};
use portcullis_types::{TenantId, TenantName, TokenId};
use serde_json::json;

use super::audit::Change;
use super::{Principal, Services};
use crate::error::{Error, Result};
use crate::model::tenant::{TenantProfile, TenantRecord};
use crate::model::token::{Access, TokenRecord};

const BOOTSTRAP_MARKER: &str = "bootstrap_completed_at";

/// The prefix of every admin API token, so secret scanners can spot a leaked one.
pub const TOKEN_PREFIX: &str = "pct_";

/// What the first start did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bootstrap {
    /// Bootstrap had already run: nothing was created.
    AlreadyDone,
    /// The bootstrap token given by the operator was installed.
    InstalledGivenToken,
    /// A random bootstrap token was created; show it once.
    CreatedToken(String),
}

const MASTER_KEY_FINGERPRINT: &str = "master_key_fingerprint";

impl Services {
    /// Checks that the master key is the one this database was created with (and records it
    /// on the first start). Another key would make every tenant key unreadable.
    pub async fn check_master_key(&self) -> Result<()> {
        let current = self.keys.fingerprint();
        let mut tx = self.store.write().await?;
        match tx.meta_get(MASTER_KEY_FINGERPRINT).await? {
            Some(stored) if stored == current => Ok(()),
            Some(_) => Err(Error::conflict(
                "master_key",
                "the master key is not the one this database was created with; restore the original key (PORTCULLIS_MASTER_KEY or the master key file)",
            )),
            None => {
                tx.meta_put(MASTER_KEY_FINGERPRINT, &current).await?;
                tx.commit().await
            }
        }
    }

    /// Creates the `admin` tenant and the bootstrap token on the first start; does nothing
    /// afterwards. `given_token` is `PORTCULLIS_BOOTSTRAP_TOKEN`, for automation.
    pub async fn bootstrap(&self, given_token: Option<&str>) -> Result<Bootstrap> {
        if let Some(token) = given_token
            && (token.len() < 20 || token.len() > 512 || token.chars().any(|c| c.is_whitespace() || c.is_control()))
        {
            return Err(Error::invalid("bootstrap_token", "must be 20 to 512 characters without spaces"));
        }
        let system = Principal::system();
        let mut tx = self.store.write().await?;
        if tx.meta_get(BOOTSTRAP_MARKER).await?.is_some() {
            return Ok(Bootstrap::AlreadyDone);
        }
        let now = self.clock.now();
        let admin = TenantName::parse("admin").map_err(Error::internal)?;
        if tx.tenant_by_name(admin.as_str()).await?.is_none() {
            let id = TenantId::new();
            let (_, wrapped_key) = self.keys.new_tenant_key(id)?;
            let tenant = TenantRecord {
                id,
                name: admin.clone(),
                display_name: "Administration".to_owned(),
                profile: TenantProfile::Workforce,
                wrapped_key,
                created_at: now,
                updated_at: now,
            };
            tx.tenant_insert(&tenant).await?;
            let after = serde_json::to_value(crate::model::tenant::Tenant::from(&tenant))?;
            self.record(
                &mut tx,
                &system,
                Change {
                    action: "tenant.create",
                    tenant: Some("admin"),
                    target_type: "tenant",
                    target_id: Some(tenant.id.to_string()),
                    before: None,
                    after: Some(after),
                },
            )
            .await?;
        }
        let secret = given_token.map_or_else(|| random_secret(TOKEN_PREFIX), str::to_owned);
        let token = TokenRecord {
            id: TokenId::new(),
            name: "bootstrap".to_owned(),
            digest: digest(&secret).to_vec(),
            tenant: None,
            access: Access::Write,
            created_by: system.actor().to_owned(),
            created_at: now,
            expires_at: None,
            revoked_at: None,
        };
        tx.token_insert(&token).await?;
        self.record(
            &mut tx,
            &system,
            Change {
                action: "token.create",
                tenant: None,
                target_type: "token",
                target_id: Some(token.id.to_string()),
                before: None,
                after: Some(json!({"name": "bootstrap", "access": "write", "scope": "global"})),
            },
        )
        .await?;
        tx.meta_put(BOOTSTRAP_MARKER, &now.unix_timestamp().to_string()).await?;
        tx.commit().await?;
        Ok(match given_token {
            Some(_) => Bootstrap::InstalledGivenToken,
            None => Bootstrap::CreatedToken(secret),
        })
    }
}
