//! The services. Each public method is one use case in one store transaction: it checks the
//! caller's [`Principal`], applies the rules, writes an audit event beside the change, and
//! commits — or returns an error having written nothing.

mod account;
mod audit;
mod authz;
mod bootstrap;
pub mod certificates;
mod changes;
mod claims;
mod clients;
mod credentials;
mod decision_log;
mod decisions;
mod device;
mod email_codes;
mod flows;
mod grants;
mod groups;
mod import;
mod jobs;
mod keys;
pub mod mail;
mod passkeys;
mod password_policy;
mod policies;
mod principal;
mod pushed;
mod registration;
mod roles;
mod schema;
mod scopes;
mod sessions;
pub mod signup;
pub mod sms;
mod tenants;
mod throttle;
mod tokens;
pub mod totp;
mod user_codec;
mod users;

use std::sync::Arc;

pub use account::PasswordChange;
pub use audit::{AuditVerification, BrokenLink};
pub use authz::{
    AuthzQuery, MAX_TUPLES_PER_WRITE, ModelView, OnConflict, Precondition, PreconditionKind, QueryAnswer, QueryKind,
    TupleFilterBody, TupleWrite, Written, consistency_token, parse_consistency_token,
};
pub use bootstrap::Bootstrap;
pub use clients::PresentedAuth;
pub use credentials::PRIVILEGED_FOR;
pub use decisions::{
    AUTHZEN_SCOPE, AccessQuestion, CallerRefusal, Decision, DecisionCaller, DecisionView, Entity, Reason,
};
pub use device::{DEVICE_CODE_LIFETIME, DEVICE_POLL_INTERVAL, DevicePoll, NewDevice, normalize_user_code};
pub use email_codes::{EMAIL_CODE_LIFETIME, MAIL_ACCOUNT_LIMIT, MAIL_SOURCE_LIMIT};
pub use flows::{CODE_LIMIT, CodeAtOnce, FlowProgress, RECOVERY_CODES, SecondFactor, asked_acr, request_asks_mfa};
pub use grants::{CODE_LIFETIME, CodeRequest, Redemption, Rotation};
pub use import::{ImportLineError, ImportReport};
pub use jobs::{HOUSEKEEPING_LEASE, Housekeeping};
pub use passkeys::relying_party;
pub use password_policy::BreachedPasswords;
pub use policies::{MAX_POLICIES, PoliciesView, PolicyTest, PolicyTestResult, TestEntity};
pub use principal::{Principal, RequestContext};
pub use pushed::PUSHED_REQUEST_LIFETIME;
pub use registration::Registered;
pub use roles::Assignee;
pub(crate) use schema::CompiledSchema;
pub use sessions::{FLOW_LIFETIME, FLOW_MAX_FAILURES, LoginRefusal, SESSION_LIFETIME};
pub use users::UserQuery;

use crate::authz_index::AuthzIndexes;
use crate::cache::Caches;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::hashing::HashPool;
use crate::keys::KeyRing;
use crate::model::tenant::TenantRecord;
use crate::model::token::Access;
use crate::store::{Store, StoreTx};

/// All services over one store.
#[derive(Clone)]
pub struct Services {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    keys: KeyRing,
    hash_pool: HashPool,
    caches: Arc<Caches>,
    authz: Arc<AuthzIndexes>,
    callers: Arc<decisions::CallerCache>,
    decision_log: Arc<decision_log::DecisionLog>,
    breaches: Option<Arc<dyn password_policy::BreachedPasswords>>,
    webauthn: Option<Arc<webauthn_rs::Webauthn>>,
    mailer: Option<Arc<dyn mail::Mailer>>,
    sms: Option<Arc<dyn sms::SmsSender>>,
    /// The host texted codes are bound to (`@host #code`), when the public URL names a domain.
    sms_host: Option<String>,
}

impl Services {
    /// Services over `store`, keeping secrets under `keys`.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, keys: KeyRing, hash_pool: HashPool) -> Self {
        Self {
            store,
            clock,
            keys,
            hash_pool,
            caches: Arc::new(Caches::new()),
            authz: Arc::default(),
            callers: Arc::default(),
            decision_log: Arc::default(),
            breaches: None,
            webauthn: None,
            mailer: None,
            sms: None,
            sms_host: None,
        }
    }

    /// The store, for readiness checks and metrics.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The password hashing pool, for metrics.
    pub fn hash_pool(&self) -> &HashPool {
        &self.hash_pool
    }

    /// The tenant named `name`, from this node's cache when it holds it.
    pub(crate) async fn cached_tenant(&self, tx: &mut Box<dyn StoreTx>, name: &str) -> Result<TenantRecord> {
        let now = self.clock.now();
        if let Some(tenant) = self.caches.tenant(name, now) {
            return Ok(tenant);
        }
        let tenant = tx.tenant_by_name(name).await?.ok_or(Error::NotFound("tenant"))?;
        self.caches.put_tenant(tenant.clone(), now);
        Ok(tenant)
    }

    /// Fails with [`Error::NotFound`] unless the tenant exists (public endpoints ask first).
    pub async fn tenant_exists(&self, name: &str) -> Result<()> {
        if self.caches.tenant(name, self.clock.now()).is_some() {
            return Ok(());
        }
        let mut tx = self.store.read().await?;
        self.cached_tenant(&mut tx, name).await.map(drop)
    }

    /// Authorizes `who` for `access` to the tenant named `name` and loads it. The scope check
    /// comes first, so a token of another tenant learns nothing about whether it exists.
    async fn tenant_for(
        &self,
        tx: &mut Box<dyn StoreTx>,
        who: &Principal,
        name: &str,
        access: Access,
    ) -> Result<TenantRecord> {
        who.require(Some(name), access)?;
        // Reads may use the cache; writes read the tenant inside their own transaction.
        if access == Access::Read {
            return self.cached_tenant(tx, name).await;
        }
        tx.tenant_by_name(name).await?.ok_or(Error::NotFound("tenant"))
    }
}
