//! In-process caches of hot, rarely changing reads (DESIGN §5): admin tokens by digest,
//! tenants by name, compiled user schemas by tenant name, and the tenant's clients, keys,
//! scopes and authentication policy.
//!
//! Invalidation follows the audit log, which is the change log: every change is an audit
//! event written in the change's own transaction, and appends queue on the chain's head row,
//! so `seq` order is commit order and a node that tails `seq > last seen` misses nothing. A
//! node evicts at once what it changed itself and what others changed on its next poll; a
//! time-to-live bounds staleness should polling stop. Caches serve reads only: writes read
//! inside their own transaction.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use time::{Duration, OffsetDateTime};

use portcullis_crypto::signing::Signer;
use portcullis_crypto::verify::Verifier;

use crate::model::client::ClientRecord;
use crate::model::tenant::TenantRecord;
use crate::model::token::TokenRecord;
use crate::service::CompiledSchema;

/// How long an entry may serve without a change-log check confirming it.
pub const TIME_TO_LIVE: Duration = Duration::seconds(60);

struct Entry<T> {
    value: T,
    loaded_at: OffsetDateTime,
}

/// One map of entries with a time-to-live.
struct Map<K, V>(Mutex<HashMap<K, Entry<V>>>);

impl<K: std::hash::Hash + Eq, V: Clone> Map<K, V> {
    fn new() -> Self {
        Self(Mutex::new(HashMap::new()))
    }

    fn get(&self, key: &K, now: OffsetDateTime) -> Option<V> {
        let map = self.0.lock().ok()?;
        map.get(key).filter(|e| now - e.loaded_at < TIME_TO_LIVE).map(|e| e.value.clone())
    }

    fn put(&self, key: K, value: V, now: OffsetDateTime) {
        if let Ok(mut map) = self.0.lock() {
            map.insert(key, Entry { value, loaded_at: now });
        }
    }

    fn retain(&self, keep: impl Fn(&K, &V) -> bool) {
        if let Ok(mut map) = self.0.lock() {
            map.retain(|k, e| keep(k, &e.value));
        }
    }

    fn clear(&self) {
        if let Ok(mut map) = self.0.lock() {
            map.clear();
        }
    }
}

/// The caches of one node.
pub(crate) struct Caches {
    tokens: Map<Vec<u8>, TokenRecord>,
    tenants: Map<String, TenantRecord>,
    schemas: Map<String, Arc<CompiledSchema>>,
    clients: Map<(String, String), ClientRecord>,
    /// Each tenant's active signing keys, parsed.
    signers: Map<String, Arc<Vec<Signer>>>,
    /// Each tenant's published public keys, parsed.
    verifiers: Map<String, Arc<Vec<Verifier>>>,
    /// Each tenant's JWK Set, as published.
    jwks: Map<String, Arc<serde_json::Value>>,
    /// Each tenant's own OAuth scopes.
    scopes: Map<String, Arc<Vec<crate::model::scope::ScopeDefinition>>>,
    /// Each tenant's authentication policy (read by every login step).
    policies: Map<String, crate::model::auth_policy::AuthPolicy>,
    /// When this node last recorded each known login source (tenant and key digest).
    known_sources: Mutex<HashMap<(portcullis_types::TenantId, Vec<u8>), OffsetDateTime>>,
    /// The last audit `seq` applied; `-1` until the first poll sets the starting point.
    seen: AtomicI64,
}

/// How long a recorded known source needs no new record.
const KNOWN_SOURCE_REFRESH: Duration = Duration::hours(1);
/// The most known sources remembered per node (then it starts over).
const KNOWN_SOURCES_KEPT: usize = 100_000;

/// A change, as the audit log records it.
#[derive(Debug, Clone)]
pub struct ChangeEvent {
    pub seq: i64,
    pub action: String,
    pub tenant: Option<String>,
    pub target_id: Option<String>,
}

impl Caches {
    pub(crate) fn new() -> Self {
        Self {
            tokens: Map::new(),
            tenants: Map::new(),
            schemas: Map::new(),
            clients: Map::new(),
            signers: Map::new(),
            verifiers: Map::new(),
            jwks: Map::new(),
            scopes: Map::new(),
            policies: Map::new(),
            known_sources: Mutex::new(HashMap::new()),
            seen: AtomicI64::new(-1),
        }
    }

    pub(crate) fn token(&self, digest: &[u8], now: OffsetDateTime) -> Option<TokenRecord> {
        self.tokens.get(&digest.to_vec(), now)
    }

    pub(crate) fn put_token(&self, token: TokenRecord, now: OffsetDateTime) {
        self.tokens.put(token.digest.clone(), token, now);
    }

    pub(crate) fn tenant(&self, name: &str, now: OffsetDateTime) -> Option<TenantRecord> {
        self.tenants.get(&name.to_owned(), now)
    }

    pub(crate) fn put_tenant(&self, tenant: TenantRecord, now: OffsetDateTime) {
        self.tenants.put(tenant.name.to_string(), tenant, now);
    }

    pub(crate) fn schema(&self, tenant: &str, now: OffsetDateTime) -> Option<Arc<CompiledSchema>> {
        self.schemas.get(&tenant.to_owned(), now)
    }

    pub(crate) fn put_schema(&self, tenant: &str, schema: Arc<CompiledSchema>, now: OffsetDateTime) {
        self.schemas.put(tenant.to_owned(), schema, now);
    }

    pub(crate) fn client(&self, tenant: &str, client_id: &str, now: OffsetDateTime) -> Option<ClientRecord> {
        self.clients.get(&(tenant.to_owned(), client_id.to_owned()), now)
    }

    pub(crate) fn put_client(&self, tenant: &str, client: ClientRecord, now: OffsetDateTime) {
        self.clients.put((tenant.to_owned(), client.client_id.clone()), client, now);
    }

