//! Access decisions for policy enforcement points (the AuthZEN Authorization API 1.0 adapter
//! calls these): may this subject do this action to that resource? Answered in memory from the
//! tenant's Cedar policies and relationship model, with what the directory knows of a `user`
//! subject (its attributes, roles and groups).
//!
//! The order, one rule in one place ([`DecisionView::decide`]):
//! 1. a Cedar `forbid` that matches denies, whatever else holds;
//! 2. a Cedar `permit` that matches allows;
//! 3. otherwise the relationship model decides when it defines the action as a relation of the
//!    resource's type: RBAC through `role#assignee`, groups through `group#member`, ReBAC
//!    through the rest;
//! 4. otherwise the answer is no — an error (404) when the tenant has no policies either, since
//!    then the action cannot mean anything.
//!
//! Every decision says why: the policies or the relation that decided.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use portcullis_authz::cedar::{CedarDecision, EntityFacts, Policies};
use portcullis_authz::{CheckError, Checker, MemoryTuples, Model, ObjectRef, Overlay, Subject};
use serde::Serialize;
use serde_json::{Map, Value};
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

/// An entity of a request: a subject or a resource, `type` and `id`, and the properties the
/// caller gives (a resource's are Cedar attributes; a directory user's come from the directory).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Entity {
    pub kind: String,
    pub id: String,
    pub properties: Map<String, Value>,
}

/// One question: may `subject` do `action` to `resource`, in `context` (`ip`, `acr`, `amr`,
/// `risk`, `region`; `now` is the server's)?
#[derive(Debug, Clone, Default)]
pub struct AccessQuestion {
    pub subject: Entity,
    pub action: String,
    pub resource: Entity,
    pub context: Map<String, Value>,
}

/// Why a decision came out as it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// `forbid` or `permit` (Cedar policies decided), `relation` (the model decided),
    /// `default` (nothing allowed it), `error` (the question could not be answered).
    pub kind: &'static str,
    pub detail: String,
    /// The ids of the policies that decided.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<String>,
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
        Self { allowed: false, reason: Reason { kind: "error", detail, policies: Vec::new() }, status: Some(status) }
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

/// What the directory knows of one subject: its roles and groups as tuples, and its Cedar facts.
struct SubjectFacts {
    tuples: MemoryTuples,
    cedar: EntityFacts,
}

/// The tenant's policies and relationships at one revision, with what the directory knows of
/// the subjects asked about: decides questions without further I/O.
pub struct DecisionView {
    index: Arc<crate::authz_index::TenantIndex>,
    model: Arc<Model>,
    policies: Option<Arc<Policies>>,
    /// The consistency token of the revision the answers are at.
    pub consistency_token: String,
    directory: HashMap<String, SubjectFacts>,
    now: i64,
    /// The tenant's share of decisions to log.
    pub(crate) decision_log_sample: f64,
}

fn object_of(entity: &Entity, what: &str) -> std::result::Result<ObjectRef, Decision> {
    ObjectRef::new(&entity.kind, &entity.id).map_err(|e| Decision::error(400, format!("{what}: {}", e.0)))
}

impl DecisionView {
    /// Decides one question (see the module's documentation for the order).
    pub fn decide(&self, question: &AccessQuestion) -> Result<Decision> {
        let state = self.index.read()?;
        Ok(self.decide_in(&state, question))
    }

