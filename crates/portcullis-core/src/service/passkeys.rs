//! Passkeys (WebAuthn Level 3, issue 4 item 3) through webauthn-rs: a signed-in user registers
//! one in a settings flow; a login flow offers a discoverable request at its first step, so a
//! passkey signs in without a username (and with conditional UI, from the username field's
//! autofill). User verification is required, so a passkey alone is two factors (`amr`
//! `hwk`/`swk` + `user` + `mfa`).
//!
//! The server's half of each ceremony (its challenge) lives only in the flow; a failed
//! assertion spends the challenge, counts against the flow, and is audited. The relying party
//! id is the public URL's host; a host that is an IP address cannot be one (browsers refuse it),
//! and then passkeys are off.

use std::collections::BTreeMap;
use std::sync::Arc;

use portcullis_crypto::secret::random_id;
use serde_json::{Value, json};
use webauthn_rs::prelude::{
    AttestationCaList, AttestationCaListBuilder, AttestedPasskeyRegistration, DiscoverableAuthentication, Passkey,
    PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, Url, Uuid,
};
use webauthn_rs::{Webauthn, WebauthnBuilder};

use super::audit::Change;
use super::flows::{CodeAtOnce, FlowProgress, enrolling};
use super::sessions::LoginRefusal;
use super::{Principal, RequestContext, Services};
use crate::error::{Error, Result};
use crate::model::auth_policy::{AllowedAuthenticator, FirstFactor, SecondFactorKind};
use crate::model::credential::{CredentialKind, CredentialRecord};
use crate::model::session::{FlowRecord, FlowStep};
use crate::model::user::UserStatus;

/// The relying party of the site at `public_url`, or `None` when its host cannot be one.
/// `other_origins` are accepted besides the site's own: native apps (Android's
/// `android:apk-key-hash:{base64url SHA-256 of the app's signing certificate}`) or other sites
/// under the same domain; each is matched exactly.
pub fn relying_party(public_url: &str, other_origins: &[String]) -> Result<Option<Webauthn>> {
    let origin = Url::parse(public_url).map_err(|e| Error::internal(format!("public URL: {e}")))?;
    let Some(url::Host::Domain(host)) = origin.host() else { return Ok(None) };
    let host = host.to_owned();
    let mut builder = WebauthnBuilder::new(&host, &origin).map_err(|e| Error::internal(format!("webauthn: {e}")))?;
    for other in other_origins {
        let other = Url::parse(other).map_err(|e| Error::invalid("passkey_origins", format!("{other:?}: {e}")))?;
        builder = builder.append_allowed_origin(&other);
    }
    let webauthn = builder.rp_name("Portcullis").build().map_err(|e| Error::internal(format!("webauthn: {e}")))?;
    Ok(Some(webauthn))
}

/// A registration under way: of any authenticator, or of one whose attestation the tenant's
/// list of authenticators must vouch for.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum Registration {
    Any(PasskeyRegistration),
    Attested(AttestedPasskeyRegistration),
}

/// The attestation CAs and AAGUIDs of the tenant's allowed authenticators, or `None` when any
/// authenticator will do. A certificate or AAGUID that does not parse is an invalid policy.
pub fn attestation_list(allowed: &[AllowedAuthenticator]) -> Result<Option<AttestationCaList>> {
    if allowed.is_empty() {
        return Ok(None);
    }
    let mut builder = AttestationCaListBuilder::new();
    for (index, entry) in allowed.iter().enumerate() {
        let field = format!("passkey_authenticators[{index}]");
        let aaguid = Uuid::parse_str(entry.aaguid.trim())
            .map_err(|_| Error::invalid(format!("{field}.aaguid"), "must be a UUID"))?;
        builder
            .insert_device_pem(entry.attestation_ca.as_bytes(), aaguid, entry.name.clone(), BTreeMap::new())
            .map_err(|_| Error::invalid(format!("{field}.attestation_ca"), "must be one PEM certificate"))?;
    }
    Ok(Some(builder.build()))
}

/// Registration options as the browser gets them: a discoverable credential is required, so
/// the passkey can sign in without a username (webauthn-rs asks for none by default).
fn discoverable(mut options: Value) -> Value {
    if let Some(selection) = options.pointer_mut("/publicKey/authenticatorSelection").and_then(Value::as_object_mut) {
        selection.insert("residentKey".into(), json!("required"));
        selection.insert("requireResidentKey".into(), json!(true));
    }
    options
}

