//! Browser SSO sessions, the login flows that create them, remembered consents, and the OAuth
//! grants (authorization codes and refresh-token families) issued from them.

use portcullis_types::{TenantId, UserId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

/// A browser SSO session (DESIGN §2) as stored. The cookie holds a secret whose digest is
/// `secret_digest`; `id` is public (the OIDC `sid` claim).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub id: String,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub secret_digest: Vec<u8>,
    /// When the user last actively authenticated (OIDC `auth_time`).
    pub auth_time: OffsetDateTime,
    /// Authentication methods used (RFC 8176 values, e.g. `pwd`).
    pub amr: Vec<String>,
    /// The authentication context class reached.
    pub acr: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
}

/// An SSO session as the admin API shows it (never its secret).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionInfo {
    pub id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub auth_time: OffsetDateTime,
    pub amr: Vec<String>,
    pub acr: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

impl From<&SessionRecord> for SessionInfo {
    fn from(record: &SessionRecord) -> Self {
        Self {
            id: record.id.clone(),
            auth_time: record.auth_time,
            amr: record.amr.clone(),
            acr: record.acr.clone(),
            created_at: record.created_at,
            expires_at: record.expires_at,
        }
    }
}

impl SessionRecord {
    /// Whether the session may still be used at `now`.
    pub fn live(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

/// The authorization request a login flow resumes once the user is known: validated by the
/// protocol layer, kept as it was asked (OIDC Core §3.1.2.1, RFC 7636, RFC 8707).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub redirect_uri: String,
    /// Scope tokens, in the order asked, without repeats.
    pub scope: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The S256 PKCE challenge (the only method offered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge: Option<String>,
    /// `code id_token` for the hybrid flow (OIDC Core §3.3); absent for `code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_type: Option<String>,
    /// `query`, `fragment` or `form_post` as asked; absent for the response type's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prompt: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_hint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui_locales: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr_values: Option<String>,
    /// The OIDC `claims` request parameter (OIDC Core §5.5), parsed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Value>,
    /// RFC 8707 resource indicators.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource: Vec<String>,
    /// An ID token the client sent as a hint of the expected user (OIDC Core §3.1.2.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_hint: Option<String>,
    /// For a device authorization (RFC 8628): the hex digest of its device code. The flow
    /// then ends in approving the device instead of a redirect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
}

/// What a flow is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FlowKind {
    /// Proving who one is, ending in an SSO session and the OAuth request that started it.
    Login,
    /// A signed-in user changing their own credentials (enrolling a second factor).
    Settings,
}

impl FlowKind {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Settings => "settings",
        }
    }

    /// Parses the stored form.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "login" => Some(Self::Login),
            "settings" => Some(Self::Settings),
            _ => None,
        }
    }
}

/// Where a flow stands: what it waits for next.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FlowStep {
    /// The user must prove who they are (a first factor).
    #[default]
    Authenticate,
    /// The user is identified; a second factor is due.
    SecondFactor,
    /// The user is identified but must enrol a second factor first (policy, `acr_values`, or
    /// an administrator's requirement): an authenticator app, a passkey or a mobile number,
    /// as the tenant's policy allows. Flows stored before it was named so say `enrol_totp`.
    #[serde(alias = "enrol_totp")]
    EnrolMfa,
    /// A code went out by e-mail (to the account's address, if there is such an account); the
    /// code or the link in the message is due.
    EmailCode,
    /// A code went out by text message (to the account's number, if there is such an
    /// account); the code is due.
    SmsCode,
    /// The user must choose a new password: an administrator requires it, or the flow is a
    /// password reset.
    ChangePassword,
    /// The user is known; the client's scopes wait for consent.
    Consent,
    /// A settings flow: a signed-in user manages their own credentials.
    Settings,
}

/// A code sent by e-mail: the digests of the code and of the link's token, what it is for, and
/// when it stops counting (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailCodeState {
    pub recovery: bool,
    /// A sign-up's confirmation (whether or not the address had an account already).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub signup: bool,
    pub code_digest: String,
    pub link_digest: String,
    pub expires_at: i64,
}

/// A code sent by text message: its digest, when it stops counting (Unix seconds), and — while
/// a number is being enrolled — that number, sealed with the tenant key (base64).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsCodeState {
    pub code_digest: String,
    pub expires_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrolling: Option<String>,
    /// The credential whose number the code went to (none when nothing was sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// An account being created (self-registration), kept until the code sent to its address
/// confirms it: the address, the name, and the password's argon2id hash (never the password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationState {
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub password_hash: String,
}

/// What a flow has established so far, beyond its user (stored as JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowState {
    #[serde(default)]
    pub step: FlowStep,
    /// The user a first factor identified, before the flow is done with them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_user: Option<UserId>,
    /// Methods passed in this flow (RFC 8176 values).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// The authentication context class the flow must reach.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    /// A TOTP seed being enrolled, sealed with the tenant key (base64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_secret: Option<String>,
    /// The SSO session this flow steps up (its user and first factor are already known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_up: Option<String>,
    /// The code sent by e-mail, as digests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_code: Option<EmailCodeState>,
    /// An account to create once its address is confirmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<RegistrationState>,
    /// The code sent by text message, as a digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms_code: Option<SmsCodeState>,
    /// The user asked to be remembered on this browser after the second factor.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub remember: bool,
    /// A password reset: a new password is due once the user is proved.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub recovery: bool,
    /// A WebAuthn ceremony under way: the server's half (its challenge), kept only here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webauthn: Option<String>,
    /// The options of that ceremony, for the browser (`navigator.credentials`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webauthn_options: Option<Value>,
}

