//! Each node's in-memory copy of every tenant's authorization model and tuples (DESIGN §7:
//! checks are answered from memory). A copy is loaded on first use and then kept up to date
//! from the change log (`authz_changes`): before answering, a copy older than
//! [`FRESHNESS`] — or older than the revision a caller's consistency token names — reads what
//! was committed since and applies it.

use std::collections::HashMap;
use std::sync::{Arc, RwLock, RwLockReadGuard};

use portcullis_authz::cedar::{Policies, PolicyDocument};
use portcullis_authz::{MemoryTuples, Model, Tuple};
use portcullis_types::TenantId;
use time::{Duration, OffsetDateTime};

use crate::error::{Error, Result};
use crate::model::authz::{AuthzOperation, AuthzSettings, TupleFilter};
use crate::store::{Store, StoreTx};

/// How stale a copy may be when the caller names no consistency token: another node's write
/// is seen within this time.
pub const FRESHNESS: Duration = Duration::seconds(1);

/// Rows read per query when loading or catching up.
const BATCH: u32 = 10_000;

/// One tenant's model and tuples at a revision.
#[derive(Default)]
pub struct AuthzState {
    pub model: Option<Arc<Model>>,
    /// The Cedar policies, when the tenant has any.
    pub policies: Option<Arc<Policies>>,
    pub settings: AuthzSettings,
    pub tuples: MemoryTuples,
    pub revision: i64,
    synced_at: Option<OffsetDateTime>,
}

/// A tenant's copy and the lock that lets one request at a time bring it up to date.
#[derive(Default)]
pub(crate) struct TenantIndex {
    state: RwLock<AuthzState>,
    syncing: tokio::sync::Mutex<()>,
}

impl TenantIndex {
    /// The copy, for reading (never held across an await).
    pub(crate) fn read(&self) -> Result<RwLockReadGuard<'_, AuthzState>> {
        self.state.read().map_err(|_| Error::internal("authorization index lock poisoned"))
    }

    fn write(&self) -> Result<std::sync::RwLockWriteGuard<'_, AuthzState>> {
        self.state.write().map_err(|_| Error::internal("authorization index lock poisoned"))
    }

    fn needs_sync(&self, at_least: Option<i64>, now: OffsetDateTime) -> Result<bool> {
        let state = self.read()?;
        Ok(match (state.synced_at, at_least) {
            (None, _) => true,
            (Some(_), Some(revision)) => state.revision < revision,
            (Some(at), None) => now - at >= FRESHNESS,
        })
    }

    /// Brings the copy up to date when it must be: when `at_least` names a newer revision, or
    /// without one when the copy is older than [`FRESHNESS`].
    /// A connection is taken from `store` only then.
    pub(crate) async fn ensure(
        &self,
        store: &Arc<dyn Store>,
        tenant: TenantId,
        at_least: Option<i64>,
        now: OffsetDateTime,
    ) -> Result<()> {
        if !self.needs_sync(at_least, now)? {
            return Ok(());
        }
        let _one_at_a_time = self.syncing.lock().await;
        if !self.needs_sync(at_least, now)? {
            return Ok(());
        }
        let mut connection = store.read().await?;
        let tx = &mut connection;
        let loaded = self.read()?.synced_at.is_some();
        if !loaded || !self.catch_up(tx, tenant, now).await? {
            return self.load(tx, tenant, now).await;
        }
        if let Some(wanted) = at_least
            && self.read()?.revision < wanted
        {
            // Still behind after the log: the log was purged past this copy (reload), or the
            // token names a revision never reached (refused by the caller, without reloading).
            let current = tx.authz_model_get(tenant).await?.map_or(0, |m| m.revision);
            if current >= wanted {
                self.load(tx, tenant, now).await?;
            }
        }
        Ok(())
    }

    /// Applies the log after the copy's revision; false when the log no longer reaches back
    /// that far (purged), and the copy must be loaded afresh.
    async fn catch_up(&self, tx: &mut Box<dyn StoreTx>, tenant: TenantId, now: OffsetDateTime) -> Result<bool> {
        let mut revision = self.read()?.revision;
        let mut model_changed = false;
        loop {
            let changes = tx.authz_changes_after(tenant, revision, BATCH).await?;
            if changes.first().is_some_and(|c| c.revision > revision + 1) {
                return Ok(false);
            }
            let full = changes.len() == BATCH as usize;
            {
                let mut state = self.write()?;
                for change in &changes {
                    apply(&mut state.tuples, change.operation, &change.tuple);
                    model_changed |= change.operation == AuthzOperation::Model;
                    state.revision = change.revision;
                }
                revision = state.revision;
                if !full {
                    state.synced_at = Some(now);
                }
            }
            if !full {
                break;
            }
        }
        if model_changed {
            let stored = read_model(tx, tenant).await?;
            let mut state = self.write()?;
            (state.model, state.policies, state.settings) = match stored {
                Some(stored) => (Some(stored.model), stored.policies, stored.settings),
                None => (None, None, AuthzSettings::default()),
            };
        }
        Ok(true)
    }

    /// Reads the model and every tuple, then whatever the log added while they were read.
    async fn load(&self, tx: &mut Box<dyn StoreTx>, tenant: TenantId, now: OffsetDateTime) -> Result<()> {
        // The revision first: the tuples read after it may include later writes, and
        // replaying the log from it (idempotent inserts and removals, in order) settles them.
        let (model, policies, settings, revision) = match read_model(tx, tenant).await? {
            Some(stored) => (Some(stored.model), stored.policies, stored.settings, stored.revision),
            None => (None, None, AuthzSettings::default(), 0),
        };
        let mut tuples = MemoryTuples::default();
        let mut after = None;
        loop {
            let rows = tx.authz_tuples(tenant, &TupleFilter::default(), after.as_ref(), BATCH).await?;
            for row in &rows {
                apply(&mut tuples, AuthzOperation::Write, &format!("{}#{}@{}", row.object, row.relation, row.subject));
            }
            if rows.len() < BATCH as usize {
                break;
            }
            after = rows.into_iter().last();
        }
        {
            let mut state = self.write()?;
            *state = AuthzState { model, policies, settings, tuples, revision, synced_at: None };
        }
        if !self.catch_up(tx, tenant, now).await? {
            // The log was purged past the revision just read: nothing to replay is missing
            // from the tuples read after it.
            let mut state = self.write()?;
            state.synced_at = Some(now);
        }
        Ok(())
    }
}

