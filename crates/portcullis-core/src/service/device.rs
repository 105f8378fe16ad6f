//! The device authorization grant (RFC 8628): a device without a browser shows a short user
//! code; the user approves it on another device through the hosted pages; the device polls.

use portcullis_crypto::secret::{digest, random_id, random_secret};
use rand::Rng;
use serde_json::json;
use time::Duration;

use super::audit::Change;
use super::throttle::{DEVICE_CODE_LIMIT, device_code_key};
use super::{Principal, RequestContext, Services};
use crate::error::{Error, Result};
use crate::model::session::{
    AuthorizationRequest, DeviceRecord, DeviceStatus, FlowRecord, GrantDetails, GrantRecord, SessionRecord,
};

/// How long the user has to approve (RFC 8628 §3.2 `expires_in`).
pub const DEVICE_CODE_LIFETIME: Duration = Duration::minutes(10);
/// The default polling interval in seconds (RFC 8628 §3.2).
pub const DEVICE_POLL_INTERVAL: u32 = 5;
/// RFC 8628 §6.1: consonants only (no vowels, so no words), no look-alikes.
const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";

/// A new device authorization: what the device shows and polls with.
#[derive(Debug, Clone)]
pub struct NewDevice {
    pub device_code: String,
    /// `XXXX-XXXX`.
    pub user_code: String,
}

/// The answer to one poll (RFC 8628 §3.5).
#[derive(Debug, Clone)]
pub enum DevicePoll {
    /// Not approved yet.
    Pending,
    /// Polled faster than the interval; the interval is now 5 s longer.
    SlowDown,
    Denied,
    Expired,
    /// Unknown, another client's, or already spent.
    Invalid,
    /// Approved: the grant to issue tokens for (the code is now spent).
    Approved(Box<GrantRecord>),
}

/// The user code as stored: upper case, only the alphabet's letters, `XXXX-XXXX`. `None` if
/// what the user typed cannot be one.
pub fn normalize_user_code(typed: &str) -> Option<String> {
    let letters: String = typed.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect();
    if letters.len() != 8 || !letters.bytes().all(|b| USER_CODE_ALPHABET.contains(&b)) {
        return None;
    }
    Some(format!("{}-{}", &letters[..4], &letters[4..]))
}

fn new_user_code() -> String {
    let mut rng = rand::rngs::OsRng;
    let letters: String =
        (0..8).map(|_| char::from(USER_CODE_ALPHABET[rng.gen_range(0..USER_CODE_ALPHABET.len())])).collect();
    format!("{}-{}", &letters[..4], &letters[4..])
}

impl Services {
    /// Starts a device authorization for `request` (scope and resources of `client_id`).
    pub async fn start_device(&self, tenant: &str, request: AuthorizationRequest) -> Result<NewDevice> {
        let now = self.clock.now();
        let device_code = random_secret("");
        for _ in 0..5 {
            let mut tx = self.store.write().await?;
            let record = self.cached_tenant(&mut tx, tenant).await?;
            let device = DeviceRecord {
                device_digest: digest(&device_code).to_vec(),
                tenant_id: record.id,
                client_id: request.client_id.clone(),
                user_code: new_user_code(),
                request: request.clone(),
                status: DeviceStatus::Pending,
                user_id: None,
                grant_id: None,
                poll_interval: DEVICE_POLL_INTERVAL,
                last_polled_at: None,
                created_at: now,
                expires_at: now + DEVICE_CODE_LIFETIME,
            };
            match tx.device_insert(&device, now).await {
                Ok(()) => {
                    tx.commit().await?;
                    return Ok(NewDevice { device_code, user_code: device.user_code });
                }
                // A live authorization holds this user code: draw another.
                Err(Error::Conflict { .. }) => continue,
                Err(other) => return Err(other),
            }
        }
        Err(Error::Busy)
    }

    /// The pending, unexpired device authorization with this user code, typed from `source`.
    /// Wrong codes are counted per source; after [`DEVICE_CODE_LIMIT`] in a quarter of an hour
    /// the source waits (`Err` with the seconds), before any lookup (RFC 8628 §5.1).
    pub async fn device_by_user_code(
        &self,
        tenant: &str,
        typed: &str,
        source: Option<&str>,
    ) -> Result<std::result::Result<Option<DeviceRecord>, i64>> {
        let mut tx = self.store.read().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        drop(tx);
        let key = device_code_key(source);
        if let Some(wait) = self.key_wait(&record, &key).await? {
            metrics::counter!("portcullis_device_code_throttled_total").increment(1);
            return Ok(Err(wait));
        }
        let now = self.clock.now();
        let device = match normalize_user_code(typed) {
            Some(code) => {
                let mut tx = self.store.read().await?;
                tx.device_by_user_code(record.id, &code).await?
            }
            None => None,
        };
        let device = device.filter(|d| d.status == DeviceStatus::Pending && d.expires_at > now);
        if device.is_none() {
            self.key_failed(&record, &key, DEVICE_CODE_LIMIT).await?;
        }
        Ok(Ok(device))
    }

