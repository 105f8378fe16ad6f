//! Throttling of password logins (issue 4 item 2; DESIGN §5, §6) that an attacker cannot turn
//! against the account's owner:
//!
//! - an account from one source (address): after [`PAIR_LIMIT`] failures in [`WINDOW`], that
//!   pair waits, twice as long after each further failure, at most [`MAX_WAIT`];
//! - one source over all accounts (credential stuffing, password spraying): after
//!   [`SOURCE_LIMIT`] failures the source waits [`MAX_WAIT`];
//! - one account over all sources (a distributed guess): after [`ACCOUNT_LIMIT`] failures the
//!   account waits [`MAX_WAIT`] — except from the sources it last logged in from, so that its
//!   owner still gets in.
//!
//! Counters are keyed by what was typed (case-folded), not by a user, so unknown and known
//! accounts are throttled alike (no enumeration); the keys are digests, so nothing typed into a
//! login form is kept. A throttled attempt is refused before any password work.

use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use super::Services;
use crate::error::Result;
use crate::model::tenant::TenantRecord;
use crate::store::StoreTx;

/// The window failures are counted in.
pub const WINDOW: Duration = Duration::minutes(15);
/// Failures of one account from one source before the pair waits.
pub const PAIR_LIMIT: i64 = 5;
/// Failures from one source over all accounts before the source waits.
pub const SOURCE_LIMIT: i64 = 50;
/// Failures of one account over all sources before unknown sources wait.
pub const ACCOUNT_LIMIT: i64 = 20;
/// The longest wait.
pub const MAX_WAIT: Duration = Duration::minutes(15);
/// The first wait of a pair; it doubles with each further failure.
const FIRST_WAIT: Duration = Duration::seconds(30);

/// The digests one login attempt is counted under.
pub(crate) struct LoginKeys {
    pair: Vec<u8>,
    source: Vec<u8>,
    account: Vec<u8>,
    /// Whether the pair had failures counted when [`Services::login_wait`] looked (until it
    /// looks: assume so). A success clears them; with none, it has nothing to clear.
    pair_counted: bool,
}

fn key(parts: &[&str]) -> Vec<u8> {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    hasher.finalize().to_vec()
}

impl LoginKeys {
    /// For the case-folded `login` typed from `source` (an address; `None` counts as one
    /// unknown source).
    pub(crate) fn new(login: &str, source: Option<&str>) -> Self {
        let source = source.unwrap_or("unknown");
        Self {
            pair: key(&["pair", login, source]),
            source: key(&["source", source]),
            account: key(&["account", login]),
            pair_counted: true,
        }
    }
}

/// Wrong user codes from one source before it waits (RFC 8628 §5.1: a user code is short, so
/// guessing must be slowed).
pub const DEVICE_CODE_LIMIT: i64 = 10;

/// The key wrong user codes of the device grant are counted under.
pub(crate) fn device_code_key(source: Option<&str>) -> Vec<u8> {
    key(&["device-code", source.unwrap_or("unknown")])
}

/// The key wrong second-factor codes of a user are counted under (over all their flows).
pub(crate) fn code_key(user: portcullis_types::UserId) -> Vec<u8> {
    key(&["code", &user.to_string()])
}

/// The key messages to one account are counted under.
pub(crate) fn mail_account_key(login: &str) -> Vec<u8> {
    key(&["mail-account", login])
}

/// The key messages asked for from one source are counted under.
pub(crate) fn mail_source_key(source: Option<&str>) -> Vec<u8> {
    key(&["mail-source", source.unwrap_or("unknown")])
}

/// The key text messages to one number are counted under.
pub(crate) fn sms_number_key(number: &str) -> Vec<u8> {
    key(&["sms-number", number])
}

/// The key text messages asked for one typed account are counted under.
pub(crate) fn sms_account_key(login: &str) -> Vec<u8> {
    key(&["sms-account", login])
}

/// The key text messages asked for from one source are counted under.
pub(crate) fn sms_source_key(source: Option<&str>) -> Vec<u8> {
    key(&["sms-source", source.unwrap_or("unknown")])
}

/// How long the pair waits after `failures` in the window.
fn pair_wait(failures: i64) -> Duration {
    let doublings = u32::try_from(failures - PAIR_LIMIT).unwrap_or(0).min(10);
    (FIRST_WAIT * 2_i32.pow(doublings)).min(MAX_WAIT)
}

impl Services {
    /// Seconds to wait before this attempt may be tried, or `None` when it may go ahead.
    pub(crate) async fn login_wait(&self, tenant: &TenantRecord, keys: &mut LoginKeys) -> Result<Option<i64>> {
        let now = self.clock.now();
        let mut tx = self.store.read().await?;
        let wanted = [keys.pair.clone(), keys.source.clone(), keys.account.clone()];
        let counters = tx.attempts_get(tenant.id, &wanted).await?;
        keys.pair_counted = counters.iter().any(|c| c.key == keys.pair);
        let mut wait: Option<OffsetDateTime> = None;
        for counter in counters {
            let Some(until) = counter.blocked_until.filter(|until| *until > now) else { continue };
            // A blocked account still lets in the sources it logged in from.
            if counter.key == keys.account && tx.known_source_exists(tenant.id, &keys.pair).await? {
                continue;
            }
            wait = Some(wait.map_or(until, |w| w.max(until)));
        }
        Ok(wait.map(|until| (until - now).whole_seconds().max(1)))
    }

