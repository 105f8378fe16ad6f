//! The breached-password range API client (Have I Been Pwned's k-anonymity model): one GET of
//! `{range_url}{first five hex digits of the SHA-1}`, bounded in time and size.

use std::time::Duration;

use async_trait::async_trait;
use portcullis_core::service::BreachedPasswords;

/// How long a range request may take before the password goes unchecked.
const TIMEOUT: Duration = Duration::from_secs(3);
/// A range answer is about 30 KiB; more than this is not one.
const MAX_BODY: usize = 1 << 20;

/// Fetches ranges over HTTPS (or HTTP, for a service inside the network).
pub struct HttpRanges {
    client: reqwest::Client,
}

impl HttpRanges {
    pub fn new() -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("portcullis/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client })
    }
}

#[async_trait]
impl BreachedPasswords for HttpRanges {
    async fn range(&self, url: &str) -> Result<String, String> {
        // Padding makes every answer about the same size, so the range asked for does not
        // show in the traffic's length.
        let response = self.client.get(url).header("Add-Padding", "true").send().await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("status {}", response.status()));
        }
        let body = response.bytes().await.map_err(|e| e.to_string())?;
        if body.len() > MAX_BODY {
            return Err("the answer is too large".into());
        }
        String::from_utf8(body.to_vec()).map_err(|e| e.to_string())
    }
}
