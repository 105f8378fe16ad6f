//! Mail the services send (issue 4 item 5): the [`Mailer`] an SMTP client implements (the
//! binary's, over lettre), and the texts of each message in English and German.
//!
//! Mail leaves in the background: the answer to the request that caused it never waits for the
//! SMTP server, and so never tells, by its timing, whether an account exists.

use std::sync::Arc;

use async_trait::async_trait;

use super::Services;

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
}

/// The language of mail for a request that asked for `ui_locales` (`de` if it prefers German,
/// else English).
pub fn language(ui_locales: Option<&str>) -> &'static str {
    let first = ui_locales.and_then(|l| l.split(' ').next()).unwrap_or_default();
    if first.eq_ignore_ascii_case("de") || first.to_ascii_lowercase().starts_with("de-") { "de" } else { "en" }
}

/// The message with `code` and `link` for `purpose`, in `language`, from `tenant` (its display
/// name).
pub fn code_mail(
    purpose: CodePurpose,
    language: &'static str,
    tenant: &str,
    to: &str,
    code: &str,
    link: &str,
) -> OutgoingMail {
    let (subject, text) = match (purpose, language) {
        (CodePurpose::Login, "de") => (
            format!("Ihr Anmeldecode für {tenant}: {code}"),
            format!(
                "Ihr Anmeldecode lautet {code}.\n\nOder öffnen Sie diesen Link in dem Browser, in dem Sie die Anmeldung begonnen haben:\n{link}\n\nDer Code gilt zehn Minuten. Wenn Sie sich nicht anmelden wollten, ignorieren Sie diese Nachricht.\n"
            ),
        ),
        (CodePurpose::Recovery, "de") => (
            format!("Passwort zurücksetzen für {tenant}: {code}"),
            format!(
                "Ihr Code zum Zurücksetzen des Passworts lautet {code}.\n\nOder öffnen Sie diesen Link in dem Browser, in dem Sie das Zurücksetzen begonnen haben:\n{link}\n\nDer Code gilt zehn Minuten. Wenn Sie Ihr Passwort nicht zurücksetzen wollten, ignorieren Sie diese Nachricht; Ihr Passwort bleibt, wie es ist.\n"
            ),
        ),
        (CodePurpose::Login, _) => (
            format!("Your sign-in code for {tenant}: {code}"),
            format!(
                "Your sign-in code is {code}.\n\nOr open this link in the browser where you started signing in:\n{link}\n\nThe code is valid for ten minutes. If you did not try to sign in, ignore this message.\n"
            ),
        ),
        (CodePurpose::Recovery, _) => (
            format!("Reset your password for {tenant}: {code}"),
            format!(
                "Your password reset code is {code}.\n\nOr open this link in the browser where you started the reset:\n{link}\n\nThe code is valid for ten minutes. If you did not ask to reset your password, ignore this message; your password stays as it is.\n"
            ),
        ),
    };
    OutgoingMail { to: to.to_owned(), subject, text, language }
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

#[cfg(test)]
mod tests {
    use super::*;

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
            for purpose in [CodePurpose::Login, CodePurpose::Recovery] {
                let mail = code_mail(purpose, language, "Acme", "a@example.com", "123456", "https://x/link");
                assert!(mail.subject.contains("123456") && mail.subject.contains("Acme"), "{mail:?}");
                assert!(mail.text.contains("123456") && mail.text.contains("https://x/link"), "{mail:?}");
            }
        }
    }
}
