//! A tenant's Cedar policy document (issue 5 item 3): stored whole, compiled and validated
//! against a schema derived from the tenant's user schema and relationship model, and tried
//! out by the policy test endpoint before or after it is stored.

use std::sync::Arc;

use portcullis_authz::Model;
use portcullis_authz::cedar::{AttributeKind, Policies, PolicyDocument, schema_json};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::audit::Change;
use super::decisions::{AccessQuestion, Decision, Entity, Reason};
use super::{Principal, Services};
use crate::error::{Error, FieldError, Result};
use crate::model::schema::{AttributeDefinition, AttributeType};
use crate::model::tenant::TenantRecord;
use crate::model::token::Access;
use crate::store::StoreTx;

/// Most policies (static and linked) one tenant may have.
pub const MAX_POLICIES: usize = 10_000;

/// The stored policy document and the revision it is at.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PoliciesView {
    #[schema(value_type = Object)]
    pub document: PolicyDocument,
    /// Static and linked policies.
    pub count: usize,
    pub consistency_token: String,
}

/// An entity of a policy test.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestEntity {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    /// A resource's attributes (a directory user's come from the directory).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub properties: Map<String, Value>,
}

/// The body of `POST …/authz/policies:test`: a question, and optionally a document to try
/// instead of the stored one.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyTest {
    pub subject: TestEntity,
    pub action: String,
    pub resource: TestEntity,
    /// `ip`, `acr`, `amr`, `risk`, `region`.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub context: Map<String, Value>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub document: Option<PolicyDocument>,
    #[serde(default)]
    pub consistency_token: Option<String>,
}

/// Would the request be allowed, and what decided?
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PolicyTestResult {
    pub decision: bool,
    #[schema(value_type = Object)]
    pub reason: Reason,
    /// Set when the question itself was wrong (404, 400) or could not be answered (422).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_status: Option<u16>,
}

/// The Cedar type of a user-schema attribute, if Cedar can hold it.
fn attribute_kind(definition: &AttributeDefinition) -> Option<AttributeKind> {
    match definition.kind {
        AttributeType::String | AttributeType::Date | AttributeType::Datetime => Some(AttributeKind::String),
        AttributeType::Integer => Some(AttributeKind::Long),
        AttributeType::Boolean => Some(AttributeKind::Boolean),
        AttributeType::Number => None,
    }
}

fn compile(document: &PolicyDocument) -> Result<Policies> {
    let policies = Policies::compile(document)
        .map_err(|errors| Error::Validation(errors.into_iter().map(|e| FieldError::new("policies", e)).collect()))?;
    if policies.len() > MAX_POLICIES {
        return Err(Error::invalid("policies", format!("at most {MAX_POLICIES} policies")));
    }
    Ok(policies)
}

impl Services {
    /// The Cedar schema the tenant's policies are validated against.
    async fn cedar_schema(
        &self,
        tx: &mut Box<dyn StoreTx>,
        tenant: &TenantRecord,
        document: &PolicyDocument,
    ) -> Result<Value> {
        let model = match tx.authz_model_get(tenant.id).await? {
            Some(stored) => serde_json::from_str(&stored.model).map_err(Error::internal)?,
            None => Model { types: Default::default() },
        };
        let attributes: Vec<(String, AttributeKind)> = tx
            .schema_get(tenant.id)
            .await?
            .iter()
            .filter(|d| !d.sensitive)
            .filter_map(|d| attribute_kind(d).map(|kind| (d.name.to_string(), kind)))
            .collect();
        Ok(schema_json(&model, &attributes, document))
    }

    /// `GET …/authz/policies`.
    pub async fn get_authz_policies(&self, who: &Principal, tenant: &str) -> Result<PoliciesView> {
        let mut tx = self.store.read().await?;
        let record = self.tenant_for(&mut tx, who, tenant, Access::Read).await?;
        let stored = tx.authz_model_get(record.id).await?.filter(|s| !s.policies.is_empty());
        let stored = stored.ok_or(Error::NotFound("policy document"))?;
        let document: PolicyDocument = serde_json::from_str(&stored.policies).map_err(Error::internal)?;
        let count = compile(&document)?.len();
        Ok(PoliciesView { document, count, consistency_token: super::authz::consistency_token(stored.revision) })
    }

    /// `GET …/authz/policies/schema`: the Cedar schema (JSON form) policies are validated against.
    pub async fn authz_policy_schema(&self, who: &Principal, tenant: &str) -> Result<Value> {
        let mut tx = self.store.read().await?;
        let record = self.tenant_for(&mut tx, who, tenant, Access::Read).await?;
        let document = match tx.authz_model_get(record.id).await? {
            Some(stored) if !stored.policies.is_empty() => {
                serde_json::from_str(&stored.policies).map_err(Error::internal)?
            }
            _ => PolicyDocument::default(),
        };
        self.cedar_schema(&mut tx, &record, &document).await
    }

    /// `PUT …/authz/policies`: compiles, validates and replaces the policy document.
    pub async fn put_authz_policies(
        &self,
        who: &Principal,
        tenant: &str,
        document: PolicyDocument,
    ) -> Result<PoliciesView> {
        let policies = compile(&document)?;
        let text = serde_json::to_string(&document).map_err(Error::internal)?;
        let mut tx = self.store.write().await?;
        let record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        let schema = self.cedar_schema(&mut tx, &record, &document).await?;
        policies.validate(schema).map_err(|errors| {
            Error::Validation(errors.into_iter().map(|e| FieldError::new("policies", e)).collect())
        })?;
        let before = tx.authz_model_get(record.id).await?.filter(|s| !s.policies.is_empty());
        let now = self.clock.now();
        let revision = tx.authz_policies_put(record.id, &text, now).await?;
        let change = Change {
            action: "authz.policies.put",
            tenant: Some(tenant),
            target_type: "authz_policies",
            target_id: Some(revision.to_string()),
            before: before.and_then(|b| serde_json::from_str(&b.policies).ok()),
            after: Some(json!(document)),
        };
        self.commit_authz_revision(tx, who, &record, revision, change).await?;
        Ok(PoliciesView {
            count: policies.len(),
            document,
            consistency_token: super::authz::consistency_token(revision),
        })
    }

    /// `POST …/authz/policies:test`: decides one question exactly as the decision API would —
    /// with the given document instead of the stored one when there is one — and says why.
    pub async fn test_authz_policies(
        &self,
        who: &Principal,
        tenant: &str,
        test: PolicyTest,
    ) -> Result<PolicyTestResult> {
        let candidate = test.document.as_ref().map(compile).transpose()?.map(|p| (!p.is_empty()).then(|| Arc::new(p)));
        let mut tx = self.store.read().await?;
        let record = self.tenant_for(&mut tx, who, tenant, Access::Read).await?;
        drop(tx);
        let entity =
            |e: &TestEntity| Entity { kind: e.kind.clone(), id: e.id.clone(), properties: e.properties.clone() };
        let question = AccessQuestion {
            subject: entity(&test.subject),
            action: test.action.clone(),
            resource: entity(&test.resource),
            context: test.context.clone(),
        };
        let view =
            self.decision_view_of(&record, test.consistency_token.as_deref(), &[&question.subject], candidate).await?;
        let Decision { allowed, reason, status } = view.decide(&question)?;
        Ok(PolicyTestResult { decision: allowed, reason, error_status: status })
    }
}
