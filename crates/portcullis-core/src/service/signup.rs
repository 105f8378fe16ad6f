//! Self-registration (issue 4 item 1, DESIGN §2 "flow"): a visitor creates an account from a
//! login flow, which then goes on to the OAuth request that started it. Where the tenant allows
//! it (`self_registration`, on for customers).
//!
//! With mail, the account exists only once the code sent to its address confirms it — and the
//! answer to "sign up" is the same whether or not the address already has an account: the
//! owner of an existing address gets a sign-in code instead, so a sign-up form tells nobody who
//! is registered. Without mail, the account is made at once, its address unverified.

use portcullis_crypto::password;
use portcullis_crypto::secret::{digest, random_secret};
use portcullis_types::UserId;
use rand::Rng;
use serde_json::json;

use super::audit::Change;
use super::claims::{check_email, login_key};
use super::email_codes::{EMAIL_CODE_LIFETIME, mail_keys};
use super::flows::FlowProgress;
use super::mail::{CodePurpose, EmailTemplate, builtin, language, render};
use super::sessions::LoginRefusal;
use super::user_codec::{self, Base};
use super::{Principal, RequestContext, Services};
use crate::error::{Error, Result};
use crate::model::session::{EmailCodeState, FlowRecord, FlowStep, RegistrationState};
use crate::model::tenant::TenantRecord;
use crate::model::user::{UserDocument, UserStatus};
use crate::store::StoreTx;

/// What a visitor signs up with.
#[derive(Debug, Clone)]
pub struct SignUp {
    pub email: String,
    pub password: String,
    pub name: Option<String>,
}

impl Services {
    /// Signs a visitor up from a login flow at [`FlowStep::Authenticate`]: the address, name
    /// and password are checked (the tenant's password policy applies); with mail, a code goes
    /// to the address and the flow moves to [`FlowStep::EmailCode`] (see the module
    /// documentation); without, the account is made and the visitor signed in (`amr` `pwd`).
    /// `link` is the URL of the link page.
    pub async fn sign_up(
        &self,
        tenant: &str,
        flow: &FlowRecord,
        sign_up: SignUp,
        link: &str,
        context: &RequestContext,
    ) -> Result<std::result::Result<FlowProgress, LoginRefusal>> {
        let mut tx = self.store.read().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        if !self.auth_policy_in(&mut tx, &record).await?.self_registration {
            return Err(Error::invalid("method", "this tenant does not let visitors create accounts"));
        }
        drop(tx);
        let email = sign_up.email.trim().to_owned();
        let name = sign_up.name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
        let mut errors = Vec::new();
        check_email(&email, &mut errors);
        if name.as_ref().is_some_and(|n| n.chars().count() > 255 || n.chars().any(char::is_control)) {
            errors.push(crate::error::FieldError::new("name", "at most 255 characters"));
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        password::check_password_rules(&sign_up.password).map_err(|e| Error::invalid("password", e.to_string()))?;
        let words = [Some(&email), name.as_ref()].into_iter().flatten().cloned().collect();
        self.check_new_password(&record, &sign_up.password, words).await?;
        let login = login_key(&email);
        if self.mail_enabled()
            && let Some(retry_after) = self.spend(&record, &mail_keys(&login, context)).await?
        {
            return Ok(Err(LoginRefusal::Throttled { retry_after }));
        }
        let plain = sign_up.password;
        let password_hash =
            self.hash_pool.run(move || password::hash_password(&plain)).await?.map_err(Error::internal)?;
        let registration = RegistrationState { email: email.clone(), name, password_hash };
        let mut tx = self.store.write().await?;
        let mut flow = self.flow_at(&mut tx, &record, &flow.id, FlowStep::Authenticate).await?;
        if !self.mail_enabled() {
            let user = self.create_registered(&mut tx, &record, &registration, false, context).await?;
            let progress = self.after_factor(&mut tx, &record, flow, user, "pwd", context, None).await?;
            tx.commit().await?;
            return Ok(Ok(progress));
        }
        let existing = tx.user_by_login(record.id, &login).await?.filter(|u| {
            u.status == UserStatus::Active && u.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(&email))
        });
        let code = format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000));
        let token = random_secret("");
        flow.state.email_code = Some(EmailCodeState {
            recovery: false,
            signup: true,
            code_digest: hex::encode(digest(&code)),
            link_digest: hex::encode(digest(&token)),
            expires_at: (self.clock.now() + EMAIL_CODE_LIFETIME).unix_timestamp(),
        });
        // An existing owner of the address gets a sign-in code; a new one, the account.
        flow.state.pending_user = existing.as_ref().map(|u| u.id);
        flow.state.registration = if existing.is_some() { None } else { Some(registration) };
        flow.state.step = FlowStep::EmailCode;
        flow.state.webauthn = None;
        flow.state.webauthn_options = None;
        tx.flow_update(&flow).await?;
        let change = Change {
            action: "registration.start",
            tenant: Some(tenant),
            target_type: "flow",
            target_id: Some(flow.id.clone()),
            before: None,
            after: Some(json!({"existing_account": existing.is_some()})),
        };
        self.record(&mut tx, &Principal::user(existing.as_ref().map(|u| u.id), &record.name, context), change).await?;
        let purpose = if existing.is_some() { CodePurpose::Login } else { CodePurpose::Verification };
        let language = language(flow.request.ui_locales.as_deref());
        let template = match tx.email_template_get(record.id, purpose.as_str(), language).await? {
            Some((subject, body)) => EmailTemplate { subject, body },
            None => builtin(purpose, language),
        };
        tx.commit().await?;
        let link = format!("{link}?flow={}&token={token}", flow.id);
        self.send_later(render(&template, language, &record.display_name, &email, &code, &link));
        Ok(Ok(FlowProgress::next(flow)))
    }

    /// Makes the account a sign-up asked for, inside `tx`: username and address are the
    /// address given, `verified` when a code sent there came back. Audited as `user.register`.
    pub(crate) async fn create_registered(
        &self,
        tx: &mut Box<dyn StoreTx>,
        tenant: &TenantRecord,
        registration: &RegistrationState,
        verified: bool,
        context: &RequestContext,
    ) -> Result<UserId> {
        let doc = UserDocument {
            username: registration.email.clone(),
            email: Some(registration.email.clone()),
            email_verified: verified,
            name: registration.name.clone(),
            ..UserDocument::default()
        };
        let schema = self.schema_of(tx, tenant, false).await?;
        let tenant_key = self.tenant_key(tenant)?;
        let base = Base::New { id: UserId::new(), tenant: tenant.id, now: self.clock.now() };
        let prepared = user_codec::prepare(&schema, &tenant_key, &doc, base)?;
        self.store_new_user(tx, &prepared, Some(&registration.password_hash)).await?;
        let id = prepared.record.id;
        let change = Change {
            action: "user.register",
            tenant: Some(tenant.name.as_str()),
            target_type: "user",
            target_id: Some(id.to_string()),
            before: None,
            after: Some(user_codec::masked(&schema, &prepared.view)?),
        };
        self.record(tx, &Principal::user(Some(id), &tenant.name, context), change).await?;
        Ok(id)
    }
}