/// One journey of one browser (DESIGN §2), as stored. The browser holds a secret whose
/// digest is `browser_digest`: a flow answers only the browser that started it.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowRecord {
    pub id: String,
    pub tenant_id: TenantId,
    pub kind: FlowKind,
    pub browser_digest: Vec<u8>,
    pub request: AuthorizationRequest,
    /// Set once the user has authenticated.
    pub user_id: Option<UserId>,
    pub session_id: Option<String>,
    /// Failed attempts in this flow.
    pub failures: u32,
    pub state: FlowState,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

impl FlowRecord {
    /// The step the flow is at.
    pub fn step(&self) -> FlowStep {
        match self.kind {
            FlowKind::Settings => FlowStep::Settings,
            FlowKind::Login if self.user_id.is_some() => FlowStep::Consent,
            FlowKind::Login => self.state.step,
        }
    }
}

/// How the user authenticated, carried from the session into the grant and its ID tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantDetails {
    /// Unix seconds.
    pub auth_time: i64,
    pub acr: String,
    pub amr: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The redirect URI of the authorization request, which the token request must repeat.
    pub redirect_uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource: Vec<String>,
}

/// An authorization of a client by a user (RFC 6749 §1.3): one code, then a family of
/// refresh tokens. Revoking it ends them all and makes its access tokens inactive.
#[derive(Debug, Clone, PartialEq)]
pub struct GrantRecord {
    pub id: String,
    pub tenant_id: TenantId,
    pub client_id: String,
    pub user_id: UserId,
    /// The SSO session it was made in (`sid`).
    pub session_id: Option<String>,
    /// Granted scope tokens, space-separated.
    pub scope: String,
    pub details: GrantDetails,
    pub code_digest: Option<Vec<u8>>,
    pub code_expires_at: Option<OffsetDateTime>,
    pub code_used_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    /// The absolute end of the grant and every refresh token in it.
    pub expires_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
}

impl GrantRecord {
    /// Whether tokens of this grant may still be used at `now`.
    pub fn live(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }

    /// Whether the grant includes a scope token.
    pub fn has_scope(&self, token: &str) -> bool {
        self.scope.split(' ').any(|s| s == token)
    }
}

/// A refresh token as stored: the digest of the secret the client holds.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshTokenRecord {
    pub digest: Vec<u8>,
    pub grant_id: String,
    pub created_at: OffsetDateTime,
    /// The sliding (idle) end, never past the grant's absolute end.
    pub expires_at: OffsetDateTime,
    /// The token this one replaced (its digest); `None` for the first of a family.
    pub parent: Option<Vec<u8>>,
}

/// An authorization request a client pushed (RFC 9126), waiting at its `request_uri`.
#[derive(Debug, Clone, PartialEq)]
pub struct PushedRequest {
    /// The random part of `urn:ietf:params:oauth:request_uri:{id}`.
    pub id: String,
    pub tenant_id: TenantId,
    pub client_id: String,
    pub request: AuthorizationRequest,
    pub expires_at: OffsetDateTime,
}

/// Where a device authorization (RFC 8628) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    /// Waiting for the user.
    Pending,
    /// The user approved; the device's next poll gets the tokens.
    Approved,
    /// The user refused.
    Denied,
    /// The device has its tokens; the code is spent.
    Consumed,
}

impl DeviceStatus {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Consumed => "consumed",
        }
    }

    /// Parses the stored form.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(Self::Pending),
            "approved" => Some(Self::Approved),
            "denied" => Some(Self::Denied),
            "consumed" => Some(Self::Consumed),
            _ => None,
        }
    }
}

/// A device authorization as stored (RFC 8628 §3.2).
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceRecord {
    /// SHA-256 of the device code the device polls with.
    pub device_digest: Vec<u8>,
    pub tenant_id: TenantId,
    pub client_id: String,
    /// The code the user types, normalised (`BCDF-GHJK`).
    pub user_code: String,
    /// What the device asked for (scope, resource); `redirect_uri` is empty.
    pub request: AuthorizationRequest,
    pub status: DeviceStatus,
    pub user_id: Option<UserId>,
    /// The grant made when the user approved.
    pub grant_id: Option<String>,
    /// Seconds the device must wait between polls (RFC 8628 §3.5, raised by `slow_down`).
    pub poll_interval: u32,
    pub last_polled_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::FlowStep;

    #[test]
    fn a_flow_stored_at_the_old_enrolment_step_still_loads() {
        let old: FlowStep = serde_json::from_str(r#""enrol_totp""#).expect("the old name");
        assert_eq!(old, FlowStep::EnrolMfa);
        assert_eq!(serde_json::to_string(&FlowStep::EnrolMfa).expect("json"), r#""enrol_mfa""#);
    }
}
