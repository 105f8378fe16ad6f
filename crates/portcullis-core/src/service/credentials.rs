//! Managing second factors (issue 4 items 4, 8, 9): a signed-in user's own (the account
//! pages, through settings flows), an administrator's view of a user's (list, remove, reset
//! MFA, require enrolment or a new password at next login), and the tenant's authentication
//! policy. Every change is audited.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use portcullis_crypto::secret::{digest, random_id};
use portcullis_types::UserId;
use serde_json::json;
use time::Duration;

use super::audit::Change;
use super::sessions::FLOW_LIFETIME;
use super::totp;
use super::{Principal, RequestContext, Services};
use crate::error::{Error, FieldError, Result};
use crate::model::auth_policy::{AuthPolicy, MfaPolicy};
use crate::model::credential::{CredentialInfo, CredentialKind, CredentialRecord, Requirement};
use crate::model::session::{FlowKind, FlowRecord, FlowState, SessionRecord};
use crate::model::tenant::TenantRecord;
use crate::model::token::Access;
use crate::store::StoreTx;

/// How recently a user must have authenticated to remove a credential or replace their recovery
/// codes (a stolen session alone should not be enough to strip a second factor).
pub const PRIVILEGED_FOR: Duration = Duration::minutes(15);

impl Services {
    async fn infos(
        &self,
        tx: &mut Box<dyn StoreTx>,
        tenant: &TenantRecord,
        user: UserId,
    ) -> Result<Vec<CredentialInfo>> {
        let mut infos = Vec::new();
        for record in tx.credentials_of_user(tenant.id, user).await? {
            let remaining = match record.kind {
                CredentialKind::RecoveryCodes => Some(tx.recovery_codes_remaining(&record.id).await?),
                _ => None,
            };
            infos.push(info(&record, remaining));
        }
        Ok(infos)
    }

    /// The signed-in user's own credentials.
    pub async fn own_credentials(&self, tenant: &str, session: &SessionRecord) -> Result<Vec<CredentialInfo>> {
        let mut tx = self.store.read().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        self.infos(&mut tx, &record, session.user_id).await
    }

    /// Starts a settings flow in which `user` adds a second factor, held by whoever holds
    /// `holder_secret` (a browser, or an app through the flow API): a fresh TOTP seed, sealed in
    /// the flow until a code confirms it, and — with passkeys on — a passkey registration.
    /// `session` is the SSO session it was started from; `client` the app's, for the flow API.
    pub async fn start_settings(
        &self,
        tenant: &str,
        holder_secret: &str,
        user: UserId,
        session: Option<String>,
        client: Option<String>,
    ) -> Result<FlowRecord> {
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        let account = tx.user_get(record.id, user).await?.ok_or(Error::NotFound("user"))?;
        let id = random_id();
        let sealed = self.tenant_key(&record)?.seal(&super::flows::sealed_aad(&id), &totp::new_seed())?;
        let passkey = self.passkey_registration(&mut tx, &record, &account).await?;
        let (webauthn, webauthn_options) = match passkey {
            Some((state, options)) => (Some(state), Some(options)),
            None => (None, None),
        };
        let flow = FlowRecord {
            id,
            tenant_id: record.id,
            kind: FlowKind::Settings,
            browser_digest: digest(holder_secret).to_vec(),
            request: crate::model::session::AuthorizationRequest {
                client_id: client.unwrap_or_default(),
                ..Default::default()
            },
            user_id: Some(user),
            session_id: session,
            failures: 0,
            state: FlowState {
                totp_secret: Some(STANDARD.encode(sealed)),
                webauthn,
                webauthn_options,
                ..FlowState::default()
            },
            created_at: now,
            expires_at: now + FLOW_LIFETIME,
        };
        tx.flow_insert(&flow).await?;
        tx.commit().await?;
        Ok(flow)
    }

    fn require_recent(&self, session: &SessionRecord) -> Result<()> {
        if self.clock.now() - session.auth_time > PRIVILEGED_FOR {
            return Err(Error::Forbidden("sign in again to change your second factors"));
        }
        Ok(())
    }

    /// The user of `session` removes one of their credentials (a recent sign-in needed).
    pub async fn remove_own_credential(
        &self,
        tenant: &str,
        session: &SessionRecord,
        id: &str,
        context: &RequestContext,
    ) -> Result<()> {
        self.require_recent(session)?;
        let mut tx = self.store.read().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        drop(tx);
        let who = Principal::user(Some(session.user_id), &record.name, context);
        self.remove_credential_as(&who, tenant, session.user_id, id, false).await
    }

