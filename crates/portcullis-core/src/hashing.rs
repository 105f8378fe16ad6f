//! The bounded pool on which password hashing runs (DESIGN §6): at most one hash per core at a
//! time, a bounded queue behind it, and a fast [`Error::Busy`] beyond that, so a flood of
//! logins cannot exhaust the server.
//!
//! The pool owns its threads. A worker that finishes a hash takes the next queued one at
//! once, without a round trip through the async runtime: with tokio's blocking pool behind a
//! semaphore, each hash began only after the released permit had woken a task that then
//! handed the job to a blocking thread, and the cores idled in those gaps (BENCHMARKS.md).

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use tokio::sync::oneshot;

use crate::error::{Error, Result};

/// One queued job: it runs the work, counts it and sends its output to whoever waits for it
/// (unless nobody does any more: then it does not run).
type Job = Box<dyn FnOnce(&Counts) + Send>;

/// Runs CPU-heavy password work on threads of its own, bounded.
#[derive(Debug, Clone)]
pub struct HashPool {
    jobs: mpsc::Sender<Job>,
    counts: Arc<Counts>,
    queue_limit: usize,
}

#[derive(Debug, Default)]
struct Counts {
    waiting: AtomicUsize,
    completed: AtomicUsize,
}

impl HashPool {
    /// A pool running `workers` hashes at once with at most `queue_limit` waiting. Its threads
    /// end when the last clone of the pool is dropped.
    pub fn new(workers: usize, queue_limit: usize) -> Self {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let counts = Arc::new(Counts::default());
        for n in 0..workers.max(1) {
            let (queue, counts) = (queue.clone(), counts.clone());
            let spawned =
                std::thread::Builder::new().name(format!("portcullis-hash-{n}")).spawn(move || work(&queue, &counts));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password hashing thread");
            }
        }
        Self { jobs, counts, queue_limit }
    }

    /// How many jobs have run to completion (so tests can check that work was done, not
    /// how long it took).
    pub fn completed(&self) -> usize {
        self.counts.completed.load(Ordering::Relaxed)
    }

    /// How many jobs are waiting for a worker.
    pub fn waiting(&self) -> usize {
        self.counts.waiting.load(Ordering::Relaxed)
    }

    /// Whether the queue is full now: work that would only end in [`HashPool::run`]'s
    /// [`Error::Busy`] can be refused before it reads anything.
    pub fn saturated(&self) -> bool {
        self.waiting() >= self.queue_limit
    }

    /// Runs `job` on a hashing thread, or fails with [`Error::Busy`] when the queue is full.
    /// A job whose caller has gone away (a client that disconnected) is skipped, not run.
    pub async fn run<T, F>(&self, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let queued = self.counts.waiting.fetch_add(1, Ordering::AcqRel);
        if queued >= self.queue_limit {
            self.counts.waiting.fetch_sub(1, Ordering::AcqRel);
            metrics::counter!("portcullis_hash_pool_rejected_total").increment(1);
            return Err(Error::Busy);
        }
        metrics::gauge!("portcullis_hash_pool_waiting").set((queued + 1) as f64);
        let (answer, output) = oneshot::channel();
        let job: Job = Box::new(move |counts| {
            if answer.is_closed() {
                return;
            }
            let result = std::panic::catch_unwind(AssertUnwindSafe(job))
                .map_err(|_| Error::internal("a password hashing job panicked"));
            // Counted before the answer, so whoever gets it sees the count include it.
            counts.completed.fetch_add(1, Ordering::Relaxed);
            let _ = answer.send(result);
        });
        if self.jobs.send(job).is_err() {
            self.counts.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(Error::internal("hash pool closed"));
        }
        output.await.map_err(|_| Error::internal("hash pool closed"))?
    }
}

/// A worker: takes queued jobs one at a time until every sender is gone.
fn work(queue: &Mutex<mpsc::Receiver<Job>>, counts: &Counts) {
    loop {
        // The lock is held only while waiting for the next job, never while one runs.
        let next = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok(job) = next else { return };
        let waiting = counts.waiting.fetch_sub(1, Ordering::AcqRel).saturating_sub(1);
        metrics::gauge!("portcullis_hash_pool_waiting").set(waiting as f64);
        job(counts);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Starts a job that holds the pool's only worker until the returned sender is used.
    async fn hold_the_worker(pool: &HashPool) -> (tokio::task::JoinHandle<Result<bool>>, std::sync::mpsc::Sender<()>) {
        let (started, running) = std::sync::mpsc::channel::<()>();
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let busy = pool.clone();
        let first = tokio::spawn(async move {
            busy.run(move || {
                let _ = started.send(());
                wait.recv().is_ok()
            })
            .await
        });
        tokio::task::spawn_blocking(move || running.recv()).await.expect("joins").expect("first job starts");
        (first, release)
    }

    #[tokio::test]
    async fn full_queue_is_refused_fast() {
        let pool = HashPool::new(1, 2);
        // The first job holds the only worker; the second waits in the queue.
        let (first, release) = hold_the_worker(&pool).await;
        let queued = pool.clone();
        let second = tokio::spawn(async move { queued.run(|| 2).await });
        while pool.waiting() == 0 {
            tokio::task::yield_now().await;
        }
        let third = pool.clone();
        let third = tokio::spawn(async move { third.run(|| 3).await });
        while pool.waiting() < 2 {
            tokio::task::yield_now().await;
        }
        assert!(pool.saturated());
        assert_eq!(pool.run(|| 4).await, Err(Error::Busy));
        release.send(()).expect("first job waits");
        assert_eq!(first.await.expect("joins"), Ok(true));
        assert_eq!(second.await.expect("joins"), Ok(2));
        assert_eq!(third.await.expect("joins"), Ok(3));
        assert_eq!(pool.completed(), 3);
        assert!(!pool.saturated());
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_error_and_the_worker_goes_on() {
        let pool = HashPool::new(1, 4);
        #[allow(clippy::panic)]
        let failed = pool.run(|| -> u8 { panic!("a bug in a hash job") }).await;
        assert!(matches!(failed, Err(Error::Internal(_))), "{failed:?}");
        assert_eq!(pool.run(|| 7).await, Ok(7));
    }

    #[tokio::test]
    async fn a_job_whose_caller_left_is_skipped() {
        let pool = HashPool::new(1, 4);
        let (first, release) = hold_the_worker(&pool).await;
        let ran = Arc::new(AtomicUsize::new(0));
        let counted = ran.clone();
        let abandoned = pool.clone();
        let abandoned = tokio::spawn(async move {
            abandoned
                .run(move || {
                    counted.fetch_add(1, Ordering::SeqCst);
                })
                .await
        });
        while pool.waiting() == 0 {
            tokio::task::yield_now().await;
        }
        abandoned.abort();
        let _ = abandoned.await;
        release.send(()).expect("first job waits");
        assert_eq!(first.await.expect("joins"), Ok(true));
        // The next job runs after the abandoned one was taken from the queue.
        assert_eq!(pool.run(|| 5).await, Ok(5));
        assert_eq!(ran.load(Ordering::SeqCst), 0);
        assert_eq!(pool.completed(), 2);
    }
}
