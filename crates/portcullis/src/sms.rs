//! The providers text messages leave through (issue 4 item 6):
//!
//! - a **webhook**: a JSON `POST` of `{"id", "to", "text", "language"}` to the operator's URL,
//!   signed in the header `Portcullis-Signature: t={unix seconds},v1={hex HMAC-SHA256 of
//!   "{t}.{body}"}` under a shared secret (the receiver checks it, and refuses an old `t`);
//! - **Twilio** or a service that speaks its Messages API: a form `POST` of `To`, `Body` and
//!   `From` (or `MessagingServiceSid` for an `MG…` sender) to
//!   `{api}/2010-04-01/Accounts/{sid}/Messages.json` with HTTP basic authentication.
//!
//! Both are bounded in time and never follow redirects; any answer but 2xx is a failure, logged
//! and counted by the caller.

use std::time::Duration;

use async_trait::async_trait;
use portcullis_core::Clock;
use portcullis_core::service::sms::{OutgoingSms, SmsSender};
use portcullis_crypto::secret::{random_id, webhook_signature};

/// How long a provider may take to accept a message.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The header that carries a webhook's signature.
pub const SIGNATURE_HEADER: &str = "Portcullis-Signature";

fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("portcullis/", env!("CARGO_PKG_VERSION")))
        .build()?)
}

/// What a refused request said, shortened for the log.
async fn refusal(response: reqwest::Response) -> String {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    let body: String = body.chars().take(300).collect();
    format!("the provider answered {status}: {body}")
}

/// Posts each message, signed, to the operator's URL.
pub struct WebhookSms {
    client: reqwest::Client,
    url: String,
    secret: String,
}

impl WebhookSms {
    pub fn new(url: &str, secret: &str) -> anyhow::Result<Self> {
        Ok(Self { client: client()?, url: url.to_owned(), secret: secret.to_owned() })
    }
}

#[async_trait]
impl SmsSender for WebhookSms {
    async fn send(&self, sms: OutgoingSms) -> Result<(), String> {
        let body = serde_json::json!({"id": random_id(), "to": sms.to, "text": sms.text, "language": sms.language});
        let body = body.to_string();
        let timestamp = portcullis_core::SystemClock.now().unix_timestamp();
        let signature = webhook_signature(self.secret.as_bytes(), timestamp, body.as_bytes());
        let response = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, format!("t={timestamp},v1={signature}"))
            .body(body)
            .send()
            .await
            .map_err(|e| format!("the webhook could not be reached: {e}"))?;
        if response.status().is_success() { Ok(()) } else { Err(refusal(response).await) }
    }
}

/// Sends through Twilio's Messages API (or a compatible one at another address).
pub struct TwilioSms {
    client: reqwest::Client,
    endpoint: String,
    account_sid: String,
    auth_token: String,
    from: String,
}

impl TwilioSms {
    /// A client of the API at `api` (`https://api.twilio.com`) for one account.
    pub fn new(api: &str, account_sid: &str, auth_token: &str, from: &str) -> anyhow::Result<Self> {
        let endpoint = format!("{}/2010-04-01/Accounts/{account_sid}/Messages.json", api.trim_end_matches('/'));
        Ok(Self {
            client: client()?,
            endpoint,
            account_sid: account_sid.to_owned(),
            auth_token: auth_token.to_owned(),
            from: from.to_owned(),
        })
    }
}

#[async_trait]
impl SmsSender for TwilioSms {
    async fn send(&self, sms: OutgoingSms) -> Result<(), String> {
        let sender = if self.from.starts_with("MG") { "MessagingServiceSid" } else { "From" };
        let form = [("To", sms.to.as_str()), ("Body", sms.text.as_str()), (sender, self.from.as_str())];
        let response = self
            .client
            .post(&self.endpoint)
            .basic_auth(&self.account_sid, Some(&self.auth_token))
            .form(&form)
            .send()
            .await
            .map_err(|e| format!("the SMS API could not be reached: {e}"))?;
        if response.status().is_success() { Ok(()) } else { Err(refusal(response).await) }
    }
}
