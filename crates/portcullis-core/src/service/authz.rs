//! Relationship-based authorization (issue 5): a tenant's model, its tuples — written in
//! transactions with preconditions, each write a new revision — and the queries over them
//! (check, expand, list objects, list subjects), answered from this node's in-memory copy
//! ([`crate::authz_index`]) at least as fresh as the caller's consistency token.
//!
//! The directory takes part: for a subject `user:{id}` of the tenant, the user's roles and
//! groups (direct, inherited and composite, unexpired) are the tuples
//! `role:{name}#assignee@user:{id}` and `group:{name}#member@user:{id}`, known during that
//! request only — a model that defines `role#assignee` or `group#member` lets RBAC decide.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use portcullis_authz::cedar::EntityFacts;
use portcullis_authz::{CheckError, Checker, MemoryTuples, Model, ObjectRef, Overlay, Subject, Tuple, UsersetTree};
use portcullis_types::UserId;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::audit::Change;
use super::{Principal, Services};
use crate::authz_index::TenantIndex;
use crate::error::{Error, FieldError, Result};
use crate::model::authz::{AuthzOperation, AuthzSettings, StoredTuple, TupleFilter};
use crate::model::page::{Page, decode_cursor, into_page, page_size};
use crate::model::tenant::TenantRecord;
use crate::model::token::Access;
use crate::model::user::UserRecord;
use crate::store::StoreTx;

/// Most tuples one write may add and delete together.
pub const MAX_TUPLES_PER_WRITE: usize = 1000;

/// The text of a consistency token for `revision`: opaque to clients, `v1.{revision}` here.
pub fn consistency_token(revision: i64) -> String {
    format!("v1.{revision}")
}

/// The revision a consistency token names.
pub fn parse_consistency_token(token: &str) -> Result<i64> {
    token
        .strip_prefix("v1.")
        .and_then(|n| n.parse::<i64>().ok())
        .filter(|n| *n >= 0)
        .ok_or_else(|| Error::invalid("consistency_token", "not a consistency token returned by this server"))
}

/// A tenant's model as the admin API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ModelView {
    /// The model as JSON: `{"types": {"doc": {"relations": {"viewer": {"direct": [{"type": "user"}]}}}}}`.
    #[schema(value_type = Object)]
    pub model: Model,
    /// The same model in the text form (`type doc` / `relations` / `define viewer: [user]`).
    pub dsl: String,
    pub consistency_token: String,
}

/// What to do when a write finds the tuple already there, or a delete finds it gone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnConflict {
    /// Refuse the whole write (409) — the default.
    #[default]
    Error,
    /// Skip that tuple.
    Ignore,
}

/// A condition the tuples must meet for a write to happen.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Precondition {
    /// `match`: some tuple must match the filter; `not_match`: none may.
    pub must: PreconditionKind,
    pub filter: TupleFilterBody,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PreconditionKind {
    Match,
    NotMatch,
}

/// Which tuples: every part given must match exactly (`object` `doc:readme`, `relation`
/// `viewer`, `subject` `user:anne` or `group:eng#member`).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TupleFilterBody {
    pub object: Option<String>,
    pub relation: Option<String>,
    pub subject: Option<String>,
}

/// The body of `POST …/authz/tuples`: one transaction.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TupleWrite {
    /// Tuples to add, `object#relation@subject` (`doc:readme#viewer@user:anne`).
    #[serde(default)]
    pub writes: Vec<String>,
    /// Tuples to remove.
    #[serde(default)]
    pub deletes: Vec<String>,
    /// A write of a tuple that exists: refuse (default) or skip.
    #[serde(default)]
    pub on_duplicate: OnConflict,
    /// A delete of a tuple that does not exist: refuse (default) or skip.
    #[serde(default)]
    pub on_missing: OnConflict,
    /// Checked inside the transaction before anything changes.
    #[serde(default)]
    pub preconditions: Vec<Precondition>,
}

/// What a write did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Written {
    pub written: usize,
    pub deleted: usize,
    /// Pass to queries to get answers that include this write.
    pub consistency_token: String,
}

