//! Signing in with an X.509 client certificate (issue 4 item 7): smart cards, PIV cards and
//! device certificates, presented on the binary's mutual-TLS listener. The listener checks the
//! chain against the configured CAs and CRLs and hands over the end-entity certificate with its
//! finding; here the certificate is mapped to a user by the tenant's policy (a SAN e-mail
//! address, a SAN user principal name, or a subject an administrator bound to the user).

use portcullis_crypto::secret::{digest, random_id};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use x509_parser::der_parser::asn1_rs::{Any, FromDer as _};
use x509_parser::prelude::{GeneralName, X509Certificate};

use super::audit::Change;
use super::claims::login_key;
use super::flows::{CodeAtOnce, FlowProgress};
use super::sessions::LoginRefusal;
use super::{Principal, RequestContext, Services};
use crate::error::{Error, Result};
use crate::model::auth_policy::CertificateMapping;
use crate::model::credential::{CredentialInfo, CredentialKind, CredentialRecord};
use crate::model::session::{FlowRecord, FlowStep};
use crate::model::tenant::TenantRecord;
use crate::model::token::Access;
use crate::model::user::{UserRecord, UserStatus};
use crate::store::StoreTx;

/// The object identifier of a Microsoft user principal name in a SAN `otherName`.
const UPN_OID: &str = "1.3.6.1.4.1.311.20.2.3";

/// Why a presented certificate does not sign anyone in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CertificateProblem {
    /// The connection presented no certificate.
    Missing,
    /// No configured CA issued it.
    UnknownCa,
    Expired,
    NotYetValid,
    /// A configured CRL lists it.
    Revoked,
    /// It does not parse, or its chain fails for another reason.
    Invalid,
    /// It verifies, but names no user of the tenant.
    Unmapped,
}

impl CertificateProblem {
    /// The stable name (flow API `detail`, audit `reason`, page text).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Missing => "no_certificate",
            Self::UnknownCa => "unknown_ca",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::Revoked => "revoked",
            Self::Invalid => "invalid",
            Self::Unmapped => "unmapped",
        }
    }
}

/// A client certificate as the TLS layer saw it: the end-entity certificate (DER) and what the
/// chain check found (`None`: it verifies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedCertificate {
    pub der: Vec<u8>,
    pub problem: Option<CertificateProblem>,
}

/// What in a certificate can name a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateIdentity {
    /// The subject in RFC 4514 order (most specific first), `CN=Alice,O=Acme`.
    pub subject: String,
    pub emails: Vec<String>,
    pub upns: Vec<String>,
    /// Hex SHA-256 of the certificate (for the audit log).
    pub fingerprint: String,
}

/// The identity fields of a DER certificate, or `None` when it does not parse.
pub fn identity_of(der: &[u8]) -> Option<CertificateIdentity> {
    let (rest, certificate) = X509Certificate::from_der(der).ok()?;
    if !rest.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    for rdn in certificate.subject().iter_rdn() {
        for attribute in rdn.iter() {
            let name = x509_parser::objects::oid2abbrev(attribute.attr_type(), x509_parser::objects::oid_registry())
                .map(str::to_owned)
                .unwrap_or_else(|_| attribute.attr_type().to_id_string());
            let value = attribute.as_str().ok()?;
            parts.push(format!("{name}={value}"));
        }
    }
    parts.reverse();
    let (mut emails, mut upns) = (Vec::new(), Vec::new());
    if let Ok(Some(san)) = certificate.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::RFC822Name(address) => emails.push((*address).to_owned()),
                GeneralName::OtherName(oid, value) if oid.to_id_string() == UPN_OID => {
                    if let Some(upn) = other_name_text(value) {
                        upns.push(upn);
                    }
                }
                _ => {}
            }
        }
    }
    Some(CertificateIdentity { subject: parts.join(","), emails, upns, fingerprint: hex::encode(Sha256::digest(der)) })
}

/// The text of an `otherName` value: `[0] EXPLICIT` around a UTF8String (or the string alone).
fn other_name_text(value: &[u8]) -> Option<String> {
    let (_, outer) = Any::from_der(value).ok()?;
    let inner = if outer.tag().0 == 0 && outer.class() == x509_parser::der_parser::asn1_rs::Class::ContextSpecific {
        Any::from_der(outer.data).ok()?.1
    } else {
        outer
    };
    std::str::from_utf8(inner.data).ok().filter(|s| !s.is_empty()).map(str::to_owned)
}

