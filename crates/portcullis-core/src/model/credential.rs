//! What a user proves besides a password (DESIGN §2 "credential"): TOTP authenticators,
//! recovery codes, passkeys and numbers for text-message codes, as stored and as the admin API shows them.

use portcullis_types::{TenantId, UserId};
use serde::Serialize;
use time::OffsetDateTime;

/// The kinds of stored credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    /// An RFC 6238 authenticator app.
    Totp,
    /// A set of single-use recovery codes.
    RecoveryCodes,
    /// A WebAuthn credential (a passkey or security key) that verifies its user.
    Passkey,
    /// A mobile number that receives codes by text message (sealed; the name shows its end).
    Sms,
    /// A client certificate's subject an administrator bound to the user (the name is the
    /// subject; the lookup its digest).
    Certificate,
}

impl CredentialKind {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::RecoveryCodes => "recovery_codes",
            Self::Passkey => "passkey",
            Self::Sms => "sms",
            Self::Certificate => "certificate",
        }
    }

    /// Parses the stored form.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "totp" => Some(Self::Totp),
            "recovery_codes" => Some(Self::RecoveryCodes),
            "passkey" => Some(Self::Passkey),
            "sms" => Some(Self::Sms),
            "certificate" => Some(Self::Certificate),
            _ => None,
        }
    }
}

/// A credential as stored. `secret` is sealed with the tenant key (a TOTP seed, a mobile
/// number) or absent.
#[derive(Debug, Clone, PartialEq)]
pub struct CredentialRecord {
    pub id: String,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub kind: CredentialKind,
    pub name: String,
    pub secret: Option<Vec<u8>>,
    /// A passkey's WebAuthn credential id (unique everywhere).
    pub lookup: Option<Vec<u8>>,
    /// Public data: a passkey's public key and signature counter (JSON).
    pub data: Option<String>,
    /// TOTP: the last step accepted (RFC 6238 §5.2: never accept a step twice).
    pub counter: i64,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
}

/// A credential as the admin API and the account pages show it (never its secret).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CredentialInfo {
    pub id: String,
    pub kind: CredentialKind,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    /// Recovery codes not yet used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining: Option<u32>,
}

/// What an administrator can require of a user at their next login.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Requirement {
    /// Enrol a second factor before the login completes.
    EnrolMfa,
    /// Choose a new password before the login completes.
    ChangePassword,
}

impl Requirement {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EnrolMfa => "enrol_mfa",
            Self::ChangePassword => "change_password",
        }
    }

    /// Parses the stored form.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "enrol_mfa" => Some(Self::EnrolMfa),
            "change_password" => Some(Self::ChangePassword),
            _ => None,
        }
    }
}
