//! Roles: tenant-wide (client-scoped roles come with the OIDC issue), optionally composite,
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
    /// Unique in the tenant.
    pub name: String,
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
}

/// Everything a user holds: `GET …/users/{id}/effective`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EffectiveAccess {
    pub groups: Vec<EffectiveGroup>,
    pub roles: Vec<EffectiveRole>,
}
