//! A client's public keys for `private_key_jwt`: registered inline (`jwks`) or published at
//! its `jwks_uri` (RFC 7591 §2), fetched with a short timeout and a size limit and kept for
//! five minutes; a signature by a key not in the kept set refetches, at most every 30 s.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use portcullis_core::model::client::ClientRecord;
use portcullis_crypto::verify::Verifier;
use serde_json::Value;

/// How long fetched keys are used before they are fetched again.
const KEEP: Duration = Duration::from_secs(300);
/// The least time between two fetches of one URI (an unknown `kid` cannot force more).
const REFETCH_AFTER: Duration = Duration::from_secs(30);
/// The largest JWK Set accepted.
const MAX_BYTES: usize = 64 * 1024;
/// Longest wait for a client's server.
const TIMEOUT: Duration = Duration::from_secs(5);

struct Fetched {
    at: Instant,
    keys: Arc<Vec<Verifier>>,
}

static HTTP: LazyLock<reqwest::Client> = LazyLock::new(|| {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .user_agent(concat!("portcullis/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
});

static FETCHED: LazyLock<Mutex<HashMap<String, Fetched>>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// The verifiers of a JWK Set document.
fn verifiers(set: &Value) -> Vec<Verifier> {
    set.get("keys")
        .and_then(Value::as_array)
        .map(|keys| keys.iter().filter_map(Verifier::from_client_jwk).collect())
        .unwrap_or_default()
}

async fn fetch(uri: &str) -> Option<Vec<Verifier>> {
    let mut response = HTTP.get(uri).send().await.ok().filter(|r| r.status().is_success())?;
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.ok()? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_BYTES {
            return None;
        }
    }
    serde_json::from_slice::<Value>(&body).ok().map(|set| verifiers(&set))
}

/// The client's keys. With `stale` the cached set of its `jwks_uri` is refetched if it is
/// older than [`REFETCH_AFTER`] (the client may have rotated).
pub(crate) async fn keys(client: &ClientRecord, stale: bool) -> Option<Arc<Vec<Verifier>>> {
    if let Some(set) = &client.metadata.jwks {
        return Some(Arc::new(verifiers(set)));
    }
    let uri = client.metadata.jwks_uri.as_deref()?;
    let cached = FETCHED.lock().ok().and_then(|map| map.get(uri).map(|f| (f.at, f.keys.clone())));
    if let Some((at, keys)) = &cached {
        let fresh = at.elapsed() < if stale { REFETCH_AFTER } else { KEEP };
        if fresh {
            return Some(keys.clone());
        }
    }
    match fetch(uri).await {
        Some(keys) => {
            let keys = Arc::new(keys);
            if let Ok(mut map) = FETCHED.lock() {
                if map.len() > 10_000 {
                    map.clear();
                }
                map.insert(uri.to_owned(), Fetched { at: Instant::now(), keys: keys.clone() });
            }
            Some(keys)
        }
        // The client's server is down: keep using what was fetched before.
        None => cached.map(|(_, keys)| keys),
    }
}