    /// The user of `session` replaces their recovery codes; returns the new ones (shown once).
    pub async fn renew_own_recovery_codes(
        &self,
        tenant: &str,
        session: &SessionRecord,
        context: &RequestContext,
    ) -> Result<Vec<String>> {
        self.require_recent(session)?;
        let mut tx = self.store.write().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        let has_totp =
            tx.credentials_of_user(record.id, session.user_id).await?.iter().any(|c| c.kind == CredentialKind::Totp);
        if !has_totp {
            return Err(Error::invalid("credential", "enrol an authenticator app first"));
        }
        let codes = self.recovery_codes_in(&mut tx, &record, session.user_id).await?;
        let change = Change {
            action: "credential.recovery_codes",
            tenant: Some(tenant),
            target_type: "user",
            target_id: Some(session.user_id.to_string()),
            before: None,
            after: Some(json!({"codes": codes.len()})),
        };
        self.record(&mut tx, &Principal::user(Some(session.user_id), &record.name, context), change).await?;
        tx.commit().await?;
        Ok(codes)
    }

    /// `GET …/users/{id}/credentials`.
    pub async fn list_credentials(&self, who: &Principal, tenant: &str, user: UserId) -> Result<Vec<CredentialInfo>> {
        let mut tx = self.store.read().await?;
        let record = self.tenant_for(&mut tx, who, tenant, Access::Read).await?;
        tx.user_get(record.id, user).await?.ok_or(Error::NotFound("user"))?;
        self.infos(&mut tx, &record, user).await
    }

    /// `DELETE …/users/{id}/credentials/{credential}`.
    pub async fn delete_credential(&self, who: &Principal, tenant: &str, user: UserId, id: &str) -> Result<()> {
        self.remove_credential_as(who, tenant, user, id, true).await
    }

    /// Removes credential `id` of `user` (`by_admin`: checked as an admin call; else the user
    /// themself, already authenticated by the caller); removing the last authenticator app removes the
    /// recovery codes with it (they are its fallback, not a factor of their own).
    async fn remove_credential_as(
        &self,
        who: &Principal,
        tenant: &str,
        user: UserId,
        id: &str,
        by_admin: bool,
    ) -> Result<()> {
        let mut tx = self.store.write().await?;
        let record = if by_admin {
            self.tenant_for(&mut tx, who, tenant, Access::Write).await?
        } else {
            self.cached_tenant(&mut tx, tenant).await?
        };
        let credentials = tx.credentials_of_user(record.id, user).await?;
        let Some(target) = credentials.iter().find(|c| c.id == id) else { return Err(Error::NotFound("credential")) };
        tx.credential_delete(record.id, user, id).await?;
        let last_app = target.kind == CredentialKind::Totp
            && !credentials.iter().any(|c| c.kind == CredentialKind::Totp && c.id != id);
        if last_app {
            for codes in credentials.iter().filter(|c| c.kind == CredentialKind::RecoveryCodes) {
                tx.credential_delete(record.id, user, &codes.id).await?;
            }
        }
        let change = Change {
            action: "credential.remove",
            tenant: Some(tenant),
            target_type: "credential",
            target_id: Some(id.to_owned()),
            before: Some(json!({"user": user, "kind": target.kind.as_str(), "name": target.name})),
            after: None,
        };
        self.record(&mut tx, who, change).await?;
        tx.commit().await
    }

    /// `POST …/users/{id}/mfa:reset`: removes every second factor of the user, forgets the
    /// browsers remembered for them, and, with
    /// `require_enrolment`, makes them enrol a new one at their next login.
    pub async fn reset_mfa(&self, who: &Principal, tenant: &str, user: UserId, require_enrolment: bool) -> Result<u64> {
        let mut tx = self.store.write().await?;
        let record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        tx.user_get(record.id, user).await?.ok_or(Error::NotFound("user"))?;
        let removed = tx.credentials_delete_all(record.id, user).await?;
        tx.devices_forget(user).await?;
        if require_enrolment {
            tx.requirement_put(user, Requirement::EnrolMfa, self.clock.now()).await?;
        }
        let change = Change {
            action: "user.mfa.reset",
            tenant: Some(tenant),
            target_type: "user",
            target_id: Some(user.to_string()),
            before: None,
            after: Some(json!({"removed": removed, "require_enrolment": require_enrolment})),
        };
        self.record(&mut tx, who, change).await?;
        tx.commit().await?;
        Ok(removed)
    }

