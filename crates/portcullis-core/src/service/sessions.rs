//! Browser sessions and the login flows that create them (DESIGN §2). A flow belongs to the
//! browser that started it; a session is server-side and revocable, and the browser holds only
//! a random secret whose digest is stored.

use portcullis_crypto::secret::{digest, digests_equal, random_id};
use portcullis_types::UserId;
use serde_json::json;
use time::Duration;

use super::audit::Change;
use super::claims::login_key;
use super::flows::{CodeAtOnce, FlowProgress, request_asks_mfa};
use super::throttle::LoginKeys;
use super::{Principal, RequestContext, Services};
use crate::error::{Error, Result};
use crate::model::auth_policy::ACR_MFA;
use crate::model::auth_policy::FirstFactor;
use crate::model::client::ClientRecord;
use crate::model::session::{
    AuthorizationRequest, FlowKind, FlowRecord, FlowState, FlowStep, GrantRecord, SessionInfo, SessionRecord,
};
use crate::model::tenant::TenantRecord;
use crate::model::token::Access;
use crate::model::user::UserStatus;

/// How long a browser has to finish a login.
pub const FLOW_LIFETIME: Duration = Duration::minutes(30);
/// How long an SSO session lasts (Keycloak's "SSO session max" default).
pub const SESSION_LIFETIME: Duration = Duration::hours(10);
/// Wrong passwords allowed in one flow before it ends and the browser must start again.
/// Per-account and per-address throttling come with the authentication methods issue.
pub const FLOW_MAX_FAILURES: u32 = 5;

/// A refused password login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginRefusal {
    /// Unknown user, wrong password, or an account that may not log in: one answer for all.
    InvalidCredentials,
    /// A wrong, expired or already used one-time code.
    InvalidCode,
    /// A passkey answer that does not verify (origin, RP id, challenge, signature, counter), or
    /// a passkey this tenant does not know.
    InvalidPasskey,
    /// A client certificate that does not verify, or names no user; why.
    InvalidCertificate(super::certificates::CertificateProblem),
    /// Too many failures: the flow is over.
    FlowEnded,
    /// Too many failures for this account or from this source: wait this many seconds.
    Throttled { retry_after: i64 },
}

impl Services {
    /// The live session whose cookie secret is `secret`, if its user may still log in.
    pub async fn session_by_cookie(&self, tenant: &str, secret: &str) -> Result<Option<SessionRecord>> {
        if secret.is_empty() || secret.len() > 128 {
            return Ok(None);
        }
        let wanted = digest(secret);
        let mut tx = self.store.read().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        let Some(session) = tx.session_by_digest(&wanted).await? else { return Ok(None) };
        if session.tenant_id != record.id
            || !digests_equal(&session.secret_digest, &wanted)
            || !session.live(self.clock.now())
        {
            return Ok(None);
        }
        let active = tx.user_get(record.id, session.user_id).await?.is_some_and(|u| u.status == UserStatus::Active);
        Ok(active.then_some(session))
    }

    /// Starts a login flow for `request` of `client`, bound to the browser holding
    /// `browser_secret`. With `session`, the user is already known: the flow waits only for
    /// consent — or, with `step_up`, for the further factor the request needs.
    pub async fn start_login_flow(
        &self,
        tenant: &str,
        browser_secret: &str,
        client: &ClientRecord,
        request: AuthorizationRequest,
        session: Option<&SessionRecord>,
        step_up: bool,
    ) -> Result<FlowRecord> {
        let now = self.clock.now();
        // Everything but the flow's insert is reading: no transaction around it.
        let mut tx = self.store.write_once().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        let mut state =
            FlowState { acr: request_asks_mfa(client, &request).then(|| ACR_MFA.to_owned()), ..FlowState::default() };
        let known = session.filter(|_| !step_up);
        let mut flow = FlowRecord {
            id: random_id(),
            tenant_id: record.id,
            kind: FlowKind::Login,
            browser_digest: digest(browser_secret).to_vec(),
            request,
            user_id: known.map(|s| s.user_id),
            session_id: known.map(|s| s.id.clone()),
            failures: 0,
            state: FlowState::default(),
            created_at: now,
            expires_at: now + FLOW_LIFETIME,
        };
        if let Some(session) = session.filter(|_| step_up) {
            state.pending_user = Some(session.user_id);
            state.amr = session.amr.iter().filter(|m| *m != "mfa").cloned().collect();
            state.step_up = Some(session.id.clone());
            // A session that passed a first factor goes straight to what is missing.
            state.step = FlowStep::SecondFactor;
            flow.state = state;
            let context = RequestContext::default();
            if self.next_step(&mut tx, &record, &mut flow, session.user_id, &context).await?.is_none() {
                // Nothing is missing after all (the policy changed): only consent remains.
                flow.user_id = Some(session.user_id);
                flow.session_id = Some(session.id.clone());
            }
        } else {
            flow.state = state;
            if known.is_none() {
                // The sign-in page offers passkeys at once: their request is made with the flow
                // (one write, not a second one when the page is first shown).
                if let Some((options, challenge)) =
                    self.discoverable_request(&mut tx, &record, &flow.request.client_id).await?
                {
                    flow.state.webauthn = Some(challenge);
                    flow.state.webauthn_options = Some(options);
                }
            }
        }
        tx.flow_insert(&flow).await?;
        tx.commit().await?;
        Ok(flow)
    }