/// Whether a newly registered passkey may be synced (its backup-eligible flag, WebAuthn L3
/// §6.1): read from its stored form, as webauthn-rs exposes it only behind a feature.
fn backup_eligible(passkey: &Passkey) -> bool {
    serde_json::to_value(passkey).ok().and_then(|v| v["cred"]["backup_eligible"].as_bool()).unwrap_or(false)
}

fn state_json<T: serde::Serialize>(state: &T) -> Result<String> {
    serde_json::to_string(state).map_err(Error::internal)
}

impl Services {
    /// Turns passkeys on for the relying party `webauthn`.
    pub fn with_passkeys(mut self, webauthn: Option<Webauthn>) -> Self {
        self.webauthn = webauthn.map(Arc::new);
        self
    }

    /// Whether passkeys are on (the public URL names a domain).
    pub fn passkeys_enabled(&self) -> bool {
        self.webauthn.is_some()
    }

    fn relying(&self) -> Result<&Webauthn> {
        self.webauthn.as_deref().ok_or(Error::NotFound("passkeys"))
    }

    /// A passkey registration for `user` (its state for the flow, and the options for
    /// `navigator.credentials.create()`), or `None` with passkeys off. The user's passkeys are
    /// excluded, so an authenticator is not registered twice.
    pub(crate) async fn passkey_registration(
        &self,
        tx: &mut Box<dyn crate::store::StoreTx>,
        tenant: &crate::model::tenant::TenantRecord,
        user: &crate::model::user::UserRecord,
    ) -> Result<Option<(String, Value)>> {
        let Some(webauthn) = self.webauthn.as_deref() else { return Ok(None) };
        let existing: Vec<_> = tx
            .credentials_of_user(tenant.id, user.id)
            .await?
            .into_iter()
            .filter(|c| c.kind == CredentialKind::Passkey)
            .filter_map(|c| c.lookup)
            .collect();
        let display = user.claims.name.clone().unwrap_or_else(|| user.username.clone());
        let policy = self.auth_policy_in(tx, tenant).await?;
        if !policy.allows_first(FirstFactor::Passkey) && !policy.allows_second(SecondFactorKind::Passkey) {
            return Ok(None);
        }
        let (options, state) = match attestation_list(&policy.passkey_authenticators)? {
            Some(list) => {
                let (options, registration) = webauthn
                    .start_attested_passkey_registration(
                        user.id.as_uuid(),
                        &user.username,
                        &display,
                        Some(existing),
                        list,
                        None,
                    )
                    .map_err(|e| Error::internal(format!("webauthn: {e}")))?;
                (
                    serde_json::to_value(options).map_err(Error::internal)?,
                    state_json(&Registration::Attested(registration))?,
                )
            }
            None => {
                let (options, registration) = webauthn
                    .start_passkey_registration(user.id.as_uuid(), &user.username, &display, Some(existing))
                    .map_err(|e| Error::internal(format!("webauthn: {e}")))?;
                (serde_json::to_value(options).map_err(Error::internal)?, state_json(&Registration::Any(registration))?)
            }
        };
        Ok(Some((state, discoverable(options))))
    }

