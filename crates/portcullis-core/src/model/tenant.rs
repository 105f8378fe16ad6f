//! Tenants: the unit of isolation (Keycloak's realm).

use portcullis_types::{TenantId, TenantName};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A preset of defaults; never a fork of code (DESIGN §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TenantProfile {
    /// Employees and contractors: provisioned accounts (no self-registration), a second factor
    /// required of everyone, passwords of at least 12 characters, RBAC.
    Workforce,
    /// Self-registering customers: a second factor from those who enrolled one, "remember this
    /// device" for 30 days, passwordless, social login, consent.
    Customer,
}

impl TenantProfile {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Workforce => "workforce",
            Self::Customer => "customer",
        }
    }

    /// Parses the stored form.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "workforce" => Some(Self::Workforce),
            "customer" => Some(Self::Customer),
            _ => None,
        }
    }
}

/// A tenant as stored.
#[derive(Debug, Clone)]
pub struct TenantRecord {
    pub id: TenantId,
    pub name: TenantName,
    pub display_name: String,
    pub profile: TenantProfile,
    /// The tenant key, wrapped by the master key.
    pub wrapped_key: Vec<u8>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A tenant as the admin API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Tenant {
    pub id: TenantId,
    pub name: TenantName,
    pub display_name: String,
    pub profile: TenantProfile,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<&TenantRecord> for Tenant {
    fn from(record: &TenantRecord) -> Self {
        Self {
            id: record.id,
            name: record.name.clone(),
            display_name: record.display_name.clone(),
            profile: record.profile,
            created_at: record.created_at,
            updated_at: record.updated_at,
        }
    }
}

/// The body of `POST /admin/v1/tenants`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    /// URL-safe handle, immutable: the issuer is `{public_url}/t/{name}`.
    pub name: TenantName,
    /// Human-readable name; defaults to `name`.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Defaults to `workforce`.
    #[serde(default)]
    pub profile: Option<TenantProfile>,
}

/// The body of `PATCH /admin/v1/tenants/{tenant}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantChanges {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub profile: Option<TenantProfile>,
}
