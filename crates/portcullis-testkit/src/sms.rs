//! A local HTTP server in the test process that receives the server's text messages as an SMS
//! provider would, on `127.0.0.1:{random port}`:
//!
//! - `POST /webhook`: checks the `Portcullis-Signature` (HMAC-SHA256 of `{t}.{body}` under
//!   [`SmsSink::WEBHOOK_SECRET`], `t` within five minutes) with its own code, and refuses a bad
//!   one with 401 — such a message is counted in [`SmsSink::rejected`], not received;
//! - `POST /2010-04-01/Accounts/{sid}/Messages.json`: Twilio's Messages API, with HTTP basic
//!   authentication as [`SmsSink::TWILIO_SID`] and [`SmsSink::TWILIO_TOKEN`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::post;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use portcullis_core::Clock;
use sha2::Sha256;

/// One text message as it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedSms {
    pub to: String,
    pub text: String,
    /// `webhook` or `twilio`.
    pub via: &'static str,
    /// The webhook's `language`, or Twilio's sender (`From` or `MessagingServiceSid`).
    pub detail: String,
}

impl ReceivedSms {
    /// The six-digit code in the text.
    pub fn code(&self) -> String {
        self.text.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6).unwrap_or_default().to_owned()
    }
}

#[derive(Default)]
struct Inbox {
    received: Mutex<Vec<ReceivedSms>>,
    rejected: AtomicUsize,
}

/// The provider the server under test sends to.
pub struct SmsSink {
    inbox: Arc<Inbox>,
    /// `http://127.0.0.1:{port}`.
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl SmsSink {
    /// The webhook's shared secret.
    pub const WEBHOOK_SECRET: &'static str = "testkit-sms-webhook-secret-0123456789";
    /// The Twilio account.
    pub const TWILIO_SID: &'static str = "AC0123456789abcdef0123456789abcdef";
    pub const TWILIO_TOKEN: &'static str = "testkit-twilio-auth-token";

    pub async fn start() -> anyhow::Result<Self> {
        let inbox = Arc::new(Inbox::default());
        let app = Router::new()
            .route("/webhook", post(webhook))
            .route("/2010-04-01/Accounts/{sid}/Messages.json", post(twilio))
            .with_state(inbox.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { inbox, url, task })
    }

    /// The URL for `--sms-webhook-url`.
    pub fn webhook_url(&self) -> String {
        format!("{}/webhook", self.url)
    }

    /// Every message received so far.
    pub fn all(&self) -> Vec<ReceivedSms> {
        self.inbox.received.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Messages refused for a bad signature or bad credentials.
    pub fn rejected(&self) -> usize {
        self.inbox.rejected.load(Ordering::SeqCst)
    }

    /// The `n`th message (from 1) to `to`, waiting up to ten seconds for it.
    pub async fn wait_for(&self, to: &str, n: usize) -> anyhow::Result<ReceivedSms> {
        for _ in 0..400 {
            if let Some(sms) = self.all().into_iter().filter(|m| m.to == to).nth(n - 1) {
                return Ok(sms);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        anyhow::bail!("no text message {n} to {to} arrived; the sink holds {:?}", self.all())
    }
}

impl Drop for SmsSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn signature_ok(headers: &HeaderMap, body: &[u8]) -> bool {
    let Some(value) = headers.get("portcullis-signature").and_then(|v| v.to_str().ok()) else { return false };
    let parts: HashMap<&str, &str> = value.split(',').filter_map(|p| p.split_once('=')).collect();
    let (Some(t), Some(v1)) = (parts.get("t"), parts.get("v1")) else { return false };
    let Ok(t) = t.parse::<i64>() else { return false };
    let now = portcullis_core::SystemClock.now().unix_timestamp();
    if (now - t).abs() > 300 {
        return false;
    }
    let Ok(expected) = hex::decode(v1) else { return false };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(SmsSink::WEBHOOK_SECRET.as_bytes()) else { return false };
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

async fn webhook(State(inbox): State<Arc<Inbox>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    if !signature_ok(&headers, &body) {
        inbox.rejected.fetch_add(1, Ordering::SeqCst);
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(message) = serde_json::from_slice::<serde_json::Value>(&body) else { return StatusCode::BAD_REQUEST };
    let field = |name: &str| message.get(name).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    if field("id").is_empty() {
        return StatusCode::BAD_REQUEST;
    }
    let sms = ReceivedSms { to: field("to"), text: field("text"), via: "webhook", detail: field("language") };
    if let Ok(mut received) = inbox.received.lock() {
        received.push(sms);
    }
    StatusCode::NO_CONTENT
}

async fn twilio(
    State(inbox): State<Arc<Inbox>>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", SmsSink::TWILIO_SID, SmsSink::TWILIO_TOKEN))
    );
    let authorized = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) == Some(expected.as_str());
    if !authorized || sid != SmsSink::TWILIO_SID {
        inbox.rejected.fetch_add(1, Ordering::SeqCst);
        return (StatusCode::UNAUTHORIZED, r#"{"code":20003,"message":"Authenticate","status":401}"#.to_owned());
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let (Some(to), Some(text)) = (form.get("To"), form.get("Body")) else {
        return (
            StatusCode::BAD_REQUEST,
            r#"{"code":21604,"message":"A 'To' and a 'Body' are required","status":400}"#.to_owned(),
        );
    };
    let Some(sender) = form.get("From").or(form.get("MessagingServiceSid")) else {
        return (StatusCode::BAD_REQUEST, r#"{"code":21603,"message":"A 'From' is required","status":400}"#.to_owned());
    };
    let sms = ReceivedSms { to: to.clone(), text: text.clone(), via: "twilio", detail: sender.clone() };
    if let Ok(mut received) = inbox.received.lock() {
        received.push(sms);
    }
    (StatusCode::CREATED, r#"{"sid":"SM0123456789abcdef0123456789abcdef","status":"queued"}"#.to_owned())
}