    /// The user's decision on the device of `flow` (consent page), made in `session`.
    /// Approval creates the grant the device's next poll receives. Audited.
    pub async fn decide_device(
        &self,
        tenant: &str,
        flow: &FlowRecord,
        session: &SessionRecord,
        approve: bool,
        lifetime: Duration,
        context: &RequestContext,
    ) -> Result<bool> {
        let Some(hex_digest) = &flow.request.device else { return Err(Error::NotFound("device")) };
        let device_digest = hex::decode(hex_digest).map_err(|_| Error::NotFound("device"))?;
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        let Some(mut device) = tx.device_by_digest(&device_digest).await? else { return Ok(false) };
        if device.tenant_id != record.id || device.status != DeviceStatus::Pending || device.expires_at <= now {
            return Ok(false);
        }
        device.user_id = Some(session.user_id);
        if approve {
            let grant = GrantRecord {
                id: random_id(),
                tenant_id: record.id,
                client_id: device.client_id.clone(),
                user_id: session.user_id,
                session_id: Some(session.id.clone()),
                scope: device.request.scope.join(" "),
                details: GrantDetails {
                    auth_time: session.auth_time.unix_timestamp(),
                    acr: session.acr.clone(),
                    amr: session.amr.clone(),
                    nonce: None,
                    redirect_uri: String::new(),
                    code_challenge: None,
                    claims: device.request.claims.clone(),
                    resource: device.request.resource.clone(),
                },
                code_digest: None,
                code_expires_at: None,
                code_used_at: None,
                created_at: now,
                expires_at: now + lifetime,
                revoked_at: None,
            };
            tx.grant_insert(&grant).await?;
            device.grant_id = Some(grant.id);
            device.status = DeviceStatus::Approved;
        } else {
            device.status = DeviceStatus::Denied;
        }
        tx.device_update(&device).await?;
        tx.flow_delete(record.id, &flow.id).await?;
        let who = Principal::user(Some(session.user_id), &record.name, context);
        let change = Change {
            action: if approve { "device.approve" } else { "device.deny" },
            tenant: Some(tenant),
            target_type: "client",
            target_id: Some(device.client_id.clone()),
            before: None,
            after: Some(json!({"user_code": device.user_code, "scope": device.request.scope})),
        };
        self.record(&mut tx, &who, change).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// One poll of the device with `device_code` (RFC 8628 §3.4, §3.5).
    pub async fn poll_device(&self, tenant: &str, client_id: &str, device_code: &str) -> Result<DevicePoll> {
        if device_code.is_empty() || device_code.len() > 128 {
            return Ok(DevicePoll::Invalid);
        }
        let now = self.clock.now();
        let wanted = digest(device_code);
        let mut tx = self.store.write().await?;
        let record = self.cached_tenant(&mut tx, tenant).await?;
        let Some(mut device) = tx.device_by_digest(&wanted).await? else { return Ok(DevicePoll::Invalid) };
        if device.tenant_id != record.id || device.client_id != client_id || device.status == DeviceStatus::Consumed {
            return Ok(DevicePoll::Invalid);
        }
        if device.expires_at <= now {
            return Ok(DevicePoll::Expired);
        }
        let too_soon =
            device.last_polled_at.is_some_and(|at| now - at < Duration::seconds(i64::from(device.poll_interval)));
        device.last_polled_at = Some(now);
        let answer = match device.status {
            DeviceStatus::Pending if too_soon => {
                device.poll_interval += 5;
                DevicePoll::SlowDown
            }
            DeviceStatus::Pending => DevicePoll::Pending,
            DeviceStatus::Denied => DevicePoll::Denied,
            DeviceStatus::Approved => {
                let grant_id = device.grant_id.clone().unwrap_or_default();
                let grant = tx.grant_get(record.id, &grant_id).await?;
                match grant {
                    Some(grant) if tx.device_consume(&wanted).await? => DevicePoll::Approved(Box::new(grant)),
                    _ => DevicePoll::Invalid,
                }
            }
            DeviceStatus::Consumed => DevicePoll::Invalid,
        };
        if !matches!(answer, DevicePoll::Approved(_)) {
            tx.device_update(&device).await?;
        }
        tx.commit().await?;
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_normalised_and_checked() {
        assert_eq!(normalize_user_code("bcdf-ghjk").as_deref(), Some("BCDF-GHJK"));
        assert_eq!(normalize_user_code(" BCDF GHJK ").as_deref(), Some("BCDF-GHJK"));
        assert_eq!(normalize_user_code("BCDFGHJ"), None, "too short");
        assert_eq!(normalize_user_code("ABCD-EFGH"), None, "vowels are never issued");
        for _ in 0..100 {
            let code = new_user_code();
            assert_eq!(normalize_user_code(&code), Some(code));
        }
    }
}