    /// The flow `id`, if it is live and belongs to the browser holding `browser_secret`;
    /// otherwise [`Error::NotFound`] — an expired flow and another browser's look the same.
    pub async fn login_flow(&self, tenant: &str, id: &str, browser_secret: &str) -> Result<FlowRecord> {
        let mut tx = self.store.read().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        let flow = tx.flow_get(record.id, id).await?.ok_or(Error::NotFound("flow"))?;
        if !digests_equal(&flow.browser_digest, &digest(browser_secret)) || flow.expires_at <= self.clock.now() {
            return Err(Error::NotFound("flow"));
        }
        Ok(flow)
    }

    /// Checks a username (or e-mail) and password in `flow`. On success the browser gets a
    /// new SSO session and the flow moves on to consent (or, with `at_once` and nothing more
    /// to pass, ends in an authorization code); each failure is counted in the flow and
    /// audited, and the fifth ends the flow. Every outcome is audited.
    pub async fn login_with_password(
        &self,
        tenant: &str,
        flow: &FlowRecord,
        login: &str,
        password: String,
        context: &RequestContext,
        at_once: Option<CodeAtOnce>,
    ) -> Result<std::result::Result<FlowProgress, LoginRefusal>> {
        // Under overload, refuse before reading anything: the hash would be refused anyway.
        if self.hash_pool.saturated() {
            metrics::counter!("portcullis_hash_pool_rejected_total").increment(1);
            return Err(Error::Busy);
        }
        let keys = {
            let mut tx = self.store.read().await?;
            let record = self.cached_tenant(&mut tx, tenant).await?;
            let permitted =
                self.first_factor_permitted(&mut tx, &record, &flow.request.client_id, FirstFactor::Password).await?;
            super::flows::allowed(permitted, "passwords")?;
            drop(tx);
            let mut keys = LoginKeys::new(&login_key(login), context.ip.as_deref());
            if let Some(retry_after) = self.login_wait(&record, &mut keys).await? {
                metrics::counter!("portcullis_login_throttled_total").increment(1);
                return Ok(Err(LoginRefusal::Throttled { retry_after }));
            }
            keys
        };
        let user = self.check_password(tenant, login, password).await?;
        let mut tx = self.store.write().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        let mut flow = self.claim_flow_at(&mut tx, &record, &flow.id, FlowStep::Authenticate).await?;
        let Some(user) = user else {
            let throttled = self.login_failed(&mut tx, &record, &keys).await?;
            flow.failures += 1;
            let ended = flow.failures >= FLOW_MAX_FAILURES;
            if ended {
                tx.flow_delete(record.id, &flow.id).await?;
            } else {
                tx.flow_update(&flow).await?;
            }
            let change = Change {
                action: "login.failure",
                tenant: Some(tenant),
                target_type: "flow",
                target_id: Some(flow.id.clone()),
                before: None,
                after: Some(json!({"method": "pwd", "failures": flow.failures, "throttled": throttled})),
            };
            self.record(&mut tx, &Principal::user(None, &record.name, context), change).await?;
            tx.commit().await?;
            return Ok(Err(if ended { LoginRefusal::FlowEnded } else { LoginRefusal::InvalidCredentials }));
        };
        self.login_succeeded(&mut tx, &record, &keys).await?;
        let progress = self.after_factor(&mut tx, &record, flow, user, "pwd", context, at_once).await?;
        tx.commit().await?;
        self.login_committed(&record, &keys);
        Ok(Ok(progress))
    }

