//! A tenant's authentication policy (issue 4 item 8): whether a second factor is asked, where
//! text messages may go, and what the authentication context classes (`acr`) mean.

use serde::{Deserialize, Serialize};

use crate::model::tenant::TenantProfile;

/// When a login asks for a second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MfaPolicy {
    /// Only when the client asks for it (`acr_values=2` or its `default_acr_values`).
    Off,
    /// From users who have enrolled one, and when the client asks for it.
    Optional,
    /// From everyone: a user without a second factor enrols one during the login.
    Required,
}

/// The authentication context classes Portcullis reaches (`acr`, OIDC Core §2): one factor,
/// or more than one.
pub const ACR_SINGLE: &str = "1";
/// Two factors of different kinds (RFC 8176 `mfa`).
pub const ACR_MFA: &str = "2";
/// Every class Portcullis reaches, weakest first (discovery's `acr_values_supported`).
pub const ACR_VALUES: &[&str] = &[ACR_SINGLE, ACR_MFA];

/// A tenant's authentication policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthPolicy {
    /// When a second factor is asked (workforce default `required`, customer `optional`).
    pub mfa: MfaPolicy,
    /// Days a browser that passed a second factor may skip it for the same user when only
    /// this policy asks for it (not when the client asks with `acr_values`); 0 turns "remember
    /// this device" off. At most 90.
    #[serde(default)]
    pub remember_device_days: u32,
    /// Whether visitors may create their own accounts on the sign-in page and through the
    /// flow API (customers: yes; workforce: no, accounts come from administrators and HR).
    #[serde(default)]
    pub self_registration: bool,
    /// The methods that may sign a user in by themselves, as the flow API names them
    /// (`password`, `passkey`, `email_code`, `sms`, `certificate`; default all but `sms`, which
    /// is then only ever a second factor). A method also needs what it runs on: mail for
    /// `email_code`, an SMS provider for `sms`, the mutual-TLS listener for `certificate`.
    #[serde(default = "default_first_factors")]
    pub first_factors: Vec<FirstFactor>,
    /// The second factors users may enrol and pass (`totp`, `sms`, `passkey`; default all).
    /// Recovery codes come with the first.
    #[serde(default = "default_second_factors")]
    pub second_factors: Vec<SecondFactorKind>,
    /// The numbers text messages may go to, as international prefixes (`+49`, `+1`); empty
    /// means any. Limiting them is the main defence against SMS pumping (fraudsters making a
    /// service send texts to premium-rate numbers they are paid for).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sms_countries: Vec<String>,
    /// The authenticators passkeys may be registered with, by model (workforce: known security
    /// keys only). Empty: any authenticator, no attestation asked. Otherwise registration asks
    /// for attestation, and an authenticator counts only when its attestation chains to a listed
    /// CA and names a listed AAGUID; synced passkeys are refused.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub passkey_authenticators: Vec<AllowedAuthenticator>,
    /// How a client certificate names its user, tried in this order (with the mutual-TLS
    /// listener): `email` (a SAN e-mail address, matched to a verified address), `upn` (a
    /// SAN user principal name, matched to a username), `subject_dn` (the subject, matched to
    /// one an administrator bound to the user).
    #[serde(default = "default_certificate_mapping")]
    pub certificate_mapping: Vec<CertificateMapping>,
    /// Whether a certificate counts as two factors (`amr` `sc`, `pin`, `mfa`): true where every
    /// certificate sits on a smart card that asks its PIN (PIV, national ID cards); false
    /// where device or software certificates are used too.
    #[serde(default)]
    pub certificate_is_mfa: bool,
}

/// A method that signs a user in by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FirstFactor {
    Password,
    Passkey,
    EmailCode,
    Sms,
    Certificate,
}

/// A second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SecondFactorKind {
    Totp,
    Sms,
    Passkey,
}

fn default_first_factors() -> Vec<FirstFactor> {
    vec![FirstFactor::Password, FirstFactor::Passkey, FirstFactor::EmailCode, FirstFactor::Certificate]
}

fn default_second_factors() -> Vec<SecondFactorKind> {
    vec![SecondFactorKind::Totp, SecondFactorKind::Sms, SecondFactorKind::Passkey]
}

/// An authenticator model passkeys may be registered with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllowedAuthenticator {
    /// The model's AAGUID (`cb69481e-8ff7-4039-93ec-0a2729a154a8`).
    pub aaguid: String,
    /// A name for administrators.
    pub name: String,
    /// The vendor's attestation root certificate (PEM), as its metadata statement gives it.
    pub attestation_ca: String,
}

/// Where in a client certificate its user is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CertificateMapping {
    Email,
    Upn,
    SubjectDn,
}

fn default_certificate_mapping() -> Vec<CertificateMapping> {
    vec![CertificateMapping::Email, CertificateMapping::Upn, CertificateMapping::SubjectDn]
}

impl AuthPolicy {
    /// The defaults of a profile (DESIGN §1): a workforce requires a second factor, so every
    /// employee enrols one at their first login; customers are asked for one when they have
    /// enrolled it. (Workforce tenants made before this default keep `optional`: migration 13
    /// stored it for them, so that an upgrade does not make every user enrol at once.)
    pub fn for_profile(profile: TenantProfile) -> Self {
        match profile {
            TenantProfile::Workforce => Self {
                mfa: MfaPolicy::Required,
                remember_device_days: 0,
                self_registration: false,
                first_factors: default_first_factors(),
                second_factors: default_second_factors(),
                sms_countries: Vec::new(),
                passkey_authenticators: Vec::new(),
                certificate_mapping: default_certificate_mapping(),
                certificate_is_mfa: false,
            },
            TenantProfile::Customer => Self {
                mfa: MfaPolicy::Optional,
                remember_device_days: 30,
                self_registration: true,
                first_factors: default_first_factors(),
                second_factors: default_second_factors(),
                sms_countries: Vec::new(),
                passkey_authenticators: Vec::new(),
                certificate_mapping: default_certificate_mapping(),
                certificate_is_mfa: false,
            },
        }
    }
}

impl AuthPolicy {
    /// Whether `method` may sign a user in by itself.
    pub fn allows_first(&self, method: FirstFactor) -> bool {
        self.first_factors.contains(&method)
    }

    /// Whether `method` may sign a user in to `client`: the tenant allows it, and the client
    /// names it or names none.
    pub fn allows_first_for(&self, method: FirstFactor, client: &crate::model::client::ClientRecord) -> bool {
        let named = &client.metadata.first_factors;
        self.allows_first(method) && (named.is_empty() || named.contains(&method))
    }

    /// Whether `kind` may be enrolled and passed as a second factor.
    pub fn allows_second(&self, kind: SecondFactorKind) -> bool {
        self.second_factors.contains(&kind)
    }

    /// Whether a text message may go to the E.164 `number` under this policy.
    pub fn sms_allowed_to(&self, number: &str) -> bool {
        self.sms_countries.is_empty() || self.sms_countries.iter().any(|prefix| number.starts_with(prefix.as_str()))
    }
}

/// Whether `prefix` is an international prefix: `+` and one to six digits, not starting with 0.
pub fn valid_sms_prefix(prefix: &str) -> bool {
    let digits = prefix.strip_prefix('+').unwrap_or_default();
    (1..=6).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0')
}