/// A tenant's model and policies as the store has them, compiled.
struct StoredModel {
    model: Arc<Model>,
    policies: Option<Arc<Policies>>,
    settings: AuthzSettings,
    revision: i64,
}

/// The tenant's model and policies, parsed and compiled, with their revision.
async fn read_model(tx: &mut Box<dyn StoreTx>, tenant: TenantId) -> Result<Option<StoredModel>> {
    let Some(record) = tx.authz_model_get(tenant).await? else { return Ok(None) };
    let model: Model = serde_json::from_str(&record.model).map_err(Error::internal)?;
    let settings = serde_json::from_str(&record.settings).map_err(Error::internal)?;
    Ok(Some(StoredModel {
        model: Arc::new(model),
        policies: compile(&record.policies)?,
        settings,
        revision: record.revision,
    }))
}

/// Compiles a stored policy document (it compiled when it was stored).
pub(crate) fn compile(document: &str) -> Result<Option<Arc<Policies>>> {
    if document.is_empty() {
        return Ok(None);
    }
    let document: PolicyDocument = serde_json::from_str(document).map_err(Error::internal)?;
    let policies = Policies::compile(&document).map_err(|errors| Error::internal(errors.join("; ")))?;
    Ok((!policies.is_empty() || !document.links.is_empty()).then(|| Arc::new(policies)))
}

/// Applies one logged change to a copy. A stored tuple that no longer parses (it cannot:
/// writes are parsed first) is skipped with a warning rather than failing every check.
fn apply(tuples: &mut MemoryTuples, operation: AuthzOperation, text: &str) {
    if operation == AuthzOperation::Model {
        return;
    }
    let Ok(tuple) = Tuple::parse(text) else {
        tracing::warn!(tuple = text, "a stored relationship tuple does not parse; skipped");
        return;
    };
    match operation {
        AuthzOperation::Write => {
            tuples.insert(tuple);
        }
        AuthzOperation::Delete => {
            tuples.remove(&tuple);
        }
        AuthzOperation::Model => {}
    }
}

/// Every tenant's copy on this node.
#[derive(Default)]
pub(crate) struct AuthzIndexes {
    tenants: RwLock<HashMap<TenantId, Arc<TenantIndex>>>,
}

impl AuthzIndexes {
    /// The tenant's copy, created empty (not yet loaded) on first use.
    pub(crate) fn tenant(&self, tenant: TenantId) -> Result<Arc<TenantIndex>> {
        if let Some(index) = self.tenants.read().map_err(|_| Error::internal("lock poisoned"))?.get(&tenant) {
            return Ok(index.clone());
        }
        let mut map = self.tenants.write().map_err(|_| Error::internal("lock poisoned"))?;
        Ok(map.entry(tenant).or_default().clone())
    }

    /// How many tuples this node holds, over every tenant loaded.
    pub(crate) fn tuples(&self) -> usize {
        let Ok(map) = self.tenants.read() else { return 0 };
        map.values().filter_map(|index| index.read().ok().map(|state| state.tuples.len())).sum()
    }

    /// Forgets a tenant's copy (the tenant was deleted).
    pub(crate) fn forget(&self, tenant: TenantId) {
        if let Ok(mut map) = self.tenants.write() {
            map.remove(&tenant);
        }
    }
}
