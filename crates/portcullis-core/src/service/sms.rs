//! Codes by text message (issue 4 item 6): a mobile number enrolled on the account pages (a
//! code proves it), then a second factor after a password, or — when the tenant's policy says
//! so — a passwordless sign-in. The provider is the binary's (a signed webhook or a
//! Twilio-compatible API) behind [`SmsSender`].
//!
//! Texts cost money and can be turned into money by fraudsters (SMS pumping), so each number,
//! each typed account and each source may ask for only a few in the throttling window, and the
//! tenant's policy may name the countries texts go to. Asking for a sign-in code answers alike
//! whether or not the account exists or has a number.

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use portcullis_crypto::secret::{digest, digests_equal, random_id};
use rand::Rng;
use serde_json::json;
use time::Duration;

use super::audit::Change;
use super::claims::login_key;
use super::flows::{CODE_LIMIT, CodeAtOnce, FlowProgress, enrolling};
use super::sessions::LoginRefusal;
use super::throttle::{code_key, sms_account_key, sms_number_key, sms_source_key};
use super::{Principal, RequestContext, Services};
use crate::error::{Error, Result};
use crate::model::auth_policy::{FirstFactor, SecondFactorKind};
use crate::model::credential::{CredentialKind, CredentialRecord};
use crate::model::session::{FlowRecord, FlowStep, SmsCodeState};
use crate::model::tenant::TenantRecord;
use crate::model::token::Access;
use crate::model::user::UserStatus;

/// How long a texted code counts.
pub const SMS_CODE_LIFETIME: Duration = Duration::minutes(5);
/// Texts to one number in the throttling window.
pub const SMS_NUMBER_LIMIT: i64 = 3;
/// Sign-in texts asked for one typed account in the throttling window.
pub const SMS_ACCOUNT_LIMIT: i64 = 3;
/// Texts asked for from one source in the throttling window.
pub const SMS_SOURCE_LIMIT: i64 = 10;

/// One text message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingSms {
    /// E.164: `+` and up to 15 digits.
    pub to: String,
    pub text: String,
    /// A BCP 47 tag (`en`, `de`).
    pub language: &'static str,
}

/// Sends text messages: a provider's client in the binary.
#[async_trait]
pub trait SmsSender: Send + Sync {
    async fn send(&self, sms: OutgoingSms) -> std::result::Result<(), String>;
}

/// A mobile number as typed, in E.164 form (`+4915123456789`): spaces, dashes, dots and
/// brackets are dropped; a leading `00` counts as `+`. `None` if it is not an international
/// number of 8 to 15 digits.
pub fn normalise_number(typed: &str) -> Option<String> {
    let kept: String = typed.chars().filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')' | '\u{a0}')).collect();
    let digits = kept.strip_prefix('+').or_else(|| kept.strip_prefix("00"))?;
    let valid =
        (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0');
    valid.then(|| format!("+{digits}"))
}

/// How a number is shown once enrolled: only its last four digits.
pub fn masked(number: &str) -> String {
    let tail: String = number.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    format!("•••• {tail}")
}

/// The name texts are stored under beside the mail templates (`email_templates.purpose`).
const TEMPLATE_PURPOSE: &str = "sms_code";
/// The longest text a tenant may set: two concatenated SMS segments of GSM-7 (153 each).
const TEMPLATE_MAX_CHARS: usize = 306;

/// A tenant's text for its code messages: `{code}` (required), `{tenant}` and `{minutes}` are
/// filled in when it is sent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SmsTemplate {
    /// At most 306 characters; must hold `{code}`.
    pub text: String,
}

/// A tenant's text as the admin API shows it: its own, or the built-in one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct SmsTemplateView {
    pub text: String,
    /// Whether the tenant set its own (else this is the built-in text).
    pub custom: bool,
}

/// The built-in text in `language`.
pub fn builtin_text(language: &str) -> &'static str {
    match language {
        "de" => "{code} ist Ihr Code für {tenant}. Er gilt {minutes} Minuten. Geben Sie ihn niemandem weiter.",
        _ => "{code} is your {tenant} code. It expires in {minutes} minutes. Do not share it.",
    }
}

