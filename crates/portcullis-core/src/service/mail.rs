//! Mail the services send (issue 4 item 5): the [`Mailer`] an SMTP client implements (the
//! binary's, over lettre), and the texts of each message in English and German.
//!
//! Mail leaves in the background: the answer to the request that caused it never waits for the
//! SMTP server, and so never tells, by its timing, whether an account exists.

use std::sync::Arc;

use async_trait::async_trait;

use serde_json::json;

use super::audit::Change;
use super::{Principal, Services};
use crate::error::{Error, FieldError, Result};
use crate::model::token::Access;

/// One message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    pub to: String,
    pub subject: String,
    pub text: String,
    /// A BCP 47 tag (`en`, `de`): the `Content-Language` of the message.
    pub language: &'static str,
}

/// Sends mail: an SMTP client in the binary.
#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: OutgoingMail) -> std::result::Result<(), String>;
}

/// What a code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodePurpose {
    /// Signing in without a password.
    Login,
    /// Choosing a new password (a forgotten one).
    Recovery,
    /// Confirming the address of a new account (self-registration).
    Verification,
}

impl CodePurpose {
    /// The name of its template (`…/email-templates/{purpose}/{language}`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login_code",
            Self::Recovery => "password_reset",
            Self::Verification => "email_verification",
        }
    }

    /// Parses a template name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "login_code" => Some(Self::Login),
            "password_reset" => Some(Self::Recovery),
            "email_verification" => Some(Self::Verification),
            _ => None,
        }
    }
}

/// The languages mail is written in.
pub const LANGUAGES: &[&str] = &["en", "de"];

/// The language of mail for a request that asked for `ui_locales` (`de` if it prefers German,
/// else English).
pub fn language(ui_locales: Option<&str>) -> &'static str {
    let first = ui_locales.and_then(|l| l.split(' ').next()).unwrap_or_default();
    if first.eq_ignore_ascii_case("de") || first.to_ascii_lowercase().starts_with("de-") { "de" } else { "en" }
}

/// The text of a message: `{code}`, `{link}` and `{tenant}` are replaced when it is sent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailTemplate {
    /// One line, at most 200 characters.
    pub subject: String,
    /// Plain text, at most 10,000 characters; must hold `{code}` and `{link}`.
    pub body: String,
}

/// A tenant's template as the admin API shows it: its own, or the built-in one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct EmailTemplateView {
    pub subject: String,
    pub body: String,
    /// Whether the tenant set its own (else this is the built-in text).
    pub custom: bool,
}

/// The built-in text for `purpose` in `language`.
pub fn builtin(purpose: CodePurpose, language: &str) -> EmailTemplate {
    let (subject, body) = match (purpose, language) {
        (CodePurpose::Login, "de") => (
            "Ihr Anmeldecode für {tenant}: {code}",
            "Ihr Anmeldecode lautet {code}.\n\nOder öffnen Sie diesen Link in dem Browser, in dem Sie die Anmeldung begonnen haben:\n{link}\n\nDer Code gilt zehn Minuten. Wenn Sie sich nicht anmelden wollten, ignorieren Sie diese Nachricht.\n",
        ),
        (CodePurpose::Recovery, "de") => (
            "Passwort zurücksetzen für {tenant}: {code}",
            "Ihr Code zum Zurücksetzen des Passworts lautet {code}.\n\nOder öffnen Sie diesen Link in dem Browser, in dem Sie das Zurücksetzen begonnen haben:\n{link}\n\nDer Code gilt zehn Minuten. Wenn Sie Ihr Passwort nicht zurücksetzen wollten, ignorieren Sie diese Nachricht; Ihr Passwort bleibt, wie es ist.\n",
        ),
        (CodePurpose::Verification, "de") => (
            "Bestätigen Sie Ihre E-Mail-Adresse für {tenant}: {code}",
            "Ihr Bestätigungscode lautet {code}.\n\nOder öffnen Sie diesen Link in dem Browser, in dem Sie sich registriert haben:\n{link}\n\nDer Code gilt zehn Minuten. Wenn Sie kein Konto anlegen wollten, ignorieren Sie diese Nachricht; es wird keines angelegt.\n",
        ),
        (CodePurpose::Verification, _) => (
            "Confirm your e-mail address for {tenant}: {code}",
            "Your confirmation code is {code}.\n\nOr open this link in the browser where you signed up:\n{link}\n\nThe code is valid for ten minutes. If you did not sign up, ignore this message; no account is made.\n",
        ),
        (CodePurpose::Login, _) => (
            "Your sign-in code for {tenant}: {code}",
            "Your sign-in code is {code}.\n\nOr open this link in the browser where you started signing in:\n{link}\n\nThe code is valid for ten minutes. If you did not try to sign in, ignore this message.\n",
        ),
        (CodePurpose::Recovery, _) => (
            "Reset your password for {tenant}: {code}",
            "Your password reset code is {code}.\n\nOr open this link in the browser where you started the reset:\n{link}\n\nThe code is valid for ten minutes. If you did not ask to reset your password, ignore this message; your password stays as it is.\n",
        ),
    };
    EmailTemplate { subject: subject.to_owned(), body: body.to_owned() }
}

