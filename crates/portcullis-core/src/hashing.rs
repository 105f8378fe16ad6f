//! The bounded pool on which password hashing runs (DESIGN §6): at most one hash per core at a
//! time, a bounded queue behind it, and a fast [`Error::Busy`] beyond that, so a flood of
//! logins cannot exhaust the server.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Semaphore;

use crate::error::{Error, Result};

/// Runs CPU-heavy password work off the async workers, bounded.
#[derive(Debug, Clone)]
pub struct HashPool {
    permits: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
    completed: Arc<AtomicUsize>,
    queue_limit: usize,
}

impl HashPool {
    /// A pool running `workers` hashes at once with at most `queue_limit` waiting.
    pub fn new(workers: usize, queue_limit: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(workers.max(1))),
            waiting: Arc::new(AtomicUsize::new(0)),
            completed: Arc::new(AtomicUsize::new(0)),
            queue_limit,
        }
    }

    /// How many jobs have run to completion (so tests can check that work was done, not
    /// how long it took).
    pub fn completed(&self) -> usize {
        self.completed.load(Ordering::Relaxed)
    }

    /// How many jobs are waiting for a worker.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Runs `job` on the blocking pool, or fails with [`Error::Busy`] when the queue is full.
    pub async fn run<T, F>(&self, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let queued = self.waiting.fetch_add(1, Ordering::AcqRel);
        if queued >= self.queue_limit {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            metrics::counter!("portcullis_hash_pool_rejected_total").increment(1);
            return Err(Error::Busy);
        }
        metrics::gauge!("portcullis_hash_pool_waiting").set(self.waiting() as f64);
        let permit = self.permits.clone().acquire_owned().await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        metrics::gauge!("portcullis_hash_pool_waiting").set(self.waiting() as f64);
        let permit = permit.map_err(|_| Error::internal("hash pool closed"))?;
        let completed = self.completed.clone();
        let result = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let output = job();
            completed.fetch_add(1, Ordering::Relaxed);
            output
        })
        .await;
        result.map_err(|e| Error::internal(format!("hash job: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn full_queue_is_refused_fast() {
        let pool = HashPool::new(1, 1);
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let busy = pool.clone();
        let first = tokio::spawn(async move { busy.run(move || wait.recv().is_ok()).await });
        // Let the first job take the only worker.
        while pool.permits.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        let queued = pool.clone();
        let second = tokio::spawn(async move { queued.run(|| 2).await });
        while pool.waiting() == 0 {
            tokio::task::yield_now().await;
        }
        assert_eq!(pool.run(|| 3).await, Err(Error::Busy));
        release.send(()).expect("first job waits");
        assert_eq!(first.await.expect("joins"), Ok(true));
        assert_eq!(second.await.expect("joins"), Ok(2));
    }
}