    /// Finishes registering the passkey of a settings flow (or of a login flow at
    /// [`FlowStep::EnrolMfa`], where it then counts as the factor just passed) with the
    /// browser's answer (JSON of `navigator.credentials.create()`): origin, RP id, challenge
    /// and user verification are checked; a credential registered to any account already is
    /// refused.
    pub async fn confirm_passkey(
        &self,
        tenant: &str,
        flow: &FlowRecord,
        response: &str,
        name: &str,
        context: &RequestContext,
    ) -> Result<std::result::Result<FlowProgress, LoginRefusal>> {
        let webauthn = self.relying()?;
        let name = name.trim();
        if name.chars().count() > 64 {
            return Err(Error::invalid("name", "at most 64 characters"));
        }
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        let (step, user) = enrolling(flow)?;
        let mut flow = self.claim_flow_at(&mut tx, &record, &flow.id, step).await?;
        let stored = flow.state.webauthn.as_deref().ok_or(Error::NotFound("flow"))?;
        // Flows begun before attestation policies kept the plain registration.
        let state: Registration = serde_json::from_str(stored)
            .or_else(|_| serde_json::from_str::<PasskeyRegistration>(stored).map(Registration::Any))
            .map_err(Error::internal)?;
        let answer: std::result::Result<RegisterPublicKeyCredential, String> =
            serde_json::from_str(response).map_err(|e| format!("malformed: {e}"));
        let passkey = answer.and_then(|a| match &state {
            Registration::Any(state) => webauthn.finish_passkey_registration(&a, state).map_err(|e| e.to_string()),
            Registration::Attested(state) => webauthn
                .finish_attested_passkey_registration(&a, state)
                .map(Passkey::from)
                .map_err(|e| format!("attestation: {e}")),
        });
        let passkey = match passkey {
            Ok(passkey) if tx.credential_by_lookup(AsRef::<[u8]>::as_ref(passkey.cred_id())).await?.is_none() => {
                passkey
            }
            Ok(_) => return self.passkey_failed(tx, &record, flow, "already registered", context).await,
            Err(reason) => return self.passkey_failed(tx, &record, flow, &reason, context).await,
        };
        let count =
            tx.credentials_of_user(record.id, user).await?.iter().filter(|c| c.kind == CredentialKind::Passkey).count();
        let credential = CredentialRecord {
            id: random_id(),
            tenant_id: record.id,
            user_id: user,
            kind: CredentialKind::Passkey,
            name: if name.is_empty() { format!("Passkey {}", count + 1) } else { name.to_owned() },
            secret: None,
            lookup: Some(AsRef::<[u8]>::as_ref(passkey.cred_id()).to_vec()),
            data: Some(state_json(&passkey)?),
            counter: 0,
            created_at: now,
            last_used_at: None,
        };
        tx.credential_insert(&credential).await?;
        let recovery_codes = self.first_recovery_codes(&mut tx, &record, user).await?;
        let change = Change {
            action: "credential.enrol",
            tenant: Some(tenant),
            target_type: "credential",
            target_id: Some(credential.id.clone()),
            before: None,
            after: Some(json!({"user": user, "kind": "passkey", "name": credential.name, "flow": flow.kind.as_str()})),
        };
        self.record(&mut tx, &Principal::user(Some(user), &record.name, context), change).await?;
        // Registration verified the user (webauthn-rs requires it for passkeys): in a login,
        // the new passkey counts as `hwk`/`swk` and `user`, as when it signs in.
        let method = if backup_eligible(&passkey) { "swk" } else { "hwk" };
        flow.state.webauthn = None;
        flow.state.webauthn_options = None;
        for factor in [method, "user"] {
            if !flow.state.amr.iter().any(|m| m == factor) {
                flow.state.amr.push(factor.to_owned());
            }
        }
        let mut progress = self.enrolled(&mut tx, &record, flow, user, method, context).await?;
        tx.commit().await?;
        progress.recovery_codes = recovery_codes;
        Ok(Ok(progress))
    }

    /// The options of a passkey ceremony for a login flow, made once per challenge and kept in
    /// the flow: at its first step a discoverable request (any of the tenant's passkeys may
    /// answer); at its second factor a request for the identified user's own passkeys. `None`
    /// when passkeys are off, or the user has none.
    pub async fn passkey_request(&self, tenant: &str, flow: &FlowRecord) -> Result<Option<Value>> {
        let Some(webauthn) = self.webauthn.as_deref() else { return Ok(None) };
        let step = flow.step();
        if !matches!(step, FlowStep::Authenticate | FlowStep::SecondFactor) {
            return Ok(None);
        }
        if let Some(options) = &flow.state.webauthn_options {
            return Ok(Some(options.clone()));
        }
        // Whether there is a ceremony to make is read first: a view of a flow without one (the
        // tenant or client allows no passkeys, the user has none) writes nothing.
        let mut tx = self.store.read().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        let permitted = match (step, flow.state.pending_user) {
            (FlowStep::SecondFactor, Some(user)) => {
                self.auth_policy_in(&mut tx, &record).await?.allows_second(SecondFactorKind::Passkey)
                    && !self.passkeys_of(&mut tx, &record, user).await?.is_empty()
            }
            (FlowStep::SecondFactor, None) => false,
            _ => self.first_factor_permitted(&mut tx, &record, &flow.request.client_id, FirstFactor::Passkey).await?,
        };
        drop(tx);
        if !permitted {
            return Ok(None);
        }
        let mut tx = self.store.write().await?;
        let mut flow = self.flow_at(&mut tx, &record, &flow.id, step).await?;
        let (options, state) = match (step, flow.state.pending_user) {
            (FlowStep::SecondFactor, Some(user)) => {
                let passkeys = self.passkeys_of(&mut tx, &record, user).await?;
                if passkeys.is_empty() {
                    return Ok(None);
                }
                let passkeys: Vec<Passkey> = passkeys.into_iter().map(|(_, passkey)| passkey).collect();
                let (options, state) = webauthn
                    .start_passkey_authentication(&passkeys)
                    .map_err(|e| Error::internal(format!("webauthn: {e}")))?;
                (serde_json::to_value(options).map_err(Error::internal)?, state_json(&state)?)
            }
            (FlowStep::Authenticate, _) => {
                match self.discoverable_request(&mut tx, &record, &flow.request.client_id).await? {
                    Some(request) => request,
                    None => return Ok(None),
                }
            }
            _ => return Ok(None),
        };
        flow.state.webauthn = Some(state);
        flow.state.webauthn_options = Some(options.clone());
        tx.flow_update(&flow).await?;
        tx.commit().await?;
        Ok(Some(options))
    }

