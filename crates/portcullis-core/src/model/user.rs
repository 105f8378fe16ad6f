//! Users: the standard OpenID Connect claims (OIDC Core §5.1), a status, custom attributes
//! validated against the tenant's user schema, and sensitive attributes sealed per user.

use portcullis_crypto::password::ImportedHash;
use portcullis_types::{TenantId, UserId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

/// The life-cycle state of an account (DESIGN §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Active,
    Disabled,
    Locked,
    PendingVerification,
}

impl UserStatus {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Disabled => "disabled",
            Self::Locked => "locked",
            Self::PendingVerification => "pending_verification",
        }
    }

    /// Parses the stored form.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "active" => Some(Self::Active),
            "disabled" => Some(Self::Disabled),
            "locked" => Some(Self::Locked),
            "pending_verification" => Some(Self::PendingVerification),
            _ => None,
        }
    }
}

/// OIDC Core §5.1.1 address claim.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Address {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// The standard claims other than `username` (`preferred_username`) and `email`, which are
/// indexed columns of their own.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StandardClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    /// `YYYY-MM-DD`, `0000-MM-DD` or `YYYY` (OIDC Core §5.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birthdate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zoneinfo: Option<String>,
    /// A BCP 47 language tag, e.g. `en-US`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// E.164, e.g. `+14155550100`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub phone_number_verified: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

/// A user as written by the admin API: the body of a create, of one import line, and the
/// result of applying a PATCH (JSON merge patch, RFC 7396) to the current user.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserDocument {
    /// The login name (OIDC `preferred_username`); unique in the tenant, case-insensitively.
    pub username: String,
    /// Unique in the tenant, case-insensitively.
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: bool,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub family_name: Option<String>,
    #[serde(default)]
    pub middle_name: Option<String>,
    #[serde(default)]
    pub nickname: Option<String>,
    #[serde(default)]
    pub profile: Option<String>,
    #[serde(default)]
    pub picture: Option<String>,
    #[serde(default)]
    pub website: Option<String>,
    #[serde(default)]
    pub gender: Option<String>,
    #[serde(default)]
    pub birthdate: Option<String>,
    #[serde(default)]
    pub zoneinfo: Option<String>,
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default)]
    pub phone_number: Option<String>,
    #[serde(default)]
    pub phone_number_verified: bool,
    #[serde(default)]
    pub address: Option<Address>,
    /// Custom attributes, validated against the tenant's user schema.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attributes: Map<String, Value>,
    /// Defaults to `active`.
    #[serde(default)]
    pub status: Option<UserStatus>,
    /// An initial password (create and import only), hashed with argon2id.
    #[serde(default)]
    pub password: Option<String>,
    /// A password hash exported from another system (create and import only): a PHC/MCF
    /// string (argon2, bcrypt, scrypt, `$pbkdf2-sha256$…`) or a Keycloak or Firebase object.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub password_hash: Option<ImportedHash>,
}

impl UserDocument {
    /// The standard claims of this document.
    pub fn claims(&self) -> StandardClaims {
        StandardClaims {
            name: self.name.clone(),
            given_name: self.given_name.clone(),
            family_name: self.family_name.clone(),
            middle_name: self.middle_name.clone(),
            nickname: self.nickname.clone(),
            profile: self.profile.clone(),
            picture: self.picture.clone(),
            website: self.website.clone(),
            gender: self.gender.clone(),
            birthdate: self.birthdate.clone(),
            zoneinfo: self.zoneinfo.clone(),
            locale: self.locale.clone(),
            phone_number: self.phone_number.clone(),
            phone_number_verified: self.phone_number_verified,
            address: self.address.clone(),
        }
    }
}

/// A user as the admin API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: UserId,
    pub username: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub email_verified: bool,
    #[serde(flatten)]
    pub claims: StandardClaims,
    /// Custom attributes, sensitive ones decrypted.
    #[schema(value_type = Object)]
    pub attributes: Map<String, Value>,
    pub status: UserStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A user as stored. Sensitive attributes are only in `sealed`, encrypted under the user's
/// data key.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: UserId,
    pub tenant_id: TenantId,
    pub username: String,
    /// Case-folded username, the unique lookup key.
    pub username_key: String,
    pub email: Option<String>,
    /// Case-folded e-mail, the unique lookup key.
    pub email_key: Option<String>,
    pub email_verified: bool,
    pub status: UserStatus,
    pub claims: StandardClaims,
    /// Non-sensitive custom attributes.
    pub attributes: Map<String, Value>,
    /// Sensitive custom attributes: a JSON object sealed with the user's data key.
    pub sealed: Option<Vec<u8>>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// Which users to list.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub username_key: Option<String>,
    pub email_key: Option<String>,
    pub status: Option<UserStatus>,
    /// A non-sensitive custom attribute and the value it must have, compared as text.
    pub attribute: Option<(String, String)>,
}

/// The body of `PUT …/users/{id}/password`: exactly one of the two.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPassword {
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub password_hash: Option<ImportedHash>,
}

/// Serde helper telling an absent field (`None`) from an explicit `null` (`Some(None)`).
pub mod double_option {
    use serde::{Deserialize, Deserializer};

    /// Deserialises a present field, `null` included.
    pub fn deserialize<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
    where
        T: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Option::<T>::deserialize(deserializer).map(Some)
    }
}