/// Checks a tenant's template: a one-line subject, a body that carries the code and the link.
pub fn check_template(template: &EmailTemplate) -> Result<()> {
    let mut errors = Vec::new();
    if template.subject.trim().is_empty()
        || template.subject.chars().count() > 200
        || template.subject.contains(['\r', '\n'])
    {
        errors.push(FieldError::new("subject", "one line of 1 to 200 characters"));
    }
    if template.body.chars().count() > 10_000 || !template.body.contains("{code}") || !template.body.contains("{link}")
    {
        errors.push(FieldError::new("body", "at most 10,000 characters, holding {code} and {link}"));
    }
    if errors.is_empty() { Ok(()) } else { Err(Error::Validation(errors)) }
}

/// The message `template` makes for `to` with `code` and `link`, from `tenant` (its display
/// name).
pub fn render(
    template: &EmailTemplate,
    language: &'static str,
    tenant: &str,
    to: &str,
    code: &str,
    link: &str,
) -> OutgoingMail {
    let fill = |text: &str| text.replace("{tenant}", tenant).replace("{code}", code).replace("{link}", link);
    OutgoingMail { to: to.to_owned(), subject: fill(&template.subject), text: fill(&template.body), language }
}

impl Services {
    /// Sends mail through `mailer`; without one, methods that need mail are not offered.
    pub fn with_mailer(mut self, mailer: Arc<dyn Mailer>) -> Self {
        self.mailer = Some(mailer);
        self
    }

    /// Whether mail can be sent.
    pub fn mail_enabled(&self) -> bool {
        self.mailer.is_some()
    }

    /// Sends `mail` in the background; a failure is logged and counted, never shown.
    pub(crate) fn send_later(&self, mail: OutgoingMail) {
        let Some(mailer) = self.mailer.clone() else { return };
        tokio::spawn(async move {
            match mailer.send(mail).await {
                Ok(()) => metrics::counter!("portcullis_mail_sent_total").increment(1),
                Err(error) => {
                    metrics::counter!("portcullis_mail_failed_total").increment(1);
                    tracing::warn!(%error, "mail could not be sent");
                }
            }
        });
    }
}

/// One of [`LANGUAGES`], or a validation error naming the `language` field.
pub(crate) fn known_language(language: &str) -> Result<&'static str> {
    LANGUAGES.iter().copied().find(|l| *l == language).ok_or_else(|| Error::invalid("language", "must be en or de"))
}

/// What a tenant's text template changes to: a text (subject, body), or back to the built-in
/// one; and how the audit log names it.
pub(crate) struct TemplateChange<'a> {
    /// The stored purpose (`login_code`, …, `sms_code`).
    pub purpose: &'a str,
    pub language: &'static str,
    pub text: Option<(&'a str, &'a str)>,
    /// `email_template` or `sms_template`: the audit target type and action family.
    pub kind: &'static str,
    pub after: Option<serde_json::Value>,
}

impl Services {
    fn template_key(purpose: &str, language: &str) -> Result<(CodePurpose, &'static str)> {
        let purpose = CodePurpose::parse(purpose)
            .ok_or_else(|| Error::invalid("purpose", "must be login_code, password_reset or email_verification"))?;
        Ok((purpose, known_language(language)?))
    }

