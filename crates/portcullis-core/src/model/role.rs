//! Roles: tenant-wide or of one client, optionally composite,
//! assigned to users and groups, optionally until a time after which they lapse by themselves.

use portcullis_types::{GroupId, RoleId, TenantId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A role as stored and shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Role {
    pub id: RoleId,
    #[serde(skip)]
    pub tenant_id: TenantId,
    /// Unique in the tenant (client roles included: prefix them, e.g. `billing:admin`).
    pub name: String,
    /// The client the role belongs to; absent for a tenant-wide role. A client's roles appear
    /// in tokens issued to that client only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Roles this role includes (composite role).
    pub composites: Vec<RoleId>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// The body of `POST …/roles`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRole {
    pub name: String,
    /// Makes the role one of this client's (fixed once created).
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub composites: Vec<RoleId>,
}

/// The body of `PATCH …/roles/{id}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleChanges {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, with = "crate::model::user::double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// Replaces the set of included roles.
    #[serde(default)]
    pub composites: Option<Vec<RoleId>>,
}

/// The body of `PUT …/users/{id}/roles/{role}` and `PUT …/groups/{id}/roles/{role}`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRole {
    /// When the assignment lapses by itself; absent means never.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
}

/// A direct assignment of a role.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RoleAssignment {
    pub role_id: RoleId,
    pub role_name: String,
    #[serde(with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<OffsetDateTime>,
}

/// A group of a user: direct membership or inherited from a subgroup.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EffectiveGroup {
    pub id: GroupId,
    pub name: String,
    /// True for a group the user is a member of, false for an enclosing group.
    pub direct: bool,
}

/// A role a user holds, however it came.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EffectiveRole {
    pub id: RoleId,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

impl EffectiveAccess {
    /// What a token for `client_id` may show: the tenant-wide roles and that client's.
    pub fn for_client(mut self, client_id: &str) -> Self {
        self.roles.retain(|r| r.client_id.as_deref().is_none_or(|c| c == client_id));
        self
    }
}

/// Everything a user holds: `GET …/users/{id}/effective`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EffectiveAccess {
    pub groups: Vec<EffectiveGroup>,
    pub roles: Vec<EffectiveRole>,
}