/// Checks a tenant's text: it carries the code, fits two messages, and has no control
/// characters but line breaks.
pub fn check_text(template: &SmsTemplate) -> Result<()> {
    let text = &template.text;
    let clean = text.chars().all(|c| c == '\n' || !c.is_control());
    if text.chars().count() > TEMPLATE_MAX_CHARS || !text.contains("{code}") || !clean {
        let reason = "at most 306 characters without control characters, holding {code}";
        return Err(Error::Validation(vec![crate::error::FieldError::new("text", reason)]));
    }
    Ok(())
}

/// The text of a code message from `template`; with the site's host, its last line binds the
/// code to the site (origin-bound one-time codes, as the WebOTP API and iOS/Android autofill
/// read them: `@host #code`), so a browser offers it only there and not on a phishing page.
fn message(template: &str, tenant: &str, code: &str, host: Option<&str>) -> String {
    let minutes = SMS_CODE_LIFETIME.whole_minutes().to_string();
    let text = template.replace("{tenant}", tenant).replace("{minutes}", &minutes).replace("{code}", code);
    match host {
        Some(host) => format!("{text}\n\n@{host} #{code}"),
        None => text,
    }
}

/// The host an origin-bound code names: the public URL's, when it is a domain (a code cannot
/// be bound to an IP address).
fn code_host(public_url: &str) -> Option<String> {
    match url::Url::parse(public_url).ok()?.host()? {
        url::Host::Domain(domain) => Some(domain.to_owned()),
        url::Host::Ipv4(_) | url::Host::Ipv6(_) => None,
    }
}

fn new_code() -> String {
    format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000))
}

fn code_digest(code: &str) -> String {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    hex::encode(digest(&code))
}

fn flow_aad(flow: &str) -> Vec<u8> {
    format!("portcullis-flow-sms\0{flow}").into_bytes()
}

fn credential_aad(credential: &str) -> Vec<u8> {
    format!("portcullis-sms\0{credential}").into_bytes()
}

impl Services {
    /// Sends text messages through `sender`, binding their codes to the host of `public_url`.
    pub fn with_sms(mut self, sender: Arc<dyn SmsSender>, public_url: &str) -> Self {
        self.sms = Some(sender);
        self.sms_host = code_host(public_url);
        self
    }

    /// The text of a code message for `tenant` in `language`: the tenant's own, or the
    /// built-in one.
    async fn sms_text(&self, language: &str, tenant: &TenantRecord, code: &str) -> Result<String> {
        let mut tx = self.store.read().await?;
        let own = tx.email_template_get(tenant.id, TEMPLATE_PURPOSE, language).await?.map(|(_, text)| text);
        let template = own.as_deref().unwrap_or_else(|| builtin_text(language));
        Ok(message(template, &tenant.display_name, code, self.sms_host.as_deref()))
    }

    /// `GET …/sms-templates/{language}`: the tenant's own text, or the built-in one.
    pub async fn get_sms_template(&self, who: &Principal, tenant: &str, language: &str) -> Result<SmsTemplateView> {
        let language = super::mail::known_language(language)?;
        let mut tx = self.store.read().await?;
        let record = self.tenant_for(&mut tx, who, tenant, Access::Read).await?;
        Ok(match tx.email_template_get(record.id, TEMPLATE_PURPOSE, language).await? {
            Some((_, text)) => SmsTemplateView { text, custom: true },
            None => SmsTemplateView { text: builtin_text(language).to_owned(), custom: false },
        })
    }

    /// `PUT …/sms-templates/{language}` (`template`), or `DELETE` (`None`: back to the built-in
    /// text). Audited.
    pub async fn set_sms_template(
        &self,
        who: &Principal,
        tenant: &str,
        language: &str,
        template: Option<SmsTemplate>,
    ) -> Result<()> {
        let language = super::mail::known_language(language)?;
        if let Some(template) = &template {
            check_text(template)?;
        }
        let change = super::mail::TemplateChange {
            purpose: TEMPLATE_PURPOSE,
            language,
            text: template.as_ref().map(|t| ("", t.text.as_str())),
            kind: "sms_template",
            after: template.as_ref().map(|t| json!(t)),
        };
        self.change_template(who, tenant, change).await
    }

