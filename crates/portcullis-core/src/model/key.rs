//! Per-tenant signing keys. Private parts are sealed under the tenant key; public parts are
//! published in the tenant's JWKS until every token they signed has expired.

use portcullis_crypto::signing::JwsAlgorithm;
use portcullis_types::TenantId;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

/// A signing key as stored.
#[derive(Debug, Clone)]
pub struct SigningKeyRecord {
    pub tenant_id: TenantId,
    /// The RFC 7638 JWK thumbprint of the public key.
    pub kid: String,
    pub alg: JwsAlgorithm,
    /// PKCS#8 DER, sealed under the tenant key.
    pub sealed_private: Vec<u8>,
    pub public_jwk: Value,
    pub created_at: OffsetDateTime,
    /// When it stopped signing; `None` while it is the active key of its algorithm.
    pub retired_at: Option<OffsetDateTime>,
    /// When it leaves the JWKS: after the longest-lived token it signed has expired.
    pub expires_at: Option<OffsetDateTime>,
}

/// A signing key as the admin API lists it (never a private part).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SigningKey {
    pub kid: String,
    /// `RS256`, `ES256` or `EdDSA`.
    pub alg: String,
    /// `active` (signs new tokens) or `retired` (still verifies, until `expires_at`).
    pub status: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<OffsetDateTime>,
    #[schema(value_type = Object)]
    pub public_jwk: Value,
}

impl From<&SigningKeyRecord> for SigningKey {
    fn from(record: &SigningKeyRecord) -> Self {
        Self {
            kid: record.kid.clone(),
            alg: record.alg.as_str().to_owned(),
            status: if record.retired_at.is_none() { "active" } else { "retired" }.to_owned(),
            created_at: record.created_at,
            retired_at: record.retired_at,
            expires_at: record.expires_at,
            public_jwk: record.public_jwk.clone(),
        }
    }
}
