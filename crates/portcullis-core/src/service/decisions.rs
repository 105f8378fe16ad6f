//! Access decisions for policy enforcement points (the AuthZEN Authorization API 1.0 adapter
//! calls these): may this subject do this action to that resource? Answered from the tenant's
//! relationship model in memory, with the directory's roles and groups of a `user` subject.
//!
//! The decision order, one rule in one place ([`Services::decide`]): an action the model does
//! not define for the resource type is an error decided `false`; otherwise the subject is
//! allowed exactly when it has the relation named by the action (RBAC through
//! `role#assignee`, groups through `group#member`, ReBAC through everything else), and the
//! reason names what decided.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use portcullis_authz::{CheckError, Checker, MemoryTuples, Model, ObjectRef, Overlay, Subject};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::Services;
use crate::authz_index::AuthzState;
use crate::error::{Error, Result};
use crate::model::tenant::TenantRecord;

/// The scope an access token needs to ask for decisions.
pub const AUTHZEN_SCOPE: &str = "authzen";

/// How many verified tokens each node remembers (each is checked once, then until it expires).
const CALLER_CACHE: usize = 10_000;

/// A policy enforcement point whose access token was verified for one tenant.
#[derive(Debug, Clone)]
pub struct DecisionCaller {
    pub tenant: TenantRecord,
    pub client_id: String,
}

/// Why a caller is refused (RFC 6750 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerRefusal {
    /// No token, or one that is invalid, expired or revoked.
    InvalidToken,
    /// A good token without the `authzen` scope.
    InsufficientScope,
}

/// An entity of a request: a subject or a resource, `type` and `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    pub kind: String,
    pub id: String,
}

/// One question: may `subject` do `action` to `resource`?
#[derive(Debug, Clone)]
pub struct AccessQuestion {
    pub subject: Entity,
    pub action: String,
    pub resource: Entity,
}

/// Why a decision came out as it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// `relation` (the model decided), `error` (the question could not be answered).
    pub kind: &'static str,
    pub detail: String,
}

/// A decision with its reason; `status` is set when the question itself was wrong (an
/// unknown type or action: 404, a malformed id: 400) or could not be answered (422).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub reason: Reason,
    pub status: Option<u16>,
}

impl Decision {
    fn error(status: u16, detail: String) -> Self {
        Self { allowed: false, reason: Reason { kind: "error", detail }, status: Some(status) }
    }
}

/// Verified tokens: digest of tenant and token → caller and expiry.
#[derive(Default)]
pub(crate) struct CallerCache(Mutex<HashMap<[u8; 32], (DecisionCaller, i64)>>);

fn caller_key(tenant: &str, token: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update((tenant.len() as u64).to_be_bytes());
    hasher.update(tenant.as_bytes());
    hasher.update(token.as_bytes());
    hasher.finalize().into()
}

/// An answer the tenant's tuples give, with directory tuples per subject.
pub struct DecisionView {
    index: Arc<crate::authz_index::TenantIndex>,
    model: Arc<Model>,
    /// The consistency token of the revision the answers are at.
    pub consistency_token: String,
    directory: HashMap<String, MemoryTuples>,
}

fn object_of(entity: &Entity, what: &str) -> std::result::Result<ObjectRef, Decision> {
    ObjectRef::new(&entity.kind, &entity.id).map_err(|e| Decision::error(400, format!("{what}: {}", e.0)))
}

impl DecisionView {
    /// Decides one question against the copy (no I/O: directory tuples were fetched first).
    pub fn decide(&self, question: &AccessQuestion) -> Result<Decision> {
        let state = self.index.read()?;
        Ok(self.decide_in(&state, question))
    }

    fn decide_in(&self, state: &AuthzState, q: &AccessQuestion) -> Decision {
        let (subject, resource) = match (object_of(&q.subject, "subject"), object_of(&q.resource, "resource")) {
            (Ok(subject), Ok(resource)) => (Subject::Object(subject), resource),
            (Err(decision), _) | (_, Err(decision)) => return decision,
        };
        if !self.model.types.contains_key(&q.resource.kind) {
            return Decision::error(404, format!("the resource type {} is not defined", q.resource.kind));
        }
        if self.model.relation(&q.resource.kind, &q.action).is_none() {
            return Decision::error(404, format!("{} defines no action {}", q.resource.kind, q.action));
        }
        let empty = MemoryTuples::default();
        let extra = self.directory.get(&subject.to_string()).unwrap_or(&empty);
        let source = Overlay { base: &state.tuples, extra };
        match Checker::new(&self.model, &source).check(&resource, &q.action, &subject) {
            Ok(allowed) => {
                let verb = if allowed { "has" } else { "does not have" };
                Decision {
                    allowed,
                    reason: Reason { kind: "relation", detail: format!("{subject} {verb} {} on {resource}", q.action) },
                    status: None,
                }
            }
            Err(error @ CheckError::DepthExceeded(_)) => Decision::error(422, error.to_string()),
            Err(error) => Decision::error(404, error.to_string()),
        }
    }