/// A query over the tuples; at least as fresh as `consistency_token` when given.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthzQuery {
    /// `check`, `expand`, `list_objects` or `list_subjects`.
    pub query: QueryKind,
    /// `type:id` for check, expand and list subjects; the type alone for list objects.
    pub object: String,
    pub relation: String,
    /// The subject for check and list objects (`user:anne`, `group:eng#member`); the subject
    /// type for list subjects.
    #[serde(default)]
    pub subject: Option<String>,
    /// Tuples that hold for this query only (`object#relation@subject`), at most 100.
    #[serde(default)]
    pub contextual_tuples: Vec<String>,
    #[serde(default)]
    pub consistency_token: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QueryKind {
    Check,
    Expand,
    ListObjects,
    ListSubjects,
}

/// A query's answer; only the field of the query asked is present.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct QueryAnswer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub tree: Option<UsersetTree>,
    /// Objects (`doc:readme`) or subjects (`user:anne`; `user:*` when every one has it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub results: Option<Vec<String>>,
    /// The revision the answer was computed at.
    pub consistency_token: String,
}

fn tuple_field(field: String, text: &str) -> std::result::Result<Tuple, FieldError> {
    Tuple::parse(text).map_err(|e| FieldError::new(field, e.0))
}

fn stored(tuple: &Tuple) -> StoredTuple {
    StoredTuple {
        object: tuple.object.to_string(),
        relation: tuple.relation.to_string(),
        subject: tuple.subject.to_string(),
    }
}

fn filter_of(body: &TupleFilterBody, at: &str) -> Result<TupleFilter> {
    if let Some(object) = &body.object {
        ObjectRef::parse(object).map_err(|e| Error::invalid(format!("{at}object"), e.0))?;
    }
    if let Some(subject) = &body.subject {
        Subject::parse(subject).map_err(|e| Error::invalid(format!("{at}subject"), e.0))?;
    }
    Ok(TupleFilter { object: body.object.clone(), relation: body.relation.clone(), subject: body.subject.clone() })
}

/// How a check error reads to a caller.
pub(crate) fn check_error(error: CheckError) -> Error {
    match error {
        CheckError::UnknownRelation { .. } => Error::invalid("relation", error.to_string()),
        CheckError::DepthExceeded(_) => Error::conflict("depth", error.to_string()),
    }
}

impl Services {
    /// The tenant's in-memory copy, brought up to date as `consistency_token` demands.
    pub(crate) async fn authz_index(
        &self,
        tenant: &TenantRecord,
        consistency_token: Option<&str>,
    ) -> Result<Arc<TenantIndex>> {
        let at_least = consistency_token.map(parse_consistency_token).transpose()?;
        let index = self.authz.tenant(tenant.id)?;
        index.ensure(&self.store, tenant.id, at_least, self.clock.now()).await?;
        if let Some(revision) = at_least
            && index.read()?.revision < revision
        {
            return Err(Error::invalid("consistency_token", "names a revision this tenant has not reached"));
        }
        Ok(index)
    }

    /// Loads every tenant's authorization data into this node's memory, one tenant after
    /// another, so that the first decisions after a start do not wait for it (they would wait
    /// for the load in progress of their tenant only). A tenant that fails is left to load on
    /// first use.
    pub async fn preload_authz(&self) {
        let tenants = match self.store.read().await {
            Ok(mut tx) => tx.authz_tenants().await,
            Err(error) => Err(error),
        };
        let tenants = match tenants {
            Ok(tenants) => tenants,
            Err(error) => {
                tracing::warn!(%error, "could not list the tenants to preload authorization data for");
                return;
            }
        };
        for tenant in tenants {
            let started = std::time::Instant::now();
            let loaded = match self.authz.tenant(tenant) {
                Ok(index) => index.ensure(&self.store, tenant, None, self.clock.now()).await.map(|()| index),
                Err(error) => Err(error),
            };
            match loaded.and_then(|index| Ok(index.read()?.tuples.len())) {
                Ok(tuples) => {
                    tracing::info!(%tenant, tuples, ms = started.elapsed().as_millis() as u64, "authorization data loaded")
                }
                Err(error) => tracing::warn!(%tenant, %error, "could not preload authorization data"),
            }
        }
    }

