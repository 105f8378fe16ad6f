//! The raw argon2id rate of this machine: password verifications per second at the OWASP
//! parameters Portcullis hashes with, on as many threads as `BENCH_THREADS` (default: the
//! cores), for `BENCH_SECONDS` (default 10). The login benchmark (`bench/login`) compares the
//! server's password logins per second with this number (issue 4: target ≥ 90%).
//!
//! `cargo bench -p portcullis-crypto --bench argon2_rate`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use portcullis_crypto::password::{Verification, hash_password, verify_password};

fn main() {
    let threads: usize = std::env::var("BENCH_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from));
    let seconds: u64 = std::env::var("BENCH_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
    let stored = hash_password("correct horse battery staple").expect("hash");
    let done = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let verified = verify_password(&stored, "correct horse battery staple").expect("verify");
                    assert!(matches!(verified, Verification::Match { .. }));
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        std::thread::sleep(Duration::from_secs(seconds));
        stop.store(true, Ordering::Relaxed);
    });
    let elapsed = started.elapsed().as_secs_f64();
    let count = done.load(Ordering::Relaxed);
    println!(
        "RESULT argon2id verifications threads={threads} count={count} per_second={:.1} ms_each={:.2}",
        count as f64 / elapsed,
        elapsed * 1000.0 * threads as f64 / count as f64
    );
}