    /// The objects of type `kind` on which `subject` may do `action`, sorted.
    pub fn resources(&self, subject: &Entity, action: &str, kind: &str) -> Result<Vec<String>> {
        let subject =
            Subject::Object(ObjectRef::new(&subject.kind, &subject.id).map_err(|e| Error::invalid("subject", e.0))?);
        let state = self.index.read()?;
        let empty = MemoryTuples::default();
        let extra = self.directory.get(&subject.to_string()).unwrap_or(&empty);
        let source = Overlay { base: &state.tuples, extra };
        let found = Checker::new(&self.model, &source)
            .list_objects(kind, action, &subject)
            .map_err(super::authz::check_error)?;
        Ok(found.into_iter().map(|o| o.id.to_string()).collect())
    }

    /// The subjects of type `kind` that may do `action` to `resource` (ids, sorted), and
    /// whether every subject of the type may (a wildcard).
    pub fn subjects(&self, kind: &str, action: &str, resource: &Entity) -> Result<(Vec<String>, bool)> {
        let resource = ObjectRef::new(&resource.kind, &resource.id).map_err(|e| Error::invalid("resource", e.0))?;
        let state = self.index.read()?;
        let listed = Checker::new(&self.model, &state.tuples)
            .list_subjects(&resource, action, kind)
            .map_err(super::authz::check_error)?;
        Ok((listed.objects.into_iter().map(|o| o.id.to_string()).collect(), listed.wildcard))
    }

    /// The actions (relations of the resource's type) `subject` may do to `resource`.
    pub fn actions(&self, subject: &Entity, resource: &Entity) -> Result<Vec<String>> {
        let state = self.index.read()?;
        let Some(definition) = self.model.types.get(&resource.kind) else { return Ok(Vec::new()) };
        let mut allowed = Vec::new();
        for action in definition.relations.keys() {
            let question =
                AccessQuestion { subject: subject.clone(), action: action.clone(), resource: resource.clone() };
            if self.decide_in(&state, &question).allowed {
                allowed.push(action.clone());
            }
        }
        Ok(allowed)
    }
}

impl Services {
    /// Verifies a policy enforcement point's access token for `tenant`: signed by the tenant,
    /// live, and carrying the `authzen` scope. A verified token is remembered until it expires
    /// — except tokens of a user's grant, whose grant is checked every time.
    pub async fn decision_caller(
        &self,
        tenant: &str,
        issuer: &str,
        token: Option<&str>,
    ) -> Result<std::result::Result<DecisionCaller, CallerRefusal>> {
        let Some(token) = token else { return Ok(Err(CallerRefusal::InvalidToken)) };
        let now = self.clock.now().unix_timestamp();
        let key = caller_key(tenant, token);
        if let Some((caller, exp)) = self.callers.0.lock().ok().and_then(|map| map.get(&key).cloned())
            && exp > now
        {
            return Ok(Ok(caller));
        }
        let Some(claims) = self.verify_access_token(tenant, issuer, token).await? else {
            return Ok(Err(CallerRefusal::InvalidToken));
        };
        let grant = claims.get("grant_id").and_then(Value::as_str);
        if let Some(grant) = grant
            && self.live_grant(tenant, grant).await?.is_none()
        {
            return Ok(Err(CallerRefusal::InvalidToken));
        }
        let scope = claims.get("scope").and_then(Value::as_str).unwrap_or_default();
        if !scope.split(' ').any(|s| s == AUTHZEN_SCOPE) {
            return Ok(Err(CallerRefusal::InsufficientScope));
        }
        let mut tx = self.store.read().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        drop(tx);
        let client_id = claims.get("client_id").and_then(Value::as_str).unwrap_or_default().to_owned();
        let caller = DecisionCaller { tenant: record, client_id };
        let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(now);
        if grant.is_none()
            && let Ok(mut map) = self.callers.0.lock()
        {
            if map.len() >= CALLER_CACHE {
                map.retain(|_, (_, e)| *e > now);
                if map.len() >= CALLER_CACHE {
                    map.clear();
                }
            }
            map.insert(key, (caller.clone(), exp));
        }
        Ok(Ok(caller))
    }

    /// The tenant's relationships at least as fresh as `consistency_token`, with the
    /// directory's roles and groups of each `user` subject in `subjects`.
    pub async fn decision_view(
        &self,
        caller: &DecisionCaller,
        consistency_token: Option<&str>,
        subjects: &[&Entity],
    ) -> Result<DecisionView> {
        let index = self.authz_index(&caller.tenant, consistency_token).await?;
        let (model, revision) = {
            let state = index.read()?;
            (state.model.clone(), state.revision)
        };
        let model = model.unwrap_or_else(|| Arc::new(Model { types: Default::default() }));
        let mut directory = HashMap::new();
        for entity in subjects {
            let Ok(object) = ObjectRef::new(&entity.kind, &entity.id) else { continue };
            let subject = Subject::Object(object);
            let key = subject.to_string();
            if directory.contains_key(&key) {
                continue;
            }
            let mut tuples = MemoryTuples::default();
            self.directory_tuples(&caller.tenant, &model, &subject, &mut tuples).await?;
            directory.insert(key, tuples);
        }
        Ok(DecisionView { index, model, consistency_token: super::authz::consistency_token(revision), directory })
    }
}
