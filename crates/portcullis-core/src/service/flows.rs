//! The login flow's steps after the first factor (DESIGN §2; issue 4 items 1, 4, 8): which
//! step comes next for the identified user, the second factor (TOTP or a recovery code; codes
//! by text message are in `sms`),
//! enrolling an authenticator during the login, a password change an administrator required,
//! and the end of authentication — a new SSO session, or a stepped-up one.
//!
//! Every protocol front door (the hosted pages, the JSON flow API) drives the same methods.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use portcullis_crypto::password;
use portcullis_crypto::secret::{digest, random_id, random_secret};
use portcullis_types::UserId;
use serde_json::json;
use time::Duration;

use super::audit::Change;
use super::grants::CodeRequest;
use super::sessions::{FLOW_MAX_FAILURES, LoginRefusal, SESSION_LIFETIME};
use super::throttle;
use super::totp::{self, TotpEnrolment};
use super::{Principal, RequestContext, Services};
use crate::error::{Error, Result};
use crate::model::auth_policy::{
    ACR_MFA, ACR_SINGLE, ACR_VALUES, AuthPolicy, FirstFactor, MfaPolicy, SecondFactorKind,
};
use crate::model::client::ClientRecord;
use crate::model::credential::{CredentialKind, CredentialRecord, Requirement};
use crate::model::session::{AuthorizationRequest, FlowKind, FlowRecord, FlowStep, SessionRecord};
use crate::model::tenant::TenantRecord;
use crate::store::StoreTx;

/// How many recovery codes a user gets.
pub const RECOVERY_CODES: usize = 10;
/// Wrong second-factor codes for one user (over all flows, in the throttling window) before
/// they wait: two flows' worth ([`FLOW_MAX_FAILURES`] each), so that with three valid codes at
/// any time a guesser who has the password wins with odds of 3 in 100,000 per window.
pub const CODE_LIMIT: i64 = 10;

/// Refuses a method the tenant's policy does not allow (the pages and the flow API do not offer
/// it; this holds against a forged request).
pub(crate) fn allowed(allowed: bool, method: &str) -> Result<()> {
    if allowed { Ok(()) } else { Err(Error::invalid("method", format!("this tenant does not allow {method}"))) }
}

/// Whose factor `flow` enrols and at which step: a settings flow's signed-in user, or the
/// identified user of a login flow at [`FlowStep::EnrolMfa`].
pub(crate) fn enrolling(flow: &FlowRecord) -> Result<(FlowStep, UserId)> {
    let (step, user) = match flow.kind {
        FlowKind::Settings => (FlowStep::Settings, flow.user_id),
        FlowKind::Login => (FlowStep::EnrolMfa, flow.state.pending_user),
    };
    Ok((step, user.ok_or(Error::NotFound("flow"))?))
}

/// Where a flow went after a step.
#[derive(Debug, Clone)]
pub struct FlowProgress {
    pub flow: FlowRecord,
    /// Set when this step finished authentication: the session, new or stepped up.
    pub session: Option<SessionRecord>,
    /// The secret for the session cookie, when the session is new.
    pub cookie_secret: Option<String>,
    /// Recovery codes this step made: shown once, never again.
    pub recovery_codes: Vec<String>,
    /// The device cookie to set: the user asked to be remembered on this browser.
    pub device_secret: Option<String>,
    /// Sessions this step ended (a password reset signs the account out elsewhere), with their
    /// grants: their clients get back-channel logout tokens.
    pub ended_sessions: Vec<(SessionRecord, Vec<crate::model::session::GrantRecord>)>,
    /// The authorization code this step ended the flow in (see [`CodeAtOnce`]); the flow is
    /// gone.
    pub code: Option<String>,
}

/// Asks a step that completes authentication to end the OAuth request at once, inside the
/// step's own transaction: an authorization code for a grant lasting at most
/// `grant_lifetime`. For requests that need no consent (a first-party client); one commit
/// and three round trips fewer per login than a separate [`Services::issue_code`].
#[derive(Debug, Clone, Copy)]
pub struct CodeAtOnce {
    pub grant_lifetime: Duration,
}

impl FlowProgress {
    /// The flow at its next step, nothing more.
    pub fn next(flow: FlowRecord) -> Self {
        Self {
            flow,
            session: None,
            cookie_secret: None,
            recovery_codes: Vec::new(),
            device_secret: None,
            ended_sessions: Vec::new(),
            code: None,
        }
    }
}

/// A second factor as presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecondFactor {
    /// A six-digit code of an authenticator app.
    Totp(String),
    /// One of the user's recovery codes.
    RecoveryCode(String),
}