    /// Stores or removes a tenant's text template, audited as `{kind}.put` / `{kind}.delete`;
    /// removing one the tenant does not have is `NotFound`.
    pub(crate) async fn change_template(
        &self,
        who: &Principal,
        tenant: &str,
        change: TemplateChange<'_>,
    ) -> Result<()> {
        let TemplateChange { purpose, language, text, kind, after } = change;
        let mut tx = self.store.write().await?;
        let record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        let changed = match text {
            Some((subject, body)) => {
                tx.email_template_put(record.id, purpose, language, subject, body, self.clock.now()).await?;
                true
            }
            None => tx.email_template_delete(record.id, purpose, language).await?,
        };
        if !changed {
            return Err(Error::NotFound("template"));
        }
        let (put, delete) = match kind {
            "sms_template" => ("sms_template.put", "sms_template.delete"),
            _ => ("email_template.put", "email_template.delete"),
        };
        let change = Change {
            action: if text.is_some() { put } else { delete },
            tenant: Some(tenant),
            target_type: kind,
            target_id: Some(format!("{purpose}/{language}")),
            before: None,
            after,
        };
        self.record(&mut tx, who, change).await?;
        tx.commit().await
    }

    /// `GET …/email-templates/{purpose}/{language}`: the tenant's own text, or the built-in one.
    pub async fn get_email_template(
        &self,
        who: &Principal,
        tenant: &str,
        purpose: &str,
        language: &str,
    ) -> Result<EmailTemplateView> {
        let (purpose, language) = Self::template_key(purpose, language)?;
        let mut tx = self.store.read().await?;
        let record = self.tenant_for(&mut tx, who, tenant, Access::Read).await?;
        Ok(match tx.email_template_get(record.id, purpose.as_str(), language).await? {
            Some((subject, body)) => EmailTemplateView { subject, body, custom: true },
            None => {
                let EmailTemplate { subject, body } = builtin(purpose, language);
                EmailTemplateView { subject, body, custom: false }
            }
        })
    }

    /// `PUT …/email-templates/{purpose}/{language}` (`template`), or `DELETE` (`None`: back to the
    /// built-in text). Audited.
    pub async fn set_email_template(
        &self,
        who: &Principal,
        tenant: &str,
        purpose: &str,
        language: &str,
        template: Option<EmailTemplate>,
    ) -> Result<()> {
        let (purpose, language) = Self::template_key(purpose, language)?;
        if let Some(template) = &template {
            check_template(template)?;
        }
        let change = TemplateChange {
            purpose: purpose.as_str(),
            language,
            text: template.as_ref().map(|t| (t.subject.as_str(), t.body.as_str())),
            kind: "email_template",
            after: template.as_ref().map(|t| json!(t)),
        };
        self.change_template(who, tenant, change).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_templates_must_carry_the_code_and_the_link() {
        let good = EmailTemplate { subject: "Code: {code}".into(), body: "{code} {link}".into() };
        assert!(check_template(&good).is_ok());
        for (subject, body) in
            [("", "{code} {link}"), ("a\nb", "{code} {link}"), ("s", "{code} only"), ("s", "{link} only")]
        {
            let bad = EmailTemplate { subject: subject.into(), body: body.into() };
            assert!(check_template(&bad).is_err(), "{subject:?} {body:?}");
        }
        for language in LANGUAGES {
            for purpose in [CodePurpose::Login, CodePurpose::Recovery, CodePurpose::Verification] {
                assert!(check_template(&builtin(purpose, language)).is_ok(), "the built-in texts pass their own rule");
            }
        }
    }

    #[test]
    fn german_when_asked_first_else_english() {
        assert_eq!(language(Some("de")), "de");
        assert_eq!(language(Some("de-AT en")), "de");
        assert_eq!(language(Some("en de")), "en");
        assert_eq!(language(Some("delta")), "en");
        assert_eq!(language(None), "en");
    }

    #[test]
    fn messages_carry_the_code_and_the_link() {
        for language in ["en", "de"] {
            for purpose in [CodePurpose::Login, CodePurpose::Recovery, CodePurpose::Verification] {
                let mail =
                    render(&builtin(purpose, language), language, "Acme", "a@example.com", "123456", "https://x/link");
                assert!(mail.subject.contains("123456") && mail.subject.contains("Acme"), "{mail:?}");
                assert!(mail.text.contains("123456") && mail.text.contains("https://x/link"), "{mail:?}");
            }
        }
    }
}