    /// Whether text messages can be sent.
    pub fn sms_enabled(&self) -> bool {
        self.sms.is_some()
    }

    /// Sends `sms` in the background; a failure is logged and counted, never shown.
    fn send_sms_later(&self, sms: OutgoingSms) {
        let Some(sender) = self.sms.clone() else { return };
        tokio::spawn(async move {
            match sender.send(sms).await {
                Ok(()) => metrics::counter!("portcullis_sms_sent_total").increment(1),
                Err(error) => {
                    metrics::counter!("portcullis_sms_failed_total").increment(1);
                    tracing::warn!(%error, "text message could not be sent");
                }
            }
        });
    }

    /// The enrolled number of `credential`, opened.
    fn number_of(&self, tenant: &TenantRecord, credential: &CredentialRecord) -> Result<Option<String>> {
        let Some(sealed) = &credential.secret else { return Ok(None) };
        let opened = self.tenant_key(tenant)?.open(&credential_aad(&credential.id), sealed)?;
        Ok(String::from_utf8(opened).ok())
    }

    /// Sends a code by text message for a login flow, and moves it to [`FlowStep::SmsCode`]:
    /// at [`FlowStep::SecondFactor`] to the identified user's number; at
    /// [`FlowStep::Authenticate`] (only when the tenant allows passwordless texts) to the number
    /// of the account `identifier` names — the flow moves on also when there is none.
    pub async fn send_sms_code(
        &self,
        tenant: &str,
        flow: &FlowRecord,
        identifier: Option<&str>,
        context: &RequestContext,
    ) -> Result<std::result::Result<FlowProgress, LoginRefusal>> {
        if !self.sms_enabled() {
            return Err(Error::NotFound("sms"));
        }
        let mut tx = self.store.read().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        let policy = self.auth_policy_in(&mut tx, &record).await?;
        let step = flow.step();
        let mut keys = vec![(sms_source_key(context.ip.as_deref()), SMS_SOURCE_LIMIT)];
        let user = match (step, identifier.map(str::trim)) {
            (FlowStep::SecondFactor, _) => {
                super::flows::allowed(policy.allows_second(SecondFactorKind::Sms), "text messages")?;
                if flow.state.amr.iter().any(|m| m == "sms") {
                    return Err(Error::invalid("method", "a text message was this login's first factor"));
                }
                flow.state.pending_user
            }
            (FlowStep::Authenticate, Some(identifier))
                if self.first_factor_permitted(&mut tx, &record, &flow.request.client_id, FirstFactor::Sms).await? =>
            {
                if identifier.is_empty() || identifier.len() > 320 {
                    return Err(Error::invalid("identifier", "give a username or an e-mail address"));
                }
                let login = login_key(identifier);
                keys.push((sms_account_key(&login), SMS_ACCOUNT_LIMIT));
                tx.user_by_login(record.id, &login).await?.filter(|u| u.status == UserStatus::Active).map(|u| u.id)
            }
            (FlowStep::Authenticate, _) => {
                return Err(Error::invalid("method", "text messages are only a second factor here"));
            }
            _ => return Err(Error::NotFound("flow")),
        };
        let mut target = None;
        if let Some(user) = user {
            let credentials = tx.credentials_of_user(record.id, user).await?;
            if let Some(credential) = credentials.into_iter().find(|c| c.kind == CredentialKind::Sms) {
                target = self.number_of(&record, &credential)?.map(|number| (credential.id, number));
            }
        }
        drop(tx);
        let first_factor = step == FlowStep::Authenticate;
        if let Some(retry_after) = self.first_wait(&record, &keys).await? {
            return Ok(Err(LoginRefusal::Throttled { retry_after }));
        }
        // Where the number itself must wait, a second factor says so; a first factor says
        // nothing (it would tell that the account has a number) and sends nothing.
        let mut refused = None;
        if let Some((_, number)) = &target {
            if !policy.sms_allowed_to(number) {
                refused = Some("country");
            } else if let Some(retry_after) = self.key_wait(&record, &sms_number_key(number)).await? {
                if !first_factor {
                    return Ok(Err(LoginRefusal::Throttled { retry_after }));
                }
                refused = Some("throttled");
            } else {
                keys.push((sms_number_key(number), SMS_NUMBER_LIMIT));
            }
        } else if !first_factor {
            return Err(Error::invalid("method", "no number for text messages is enrolled"));
        }
        // Counted now (the waits were checked above, before the number's own).
        for (key, limit) in &keys {
            self.key_failed(&record, key, *limit).await?;
        }
        let code = new_code();
        // The text is made before the flow changes: a failure to read the tenant's template
        // leaves the flow as it was.
        let language = super::mail::language(flow.request.ui_locales.as_deref());
        let text = self.sms_text(language, &record, &code).await?;
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let mut flow = self.flow_at(&mut tx, &record, &flow.id, step).await?;
        let send_to = target.filter(|_| refused.is_none());
        flow.state.sms_code = Some(SmsCodeState {
            code_digest: code_digest(&code),
            expires_at: (now + SMS_CODE_LIFETIME).unix_timestamp(),
            enrolling: None,
            credential: send_to.as_ref().map(|(id, _)| id.clone()),
        });
        if first_factor {
            flow.state.pending_user = user;
        }
        flow.state.step = FlowStep::SmsCode;
        tx.flow_update(&flow).await?;
        let change = Change {
            action: "login.sms_code",
            tenant: Some(tenant),
            target_type: "flow",
            target_id: Some(flow.id.clone()),
            before: None,
            after: Some(json!({"first_factor": first_factor, "sent": send_to.is_some(), "refused": refused})),
        };
        self.record(&mut tx, &Principal::user(user, &record.name, context), change).await?;
        tx.commit().await?;
        if let Some((_, number)) = send_to {
            self.send_sms_later(OutgoingSms { to: number, text, language });
        }
        Ok(Ok(FlowProgress::next(flow)))
    }

