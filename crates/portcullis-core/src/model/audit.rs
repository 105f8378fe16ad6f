//! Audit events: who did what, when, from where, with before and after (sensitive values
//! masked). The log is append-only and hash-chained: each event's hash covers the previous
//! hash and the event's stored fields, so any edit or deletion breaks the chain.

use serde::Serialize;
use time::OffsetDateTime;

/// An audit event as stored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditEvent {
    /// Position in the chain, from 1.
    pub seq: i64,
    pub id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The tenant's name; absent for global events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// `token:{id}` or `system`.
    pub actor: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// E.g. `user.create`, `tenant.delete`.
    pub action: String,
    pub target_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_id: Option<String>,
    /// JSON text of the state before, sensitive values masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    /// Hex SHA-256 of the previous event (64 zeros for the first).
    pub prev_hash: String,
    /// Hex SHA-256 of this event.
    pub hash: String,
}

/// An audit event as stored: the JSON snapshots are kept as the exact text that was hashed.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub seq: i64,
    pub id: String,
    pub at_micros: i64,
    pub tenant: Option<String>,
    pub actor: String,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

/// Which audit events to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub tenant: Option<String>,
    pub action: Option<String>,
    pub actor: Option<String>,
    pub target_id: Option<String>,
    pub since_micros: Option<i64>,
    pub until_micros: Option<i64>,
}