    /// A discoverable passkey request (any of the tenant's passkeys may answer): the options
    /// for the browser and the challenge's state; `None` when the tenant's policy or the node
    /// has no passkey sign-in.
    pub(crate) async fn discoverable_request(
        &self,
        tx: &mut Box<dyn crate::store::StoreTx>,
        tenant: &crate::model::tenant::TenantRecord,
        client_id: &str,
    ) -> Result<Option<(Value, String)>> {
        let Some(webauthn) = self.webauthn.as_deref() else { return Ok(None) };
        if !self.first_factor_permitted(tx, tenant, client_id, FirstFactor::Passkey).await? {
            return Ok(None);
        }
        let (options, state) =
            webauthn.start_discoverable_authentication().map_err(|e| Error::internal(format!("webauthn: {e}")))?;
        Ok(Some((serde_json::to_value(options).map_err(Error::internal)?, state_json(&state)?)))
    }

    /// The passkeys of `user`, with their credential records.
    async fn passkeys_of(
        &self,
        tx: &mut Box<dyn crate::store::StoreTx>,
        tenant: &crate::model::tenant::TenantRecord,
        user: portcullis_types::UserId,
    ) -> Result<Vec<(CredentialRecord, Passkey)>> {
        let mut passkeys = Vec::new();
        for credential in tx.credentials_of_user(tenant.id, user).await? {
            if credential.kind == CredentialKind::Passkey {
                let passkey =
                    serde_json::from_str(credential.data.as_deref().unwrap_or_default()).map_err(Error::internal)?;
                passkeys.push((credential, passkey));
            }
        }
        Ok(passkeys)
    }