    /// The texted code of a login flow at [`FlowStep::SmsCode`]: the user is proved (`amr`
    /// `sms`; `remember` as for [`Services::submit_second_factor`]). Wrong and expired codes count against the flow and the user, and are audited.
    pub async fn submit_sms_code(
        &self,
        tenant: &str,
        flow: &FlowRecord,
        code: &str,
        remember: bool,
        context: &RequestContext,
        at_once: Option<CodeAtOnce>,
    ) -> Result<std::result::Result<FlowProgress, LoginRefusal>> {
        let mut tx = self.store.read().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        drop(tx);
        let key = flow.state.pending_user.map(code_key);
        if let Some(key) = &key
            && let Some(retry_after) = self.key_wait(&record, key).await?
        {
            return Ok(Err(LoginRefusal::Throttled { retry_after }));
        }
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let mut flow = self.claim_flow_at(&mut tx, &record, &flow.id, FlowStep::SmsCode).await?;
        let sent = flow.state.sms_code.clone().ok_or(Error::NotFound("flow"))?;
        let presented = digests_equal(code_digest(code).as_bytes(), sent.code_digest.as_bytes());
        let fresh = now.unix_timestamp() < sent.expires_at;
        let proved = flow.state.pending_user.zip(sent.credential.clone()).filter(|_| presented && fresh);
        let Some((user, credential)) = proved else {
            let reason = if presented { "expired" } else { "wrong" };
            let refusal = self.step_failed(&mut tx, &record, flow, "sms", reason, context).await?;
            tx.commit().await?;
            if let Some(key) = &key {
                self.key_failed(&record, key, CODE_LIMIT).await?;
            }
            return Ok(Err(refusal));
        };
        tx.credential_used(&credential, None, now).await?;
        flow.state.sms_code = None;
        flow.state.remember = remember;
        let progress = self.after_factor(&mut tx, &record, flow, user, "sms", context, at_once).await?;
        tx.commit().await?;
        Ok(Ok(progress))
    }