/// A subject as typed by an administrator or taken from a certificate, in the form it is
/// compared in: RDNs split at unescaped commas, attribute types in capitals, spaces around
/// `=` and `,` dropped, values compared without regard to case (X.520 caseIgnoreMatch).
pub fn normalise_subject(subject: &str) -> Option<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut escaped = false;
    for c in subject.chars() {
        if escaped {
            current.push(c);
            escaped = false;
        } else if c == '\\' {
            current.push(c);
            escaped = true;
        } else if c == ',' || c == ';' {
            parts.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    parts.push(current);
    let mut normalised = Vec::new();
    for part in parts {
        let (name, value) = part.split_once('=')?;
        let (name, value) = (name.trim(), value.trim());
        if name.is_empty() || value.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '.') {
            return None;
        }
        normalised.push(format!("{}={value}", name.to_ascii_uppercase()));
    }
    Some(normalised.join(","))
}

/// The lookup a bound subject is found by: a digest, tenant-scoped (lookups are unique over
/// all tenants).
fn subject_lookup(tenant: &TenantRecord, normalised: &str) -> Vec<u8> {
    digest(&format!("x509-subject\0{}\0{}", tenant.id, normalised.to_lowercase())).to_vec()
}

impl Services {
    /// The active user `identity` names under the tenant's policy, inside `tx`.
    async fn certificate_user(
        &self,
        tx: &mut Box<dyn StoreTx>,
        tenant: &TenantRecord,
        mapping: &[CertificateMapping],
        identity: &CertificateIdentity,
    ) -> Result<Option<UserRecord>> {
        for way in mapping {
            let found = match way {
                CertificateMapping::Email => {
                    let mut found = None;
                    for address in &identity.emails {
                        let user = tx.user_by_login(tenant.id, &login_key(address)).await?;
                        // Only an address the user proved, and only as their address (not a
                        // username that happens to look like one).
                        found = user.filter(|u| {
                            u.email_verified && u.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(address))
                        });
                        if found.is_some() {
                            break;
                        }
                    }
                    found
                }
                CertificateMapping::Upn => {
                    let mut found = None;
                    for upn in &identity.upns {
                        let user = tx.user_by_login(tenant.id, &login_key(upn)).await?;
                        found = user.filter(|u| u.username.eq_ignore_ascii_case(upn));
                        if found.is_some() {
                            break;
                        }
                    }
                    found
                }
                CertificateMapping::SubjectDn => match normalise_subject(&identity.subject) {
                    Some(subject) => match tx.credential_by_lookup(&subject_lookup(tenant, &subject)).await? {
                        Some(bound) if bound.tenant_id == tenant.id && bound.kind == CredentialKind::Certificate => {
                            tx.user_get(tenant.id, bound.user_id).await?
                        }
                        _ => None,
                    },
                    None => None,
                },
            };
            if let Some(user) = found.filter(|u| u.status == UserStatus::Active) {
                return Ok(Some(user));
            }
        }
        Ok(None)
    }

    /// Signs in the user a verified client certificate names, at [`FlowStep::Authenticate`]:
    /// `amr` `sc` (with `pin` and `mfa` where the policy says every certificate sits on a
    /// smart card). A certificate that does not verify or names nobody counts against the flow
    /// and is audited with why.
    pub async fn login_with_certificate(
        &self,
        tenant: &str,
        flow: &FlowRecord,
        presented: &PresentedCertificate,
        context: &RequestContext,
        at_once: Option<CodeAtOnce>,
    ) -> Result<std::result::Result<FlowProgress, LoginRefusal>> {
        let mut tx = self.store.write().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        let mut flow = self.claim_flow_at(&mut tx, &record, &flow.id, FlowStep::Authenticate).await?;
        let identity = identity_of(&presented.der);
        let policy = self.auth_policy_in(&mut tx, &record).await?;
        let method = crate::model::auth_policy::FirstFactor::Certificate;
        let permitted = self.first_factor_permitted(&mut tx, &record, &flow.request.client_id, method).await?;
        super::flows::allowed(permitted, "certificates")?;
        let user = match (&identity, presented.problem) {
            (Some(identity), None) => {
                self.certificate_user(&mut tx, &record, &policy.certificate_mapping, identity).await?
            }
            _ => None,
        };
        let problem = match (&identity, presented.problem, &user) {
            (_, Some(problem), _) => Some(problem),
            (None, None, _) => Some(CertificateProblem::Invalid),
            (Some(_), None, None) => Some(CertificateProblem::Unmapped),
            (Some(_), None, Some(_)) => None,
        };
        let Some(user) = user.filter(|_| problem.is_none()) else {
            let problem = problem.unwrap_or(CertificateProblem::Invalid);
            let fingerprint = identity.as_ref().map(|i| i.fingerprint.clone());
            tracing::info!(reason = problem.as_str(), ?fingerprint, "a client certificate was refused");
            let refusal = self.step_failed(&mut tx, &record, flow, "certificate", problem.as_str(), context).await?;
            tx.commit().await?;
            return Ok(Err(match refusal {
                LoginRefusal::InvalidCode => LoginRefusal::InvalidCertificate(problem),
                other => other,
            }));
        };
        if policy.certificate_is_mfa {
            for method in ["sc", "pin"] {
                if !flow.state.amr.iter().any(|m| m == method) {
                    flow.state.amr.push(method.to_owned());
                }
            }
        }
        let change = Change {
            action: "login.certificate",
            tenant: Some(tenant),
            target_type: "flow",
            target_id: Some(flow.id.clone()),
            before: None,
            after: Some(json!({
                "subject": identity.as_ref().map(|i| i.subject.clone()),
                "fingerprint": identity.as_ref().map(|i| i.fingerprint.clone()),
            })),
        };
        self.record(&mut tx, &Principal::user(Some(user.id), &record.name, context), change).await?;
        let progress = self.after_factor(&mut tx, &record, flow, user.id, "sc", context, at_once).await?;
        tx.commit().await?;
        Ok(Ok(progress))
    }

    /// `POST …/users/{id}/certificates`: binds a certificate subject to the user, for the
    /// `subject_dn` mapping. A subject bound to anyone in the tenant is refused. Audited.
    pub async fn bind_certificate(
        &self,
        who: &Principal,
        tenant: &str,
        user: portcullis_types::UserId,
        subject: &str,
    ) -> Result<CredentialInfo> {
        let normalised = normalise_subject(subject)
            .filter(|s| s.chars().count() <= 1024)
            .ok_or_else(|| Error::invalid("subject_dn", "give a distinguished name such as CN=Alice,O=Acme"))?;
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        tx.user_get(record.id, user).await?.ok_or(Error::NotFound("user"))?;
        let lookup = subject_lookup(&record, &normalised);
        if tx.credential_by_lookup(&lookup).await?.is_some() {
            return Err(Error::conflict("certificate_subject", "this subject is bound to a user already"));
        }
        let credential = CredentialRecord {
            id: random_id(),
            tenant_id: record.id,
            user_id: user,
            kind: CredentialKind::Certificate,
            name: normalised.clone(),
            secret: None,
            lookup: Some(lookup),
            data: None,
            counter: 0,
            created_at: now,
            last_used_at: None,
        };
        tx.credential_insert(&credential).await?;
        let change = Change {
            action: "credential.bind_certificate",
            tenant: Some(tenant),
            target_type: "credential",
            target_id: Some(credential.id.clone()),
            before: None,
            after: Some(json!({"user": user, "subject_dn": normalised})),
        };
        self.record(&mut tx, who, change).await?;
        tx.commit().await?;
        Ok(super::credentials::info(&credential, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_compare_in_one_form() {
        assert_eq!(normalise_subject("cn = Alice Liddell , o=Acme").as_deref(), Some("CN=Alice Liddell,O=Acme"));
        assert_eq!(normalise_subject(r"CN=Liddell\, Alice;O=Acme").as_deref(), Some(r"CN=Liddell\, Alice,O=Acme"));
        assert_eq!(normalise_subject("2.5.4.3=Alice").as_deref(), Some("2.5.4.3=Alice"));
        for bad in ["", "Alice", "CN=", "=Alice", "CN=Alice,", "C N=Alice"] {
            assert_eq!(normalise_subject(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn garbage_is_no_certificate() {
        assert_eq!(identity_of(b""), None);
        assert_eq!(identity_of(b"\x30\x03\x02\x01\x01"), None);
        assert_eq!(other_name_text(b"\xa0\x05\x0c\x03abc").as_deref(), Some("abc"));
        assert_eq!(other_name_text(b"\x0c\x03abc").as_deref(), Some("abc"));
        assert_eq!(other_name_text(b"\xa0\x05\x0c\x03"), None);
    }
}
