//! Admin API tokens: global or scoped to one tenant, read or write; stored as digests.

use portcullis_types::{TenantName, TokenId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    Read,
    Write,
}

impl Access {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
        }
    }

    /// Parses the stored form.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "read" => Some(Self::Read),
            "write" => Some(Self::Write),
            _ => None,
        }
    }
}

/// A token as stored: never the secret, only its SHA-256 digest.
#[derive(Debug, Clone)]
pub struct TokenRecord {
    pub id: TokenId,
    pub name: String,
    pub digest: Vec<u8>,
    /// `None`: all tenants, and the global resources (tenants, tokens).
    pub tenant: Option<TenantName>,
    pub access: Access,
    pub created_by: String,
    pub created_at: OffsetDateTime,
    pub expires_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

/// A token as the admin API lists it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Token {
    pub id: TokenId,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<TenantName>,
    pub access: Access,
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<OffsetDateTime>,
}

impl From<&TokenRecord> for Token {
    fn from(record: &TokenRecord) -> Self {
        Self {
            id: record.id,
            name: record.name.clone(),
            tenant: record.tenant.clone(),
            access: record.access,
            created_by: record.created_by.clone(),
            created_at: record.created_at,
            expires_at: record.expires_at,
            revoked_at: record.revoked_at,
        }
    }
}

/// The answer to a token creation: the only time the secret is shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub token: Token,
    /// The bearer secret. Store it now: Portcullis keeps only its digest.
    pub secret: String,
}

/// The body of `POST /admin/v1/tokens`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    pub name: String,
    /// Limit the token to one tenant; absent means global.
    #[serde(default)]
    pub tenant: Option<TenantName>,
    pub access: Access,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
}