/// The strongest class `acr_values` (space-separated, in order of preference) asks for, when
/// every value Portcullis knows in it asks for more than one factor; unknown values are ignored
/// (OIDC Core §3.1.2.1: a voluntary claim unless requested as essential).
pub fn asked_acr<'a>(values: impl Iterator<Item = &'a str>) -> Option<&'static str> {
    let known: Vec<&'static str> =
        values.filter_map(|v| ACR_VALUES.iter().copied().find(|known| *known == v)).collect();
    (!known.is_empty() && known.iter().all(|v| *v == ACR_MFA)).then_some(ACR_MFA)
}

/// Whether the request (or, when it names no `acr_values`, the client's defaults) asks for
/// more than one factor.
pub fn request_asks_mfa(client: &ClientRecord, request: &AuthorizationRequest) -> bool {
    match request.acr_values.as_deref() {
        Some(values) => asked_acr(values.split(' ')).is_some(),
        None => asked_acr(client.metadata.default_acr_values.iter().map(String::as_str)).is_some(),
    }
}

/// A recovery code as typed, normalised: lowercase, without spaces and dashes.
fn normalise_code(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
}

/// The letters of recovery codes: lowercase and digits without the look-alikes `i l o 0 1`.
const CODE_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// Ten fresh recovery codes (`xxxxx-xxxxx`, 49 random bits each) and their digests.
fn new_recovery_codes() -> (Vec<String>, Vec<Vec<u8>>) {
    use rand::Rng;
    let mut rng = rand::rngs::OsRng;
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| {
            let letters: String =
                (0..10).map(|_| char::from(CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())])).collect();
            format!("{}-{}", &letters[..5], &letters[5..])
        })
        .collect();
    let digests = codes.iter().map(|c| digest(&normalise_code(c)).to_vec()).collect();
    (codes, digests)
}

pub(crate) fn sealed_aad(flow: &str) -> Vec<u8> {
    format!("portcullis-flow-totp\0{flow}").into_bytes()
}

fn credential_aad(credential: &str) -> Vec<u8> {
    format!("portcullis-totp\0{credential}").into_bytes()
}

impl Services {
    /// The tenant's authentication policy: from this node's cache (every login step reads it;
    /// a change reaches other nodes with their next poll of the change log), else inside `tx`.
    pub(crate) async fn auth_policy_in(&self, tx: &mut Box<dyn StoreTx>, tenant: &TenantRecord) -> Result<AuthPolicy> {
        let now = self.clock.now();
        if let Some(policy) = self.caches.policy(tenant.name.as_str(), now) {
            return Ok(policy);
        }
        let policy = Self::stored_auth_policy(tx, tenant).await?;
        self.caches.put_policy(tenant.name.as_str(), policy.clone(), now);
        Ok(policy)
    }

    /// Whether `method` may sign a user in to the client of a login flow (the tenant's policy
    /// and the client's own list), inside `tx`.
    pub(crate) async fn first_factor_permitted(
        &self,
        tx: &mut Box<dyn StoreTx>,
        tenant: &TenantRecord,
        client_id: &str,
        method: crate::model::auth_policy::FirstFactor,
    ) -> Result<bool> {
        let policy = self.auth_policy_in(tx, tenant).await?;
        if !policy.allows_first(method) {
            return Ok(false);
        }
        Ok(match self.client_in(tx, tenant, client_id).await? {
            Some(client) => policy.allows_first_for(method, &client),
            None => true,
        })
    }

    /// The tenant's authentication policy as stored, inside `tx` (writes of the policy).
    pub(crate) async fn stored_auth_policy(tx: &mut Box<dyn StoreTx>, tenant: &TenantRecord) -> Result<AuthPolicy> {
        match tx.auth_policy_get(tenant.id).await? {
            Some(text) => serde_json::from_str(&text).map_err(Error::internal),
            None => Ok(AuthPolicy::for_profile(tenant.profile)),
        }
    }

    /// Whether `session` is strong enough for `request` of `client`: a session of one factor
    /// does not do when the request (or the client's `default_acr_values`) asks for more — then
    /// the flow steps it up. The tenant's policy is applied when users log in (a session made
    /// before the policy asked for more lasts until it ends).
    pub async fn session_suffices(
        &self,
        _tenant: &str,
        client: &ClientRecord,
        request: &AuthorizationRequest,
        session: &SessionRecord,
    ) -> Result<bool> {
        Ok(session.acr == ACR_MFA || !request_asks_mfa(client, request))
    }