    /// `GET …/users/{id}/requirements`.
    pub async fn list_requirements(&self, who: &Principal, tenant: &str, user: UserId) -> Result<Vec<Requirement>> {
        let mut tx = self.store.read().await?;
        let record = self.tenant_for(&mut tx, who, tenant, Access::Read).await?;
        tx.user_get(record.id, user).await?.ok_or(Error::NotFound("user"))?;
        tx.requirements_of_user(user).await
    }

    /// `PUT` / `DELETE …/users/{id}/requirements/{requirement}`: what the user must do at their
    /// next login (enrol a second factor, choose a new password).
    pub async fn set_requirement(
        &self,
        who: &Principal,
        tenant: &str,
        user: UserId,
        requirement: Requirement,
        required: bool,
    ) -> Result<()> {
        let mut tx = self.store.write().await?;
        let record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        tx.user_get(record.id, user).await?.ok_or(Error::NotFound("user"))?;
        let changed = if required {
            tx.requirement_put(user, requirement, self.clock.now()).await?;
            true
        } else {
            tx.requirement_delete(user, requirement).await?
        };
        if changed {
            let change = Change {
                action: if required { "user.requirement.put" } else { "user.requirement.delete" },
                tenant: Some(tenant),
                target_type: "user",
                target_id: Some(user.to_string()),
                before: None,
                after: Some(json!({"requirement": requirement.as_str()})),
            };
            self.record(&mut tx, who, change).await?;
        }
        tx.commit().await
    }

    /// The tenant's authentication policy, for the login pages (what they offer).
    pub async fn login_policy(&self, tenant: &str) -> Result<AuthPolicy> {
        let mut tx = self.store.read().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        self.auth_policy_in(&mut tx, &record).await
    }

    /// `GET …/auth-policy`.
    pub async fn get_auth_policy(&self, who: &Principal, tenant: &str) -> Result<AuthPolicy> {
        let mut tx = self.store.read().await?;
        let record = self.tenant_for(&mut tx, who, tenant, Access::Read).await?;
        self.auth_policy_in(&mut tx, &record).await
    }

    /// `PUT …/auth-policy`.
    pub async fn put_auth_policy(&self, who: &Principal, tenant: &str, policy: AuthPolicy) -> Result<AuthPolicy> {
        if policy.remember_device_days > 90 {
            return Err(Error::Validation(vec![FieldError::new("remember_device_days", "at most 90")]));
        }
        super::passkeys::attestation_list(&policy.passkey_authenticators)?;
        if let Some(bad) = policy.sms_countries.iter().find(|p| !crate::model::auth_policy::valid_sms_prefix(p)) {
            let reason = format!("{bad:?} is not an international prefix such as +49");
            return Err(Error::Validation(vec![FieldError::new("sms_countries", reason)]));
        }
        if policy.mfa == MfaPolicy::Required && self.enrollable(&policy).is_empty() {
            let reason = "with mfa required, allow a second factor this server can enrol: totp, passkey (needs a \
                          public URL with a domain) or sms (needs an SMS provider)";
            return Err(Error::Validation(vec![FieldError::new("second_factors", reason)]));
        }
        let mut tx = self.store.write().await?;
        let record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        let before = Self::stored_auth_policy(&mut tx, &record).await?;
        tx.auth_policy_put(record.id, &serde_json::to_string(&policy).map_err(Error::internal)?, self.clock.now())
            .await?;
        let change = Change {
            action: "auth_policy.put",
            tenant: Some(tenant),
            target_type: "auth_policy",
            target_id: Some(tenant.to_owned()),
            before: Some(json!(before)),
            after: Some(json!(policy)),
        };
        self.record(&mut tx, who, change).await?;
        tx.commit().await?;
        self.changed("auth_policy.put", Some(tenant), None);
        Ok(policy)
    }
}

pub(crate) fn info(record: &CredentialRecord, remaining: Option<u32>) -> CredentialInfo {
    CredentialInfo {
        id: record.id.clone(),
        kind: record.kind,
        name: record.name.clone(),
        created_at: record.created_at,
        last_used_at: record.last_used_at,
        remaining,
    }
}