    /// How many relationship tuples this node holds in memory (a metric).
    pub fn authz_tuples_in_memory(&self) -> usize {
        self.authz.tuples()
    }

    /// `GET …/authz/model`.
    pub async fn get_authz_model(&self, who: &Principal, tenant: &str) -> Result<ModelView> {
        let mut tx = self.store.read().await?;
        let record = self.tenant_for(&mut tx, who, tenant, Access::Read).await?;
        let stored = tx.authz_model_get(record.id).await?.ok_or(Error::NotFound("authorization model"))?;
        let model: Model = serde_json::from_str(&stored.model).map_err(Error::internal)?;
        Ok(ModelView {
            dsl: portcullis_authz::dsl::to_dsl(&model),
            model,
            consistency_token: consistency_token(stored.revision),
        })
    }

    /// `PUT …/authz/model`: validates and replaces the model. Tuples stay; those of relations
    /// the new model no longer defines are ignored by queries until it defines them again.
    pub async fn put_authz_model(&self, who: &Principal, tenant: &str, model: Model) -> Result<ModelView> {
        model.validate().map_err(|errors| {
            Error::Validation(
                errors.into_iter().map(|e| FieldError::new(format!("types/{}", e.at), e.reason)).collect(),
            )
        })?;
        if model.types.len() > 200 || model.types.values().map(|t| t.relations.len()).sum::<usize>() > 2000 {
            return Err(Error::invalid("types", "at most 200 types and 2000 relations"));
        }
        let text = serde_json::to_string(&model).map_err(Error::internal)?;
        let mut tx = self.store.write().await?;
        let record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        let before = tx.authz_model_get(record.id).await?;
        let now = self.clock.now();
        let revision = tx.authz_model_put(record.id, &text, now).await?;
        let change = Change {
            action: "authz.model.put",
            tenant: Some(tenant),
            target_type: "authz_model",
            target_id: Some(revision.to_string()),
            before: before.and_then(|b| serde_json::from_str(&b.model).ok()),
            after: Some(json!(model)),
        };
        self.commit_authz_revision(tx, who, &record, revision, change).await?;
        Ok(ModelView {
            dsl: portcullis_authz::dsl::to_dsl(&model),
            model,
            consistency_token: consistency_token(revision),
        })
    }

    /// Ends a write of a tenant's model, policies or settings at `revision`: logs it for the
    /// other nodes (which reload model, policies and settings), audits `change`, commits, and
    /// brings this node's copy up to date.
    pub(crate) async fn commit_authz_revision(
        &self,
        mut tx: Box<dyn StoreTx>,
        who: &Principal,
        tenant: &TenantRecord,
        revision: i64,
        change: Change<'_>,
    ) -> Result<()> {
        tx.authz_changes_append(tenant.id, revision, &[(AuthzOperation::Model, String::new())], self.clock.now())
            .await?;
        self.record(&mut tx, who, change).await?;
        tx.commit().await?;
        self.authz_caught_up(tenant, revision).await;
        Ok(())
    }

    /// Brings this node's copy up to `revision` right after a commit, so that this node's
    /// next answers include the write even without a token. A failure only delays that.
    pub(crate) async fn authz_caught_up(&self, tenant: &TenantRecord, revision: i64) {
        let result = self.authz_index(tenant, Some(&consistency_token(revision))).await;
        if let Err(error) = result {
            tracing::warn!(%error, "could not bring the authorization index up to date after a write");
        }
    }

