//! A tenant's own OAuth scopes: a name clients may request and the claims it releases.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The scopes OpenID Connect and Portcullis define; a tenant cannot redefine them.
pub const BUILT_IN_SCOPES: &[&str] =
    &["openid", "profile", "email", "phone", "address", "offline_access", "roles", "groups"];

/// Claims a scope may release besides the tenant's user-schema attributes (OIDC Core §5.1,
/// plus `roles` and `groups`).
pub const STANDARD_CLAIMS: &[&str] = &[
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "email",
    "email_verified",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "phone_number",
    "phone_number_verified",
    "address",
    "updated_at",
    "roles",
    "groups",
];

/// A scope of the tenant's, as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ScopeDefinition {
    pub name: String,
    /// Shown on the consent page.
    pub description: String,
    /// Standard claim names or user-schema attribute names.
    pub claims: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// The body of `PUT …/scopes/{name}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScopeBody {
    pub description: String,
    pub claims: Vec<String>,
}
