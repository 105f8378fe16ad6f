//! Groups: they nest (a group has at most one parent), and members inherit the roles of a
//! group and of all its ancestors.

use portcullis_types::{GroupId, TenantId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A group as stored and shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Group {
    pub id: GroupId,
    #[serde(skip)]
    pub tenant_id: TenantId,
    /// Unique in the tenant.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The enclosing group, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<GroupId>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// The body of `POST …/groups`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGroup {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub parent_id: Option<GroupId>,
}

/// The body of `PATCH …/groups/{id}`: absent fields stay; `parent_id: null` makes the group
/// a top-level group.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupChanges {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, with = "crate::model::user::double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, with = "crate::model::user::double_option")]
    #[schema(value_type = Option<GroupId>)]
    pub parent_id: Option<Option<GroupId>>,
}
