//! Tailing the change log (the audit log) to keep this node's caches fresh.

use std::time::Duration;

use super::Services;
use crate::cache::ChangeEvent;
use crate::error::Result;

/// How many changes one poll reads at most (it polls again at once when it got that many).
const POLL_BATCH: u32 = 1000;

impl Services {
    /// Evicts what a change made on this node made stale, right after its commit.
    pub(crate) fn changed(&self, action: &str, tenant: Option<&str>, target_id: Option<String>) {
        self.caches.apply(&ChangeEvent {
            seq: 0,
            action: action.to_owned(),
            tenant: tenant.map(str::to_owned),
            target_id,
        });
    }

    /// Applies the changes committed since the last call (on any node); returns how many.
    /// The first call only records where the log stands.
    pub async fn sync_changes(&self) -> Result<usize> {
        let mut applied = 0;
        loop {
            let mut tx = self.store.read().await?;
            let (head, _) = tx.audit_head().await?;
            let seen = self.caches.seen();
            if seen < 0 || head < seen {
                // First poll, or the log went backwards (a restored backup): start afresh.
                if seen >= 0 {
                    self.caches.clear();
                }
                self.caches.set_seen(head);
                return Ok(applied);
            }
            let changes = tx.audit_changes(seen, POLL_BATCH).await?;
            drop(tx);
            let Some(last) = changes.last().map(|c| c.seq) else { return Ok(applied) };
            for change in &changes {
                self.caches.apply(change);
            }
            applied += changes.len();
            self.caches.set_seen(last);
            if changes.len() < POLL_BATCH as usize {
                return Ok(applied);
            }
        }
    }

    /// Polls the change log every `every` until the task is dropped. A failed poll is logged
    /// and retried; cached entries expire after [`crate::cache::TIME_TO_LIVE`] regardless.
    pub async fn follow_changes(self, every: Duration) {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            if let Err(error) = self.sync_changes().await {
                tracing::warn!(%error, "could not read the change log; caches expire on their own");
            }
        }
    }
}
