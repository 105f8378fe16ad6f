//! Codes and magic links by e-mail (issue 4 items 2 and 5): signing in without a password,
//! and resetting a forgotten one. The first step answers alike whether or not the account
//! exists (a message goes out only if it does); a code is six digits, valid ten minutes, and
//! the flow allows [`FLOW_MAX_FAILURES`](super::FLOW_MAX_FAILURES) wrong ones; the link carries a
//! long token instead and completes only in the browser that holds the flow (no login CSRF).
//! Sending is limited per account and per source (mail bombing).

use portcullis_crypto::secret::{digest, digests_equal, random_secret};
use rand::Rng;
use serde_json::json;
use time::Duration;

use super::audit::Change;
use super::claims::login_key;
use super::flows::{CodeAtOnce, FlowProgress};
use super::mail::{CodePurpose, EmailTemplate, builtin, language, render};
use super::sessions::LoginRefusal;
use super::throttle::{mail_account_key, mail_source_key};
use super::{Principal, RequestContext, Services};
use crate::error::{Error, Result};
use crate::model::auth_policy::FirstFactor;
use crate::model::session::{EmailCodeState, FlowRecord, FlowStep};
use crate::model::user::UserStatus;

/// How long an e-mailed code counts (also a sign-up's confirmation code).
pub const EMAIL_CODE_LIFETIME: Duration = Duration::minutes(10);
/// Messages to one account in the throttling window.
pub const MAIL_ACCOUNT_LIMIT: i64 = 5;
/// Messages asked for from one source in the throttling window.
pub const MAIL_SOURCE_LIMIT: i64 = 20;

/// What mail to the typed account `login`, asked for from the request's source, is counted
/// under, with each key's limit in the throttling window.
pub(crate) fn mail_keys(login: &str, context: &RequestContext) -> [(Vec<u8>, i64); 2] {
    [(mail_account_key(login), MAIL_ACCOUNT_LIMIT), (mail_source_key(context.ip.as_deref()), MAIL_SOURCE_LIMIT)]
}

impl Services {
    /// Sends a code (and a link) for `purpose` to the account `identifier` names, and moves
    /// `flow` to [`FlowStep::EmailCode`] — also when there is no such account, so the answer
    /// tells nothing. `link` is the URL of the link page; the flow id and token are appended.
    pub async fn send_email_code(
        &self,
        tenant: &str,
        flow: &FlowRecord,
        identifier: &str,
        purpose: CodePurpose,
        link: &str,
        context: &RequestContext,
    ) -> Result<std::result::Result<FlowProgress, LoginRefusal>> {
        if !self.mail_enabled() {
            return Err(Error::NotFound("mail"));
        }
        let identifier = identifier.trim();
        if identifier.is_empty() || identifier.len() > 320 {
            return Err(Error::invalid("identifier", "give a username or an e-mail address"));
        }
        let mut tx = self.store.read().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        let (method, name) = match purpose {
            CodePurpose::Recovery => (FirstFactor::Password, "passwords"),
            _ => (FirstFactor::EmailCode, "codes by e-mail"),
        };
        let permitted = self.first_factor_permitted(&mut tx, &record, &flow.request.client_id, method).await?;
        super::flows::allowed(permitted, name)?;
        drop(tx);
        let login = login_key(identifier);
        if let Some(retry_after) = self.spend(&record, &mail_keys(&login, context)).await? {
            return Ok(Err(LoginRefusal::Throttled { retry_after }));
        }
        let now = self.clock.now();
        let code = format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000));
        let token = random_secret("");
        let mut tx = self.store.write().await?;
        let mut flow = self.flow_at(&mut tx, &record, &flow.id, FlowStep::Authenticate).await?;
        let user =
            tx.user_by_login(record.id, &login).await?.filter(|u| u.status == UserStatus::Active && u.email.is_some());
        flow.state.email_code = Some(EmailCodeState {
            recovery: purpose == CodePurpose::Recovery,
            signup: false,
            code_digest: hex::encode(digest(&code)),
            link_digest: hex::encode(digest(&token)),
            expires_at: (now + EMAIL_CODE_LIFETIME).unix_timestamp(),
        });
        flow.state.pending_user = user.as_ref().map(|u| u.id);
        flow.state.step = FlowStep::EmailCode;
        tx.flow_update(&flow).await?;
        let change = Change {
            action: "login.email_code",
            tenant: Some(tenant),
            target_type: "flow",
            target_id: Some(flow.id.clone()),
            before: None,
            after: Some(json!({"purpose": purpose, "sent": user.is_some()})),
        };
        self.record(&mut tx, &Principal::user(user.as_ref().map(|u| u.id), &record.name, context), change).await?;
        let language = language(flow.request.ui_locales.as_deref());
        let template = match tx.email_template_get(record.id, purpose.as_str(), language).await? {
            Some((subject, body)) => EmailTemplate { subject, body },
            None => builtin(purpose, language),
        };
        tx.commit().await?;
        if let Some(address) = user.and_then(|u| u.email) {
            let link = format!("{link}?flow={}&token={token}", flow.id);
            let name = &record.display_name;
            self.send_later(render(&template, language, name, &address, &code, &link));
        }
        Ok(Ok(FlowProgress::next(flow)))
    }

    /// The code from the message (`code`) or the token of its link (`token`) for a flow at
    /// [`FlowStep::EmailCode`]: the user is proved (`amr` `email`); a reset goes on to the new
    /// password. Wrong, expired and spent codes count against the flow and are audited.
    pub async fn submit_email_code(
        &self,
        tenant: &str,
        flow: &FlowRecord,
        code: Option<&str>,
        token: Option<&str>,
        context: &RequestContext,
        at_once: Option<CodeAtOnce>,
    ) -> Result<std::result::Result<FlowProgress, LoginRefusal>> {
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        let mut flow = self.claim_flow_at(&mut tx, &record, &flow.id, FlowStep::EmailCode).await?;
        let sent = flow.state.email_code.clone().ok_or(Error::NotFound("flow"))?;
        let presented = match (code, token) {
            (Some(code), _) => {
                let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
                digests_equal(hex::encode(digest(&code)).as_bytes(), sent.code_digest.as_bytes())
            }
            (None, Some(token)) => digests_equal(hex::encode(digest(token)).as_bytes(), sent.link_digest.as_bytes()),
            (None, None) => false,
        };
        let fresh = now.unix_timestamp() < sent.expires_at;
        if presented
            && fresh
            && let Some(registration) = flow.state.registration.take()
        {
            // A sign-up: the address is confirmed, the account made.
            let user = self.create_registered(&mut tx, &record, &registration, true, context).await?;
            flow.state.email_code = None;
            let progress = self.after_factor(&mut tx, &record, flow, user, "pwd", context, at_once).await?;
            tx.commit().await?;
            return Ok(Ok(progress));
        }
        let user = flow.state.pending_user;
        let Some(user) = user.filter(|_| presented && fresh) else {
            let reason = if presented { "expired" } else { "wrong" };
            let refusal = self.step_failed(&mut tx, &record, flow, "email", reason, context).await?;
            tx.commit().await?;
            return Ok(Err(refusal));
        };
        flow.state.email_code = None;
        flow.state.recovery = sent.recovery;
        // The code reached the account's address: the address is proved.
        if let Some(mut account) = tx.user_get(record.id, user).await?.filter(|u| !u.email_verified) {
            account.email_verified = true;
            account.updated_at = now;
            tx.user_update(&account).await?;
        }
        let progress = self.after_factor(&mut tx, &record, flow, user, "email", context, at_once).await?;
        tx.commit().await?;
        Ok(Ok(progress))
    }
}