    /// The user of a settings flow (or of a login flow at [`FlowStep::EnrolMfa`]) adds a mobile
    /// number: a code is texted to it, which [`Services::confirm_sms`] checks. A second number
    /// replaces the first in the flow.
    pub async fn send_sms_enrolment(
        &self,
        tenant: &str,
        flow: &FlowRecord,
        typed: &str,
        context: &RequestContext,
    ) -> Result<std::result::Result<FlowRecord, LoginRefusal>> {
        if !self.sms_enabled() {
            return Err(Error::NotFound("sms"));
        }
        let (step, user) = enrolling(flow)?;
        let number = normalise_number(typed).ok_or_else(|| {
            Error::invalid("number", "give the number with its country code, such as +49 151 2345678")
        })?;
        let mut tx = self.store.read().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        let policy = self.auth_policy_in(&mut tx, &record).await?;
        super::flows::allowed(policy.allows_second(SecondFactorKind::Sms), "text messages")?;
        if !policy.sms_allowed_to(&number) {
            return Err(Error::invalid("number", "text messages cannot be sent to this country"));
        }
        for credential in tx.credentials_of_user(record.id, user).await? {
            if credential.kind == CredentialKind::Sms && self.number_of(&record, &credential)?.as_ref() == Some(&number)
            {
                return Err(Error::invalid("number", "this number is already enrolled"));
            }
        }
        drop(tx);
        // A user whose wrong codes made them wait cannot start another enrolment either.
        if let Some(retry_after) = self.key_wait(&record, &code_key(user)).await? {
            return Ok(Err(LoginRefusal::Throttled { retry_after }));
        }
        let keys =
            [(sms_source_key(context.ip.as_deref()), SMS_SOURCE_LIMIT), (sms_number_key(&number), SMS_NUMBER_LIMIT)];
        if let Some(retry_after) = self.spend(&record, &keys).await? {
            return Ok(Err(LoginRefusal::Throttled { retry_after }));
        }
        let now = self.clock.now();
        let code = new_code();
        let language = super::mail::language(flow.request.ui_locales.as_deref());
        let text = self.sms_text(language, &record, &code).await?;
        let mut tx = self.store.write().await?;
        let mut flow = self.claim_flow_at(&mut tx, &record, &flow.id, step).await?;
        let sealed = self.tenant_key(&record)?.seal(&flow_aad(&flow.id), number.as_bytes())?;
        flow.state.sms_code = Some(SmsCodeState {
            code_digest: code_digest(&code),
            expires_at: (now + SMS_CODE_LIFETIME).unix_timestamp(),
            enrolling: Some(STANDARD.encode(sealed)),
            credential: None,
        });
        tx.flow_update(&flow).await?;
        tx.commit().await?;
        self.send_sms_later(OutgoingSms { to: number, text, language });
        Ok(Ok(flow))
    }