    /// `POST …/authz/tuples`: adds and removes tuples in one transaction, after checking each
    /// against the model and every precondition; all or nothing.
    pub async fn write_tuples(&self, who: &Principal, tenant: &str, body: TupleWrite) -> Result<Written> {
        if body.writes.len() + body.deletes.len() > MAX_TUPLES_PER_WRITE {
            return Err(Error::invalid(
                "writes",
                format!("at most {MAX_TUPLES_PER_WRITE} writes and deletes together"),
            ));
        }
        if body.preconditions.len() > 100 {
            return Err(Error::invalid("preconditions", "at most 100"));
        }
        let mut errors = Vec::new();
        let mut parse_all = |list: &[String], name: &str| -> Vec<Tuple> {
            list.iter()
                .enumerate()
                .filter_map(|(i, text)| tuple_field(format!("{name}/{i}"), text).map_err(|e| errors.push(e)).ok())
                .collect()
        };
        let writes = parse_all(&body.writes, "writes");
        let deletes = parse_all(&body.deletes, "deletes");
        let mut seen = HashSet::new();
        for (i, tuple) in writes.iter().chain(&deletes).enumerate() {
            if !seen.insert(tuple.clone()) {
                errors.push(FieldError::new(format!("tuples/{i}"), format!("{tuple} appears twice in one write")));
            }
        }
        let filters = body
            .preconditions
            .iter()
            .enumerate()
            .map(|(i, p)| filter_of(&p.filter, &format!("preconditions/{i}/filter/")).map(|f| (p.must, f)))
            .collect::<Result<Vec<_>>>()?;
        let mut tx = self.store.write().await?;
        let record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        let Some(model) = tx.authz_model_get(record.id).await? else {
            return Err(Error::conflict("authz_model", "the tenant has no authorization model: PUT one first"));
        };
        let model: Model = serde_json::from_str(&model.model).map_err(Error::internal)?;
        for (i, tuple) in writes.iter().enumerate() {
            if let Err(reason) = model.check_tuple(tuple) {
                errors.push(FieldError::new(format!("writes/{i}"), reason));
            }
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        for (i, (must, filter)) in filters.iter().enumerate() {
            let found = !tx.authz_tuples(record.id, filter, None, 1).await?.is_empty();
            if found != (*must == PreconditionKind::Match) {
                return Err(Error::conflict("precondition", format!("precondition {i} does not hold")));
            }
        }
        let Some(revision) = tx.authz_revision_next(record.id).await? else {
            return Err(Error::conflict("authz_model", "the tenant has no authorization model: PUT one first"));
        };
        let mut changes = Vec::with_capacity(writes.len() + deletes.len());
        for tuple in &deletes {
            if tx.authz_tuple_delete(record.id, &stored(tuple)).await? {
                changes.push((AuthzOperation::Delete, tuple.to_string()));
            } else if body.on_missing == OnConflict::Error {
                return Err(Error::conflict("tuple_missing", format!("{tuple} does not exist")));
            }
        }
        let deleted = changes.len();
        for tuple in &writes {
            if tx.authz_tuple_insert(record.id, &stored(tuple), revision).await? {
                changes.push((AuthzOperation::Write, tuple.to_string()));
            } else if body.on_duplicate == OnConflict::Error {
                return Err(Error::conflict("tuple_exists", format!("{tuple} already exists")));
            }
        }
        if changes.is_empty() {
            // Nothing changed: no revision is spent (the transaction is dropped unwritten), and
            // the tenant stays at the one before the revision taken.
            return Ok(Written { written: 0, deleted: 0, consistency_token: consistency_token(revision - 1) });
        }
        let written = changes.len() - deleted;
        tx.authz_changes_append(record.id, revision, &changes, self.clock.now()).await?;
        self.record(
            &mut tx,
            who,
            Change {
                action: "authz.tuples.write",
                tenant: Some(tenant),
                target_type: "authz_tuples",
                target_id: Some(revision.to_string()),
                before: (deleted > 0).then(|| json!(changes[..deleted].iter().map(|c| &c.1).collect::<Vec<_>>())),
                after: (written > 0).then(|| json!(changes[deleted..].iter().map(|c| &c.1).collect::<Vec<_>>())),
            },
        )
        .await?;
        tx.commit().await?;
        self.authz_caught_up(&record, revision).await;
        Ok(Written { written, deleted, consistency_token: consistency_token(revision) })
    }

    /// `GET …/authz/tuples`: stored tuples matching the filter, in key order.
    pub async fn list_tuples(
        &self,
        who: &Principal,
        tenant: &str,
        filter: &TupleFilterBody,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<String>> {
        let limit = page_size(limit)?;
        let filter = filter_of(filter, "")?;
        let after = decode_cursor(cursor)?
            .map(|key| {
                Tuple::parse(&key)
                    .map(|t| stored(&t))
                    .map_err(|_| Error::invalid("cursor", "not a cursor returned by this API"))
            })
            .transpose()?;
        let mut tx = self.store.read().await?;
        let record = self.tenant_for(&mut tx, who, tenant, Access::Read).await?;
        let rows = tx.authz_tuples(record.id, &filter, after.as_ref(), limit + 1).await?;
        let items: Vec<String> = rows.iter().map(|t| format!("{}#{}@{}", t.object, t.relation, t.subject)).collect();
        Ok(into_page(items, limit, Clone::clone))
    }

    /// What the directory knows of a subject `user:{id}` of the tenant, added to `tuples` as
    /// its roles and groups (`role:{name}#assignee@user:{id}`, `group:{name}#member@user:{id}`)
    /// and returned as Cedar facts (non-sensitive attributes; roles and groups as parents) when
    /// `for_policies`. Nothing is read for other subjects, unknown users, or when neither the
    /// model nor policies would use it.
    pub(crate) async fn subject_facts(
        &self,
        tenant: &TenantRecord,
        model: &Model,
        for_policies: bool,
        subject: &Subject,
        tuples: &mut MemoryTuples,
    ) -> Result<EntityFacts> {
        let uses_roles = model.relation("role", "assignee").is_some();
        let uses_groups = model.relation("group", "member").is_some();
        let mut facts = match subject {
            Subject::Object(o) => EntityFacts { kind: o.kind.to_string(), id: o.id.to_string(), ..Default::default() },
            _ => EntityFacts::default(),
        };
        let Subject::Object(object) = subject else { return Ok(facts) };
        if &*object.kind != "user" || !(uses_roles || uses_groups || for_policies) {
            return Ok(facts);
        }
        let Ok(id) = object.id.parse::<UserId>() else { return Ok(facts) };
        let mut tx = self.store.read().await?;
        let Some(user) = tx.user_get(tenant.id, id).await? else { return Ok(facts) };
        let access = tx.user_effective(id, self.clock.now()).await?;
        if for_policies {
            facts.attributes = cedar_attributes(&user);
            facts.parents = access.roles.iter().map(|r| ("role".to_owned(), r.name.clone())).collect();
            facts.parents.extend(access.groups.iter().map(|g| ("group".to_owned(), g.name.clone())));
        }
        let roles = access.roles.iter().filter(|_| uses_roles).map(|r| ("role", &r.name, "assignee"));
        let groups = access.groups.iter().filter(|_| uses_groups).map(|g| ("group", &g.name, "member"));
        for (kind, name, relation) in roles.chain(groups) {
            // A name that cannot be an object id (it has spaces, say) cannot be named by a tuple either.
            if let Ok(tuple) = Tuple::parse(&format!("{kind}:{name}#{relation}@{object}")) {
                tuples.insert(tuple);
            }
        }
        Ok(facts)
    }

    /// `POST …/authz/query`: check, expand, list objects or list subjects.
    pub async fn authz_query(&self, who: &Principal, tenant: &str, query: AuthzQuery) -> Result<QueryAnswer> {
        if query.contextual_tuples.len() > 100 {
            return Err(Error::invalid("contextual_tuples", "at most 100"));
        }
        let mut contextual = MemoryTuples::default();
        for (i, text) in query.contextual_tuples.iter().enumerate() {
            contextual
                .insert(tuple_field(format!("contextual_tuples/{i}"), text).map_err(|e| Error::Validation(vec![e]))?);
        }
        let subject = match (query.query, &query.subject) {
            (QueryKind::Check | QueryKind::ListObjects, Some(text)) => {
                Some(Subject::parse(text).map_err(|e| Error::invalid("subject", e.0))?)
            }
            (QueryKind::Check | QueryKind::ListObjects, None) => return Err(Error::invalid("subject", "is required")),
            _ => None,
        };
        let object = match query.query {
            QueryKind::ListObjects => None,
            _ => Some(ObjectRef::parse(&query.object).map_err(|e| Error::invalid("object", e.0))?),
        };
        let mut tx = self.store.read().await?;
        let record = self.tenant_for(&mut tx, who, tenant, Access::Read).await?;
        drop(tx);
        let index = self.authz_index(&record, query.consistency_token.as_deref()).await?;
        let model = index.read()?.model.clone().ok_or(Error::NotFound("authorization model"))?;
        if let Some(subject) = &subject {
            self.subject_facts(&record, &model, false, subject, &mut contextual).await?;
        }
        let state = index.read()?;
        let source = Overlay { base: &state.tuples, extra: &contextual };
        let checker = Checker::new(&model, &source);
        let mut answer = QueryAnswer { consistency_token: consistency_token(state.revision), ..Default::default() };
        match (query.query, object, subject) {
            (QueryKind::Check, Some(object), Some(subject)) => {
                answer.allowed = Some(checker.check(&object, &query.relation, &subject).map_err(check_error)?);
            }
            (QueryKind::Expand, Some(object), _) => {
                answer.tree = Some(checker.expand(&object, &query.relation).map_err(check_error)?);
            }
            (QueryKind::ListObjects, _, Some(subject)) => {
                let objects: BTreeSet<ObjectRef> =
                    checker.list_objects(&query.object, &query.relation, &subject).map_err(check_error)?;
                answer.results = Some(objects.iter().map(ToString::to_string).collect());
            }
            (QueryKind::ListSubjects, Some(object), _) => {
                let kind =
                    query.subject.as_deref().ok_or_else(|| Error::invalid("subject", "name the subject type"))?;
                let listed = checker.list_subjects(&object, &query.relation, kind).map_err(check_error)?;
                let mut results: Vec<String> = listed.objects.iter().map(ToString::to_string).collect();
                if listed.wildcard {
                    results.insert(0, format!("{kind}:*"));
                }
                answer.results = Some(results);
            }
            _ => return Err(Error::invalid("query", "incomplete")),
        }
        Ok(answer)
    }
}

impl Services {
    /// `GET …/authz/settings`.
    pub async fn get_authz_settings(&self, who: &Principal, tenant: &str) -> Result<AuthzSettings> {
        let mut tx = self.store.read().await?;
        let record = self.tenant_for(&mut tx, who, tenant, Access::Read).await?;
        match tx.authz_model_get(record.id).await? {
            Some(stored) => serde_json::from_str(&stored.settings).map_err(Error::internal),
            None => Ok(AuthzSettings::default()),
        }
    }

    /// `PUT …/authz/settings`: every node follows within [`crate::AUTHZ_FRESHNESS`].
    pub async fn put_authz_settings(
        &self,
        who: &Principal,
        tenant: &str,
        settings: AuthzSettings,
    ) -> Result<AuthzSettings> {
        if !(0.0..=1.0).contains(&settings.decision_log_sample) {
            return Err(Error::invalid("decision_log_sample", "must be between 0 and 1"));
        }
        let text = serde_json::to_string(&settings).map_err(Error::internal)?;
        let mut tx = self.store.write().await?;
        let record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        let before = tx.authz_model_get(record.id).await?.and_then(|s| serde_json::from_str::<Value>(&s.settings).ok());
        let now = self.clock.now();
        let revision = tx.authz_settings_put(record.id, &text, now).await?;
        let change = Change {
            action: "authz.settings.put",
            tenant: Some(tenant),
            target_type: "authz_settings",
            target_id: Some(revision.to_string()),
            before,
            after: Some(json!(settings)),
        };
        self.commit_authz_revision(tx, who, &record, revision, change).await?;
        Ok(settings)
    }
}

/// A user's attributes as Cedar sees them: the standard ones and the non-sensitive custom
/// ones (sensitive attributes never take part in decisions); numbers that are not whole are
/// left out (Cedar has no floating point).
pub(crate) fn cedar_attributes(user: &UserRecord) -> serde_json::Map<String, Value> {
    let mut attributes = serde_json::Map::new();
    attributes.insert("username".into(), Value::String(user.username.clone()));
    if let Some(email) = &user.email {
        attributes.insert("email".into(), Value::String(email.clone()));
    }
    attributes.insert("email_verified".into(), Value::Bool(user.email_verified));
    attributes.insert("status".into(), json!(user.status));
    for (name, value) in &user.attributes {
        let keep = match value {
            Value::String(_) | Value::Bool(_) => true,
            Value::Number(n) => n.is_i64(),
            _ => false,
        };
        if keep && !attributes.contains_key(name) {
            attributes.insert(name.clone(), value.clone());
        }
    }
    attributes
}