    /// Signs in with a passkey, from the browser's answer (JSON of `navigator.credentials.get()`)
    /// to the flow's request: at the first step the user is the one the passkey names
    /// (usernameless); at the second factor it must be one of the identified user's passkeys.
    /// The signature, origin, RP id, challenge, user verification and signature counter are
    /// checked. With `at_once`, a sign-in that completes authentication ends in its code.
    pub async fn login_with_passkey(
        &self,
        tenant: &str,
        flow: &FlowRecord,
        response: &str,
        context: &RequestContext,
        at_once: Option<CodeAtOnce>,
    ) -> Result<std::result::Result<FlowProgress, LoginRefusal>> {
        let webauthn = self.relying()?;
        let now = self.clock.now();
        let step = flow.step();
        if !matches!(step, FlowStep::Authenticate | FlowStep::SecondFactor) {
            return Err(Error::NotFound("flow"));
        }
        let mut tx = self.store.write().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        let permitted = match step {
            FlowStep::SecondFactor => {
                self.auth_policy_in(&mut tx, &record).await?.allows_second(SecondFactorKind::Passkey)
            }
            _ => self.first_factor_permitted(&mut tx, &record, &flow.request.client_id, FirstFactor::Passkey).await?,
        };
        super::flows::allowed(permitted, "passkeys")?;
        let mut flow = self.claim_flow_at(&mut tx, &record, &flow.id, step).await?;
        // The challenge answers once, right or wrong; the next attempt gets a new one.
        let state = flow.state.webauthn.take();
        flow.state.webauthn_options = None;
        let Some(state) = state else { return self.passkey_failed(tx, &record, flow, "no challenge", context).await };
        let answer: PublicKeyCredential = match serde_json::from_str(response) {
            Ok(answer) => answer,
            Err(e) => return self.passkey_failed(tx, &record, flow, &format!("malformed: {e}"), context).await,
        };
        let (stored, mut passkey, result) = match (step, flow.state.pending_user) {
            (FlowStep::SecondFactor, Some(user)) => {
                let state: PasskeyAuthentication = serde_json::from_str(&state).map_err(Error::internal)?;
                let result = match webauthn.finish_passkey_authentication(&answer, &state) {
                    Ok(result) => result,
                    Err(e) => return self.passkey_failed(tx, &record, flow, &e.to_string(), context).await,
                };
                let mine = self.passkeys_of(&mut tx, &record, user).await?;
                let Some((stored, passkey)) = mine
                    .into_iter()
                    .find(|(c, _)| c.lookup.as_deref() == Some(AsRef::<[u8]>::as_ref(result.cred_id())))
                else {
                    return self.passkey_failed(tx, &record, flow, "not this user's passkey", context).await;
                };
                (stored, passkey, result)
            }
            _ => {
                let state: DiscoverableAuthentication = serde_json::from_str(&state).map_err(Error::internal)?;
                let Ok((user_handle, credential_id)) = webauthn.identify_discoverable_authentication(&answer) else {
                    return self.passkey_failed(tx, &record, flow, "no user handle", context).await;
                };
                let stored = tx.credential_by_lookup(credential_id).await?.filter(|c| {
                    c.tenant_id == record.id && c.kind == CredentialKind::Passkey && c.user_id.as_uuid() == user_handle
                });
                let Some(stored) = stored else {
                    return self.passkey_failed(tx, &record, flow, "unknown passkey", context).await;
                };
                let passkey: Passkey =
                    serde_json::from_str(stored.data.as_deref().unwrap_or_default()).map_err(Error::internal)?;
                let result = match webauthn.finish_discoverable_authentication_v2(&answer, state, &passkey) {
                    Ok(result) => result,
                    Err(e) => return self.passkey_failed(tx, &record, flow, &e.to_string(), context).await,
                };
                (stored, passkey, result)
            }
        };
        if !tx.user_get(record.id, stored.user_id).await?.is_some_and(|u| u.status == UserStatus::Active) {
            return self.passkey_failed(tx, &record, flow, "account not active", context).await;
        }
        let data = match passkey.update_credential(&result) {
            Some(true) => Some(state_json(&passkey)?),
            _ => None,
        };
        tx.credential_used(&stored.id, data.as_deref(), now).await?;
        // A synced passkey is a software key; one bound to its device, a hardware key.
        let method = if result.backup_eligible() { "swk" } else { "hwk" };
        for factor in [method, "user"] {
            if !flow.state.amr.iter().any(|m| m == factor) {
                flow.state.amr.push(factor.to_owned());
            }
        }
        let progress = self.after_factor(&mut tx, &record, flow, stored.user_id, method, context, at_once).await?;
        tx.commit().await?;
        Ok(Ok(progress))
    }

    /// A refused passkey ceremony: counted against the flow, audited with why.
    async fn passkey_failed(
        &self,
        mut tx: Box<dyn crate::store::StoreTx>,
        tenant: &crate::model::tenant::TenantRecord,
        flow: FlowRecord,
        reason: &str,
        context: &RequestContext,
    ) -> Result<std::result::Result<FlowProgress, LoginRefusal>> {
        let refusal = self.step_failed(&mut tx, tenant, flow, "passkey", reason, context).await?;
        tx.commit().await?;
        Ok(Err(match refusal {
            LoginRefusal::InvalidCode => LoginRefusal::InvalidPasskey,
            other => other,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_domain_is_a_relying_party_and_an_address_is_not() {
        assert!(relying_party("https://id.example.com", &[]).ok().flatten().is_some());
        assert!(relying_party("http://localhost:8080", &[]).ok().flatten().is_some());
        assert!(relying_party("http://127.0.0.1:8080", &[]).ok().flatten().is_none());
        assert!(relying_party("http://[::1]:8080", &[]).ok().flatten().is_none());
        let android = ["android:apk-key-hash:a1b2c3".to_owned()];
        assert!(relying_party("https://id.example.com", &android).ok().flatten().is_some());
        assert!(relying_party("https://id.example.com", &["not a url".to_owned()]).is_err());
    }

    #[test]
    fn registration_asks_for_a_discoverable_credential() {
        let options = discoverable(json!({"publicKey": {"authenticatorSelection": {"residentKey": "discouraged"}}}));
        assert_eq!(options["publicKey"]["authenticatorSelection"]["residentKey"], "required");
        assert_eq!(options["publicKey"]["authenticatorSelection"]["requireResidentKey"], true);
    }
}
