//! The SMTP client mail leaves through (lettre over tokio and rustls): `smtp://` plain or with
//! STARTTLS (`?tls=required`), `smtps://` with TLS, optional credentials in the URL; a pool of
//! connections.

use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use portcullis_core::service::mail::{Mailer, OutgoingMail};

/// Sends through one SMTP server as one sender.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    /// A client of the server at `url`, sending as `from`.
    pub fn new(url: &str, from: &str) -> anyhow::Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("invalid value for smtp_url: {e}"))?
            .build();
        let from = from.parse().map_err(|e| anyhow::anyhow!("invalid value for smtp_from: {e}"))?;
        Ok(Self { transport, from })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: OutgoingMail) -> Result<(), String> {
        let to: Mailbox = mail.to.parse().map_err(|e| format!("recipient: {e}"))?;
        let language = HeaderValue::new(HeaderName::new_from_ascii_str("Content-Language"), mail.language.to_owned());
        let mut builder = Message::builder().from(self.from.clone()).to(to).subject(mail.subject);
        builder = builder.header(ContentType::TEXT_PLAIN);
        let mut message = builder.body(mail.text).map_err(|e| e.to_string())?;
        message.headers_mut().insert_raw(language);
        self.transport.send(message).await.map(drop).map_err(|e| e.to_string())
    }
}