    fn decide_in(&self, state: &AuthzState, q: &AccessQuestion) -> Decision {
        let (subject, resource) = match (object_of(&q.subject, "subject"), object_of(&q.resource, "resource")) {
            (Ok(subject), Ok(resource)) => (Subject::Object(subject), resource),
            (Err(decision), _) | (_, Err(decision)) => return decision,
        };
        let facts = self.directory.get(&subject.to_string());
        if let Some(policies) = &self.policies {
            let principal = facts.map(|f| f.cedar.clone()).unwrap_or_else(|| EntityFacts {
                kind: q.subject.kind.clone(),
                id: q.subject.id.clone(),
                ..Default::default()
            });
            let target = EntityFacts {
                kind: q.resource.kind.clone(),
                id: q.resource.id.clone(),
                attributes: q.resource.properties.clone(),
                parents: Vec::new(),
            };
            let mut context = q.context.clone();
            context.insert("now".into(), Value::from(self.now));
            match policies.decide(&principal, &q.action, &target, &context) {
                Ok(CedarDecision::Forbid(ids)) => {
                    let detail = format!("forbidden by policy {}", ids.join(", "));
                    return Decision {
                        allowed: false,
                        reason: Reason { kind: "forbid", detail, policies: ids },
                        status: None,
                    };
                }
                Ok(CedarDecision::Permit(ids)) => {
                    let detail = format!("permitted by policy {}", ids.join(", "));
                    return Decision {
                        allowed: true,
                        reason: Reason { kind: "permit", detail, policies: ids },
                        status: None,
                    };
                }
                Ok(CedarDecision::NotApplicable) => {}
                Err(error) => return Decision::error(400, format!("the policies cannot read this request: {error}")),
            }
        }
        if self.model.relation(&q.resource.kind, &q.action).is_none() {
            if self.policies.is_some() {
                let detail = format!("no policy permits {} on {resource}, and it is no relation", q.action);
                return Decision {
                    allowed: false,
                    reason: Reason { kind: "default", detail, policies: Vec::new() },
                    status: None,
                };
            }
            return Decision::error(404, format!("{} defines no action {}", q.resource.kind, q.action));
        }
        let empty = MemoryTuples::default();
        let extra = facts.map_or(&empty, |f| &f.tuples);
        let source = Overlay { base: &state.tuples, extra };
        match Checker::new(&self.model, &source).check(&resource, &q.action, &subject) {
            Ok(allowed) => {
                let verb = if allowed { "has" } else { "does not have" };
                let detail = format!("{subject} {verb} {} on {resource}", q.action);
                Decision { allowed, reason: Reason { kind: "relation", detail, policies: Vec::new() }, status: None }
            }
            Err(error @ CheckError::DepthExceeded(_)) => Decision::error(422, error.to_string()),
            Err(error) => Decision::error(404, error.to_string()),
        }
    }

    /// The objects of type `kind` on which `subject` may do `action` through relations,
    /// less those a Cedar `forbid` denies; sorted ids.
    pub fn resources(&self, subject: &Entity, action: &str, kind: &str) -> Result<Vec<String>> {
        let who =
            Subject::Object(ObjectRef::new(&subject.kind, &subject.id).map_err(|e| Error::invalid("subject", e.0))?);
        let state = self.index.read()?;
        let empty = MemoryTuples::default();
        let extra = self.directory.get(&who.to_string()).map_or(&empty, |f| &f.tuples);
        let source = Overlay { base: &state.tuples, extra };
        let found =
            Checker::new(&self.model, &source).list_objects(kind, action, &who).map_err(super::authz::check_error)?;
        Ok(found
            .into_iter()
            .filter(|o| {
                self.confirmed(
                    &state,
                    subject,
                    action,
                    &Entity { kind: o.kind.to_string(), id: o.id.to_string(), ..Default::default() },
                )
            })
            .map(|o| o.id.to_string())
            .collect())
    }

    /// The subjects of type `kind` that may do `action` to `resource` through relations, less
    /// those a Cedar `forbid` denies (ids, sorted), and whether every subject of the type may
    /// (a wildcard).
    pub fn subjects(&self, kind: &str, action: &str, resource: &Entity) -> Result<(Vec<String>, bool)> {
        let target = ObjectRef::new(&resource.kind, &resource.id).map_err(|e| Error::invalid("resource", e.0))?;
        let state = self.index.read()?;
        let listed = Checker::new(&self.model, &state.tuples)
            .list_subjects(&target, action, kind)
            .map_err(super::authz::check_error)?;
        let ids = listed
            .objects
            .into_iter()
            .filter(|o| {
                self.confirmed(
                    &state,
                    &Entity { kind: o.kind.to_string(), id: o.id.to_string(), ..Default::default() },
                    action,
                    resource,
                )
            })
            .map(|o| o.id.to_string())
            .collect();
        Ok((ids, listed.wildcard))
    }