    pub(crate) fn signers(&self, tenant: &str, now: OffsetDateTime) -> Option<Arc<Vec<Signer>>> {
        self.signers.get(&tenant.to_owned(), now)
    }

    pub(crate) fn put_signers(&self, tenant: &str, signers: Arc<Vec<Signer>>, now: OffsetDateTime) {
        self.signers.put(tenant.to_owned(), signers, now);
    }

    pub(crate) fn verifiers(&self, tenant: &str, now: OffsetDateTime) -> Option<Arc<Vec<Verifier>>> {
        self.verifiers.get(&tenant.to_owned(), now)
    }

    pub(crate) fn put_verifiers(&self, tenant: &str, verifiers: Arc<Vec<Verifier>>, now: OffsetDateTime) {
        self.verifiers.put(tenant.to_owned(), verifiers, now);
    }

    pub(crate) fn jwks(&self, tenant: &str, now: OffsetDateTime) -> Option<Arc<serde_json::Value>> {
        self.jwks.get(&tenant.to_owned(), now)
    }

    pub(crate) fn put_jwks(&self, tenant: &str, jwks: Arc<serde_json::Value>, now: OffsetDateTime) {
        self.jwks.put(tenant.to_owned(), jwks, now);
    }

    pub(crate) fn scopes(
        &self,
        tenant: &str,
        now: OffsetDateTime,
    ) -> Option<Arc<Vec<crate::model::scope::ScopeDefinition>>> {
        self.scopes.get(&tenant.to_owned(), now)
    }

    pub(crate) fn put_scopes(
        &self,
        tenant: &str,
        scopes: Arc<Vec<crate::model::scope::ScopeDefinition>>,
        now: OffsetDateTime,
    ) {
        self.scopes.put(tenant.to_owned(), scopes, now);
    }

    pub(crate) fn policy(&self, tenant: &str, now: OffsetDateTime) -> Option<crate::model::auth_policy::AuthPolicy> {
        self.policies.get(&tenant.to_owned(), now)
    }

    pub(crate) fn put_policy(&self, tenant: &str, policy: crate::model::auth_policy::AuthPolicy, now: OffsetDateTime) {
        self.policies.put(tenant.to_owned(), policy, now);
    }

    /// Whether this node recorded the known source `key` of `tenant` within the last hour.
    pub(crate) fn known_source_fresh(
        &self,
        tenant: portcullis_types::TenantId,
        key: &[u8],
        now: OffsetDateTime,
    ) -> bool {
        let Ok(sources) = self.known_sources.lock() else { return false };
        sources.get(&(tenant, key.to_vec())).is_some_and(|at| now - *at < KNOWN_SOURCE_REFRESH)
    }

    /// Notes that this node recorded the known source `key` of `tenant` at `now`.
    pub(crate) fn note_known_source(&self, tenant: portcullis_types::TenantId, key: &[u8], now: OffsetDateTime) {
        if let Ok(mut sources) = self.known_sources.lock() {
            if sources.len() >= KNOWN_SOURCES_KEPT {
                sources.clear();
            }
            sources.insert((tenant, key.to_vec()), now);
        }
    }

    /// Evicts whatever `change` may have made stale.
    pub(crate) fn apply(&self, change: &ChangeEvent) {
        let tenant = change.tenant.as_deref();
        let family = change.action.split('.').next().unwrap_or_default();
        match family {
            "token" => {
                let id = change.target_id.as_deref();
                self.tokens.retain(|_, t| Some(t.id.to_string().as_str()) != id);
            }
            "tenant" => {
                if let Some(name) = tenant {
                    self.tenants.retain(|k, _| k != name);
                    self.schemas.retain(|k, _| k != name);
                    self.clients.retain(|(t, _), _| t != name);
                    self.signers.retain(|t, _| t != name);
                    self.verifiers.retain(|t, _| t != name);
                    self.jwks.retain(|t, _| t != name);
                    self.scopes.retain(|t, _| t != name);
                    self.policies.retain(|t, _| t != name);
                    // A deleted tenant's tokens are deleted with it.
                    self.tokens.retain(|_, t| t.tenant.as_ref().map(|n| n.as_str()) != Some(name));
                }
            }
            "client" => {
                if let (Some(name), Some(id)) = (tenant, change.target_id.as_deref()) {
                    self.clients.retain(|(t, c), _| t != name || c != id);
                }
            }
            "keys" => {
                if let Some(name) = tenant {
                    self.signers.retain(|t, _| t != name);
                    self.verifiers.retain(|t, _| t != name);
                    self.jwks.retain(|t, _| t != name);
                }
            }
            "scope" => {
                if let Some(name) = tenant {
                    self.scopes.retain(|t, _| t != name);
                }
            }
            "auth_policy" => {
                if let Some(name) = tenant {
                    self.policies.retain(|t, _| t != name);
                }
            }
            "schema" => {
                if let Some(name) = tenant {
                    self.schemas.retain(|k, _| k != name);
                }
            }
            _ => {}
        }
    }

    /// The last change applied (`-1` before the first poll).
    pub(crate) fn seen(&self) -> i64 {
        self.seen.load(Ordering::Acquire)
    }

    pub(crate) fn set_seen(&self, seq: i64) {
        self.seen.store(seq, Ordering::Release);
    }

    /// Forgets everything (the log went backwards: the database was restored).
    pub(crate) fn clear(&self) {
        self.tokens.clear();
        self.tenants.clear();
        self.schemas.clear();
        self.clients.clear();
        self.signers.clear();
        self.verifiers.clear();
        self.jwks.clear();
        self.scopes.clear();
        self.policies.clear();
    }
}
