//! OAuth 2.0 / OpenID Connect clients. The JSON uses the client metadata names of RFC 7591
//! §2 and OpenID Connect Dynamic Client Registration 1.0 §2, plus Portcullis's own fields.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use portcullis_types::{RedirectUri, TenantId};

/// A grant type a client may use (RFC 7591 §2). The password and implicit grants are not
/// offered (RFC 9700 §2.4, §2.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum GrantType {
    #[serde(rename = "authorization_code")]
    AuthorizationCode,
    #[serde(rename = "refresh_token")]
    RefreshToken,
    #[serde(rename = "client_credentials")]
    ClientCredentials,
    /// RFC 8628.
    #[serde(rename = "urn:ietf:params:oauth:grant-type:device_code")]
    DeviceCode,
}

/// How a client authenticates at the token endpoint (RFC 7591 §2, OIDC Core §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenEndpointAuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    PrivateKeyJwt,
    /// A public client (browser or native app): no secret; PKCE is required.
    None,
}

impl TokenEndpointAuthMethod {
    /// Whether the client holds a shared secret.
    pub fn uses_secret(self) -> bool {
        matches!(self, Self::ClientSecretBasic | Self::ClientSecretPost)
    }
}

/// OIDC Dynamic Client Registration §2 `application_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationType {
    Web,
    Native,
}

/// JWS algorithms a client may ask its tokens to be signed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum SigningAlgorithm {
    RS256,
    ES256,
    EdDSA,
}

/// The response types offered: none puts an access token in the front channel (RFC 9700
/// §2.1.2); `code id_token` is OIDC's hybrid flow (OIDC Core §3.3).
pub const RESPONSE_TYPES: &[&str] = &["code", "code id_token"];

/// A response type's words in one order (RFC 6749 §3.1.1: their order does not matter), if
/// it is one offered.
pub fn canonical_response_type(value: &str) -> Option<String> {
    let mut words: Vec<&str> = value.split(' ').collect();
    words.sort_unstable();
    let joined = words.join(" ");
    RESPONSE_TYPES.contains(&joined.as_str()).then_some(joined)
}

/// RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
pub fn scope_token_ok(token: &str) -> bool {
    !token.is_empty() && token.bytes().all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

fn default_grant_types() -> Vec<GrantType> {
    vec![GrantType::AuthorizationCode]
}

fn default_auth_method() -> TokenEndpointAuthMethod {
    TokenEndpointAuthMethod::ClientSecretBasic
}

fn default_true() -> bool {
    true
}

/// A client's registered metadata: the body of a create, and the result of applying a PATCH
/// (JSON merge patch) to the current metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientMetadata {
    /// Chosen by the administrator for a migration, or generated (RFC 7591 §3.2.1).
    #[serde(default, skip_serializing)]
    pub client_id: Option<String>,
    pub client_name: String,
    /// Exact URIs the authorization endpoint may redirect to.
    #[serde(default)]
    pub redirect_uris: Vec<RedirectUri>,
    /// Exact URIs RP-initiated logout may redirect to.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    /// Default `["authorization_code"]`.
    #[serde(default = "default_grant_types")]
    pub grant_types: Vec<GrantType>,
    /// `["code"]` for clients of the authorization code grant (set when omitted), else empty;
    /// `code` and `code id_token` are offered ([`RESPONSE_TYPES`]).
    #[serde(default)]
    pub response_types: Vec<String>,
    /// Default `client_secret_basic`.
    #[serde(default = "default_auth_method")]
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    /// The scopes the client may request, space-separated (RFC 7591 §2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The client's public keys, for `private_key_jwt` (a JWK Set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<Value>,
    /// Where the client publishes its JWK Set (https).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    #[serde(default = "web", skip_serializing_if = "is_web")]
    pub application_type: ApplicationType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tos_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<String>,
    /// ID tokens default to RS256, as OIDC Core §3.1.3.7 requires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_signed_response_alg: Option<SigningAlgorithm>,
    /// OIDC Back-Channel Logout 1.0 §2.2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub backchannel_logout_session_required: bool,
    /// Accept this client's authorization requests only when pushed (RFC 9126 §6).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_pushed_authorization_requests: bool,
    /// Portcullis: audiences (resource indicators, RFC 8707) the client's access tokens may name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<String>,
    /// Portcullis: access tokens default to ES256 (DESIGN §7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_signed_response_alg: Option<SigningAlgorithm>,
    /// Portcullis: access token lifetime in seconds (60–86400; default 3600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_lifetime: Option<u32>,
    /// Portcullis: refresh token idle lifetime in seconds (default 30 days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_lifetime: Option<u32>,
    /// Portcullis: refresh token absolute lifetime in seconds (default 90 days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_absolute_lifetime: Option<u32>,
    /// The authentication context classes asked when a request names none (OIDC Dynamic
    /// Client Registration §2): `["2"]` makes every login to this client multi-factor.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub default_acr_values: Vec<String>,
    /// Portcullis: a first-party application: no consent screen.
    #[serde(default)]
    pub first_party: bool,
    /// Portcullis: the methods that may sign users in to this client, among those the tenant
    /// allows (`password`, `passkey`, `email_code`, `sms`, `certificate`); empty: all of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub first_factors: Vec<crate::model::auth_policy::FirstFactor>,
    /// Portcullis: access tokens issued for a user carry a `roles` claim — the user's
    /// tenant-wide roles and this client's roles.
    #[serde(default)]
    pub roles_in_access_token: bool,
    /// Portcullis: require PKCE (S256) on every authorization request. Always on for public
    /// clients; on by default for all (RFC 9700 §2.1.1).
    #[serde(default = "default_true")]
    pub require_pkce: bool,
}