    /// Confirms the number being enrolled in `flow` with the code texted to it: the number is
    /// kept (sealed) as a credential and — for a user without them — ten recovery codes are
    /// made and returned once. A settings flow then ends; a login flow goes on, the code
    /// counting as its second factor (`sms`). A wrong code counts like a wrong second factor.
    pub async fn confirm_sms(
        &self,
        tenant: &str,
        flow: &FlowRecord,
        code: &str,
        context: &RequestContext,
    ) -> Result<std::result::Result<FlowProgress, LoginRefusal>> {
        let mut tx = self.store.read().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        drop(tx);
        let (step, user) = enrolling(flow)?;
        let key = code_key(user);
        if let Some(retry_after) = self.key_wait(&record, &key).await? {
            return Ok(Err(LoginRefusal::Throttled { retry_after }));
        }
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let mut flow = self.claim_flow_at(&mut tx, &record, &flow.id, step).await?;
        let sent = flow.state.sms_code.clone().ok_or(Error::NotFound("flow"))?;
        let sealed = sent.enrolling.as_deref().ok_or(Error::NotFound("flow"))?;
        let presented = digests_equal(code_digest(code).as_bytes(), sent.code_digest.as_bytes());
        if !presented || now.unix_timestamp() >= sent.expires_at {
            let reason = if presented { "expired" } else { "wrong" };
            let refusal = self.step_failed(&mut tx, &record, flow, "sms", reason, context).await?;
            tx.commit().await?;
            self.key_failed(&record, &key, CODE_LIMIT).await?;
            return Ok(Err(refusal));
        }
        let tenant_key = self.tenant_key(&record)?;
        let number = tenant_key.open(&flow_aad(&flow.id), &STANDARD.decode(sealed).map_err(Error::internal)?)?;
        let number = String::from_utf8(number).map_err(Error::internal)?;
        let id = random_id();
        let credential = CredentialRecord {
            id: id.clone(),
            tenant_id: record.id,
            user_id: user,
            kind: CredentialKind::Sms,
            name: masked(&number),
            secret: Some(tenant_key.seal(&credential_aad(&id), number.as_bytes())?),
            lookup: None,
            data: None,
            counter: 0,
            created_at: now,
            last_used_at: Some(now),
        };
        tx.credential_insert(&credential).await?;
        let recovery_codes = self.first_recovery_codes(&mut tx, &record, user).await?;
        let change = Change {
            action: "credential.enrol",
            tenant: Some(tenant),
            target_type: "credential",
            target_id: Some(id),
            before: None,
            after: Some(json!({"user": user, "kind": "sms", "name": credential.name, "flow": flow.kind.as_str()})),
        };
        self.record(&mut tx, &Principal::user(Some(user), &record.name, context), change).await?;
        flow.state.sms_code = None;
        let mut progress = self.enrolled(&mut tx, &record, flow, user, "sms", context).await?;
        tx.commit().await?;
        progress.recovery_codes = recovery_codes;
        Ok(Ok(progress))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_normalised_to_e164_or_refused() {
        assert_eq!(normalise_number("+49 151 2345-6789").as_deref(), Some("+4915123456789"));
        assert_eq!(normalise_number("0049 (151) 23.45.67.89").as_deref(), Some("+4915123456789"));
        assert_eq!(normalise_number("+1 415 555 0100").as_deref(), Some("+14155550100"));
        for bad in [
            "",
            "+",
            "0151 2345678",
            "+0151234567",
            "+49 151",
            "+49151234567890123",
            "+49 15a 2345678",
            "++4915123456789",
        ] {
            assert_eq!(normalise_number(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_number_is_shown_by_its_last_four_digits() {
        assert_eq!(masked("+4915123456789"), "•••• 6789");
    }

    #[test]
    fn messages_carry_the_code_in_each_language() {
        for language in ["en", "de"] {
            let text = message(builtin_text(language), "Acme", "123456", Some("login.acme-corporation.example"));
            assert!(text.contains("123456") && text.contains("Acme"), "{text}");
            assert!(text.ends_with("\n\n@login.acme-corporation.example #123456"), "{text}");
            assert!(text.chars().count() <= 160, "one SMS segment: {text}");
        }
    }

    #[test]
    fn tenant_texts_must_carry_the_code_and_fit_two_messages() {
        let text = |t: &str| SmsTemplate { text: t.to_owned() };
        assert!(check_text(&text("Code {code} for {tenant}, {minutes} min")).is_ok());
        assert!(check_text(&text("no code here")).is_err());
        assert!(check_text(&text(&format!("{{code}}{}", "x".repeat(301)))).is_err());
        assert!(check_text(&text("{code}\u{7}")).is_err(), "a control character");
        for language in ["en", "de"] {
            assert!(check_text(&text(builtin_text(language))).is_ok(), "the built-in texts pass their own rule");
        }
        assert_eq!(message("{code} für {tenant} ({minutes})", "Acme", "123456", None), "123456 für Acme (5)");
    }

    #[test]
    fn codes_are_bound_to_a_domain_never_to_an_address() {
        assert_eq!(code_host("https://login.example.com").as_deref(), Some("login.example.com"));
        assert_eq!(code_host("http://localhost:8080/base").as_deref(), Some("localhost"));
        assert_eq!(code_host("http://127.0.0.1:8080"), None);
        assert_eq!(code_host("http://[::1]:8080"), None);
        assert_eq!(code_host("not a url"), None);
    }
}