    /// Whether a result of a listing also passes the whole decision (policies may forbid it).
    fn confirmed(&self, state: &AuthzState, subject: &Entity, action: &str, resource: &Entity) -> bool {
        self.policies.is_none()
            || self
                .decide_in(
                    state,
                    &AccessQuestion {
                        subject: subject.clone(),
                        action: action.to_owned(),
                        resource: resource.clone(),
                        context: Map::new(),
                    },
                )
                .allowed
    }

    /// The actions `subject` may do to `resource`: the relations of its type and the actions
    /// the policies declare, each decided in full.
    pub fn actions(&self, subject: &Entity, resource: &Entity, declared: &[String]) -> Result<Vec<String>> {
        let state = self.index.read()?;
        let mut candidates: Vec<&String> =
            self.model.types.get(&resource.kind).map(|t| t.relations.keys().collect()).unwrap_or_default();
        candidates.extend(declared);
        candidates.sort();
        candidates.dedup();
        Ok(candidates
            .into_iter()
            .filter(|action| {
                let question = AccessQuestion {
                    subject: subject.clone(),
                    action: (*action).clone(),
                    resource: resource.clone(),
                    context: Map::new(),
                };
                self.decide_in(&state, &question).allowed
            })
            .cloned()
            .collect())
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

    /// The tenant's policies and relationships at least as fresh as `consistency_token`, with
    /// what the directory knows of each subject in `subjects`. `policies` replaces the
    /// tenant's own (the policy test endpoint tries a document before it is stored).
    pub(crate) async fn decision_view_of(
        &self,
        tenant: &TenantRecord,
        consistency_token: Option<&str>,
        subjects: &[&Entity],
        policies: Option<Option<Arc<Policies>>>,
    ) -> Result<DecisionView> {
        let index = self.authz_index(tenant, consistency_token).await?;
        let (model, stored_policies, revision, decision_log_sample) = {
            let state = index.read()?;
            (state.model.clone(), state.policies.clone(), state.revision, state.settings.decision_log_sample)
        };
        let policies = policies.unwrap_or(stored_policies);
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
            let cedar = self.subject_facts(tenant, &model, policies.is_some(), &subject, &mut tuples).await?;
            directory.insert(key, SubjectFacts { tuples, cedar });
        }
        Ok(DecisionView {
            index,
            model,
            policies,
            consistency_token: super::authz::consistency_token(revision),
            directory,
            now: self.clock.now().unix_timestamp(),
            decision_log_sample,
        })
    }

    /// [`Self::decision_view_of`] for a policy enforcement point, with the tenant's own policies.
    pub async fn decision_view(
        &self,
        caller: &DecisionCaller,
        consistency_token: Option<&str>,
        subjects: &[&Entity],
    ) -> Result<DecisionView> {
        self.decision_view_of(&caller.tenant, consistency_token, subjects, None).await
    }

    /// The actions the tenant's policy document declares beyond its model's relations.
    pub async fn declared_actions(&self, caller: &DecisionCaller) -> Result<Vec<String>> {
        let mut tx = self.store.read().await?;
        let Some(stored) = tx.authz_model_get(caller.tenant.id).await? else { return Ok(Vec::new()) };
        if stored.policies.is_empty() {
            return Ok(Vec::new());
        }
        let document: portcullis_authz::cedar::PolicyDocument =
            serde_json::from_str(&stored.policies).map_err(Error::internal)?;
        Ok(document.actions.into_keys().collect())
    }
}
