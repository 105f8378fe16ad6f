//! Background work (DESIGN §3): one node of the cluster at a time, chosen by a lease in the
//! database, purges what has expired and rotates signing keys on schedule.

use std::time::Duration as StdDuration;

use time::Duration;

use super::{Principal, Services};
use crate::error::Result;

/// The lease the housekeeping job runs under.
pub const HOUSEKEEPING_LEASE: &str = "housekeeping";
/// How long grants and sessions are kept after they ended, so that an access token they
/// issued (at most a day long) reads as revoked rather than unknown until it expires.
const KEEP_ENDED: Duration = Duration::days(1);

/// The most rows of one table the purge deletes in one transaction.
const PURGE_BATCH: u64 = 500;

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Housekeeping {
    /// Rows deleted.
    pub purged: u64,
    /// Tenants whose signing keys were rotated.
    pub rotated: Vec<String>,
}

impl Services {
    /// One round of housekeeping if `holder` gets the lease (for `lease_for`); `None` when
    /// another node holds it. `key_max_age` `None` turns scheduled rotation off.
    pub async fn housekeeping(
        &self,
        holder: &str,
        lease_for: Duration,
        key_max_age: Option<Duration>,
    ) -> Result<Option<Housekeeping>> {
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        if !tx.lease_acquire(HOUSEKEEPING_LEASE, holder, now, now + lease_for).await? {
            return Ok(None);
        }
        let mut purged = 0;
        // Rounds of at most PURGE_BATCH rows a table, each its own transaction: a backlog
        // (after downtime, or a busy day's flows) never holds the writer, or the worker
        // running it, for long, and other writes go between the rounds.
        loop {
            let (removed, more) = tx.purge_expired(now, now - KEEP_ENDED, PURGE_BATCH).await?;
            tx.commit().await?;
            purged += removed;
            if !more {
                break;
            }
            tokio::task::yield_now().await;
            tx = self.store.write().await?;
        }
        let rotated = match key_max_age {
            Some(age) => self.rotate_due_keys(age).await?,
            None => Vec::new(),
        };
        Ok(Some(Housekeeping { purged, rotated }))
    }

    /// Rotates the keys of every tenant whose active signing keys are older than `max_age`.
    async fn rotate_due_keys(&self, max_age: Duration) -> Result<Vec<String>> {
        let now = self.clock.now();
        let mut due = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut tx = self.store.read().await?;
            let tenants = tx.tenant_list(after.as_deref(), 200).await?;
            for tenant in &tenants {
                let keys = tx.signing_keys_published(tenant.id, now).await?;
                if keys.iter().any(|k| k.retired_at.is_none() && k.created_at <= now - max_age) {
                    due.push(tenant.name.as_str().to_owned());
                }
            }
            drop(tx);
            match tenants.last() {
                Some(last) if tenants.len() == 200 => after = Some(last.name.as_str().to_owned()),
                _ => break,
            }
        }
        for tenant in &due {
            self.rotate_signing_keys(&Principal::system(), tenant).await?;
        }
        Ok(due)
    }

    /// Runs [`Services::housekeeping`] every `every` until the task is dropped, holding the
    /// lease for three rounds so a node that dies is replaced within that time.
    pub async fn follow_jobs(self, holder: String, every: StdDuration, key_max_age: Option<Duration>) {
        let lease_for = Duration::try_from(every * 3).unwrap_or(Duration::minutes(3));
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            match self.housekeeping(&holder, lease_for, key_max_age).await {
                Ok(Some(done)) if done.purged > 0 || !done.rotated.is_empty() => {
                    tracing::info!(purged = done.purged, rotated = ?done.rotated, "housekeeping");
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "housekeeping failed; retrying next round"),
            }
        }
    }
}