    /// Counts a failed attempt under each key, inside the failure's transaction; true when a
    /// wait began with it.
    pub(crate) async fn login_failed(
        &self,
        tx: &mut Box<dyn StoreTx>,
        tenant: &TenantRecord,
        keys: &LoginKeys,
    ) -> Result<bool> {
        let now = self.clock.now();
        let window_after = now - WINDOW;
        let mut began = false;
        let pair = tx.attempt_fail(tenant.id, &keys.pair, now, window_after).await?;
        if pair >= PAIR_LIMIT {
            tx.attempt_block(tenant.id, &keys.pair, now + pair_wait(pair)).await?;
            began = true;
        }
        for (key, limit) in [(&keys.source, SOURCE_LIMIT), (&keys.account, ACCOUNT_LIMIT)] {
            let failures = tx.attempt_fail(tenant.id, key, now, window_after).await?;
            if failures >= limit {
                tx.attempt_block(tenant.id, key, now + MAX_WAIT).await?;
                began = true;
            }
        }
        Ok(began)
    }

    /// Seconds `key` must wait, or `None`.
    pub(crate) async fn key_wait(&self, tenant: &TenantRecord, key: &[u8]) -> Result<Option<i64>> {
        let now = self.clock.now();
        let mut tx = self.store.read().await?;
        let counters = tx.attempts_get(tenant.id, &[key.to_vec()]).await?;
        Ok(counters
            .into_iter()
            .filter_map(|c| c.blocked_until.filter(|until| *until > now))
            .map(|until| (until - now).whole_seconds().max(1))
            .max())
    }

    /// Seconds the first of `keys` that waits must wait, or `None`.
    pub(crate) async fn first_wait(&self, tenant: &TenantRecord, keys: &[(Vec<u8>, i64)]) -> Result<Option<i64>> {
        for (key, _) in keys {
            if let Some(wait) = self.key_wait(tenant, key).await? {
                return Ok(Some(wait));
            }
        }
        Ok(None)
    }

    /// A message about to go out (mail, a text): `Some(wait)` when one of `keys` must wait,
    /// else one use counted under each (which waits from its limit on) and `None`.
    pub(crate) async fn spend(&self, tenant: &TenantRecord, keys: &[(Vec<u8>, i64)]) -> Result<Option<i64>> {
        if let Some(wait) = self.first_wait(tenant, keys).await? {
            return Ok(Some(wait));
        }
        for (key, limit) in keys {
            self.key_failed(tenant, key, *limit).await?;
        }
        Ok(None)
    }

    /// Counts a failure of `key` in its own transaction; from `limit` failures in the window
    /// on, the key waits [`MAX_WAIT`].
    pub(crate) async fn key_failed(&self, tenant: &TenantRecord, key: &[u8], limit: i64) -> Result<()> {
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let failures = tx.attempt_fail(tenant.id, key, now, now - WINDOW).await?;
        if failures >= limit {
            tx.attempt_block(tenant.id, key, now + MAX_WAIT).await?;
        }
        tx.commit().await
    }

    /// A successful login: the pair starts afresh and its source becomes a known one.
    pub(crate) async fn login_succeeded(
        &self,
        tx: &mut Box<dyn StoreTx>,
        tenant: &TenantRecord,
        keys: &LoginKeys,
    ) -> Result<()> {
        // A failure counted since the look stays until its window ends: a success clears
        // what it saw, not what raced it.
        if keys.pair_counted {
            tx.attempt_clear(tenant.id, &keys.pair).await?;
        }
        // Known sources are kept for weeks; refreshing one more than hourly changes nothing.
        let now = self.clock.now();
        if !self.caches.known_source_fresh(tenant.id, &keys.pair, now) {
            tx.known_source_put(tenant.id, &keys.pair, now).await?;
        }
        Ok(())
    }

    /// After the login's transaction committed: its known source is recorded as of now.
    pub(crate) fn login_committed(&self, tenant: &TenantRecord, keys: &LoginKeys) {
        self.caches.note_known_source(tenant.id, &keys.pair, self.clock.now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_from_the_limit_and_stop_at_the_longest() {
        assert_eq!(pair_wait(PAIR_LIMIT), Duration::seconds(30));
        assert_eq!(pair_wait(PAIR_LIMIT + 1), Duration::seconds(60));
        assert_eq!(pair_wait(PAIR_LIMIT + 4), Duration::seconds(480));
        assert_eq!(pair_wait(PAIR_LIMIT + 5), MAX_WAIT);
        assert_eq!(pair_wait(1_000), MAX_WAIT);
    }

    #[test]
    fn keys_of_different_parts_never_collide() {
        let a = LoginKeys::new("ab", Some("c"));
        let b = LoginKeys::new("a", Some("bc"));
        assert_ne!(a.pair, b.pair, "length-prefixed parts");
        assert_ne!(LoginKeys::new("anne", Some("10.0.0.1")).source, LoginKeys::new("anne", Some("10.0.0.2")).source);
        assert_eq!(LoginKeys::new("anne", Some("10.0.0.1")).account, LoginKeys::new("anne", Some("10.0.0.2")).account);
    }
}