    /// The second factors a user with `credentials` can use after the methods `passed`:
    /// `totp` and `recovery_code` with an authenticator app, `sms` with an enrolled number,
    /// `passkey` with a passkey (neither twice in one login), as the flow API names them.
    pub(crate) fn second_factors(
        &self,
        credentials: &[CredentialRecord],
        passed: &[String],
        policy: &AuthPolicy,
    ) -> Vec<&'static str> {
        let has = |kind| credentials.iter().any(|c: &CredentialRecord| c.kind == kind);
        let mut methods = Vec::new();
        if has(CredentialKind::Totp) && policy.allows_second(SecondFactorKind::Totp) {
            methods.push("totp");
        }
        if has(CredentialKind::Sms)
            && self.sms_enabled()
            && policy.allows_second(SecondFactorKind::Sms)
            && !passed.iter().any(|m| m == "sms")
        {
            methods.push("sms");
        }
        if has(CredentialKind::Passkey)
            && self.passkeys_enabled()
            && policy.allows_second(SecondFactorKind::Passkey)
            && !passed.iter().any(|m| m == "hwk" || m == "swk")
        {
            methods.push("passkey");
        }
        if has(CredentialKind::RecoveryCodes) {
            methods.push("recovery_code");
        }
        methods
    }

    /// The second factors a user can enrol on this node under `policy`, in the order offered:
    /// an authenticator app, a passkey (needs passkeys on: a public URL with a domain), a
    /// mobile number (needs an SMS provider).
    pub fn enrollable(&self, policy: &AuthPolicy) -> Vec<SecondFactorKind> {
        let mut kinds = Vec::new();
        if policy.allows_second(SecondFactorKind::Totp) {
            kinds.push(SecondFactorKind::Totp);
        }
        let passkeys = policy.allows_second(SecondFactorKind::Passkey) || policy.allows_first(FirstFactor::Passkey);
        if self.passkeys_enabled() && passkeys {
            kinds.push(SecondFactorKind::Passkey);
        }
        if self.sms_enabled() && policy.allows_second(SecondFactorKind::Sms) {
            kinds.push(SecondFactorKind::Sms);
        }
        kinds
    }

    /// What a flow at [`FlowStep::SecondFactor`] accepts from its user (see
    /// [`Services::second_factors`]); empty at any other step.
    pub async fn second_factor_methods(&self, tenant: &str, flow: &FlowRecord) -> Result<Vec<&'static str>> {
        let Some(user) = flow.state.pending_user.filter(|_| flow.step() == FlowStep::SecondFactor) else {
            return Ok(Vec::new());
        };
        let mut tx = self.store.read().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        let credentials = tx.credentials_of_user(record.id, user).await?;
        let policy = self.auth_policy_in(&mut tx, &record).await?;
        Ok(self.second_factors(&credentials, &flow.state.amr, &policy))
    }

    /// The step that follows a passed factor for `user`, and moves the flow there; or `None`
    /// when the user is authenticated.
    pub(crate) async fn next_step(
        &self,
        tx: &mut Box<dyn StoreTx>,
        tenant: &TenantRecord,
        flow: &mut FlowRecord,
        user: UserId,
        context: &RequestContext,
    ) -> Result<Option<FlowStep>> {
        let policy = self.auth_policy_in(tx, tenant).await?;
        let requirements = tx.requirements_of_user(user).await?;
        let credentials = tx.credentials_of_user(tenant.id, user).await?;
        // A factor the user has and has not used in this login (a text message that was the
        // first factor cannot be the second).
        let usable = self.second_factors(&credentials, &flow.state.amr, &policy).iter().any(|m| *m != "recovery_code");
        // Two factors passed: a password and a code, or a passkey that verified its user.
        let second_done = flow.state.amr.iter().filter(|m| *m != "mfa").count() >= 2;
        let asked = flow.state.acr.as_deref() == Some(ACR_MFA) || requirements.contains(&Requirement::EnrolMfa);
        let by_policy = policy.mfa == MfaPolicy::Required || (policy.mfa == MfaPolicy::Optional && usable);
        // A remembered browser skips what only the policy asks, never what a client asks.
        let remembered = match context.device.as_deref() {
            Some(device) if by_policy && usable && !asked && policy.remember_device_days > 0 => {
                tx.device_remembered(user, &digest(device), self.clock.now()).await?
            }
            _ => false,
        };
        let mfa_due = asked || (by_policy && !remembered);
        let step = if mfa_due && !second_done {
            Some(if usable { FlowStep::SecondFactor } else { FlowStep::EnrolMfa })
        } else if flow.state.recovery
            || (requirements.contains(&Requirement::ChangePassword) && flow.state.step_up.is_none())
        {
            // A reset sets the new password only once every factor due is passed.
            Some(FlowStep::ChangePassword)
        } else {
            None
        };
        if let Some(step) = step {
            if flow.state.step != step {
                // A passkey request belongs to the step that made it.
                flow.state.webauthn = None;
                flow.state.webauthn_options = None;
            }
            flow.state.step = step;
        }
        if step == Some(FlowStep::EnrolMfa) {
            self.prepare_enrolment(tx, tenant, flow, user, &policy).await?;
        }
        Ok(step)
    }

    /// Readies a flow at [`FlowStep::EnrolMfa`] for each factor the policy lets its user enrol
    /// here: an authenticator seed, a passkey registration. With none (a policy of only text
    /// messages on a node without an SMS provider) the login cannot go on.
    async fn prepare_enrolment(
        &self,
        tx: &mut Box<dyn StoreTx>,
        tenant: &TenantRecord,
        flow: &mut FlowRecord,
        user: UserId,
        policy: &AuthPolicy,
    ) -> Result<()> {
        let kinds = self.enrollable(policy);
        if kinds.is_empty() {
            return Err(Error::Conflict {
                constraint: "second_factors".to_owned(),
                message: "a second factor is due but none that this tenant allows can be enrolled here".to_owned(),
            });
        }
        if kinds.contains(&SecondFactorKind::Totp) && flow.state.totp_secret.is_none() {
            let sealed = self.tenant_key(tenant)?.seal(&sealed_aad(&flow.id), &totp::new_seed())?;
            flow.state.totp_secret = Some(STANDARD.encode(sealed));
        }
        if kinds.contains(&SecondFactorKind::Passkey) && flow.state.webauthn_options.is_none() {
            let account = tx.user_get(tenant.id, user).await?.ok_or(Error::NotFound("flow"))?;
            if let Some((state, options)) = self.passkey_registration(tx, tenant, &account).await? {
                flow.state.webauthn = Some(state);
                flow.state.webauthn_options = Some(options);
            }
        }
        Ok(())
    }

    /// After `method` proved `user` in `flow`: the next step, or the end of authentication —
    /// ending the OAuth request in a code at once when `at_once` asks for it. Inside the step's
    /// transaction, which the caller commits.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn after_factor(
        &self,
        tx: &mut Box<dyn StoreTx>,
        tenant: &TenantRecord,
        mut flow: FlowRecord,
        user: UserId,
        method: &str,
        context: &RequestContext,
        at_once: Option<CodeAtOnce>,
    ) -> Result<FlowProgress> {
        if !flow.state.amr.iter().any(|m| m == method) {
            flow.state.amr.push(method.to_owned());
        }
        flow.state.pending_user = Some(user);
        if self.next_step(tx, tenant, &mut flow, user, context).await?.is_some() {
            tx.flow_update(&flow).await?;
            return Ok(FlowProgress::next(flow));
        }
        self.authenticated(tx, tenant, flow, user, context, at_once).await
    }

    /// Ends authentication: the stepped-up session gains the flow's methods, or a new session
    /// begins; the flow moves on to consent — or, with `at_once`, ends in an authorization
    /// code. Audited as `login.success`.
    async fn authenticated(
        &self,
        tx: &mut Box<dyn StoreTx>,
        tenant: &TenantRecord,
        mut flow: FlowRecord,
        user: UserId,
        context: &RequestContext,
        at_once: Option<CodeAtOnce>,
    ) -> Result<FlowProgress> {
        let now = self.clock.now();
        let mut amr = flow.state.amr.clone();
        let step_up = match flow.state.step_up.as_deref() {
            Some(id) => Some(tx.session_get(tenant.id, id).await?.filter(|s| s.live(now) && s.user_id == user)),
            None => None,
        };
        if let Some(Some(session)) = &step_up {
            for method in &session.amr {
                if !amr.contains(method) {
                    amr.insert(0, method.clone());
                }
            }
        }
        amr.retain(|m| m != "mfa");
        let factors = amr.len();
        if factors > 1 {
            amr.push("mfa".to_owned());
        }
        let acr = if factors > 1 { ACR_MFA } else { ACR_SINGLE }.to_owned();
        let (session, cookie_secret) = match step_up {
            Some(Some(mut session)) => {
                session.amr = amr;
                session.acr = acr;
                session.auth_time = now;
                tx.session_reauthenticated(&session).await?;
                (session, None)
            }
            // The session ended while the user stepped it up: start again.
            Some(None) => return Err(Error::NotFound("flow")),
            None => {
                let cookie_secret = random_secret("");
                let session = SessionRecord {
                    id: random_id(),
                    tenant_id: tenant.id,
                    user_id: user,
                    secret_digest: digest(&cookie_secret).to_vec(),
                    auth_time: now,
                    amr,
                    acr,
                    created_at: now,
                    expires_at: now + SESSION_LIFETIME,
                    revoked_at: None,
                };
                tx.session_insert(&session).await?;
                (session, Some(cookie_secret))
            }
        };
        if session.acr == ACR_MFA {
            tx.requirement_delete(user, Requirement::EnrolMfa).await?;
        }
        // The policy is read again only when the user asked to be remembered (rare on the login path).
        let remember_days = if flow.state.remember && session.acr == ACR_MFA {
            self.auth_policy_in(tx, tenant).await?.remember_device_days
        } else {
            0
        };
        let device_secret = if remember_days > 0 {
            let secret = context.device.clone().unwrap_or_else(|| random_secret(""));
            let days = Duration::days(i64::from(remember_days));
            tx.device_remember(tenant.id, user, &digest(&secret), now, now + days).await?;
            Some(secret)
        } else {
            None
        };
        flow.user_id = Some(user);
        flow.session_id = Some(session.id.clone());
        flow.state.pending_user = None;
        flow.state.step = FlowStep::Consent;
        flow.state.totp_secret = None;
        let code = match at_once {
            Some(at_once) => {
                let scope = flow.request.scope.join(" ");
                let request = CodeRequest {
                    flow: &flow,
                    session: &session,
                    scope: &scope,
                    remember_consent: false,
                    lifetime: at_once.grant_lifetime,
                };
                Some(self.issue_code_in(tx, tenant, request, context).await?)
            }
            None => {
                tx.flow_update(&flow).await?;
                None
            }
        };
        let change = Change {
            action: if cookie_secret.is_some() { "login.success" } else { "login.step_up" },
            tenant: Some(tenant.name.as_str()),
            target_type: "session",
            target_id: Some(session.id.clone()),
            before: None,
            after: Some(json!({"amr": session.amr, "acr": session.acr, "client_id": flow.request.client_id})),
        };
        self.record(tx, &Principal::user(Some(user), &tenant.name, context), change).await?;
        Ok(FlowProgress {
            flow,
            session: Some(session),
            cookie_secret,
            recovery_codes: Vec::new(),
            device_secret,
            ended_sessions: Vec::new(),
            code,
        })
    }

    /// Counts a failed step of `flow` (ending it at the fifth) and audits it; returns the
    /// refusal to answer with.
    pub(crate) async fn step_failed(
        &self,
        tx: &mut Box<dyn StoreTx>,
        tenant: &TenantRecord,
        mut flow: FlowRecord,
        method: &str,
        reason: &str,
        context: &RequestContext,
    ) -> Result<LoginRefusal> {
        flow.failures += 1;
        let ended = flow.failures >= FLOW_MAX_FAILURES;
        if ended {
            tx.flow_delete(tenant.id, &flow.id).await?;
        } else {
            tx.flow_update(&flow).await?;
        }
        let change = Change {
            action: "login.failure",
            tenant: Some(tenant.name.as_str()),
            target_type: "flow",
            target_id: Some(flow.id.clone()),
            before: None,
            after: Some(json!({"method": method, "reason": reason, "failures": flow.failures})),
        };
        let who = Principal::user(flow.state.pending_user, &tenant.name, context);
        self.record(tx, &who, change).await?;
        Ok(if ended { LoginRefusal::FlowEnded } else { LoginRefusal::InvalidCode })
    }

    /// The flow `id` of `tenant` as it is now, inside `tx`; it must still be at `step`.
    pub(crate) async fn flow_at(
        &self,
        tx: &mut Box<dyn StoreTx>,
        tenant: &TenantRecord,
        id: &str,
        step: FlowStep,
    ) -> Result<FlowRecord> {
        self.live_at(tx.flow_get(tenant.id, id).await?, step)
    }

    /// The flow `id` at `step`, claimed for this transaction: of two concurrent steps on one
    /// flow (a double click, a replayed answer), the second finds it moved on or gone.
    pub(crate) async fn claim_flow_at(
        &self,
        tx: &mut Box<dyn StoreTx>,
        tenant: &TenantRecord,
        id: &str,
        step: FlowStep,
    ) -> Result<FlowRecord> {
        self.live_at(tx.flow_claim(tenant.id, id).await?, step)
    }

    /// `flow` if it exists, is unexpired and is at `step`.
    fn live_at(&self, flow: Option<FlowRecord>, step: FlowStep) -> Result<FlowRecord> {
        let flow = flow.ok_or(Error::NotFound("flow"))?;
        if flow.step() != step || flow.expires_at <= self.clock.now() {
            return Err(Error::NotFound("flow"));
        }
        Ok(flow)
    }

    /// Ends an enrolment inside `tx`: a settings flow is done (and deleted); a login flow goes
    /// on with the new factor as the one just passed, `method` in RFC 8176 terms.
    pub(crate) async fn enrolled(
        &self,
        tx: &mut Box<dyn StoreTx>,
        tenant: &TenantRecord,
        flow: FlowRecord,
        user: UserId,
        method: &str,
        context: &RequestContext,
    ) -> Result<FlowProgress> {
        if flow.kind == FlowKind::Settings {
            tx.flow_delete(tenant.id, &flow.id).await?;
            return Ok(FlowProgress::next(flow));
        }
        self.after_factor(tx, tenant, flow, user, method, context, None).await
    }

    /// The second factor of a flow at [`FlowStep::SecondFactor`]. A TOTP code is accepted once
    /// (RFC 6238 §5.2), a recovery code once ever; wrong codes count against the flow and, over
    /// all flows, against the user (after [`CODE_LIMIT`] they wait).
    pub async fn submit_second_factor(
        &self,
        tenant: &str,
        flow: &FlowRecord,
        factor: SecondFactor,
        remember: bool,
        context: &RequestContext,
        at_once: Option<CodeAtOnce>,
    ) -> Result<std::result::Result<FlowProgress, LoginRefusal>> {
        let mut tx = self.store.read().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        drop(tx);
        let user = flow.state.pending_user.ok_or(Error::NotFound("flow"))?;
        let key = throttle::code_key(user);
        if let Some(retry_after) = self.key_wait(&record, &key).await? {
            return Ok(Err(LoginRefusal::Throttled { retry_after }));
        }
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let flow = self.claim_flow_at(&mut tx, &record, &flow.id, FlowStep::SecondFactor).await?;
        if matches!(factor, SecondFactor::Totp(_)) {
            let policy = self.auth_policy_in(&mut tx, &record).await?;
            allowed(policy.allows_second(SecondFactorKind::Totp), "authenticator apps")?;
        }
        let credentials = tx.credentials_of_user(record.id, user).await?;
        let (passed, reason) = match &factor {
            SecondFactor::Totp(code) => {
                let tenant_key = self.tenant_key(&record)?;
                let mut outcome = (false, "wrong");
                for credential in credentials.iter().filter(|c| c.kind == CredentialKind::Totp) {
                    let Some(sealed) = &credential.secret else { continue };
                    let seed = tenant_key.open(&credential_aad(&credential.id), sealed)?;
                    let Some(step) = totp::check(&seed, code, now.unix_timestamp()) else { continue };
                    outcome = if tx.credential_advance(&credential.id, step, now).await? {
                        (true, "")
                    } else {
                        (false, "reused")
                    };
                    break;
                }
                outcome
            }
            SecondFactor::RecoveryCode(code) => {
                let wanted = digest(&normalise_code(code));
                let mut spent = false;
                for credential in credentials.iter().filter(|c| c.kind == CredentialKind::RecoveryCodes) {
                    if tx.recovery_code_spend(&credential.id, &wanted, now).await? {
                        spent = true;
                        break;
                    }
                }
                (spent, "wrong")
            }
        };
        let method = match factor {
            SecondFactor::Totp(_) => "otp",
            SecondFactor::RecoveryCode(_) => "recovery_code",
        };
        if !passed {
            let refusal = self.step_failed(&mut tx, &record, flow, method, reason, context).await?;
            tx.commit().await?;
            self.key_failed(&record, &key, CODE_LIMIT).await?;
            return Ok(Err(refusal));
        }
        let mut flow = flow;
        flow.state.remember = remember;
        // A recovery code is a one-time password from a printed list: RFC 8176 `otp`.
        let progress = self.after_factor(&mut tx, &record, flow, user, "otp", context, at_once).await?;
        tx.commit().await?;
        Ok(Ok(progress))
    }

    /// What the authenticator app of a flow at [`FlowStep::EnrolMfa`] (or of a settings flow)
    /// needs: the URI, its QR code and the seed.
    pub async fn totp_enrolment(&self, tenant: &str, flow: &FlowRecord) -> Result<TotpEnrolment> {
        let mut tx = self.store.read().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        let user = flow.state.pending_user.or(flow.user_id).ok_or(Error::NotFound("flow"))?;
        let account = tx.user_get(record.id, user).await?.ok_or(Error::NotFound("flow"))?;
        let seed = self.flow_seed(&record, flow)?;
        totp::enrolment(&seed, &record.display_name, &account.username)
    }

    fn flow_seed(&self, tenant: &TenantRecord, flow: &FlowRecord) -> Result<Vec<u8>> {
        let sealed = flow.state.totp_secret.as_deref().ok_or(Error::NotFound("flow"))?;
        let sealed = STANDARD.decode(sealed).map_err(Error::internal)?;
        Ok(self.tenant_key(tenant)?.open(&sealed_aad(&flow.id), &sealed)?)
    }

    /// Confirms the authenticator being enrolled in `flow` with a code it shows: the seed is
    /// kept (sealed), the code's step spent, and — for a user without them — ten recovery codes
    /// made and returned once. A login flow then goes on (the code counts as its second factor);
    /// a settings flow ends. A wrong code counts like a wrong second factor.
    pub async fn confirm_totp(
        &self,
        tenant: &str,
        flow: &FlowRecord,
        code: &str,
        name: &str,
        context: &RequestContext,
    ) -> Result<std::result::Result<FlowProgress, LoginRefusal>> {
        let name = name.trim();
        if name.chars().count() > 64 {
            return Err(Error::invalid("name", "at most 64 characters"));
        }
        let mut tx = self.store.read().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        drop(tx);
        let (step, user) = enrolling(flow)?;
        let key = throttle::code_key(user);
        if let Some(retry_after) = self.key_wait(&record, &key).await? {
            return Ok(Err(LoginRefusal::Throttled { retry_after }));
        }
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let flow = self.claim_flow_at(&mut tx, &record, &flow.id, step).await?;
        let policy = self.auth_policy_in(&mut tx, &record).await?;
        allowed(policy.allows_second(SecondFactorKind::Totp), "authenticator apps")?;
        let seed = self.flow_seed(&record, &flow)?;
        let Some(accepted_step) = totp::check(&seed, code, now.unix_timestamp()) else {
            let refusal = self.step_failed(&mut tx, &record, flow, "otp", "wrong", context).await?;
            tx.commit().await?;
            self.key_failed(&record, &key, CODE_LIMIT).await?;
            return Ok(Err(refusal));
        };
        let id = random_id();
        let existing = tx.credentials_of_user(record.id, user).await?;
        let totp_count = existing.iter().filter(|c| c.kind == CredentialKind::Totp).count();
        let credential = CredentialRecord {
            id: id.clone(),
            tenant_id: record.id,
            user_id: user,
            kind: CredentialKind::Totp,
            name: if name.is_empty() { format!("Authenticator app {}", totp_count + 1) } else { name.to_owned() },
            secret: Some(self.tenant_key(&record)?.seal(&credential_aad(&id), &seed)?),
            lookup: None,
            data: None,
            counter: accepted_step,
            created_at: now,
            last_used_at: Some(now),
        };
        tx.credential_insert(&credential).await?;
        let recovery_codes = self.first_recovery_codes(&mut tx, &record, user).await?;
        let who = Principal::user(Some(user), &record.name, context);
        let change = Change {
            action: "credential.enrol",
            tenant: Some(tenant),
            target_type: "credential",
            target_id: Some(id),
            before: None,
            after: Some(json!({"user": user, "kind": "totp", "name": credential.name, "flow": flow.kind.as_str()})),
        };
        self.record(&mut tx, &who, change).await?;
        let mut progress = self.enrolled(&mut tx, &record, flow, user, "otp", context).await?;
        tx.commit().await?;
        progress.recovery_codes = recovery_codes;
        Ok(Ok(progress))
    }

    /// Ten recovery codes for a user enrolling a second factor who has none yet (made inside
    /// `tx`, returned to be shown once); none when they have them already. Whatever the factor
    /// — an authenticator app, a number, a passkey — losing it must not lock its owner out.
    pub(crate) async fn first_recovery_codes(
        &self,
        tx: &mut Box<dyn StoreTx>,
        tenant: &TenantRecord,
        user: UserId,
    ) -> Result<Vec<String>> {
        let existing = tx.credentials_of_user(tenant.id, user).await?;
        if existing.iter().any(|c| c.kind == CredentialKind::RecoveryCodes) {
            return Ok(Vec::new());
        }
        self.recovery_codes_in(tx, tenant, user).await
    }

    /// Replaces the user's recovery codes with ten new ones, inside `tx`; returns them.
    pub(crate) async fn recovery_codes_in(
        &self,
        tx: &mut Box<dyn StoreTx>,
        tenant: &TenantRecord,
        user: UserId,
    ) -> Result<Vec<String>> {
        let now = self.clock.now();
        for old in tx.credentials_of_user(tenant.id, user).await? {
            if old.kind == CredentialKind::RecoveryCodes {
                tx.credential_delete(tenant.id, user, &old.id).await?;
            }
        }
        let (codes, digests) = new_recovery_codes();
        let credential = CredentialRecord {
            id: random_id(),
            tenant_id: tenant.id,
            user_id: user,
            kind: CredentialKind::RecoveryCodes,
            name: "Recovery codes".to_owned(),
            secret: None,
            lookup: None,
            data: None,
            counter: 0,
            created_at: now,
            last_used_at: None,
        };
        tx.credential_insert(&credential).await?;
        tx.recovery_codes_insert(&credential.id, &digests).await?;
        Ok(codes)
    }

    /// The new password of a flow at [`FlowStep::ChangePassword`] (an administrator required
    /// it): the tenant's policy applies, and it must differ from the current one.
    pub async fn submit_new_password(
        &self,
        tenant: &str,
        flow: &FlowRecord,
        new: String,
        context: &RequestContext,
    ) -> Result<FlowProgress> {
        let mut tx = self.store.read().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        let user_id = flow.state.pending_user.ok_or(Error::NotFound("flow"))?;
        let user = tx.user_get(record.id, user_id).await?.ok_or(Error::NotFound("flow"))?;
        drop(tx);
        password::check_password_rules(&new).map_err(|e| Error::invalid("password", e.to_string()))?;
        let words =
            [Some(&user.username), user.email.as_ref(), user.claims.name.as_ref(), user.claims.family_name.as_ref()];
        self.check_new_password(&record, &new, words.into_iter().flatten().cloned().collect()).await?;
        if self.check_password(tenant, &user.username, new.clone()).await? == Some(user.id) {
            return Err(Error::invalid("password", "choose a password other than the current one"));
        }
        let hash = self.hash_pool.run(move || password::hash_password(&new)).await?.map_err(Error::internal)?;
        let mut tx = self.store.write().await?;
        let flow = self.flow_at(&mut tx, &record, &flow.id, FlowStep::ChangePassword).await?;
        tx.password_set(user.id, &hash, self.clock.now()).await?;
        tx.requirement_delete(user.id, Requirement::ChangePassword).await?;
        let change = Change {
            action: "user.password.change",
            tenant: Some(tenant),
            target_type: "user",
            target_id: Some(user.id.to_string()),
            before: None,
            after: Some(json!({"reason": if flow.state.recovery { "reset" } else { "required" }, "flow": flow.id})),
        };
        let who = Principal::user(Some(user.id), &record.name, context);
        self.record(&mut tx, &who, change).await?;
        let mut ended = Vec::new();
        if flow.state.recovery {
            // Whoever knew the old password is signed out everywhere (OWASP: a reset ends the
            // account's sessions); the reset's own session begins after this.
            let now = self.clock.now();
            for session in tx.sessions_of_user(record.id, user.id).await?.into_iter().filter(|s| s.live(now)) {
                let grants = self.end_in(&mut tx, &record, &session, &who, "session.revoke.password_reset").await?;
                ended.push((session, grants));
            }
        }
        let mut flow = flow;
        flow.state.recovery = false;
        let progress = if self.next_step(&mut tx, &record, &mut flow, user.id, context).await?.is_some() {
            tx.flow_update(&flow).await?;
            FlowProgress::next(flow)
        } else {
            self.authenticated(&mut tx, &record, flow, user.id, context, None).await?
        };
        tx.commit().await?;
        let mut progress = progress;
        progress.ended_sessions = ended;
        Ok(progress)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acr_values_ask_for_mfa_only_when_every_known_value_does() {
        assert_eq!(asked_acr(["2"].into_iter()), Some(ACR_MFA));
        assert_eq!(asked_acr(["urn:x", "2"].into_iter()), Some(ACR_MFA));
        assert_eq!(asked_acr(["2", "1"].into_iter()), None, "one factor is acceptable too");
        assert_eq!(asked_acr(["1"].into_iter()), None);
        assert_eq!(asked_acr(["urn:unknown"].into_iter()), None);
        assert_eq!(asked_acr(std::iter::empty()), None);
    }

    #[test]
    fn recovery_codes_are_distinct_and_typed_loosely() {
        let (codes, digests) = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let unique: std::collections::HashSet<_> = digests.iter().collect();
        assert_eq!(unique.len(), RECOVERY_CODES);
        for (code, wanted) in codes.iter().zip(&digests) {
            assert_eq!(code.len(), 11, "{code}");
            let typed = format!(" {} ", code.to_uppercase().replace('-', " "));
            assert_eq!(digest(&normalise_code(&typed)).to_vec(), *wanted);
        }
    }
}