fn web() -> ApplicationType {
    ApplicationType::Web
}

fn is_web(kind: &ApplicationType) -> bool {
    *kind == ApplicationType::Web
}

/// A client as stored.
#[derive(Debug, Clone)]
pub struct ClientRecord {
    pub tenant_id: TenantId,
    pub client_id: String,
    /// SHA-256 of the secret, for clients that authenticate with one.
    pub secret_digest: Option<Vec<u8>>,
    /// SHA-256 of the registration access token of a dynamically registered client
    /// (RFC 7592 §3); `None` for clients an administrator made.
    pub registration_digest: Option<Vec<u8>>,
    pub metadata: ClientMetadata,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A client as the admin API shows it (RFC 7591 §3.2.1 names), never with its secret.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Client {
    pub client_id: String,
    /// Seconds since the epoch (RFC 7591 §3.2.1).
    pub client_id_issued_at: i64,
    #[serde(flatten)]
    pub metadata: ClientMetadata,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<&ClientRecord> for Client {
    fn from(record: &ClientRecord) -> Self {
        Self {
            client_id: record.client_id.clone(),
            client_id_issued_at: record.created_at.unix_timestamp(),
            metadata: record.metadata.clone(),
            created_at: record.created_at,
            updated_at: record.updated_at,
        }
    }
}

/// The answer to a create or a secret rotation: the only time the secret is shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClientWithSecret {
    #[serde(flatten)]
    pub client: Client,
    /// Present for `client_secret_basic` and `client_secret_post` clients. Store it now:
    /// Portcullis keeps only its digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// `0`: the secret does not expire (RFC 7591 §3.2.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_expires_at: Option<i64>,
}

/// An initial access token for Dynamic Client Registration (RFC 7591 §3), as stored.
#[derive(Debug, Clone)]
pub struct RegistrationTokenRecord {
    pub id: String,
    pub tenant_id: TenantId,
    pub name: String,
    pub digest: Vec<u8>,
    /// Registrations left; `None` for no limit.
    pub uses_left: Option<u32>,
    pub created_at: OffsetDateTime,
    pub expires_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

/// An initial access token as the admin API shows it (never the token itself).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegistrationToken {
    pub id: String,
    pub name: String,
    /// Registrations left; absent for no limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uses_left: Option<u32>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<OffsetDateTime>,
}

impl From<&RegistrationTokenRecord> for RegistrationToken {
    fn from(record: &RegistrationTokenRecord) -> Self {
        Self {
            id: record.id.clone(),
            name: record.name.clone(),
            uses_left: record.uses_left,
            created_at: record.created_at,
            expires_at: record.expires_at,
            revoked_at: record.revoked_at,
        }
    }
}

/// The body of `POST …/registration-tokens`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRegistrationToken {
    pub name: String,
    /// RFC 3339; no expiry when absent.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    /// How many clients it may register; no limit when absent.
    #[serde(default)]
    pub max_uses: Option<u32>,
}

/// The answer to a create: the only time the token is shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedRegistrationToken {
    #[serde(flatten)]
    pub token: RegistrationToken,
    /// Give it to whoever may register clients (`Authorization: Bearer` at `{issuer}/register`).
    pub initial_access_token: String,
}
