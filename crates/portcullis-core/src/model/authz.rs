//! Relationship-based authorization as stored: a tenant's model and revision, its tuples in
//! their text form, and the log of what each revision changed (DESIGN §7: each node keeps the
//! tuples in memory and catches up from the log).

use time::OffsetDateTime;

/// A tenant's authorization model (JSON), Cedar policies and the revision all are at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthzModelRecord {
    pub model: String,
    /// The Cedar policy document (JSON); empty when there is none.
    pub policies: String,
    /// [`AuthzSettings`] as JSON.
    pub settings: String,
    pub revision: i64,
    pub updated_at: OffsetDateTime,
}

/// A relationship tuple as stored: `object#relation@subject`, each part in its text form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StoredTuple {
    pub object: String,
    pub relation: String,
    pub subject: String,
}

/// What a revision did: wrote or deleted a tuple, or replaced the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthzOperation {
    Write,
    Delete,
    Model,
}

impl AuthzOperation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Write => "write",
            Self::Delete => "delete",
            Self::Model => "model",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "write" => Some(Self::Write),
            "delete" => Some(Self::Delete),
            "model" => Some(Self::Model),
            _ => None,
        }
    }
}

/// One entry of the change log: a revision, what it did and to which tuple (`object#relation@subject`;
/// empty for a model change).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthzChange {
    pub revision: i64,
    pub operation: AuthzOperation,
    pub tuple: String,
}

/// Which tuples a read returns: every part given must match exactly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TupleFilter {
    pub object: Option<String>,
    pub relation: Option<String>,
    pub subject: Option<String>,
}

/// A tenant's authorization settings.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthzSettings {
    /// The share of AuthZEN decisions written to the audit log as `authz.decision` events,
    /// from 0 (none, the default) to 1 (all).
    #[serde(default)]
    pub decision_log_sample: f64,
}

impl Default for AuthzSettings {
    fn default() -> Self {
        Self { decision_log_sample: 0.0 }
    }
}