    /// The SSO session `id` of the tenant, live or not.
    pub async fn session(&self, tenant: &str, id: &str) -> Result<Option<SessionRecord>> {
        let mut tx = self.store.read().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        tx.session_get(record.id, id).await
    }

    /// Whether the user has already granted the client every scope in `scope`.
    pub async fn consent_covers(&self, tenant: &str, user: UserId, client_id: &str, scope: &[String]) -> Result<bool> {
        let mut tx = self.store.read().await?;
        self.cached_tenant(&mut tx, tenant).await?;
        let granted = tx.consent_get(user, client_id).await?.unwrap_or_default();
        Ok(scope.iter().all(|s| granted.split(' ').any(|g| g == s)))
    }

    /// Ends an SSO session (logout) and revokes the grants made in it, except those the user
    /// gave `offline_access` (OIDC Core §11). Returns the grants made in the session, for
    /// back-channel logout to every client of the session.
    pub async fn end_session(
        &self,
        tenant: &str,
        session_id: &str,
        context: &RequestContext,
    ) -> Result<Vec<GrantRecord>> {
        let mut tx = self.store.write().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        let Some(session) = tx.session_get(record.id, session_id).await? else { return Ok(Vec::new()) };
        let who = Principal::user(Some(session.user_id), &record.name, context);
        let grants = self.end_in(&mut tx, &record, &session, &who, "logout").await?;
        tx.commit().await?;
        Ok(grants)
    }

    /// Ends `session` inside `tx`, audited as `action` by `who`; returns its grants (none if
    /// it had already ended).
    pub(crate) async fn end_in(
        &self,
        tx: &mut Box<dyn crate::store::StoreTx>,
        tenant: &TenantRecord,
        session: &SessionRecord,
        who: &Principal,
        action: &'static str,
    ) -> Result<Vec<GrantRecord>> {
        let now = self.clock.now();
        if !tx.session_revoke(tenant.id, &session.id, now).await? {
            return Ok(Vec::new());
        }
        let grants = tx.grants_of_session(tenant.id, &session.id).await?;
        for grant in grants.iter().filter(|g| !g.has_scope("offline_access")) {
            tx.grant_revoke(&grant.id, now).await?;
        }
        let change = Change {
            action,
            tenant: Some(tenant.name.as_str()),
            target_type: "session",
            target_id: Some(session.id.clone()),
            before: None,
            after: Some(
                json!({"user": session.user_id, "clients": grants.iter().map(|g| g.client_id.as_str()).collect::<Vec<_>>()}),
            ),
        };
        self.record(tx, who, change).await?;
        Ok(grants)
    }

    /// `GET …/users/{id}/sessions`: the user's live SSO sessions.
    pub async fn list_user_sessions(&self, who: &Principal, tenant: &str, user: UserId) -> Result<Vec<SessionInfo>> {
        let mut tx = self.store.read().await?;
        let record = self.tenant_for(&mut tx, who, tenant, Access::Read).await?;
        let now = self.clock.now();
        let sessions = tx.sessions_of_user(record.id, user).await?;
        Ok(sessions.iter().filter(|s| s.live(now)).map(SessionInfo::from).collect())
    }

    /// `DELETE …/users/{id}/sessions[/{sid}]`: signs the user out of one session or all,
    /// with what logout does (grants without `offline_access` revoked). Returns each ended
    /// session with its grants, for back-channel logout.
    pub async fn revoke_user_sessions(
        &self,
        who: &Principal,
        tenant: &str,
        user: UserId,
        only: Option<&str>,
    ) -> Result<Vec<(SessionRecord, Vec<GrantRecord>)>> {
        let mut tx = self.store.write().await?;
        let record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        let now = self.clock.now();
        let sessions: Vec<SessionRecord> = tx
            .sessions_of_user(record.id, user)
            .await?
            .into_iter()
            .filter(|s| s.live(now) && only.is_none_or(|id| s.id == id))
            .collect();
        if only.is_some() && sessions.is_empty() {
            return Err(Error::NotFound("session"));
        }
        let mut ended = Vec::new();
        for session in sessions {
            let grants = self.end_in(&mut tx, &record, &session, who, "session.revoke").await?;
            ended.push((session, grants));
        }
        tx.commit().await?;
        Ok(ended)
    }
}
