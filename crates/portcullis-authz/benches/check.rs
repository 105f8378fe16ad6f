//! In-process ReBAC checks on a million tuples (BENCHMARKS.md, issue 5): p50/p99 of single
//! checks whose answers pass through three to five relations (document → folder chain →
//! folder viewers → nested groups), the memory the tuples take, and list objects for a user
//! with access to 10,000 of the 400,000 documents; and list objects for a user with access to
//! 10,000 of 1,000,000 documents.
//!
//! `cargo bench -p portcullis-authz --bench check` (a plain harness: percentiles, which
//! criterion does not report, are the figure the issue asks for).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Instant;

use portcullis_authz::{Checker, MemoryTuples, Model, ObjectRef, Subject, Tuple};

const MODEL: &str = "
type user
type group
  relations
    define member: [user, group#member]
type folder
  relations
    define parent: [folder]
    define viewer: [user, group#member] or viewer from parent
type doc
  relations
    define parent: [folder]
    define owner: [user]
    define editor: [user] or owner
    define viewer: [user, group#member] or editor or viewer from parent
";

/// A small deterministic generator (xorshift), so every run builds the same graph.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split(' ').nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * 4096
}

/// List objects at scale: 1,000,000 documents in 10,000 folders (100 each, `doc#viewer` =
/// `viewer from parent`), a user who views 100 folders — 10,000 documents — and 1,000 other
/// users with a folder each. 50 listings; every listed document is confirmed by a check.
fn list_objects_at_scale() {
    let model: Model = portcullis_authz::dsl::parse(MODEL).expect("model");
    let mut tuples = MemoryTuples::default();
    for d in 0..1_000_000u64 {
        tuples.insert(Tuple::parse(&format!("doc:d{d}#parent@folder:f{}", d % 10_000)).expect("tuple"));
    }
    for f in 0..100u64 {
        tuples.insert(Tuple::parse(&format!("folder:f{}#viewer@user:power", f * 100)).expect("tuple"));
    }
    for u in 0..1_000u64 {
        tuples.insert(Tuple::parse(&format!("folder:f{}#viewer@user:u{u}", (u * 7) % 10_000)).expect("tuple"));
    }
    let checker = Checker::new(&model, &tuples);
    let power = Subject::Object(ObjectRef::parse("user:power").unwrap());
    let mut runs = Vec::new();
    let mut listed = 0;
    for _ in 0..50 {
        let start = Instant::now();
        listed = checker.list_objects("doc", "viewer", black_box(&power)).expect("lists").len();
        runs.push(start.elapsed());
    }
    runs.sort();
    let at = |q: f64| runs[((runs.len() as f64 * q) as usize).min(runs.len() - 1)].as_secs_f64() * 1e3;
    println!(
        "RESULT list_objects objects=1000000 tuples={} listed={listed} runs={} p50_ms={:.1} p99_ms={:.1}",
        tuples.len(),
        runs.len(),
        at(0.5),
        at(0.99)
    );
}

fn main() {
    // The million-tuple graph first: its memory is measured as growth of the process.
    million_tuples();
    list_objects_at_scale();
}

fn million_tuples() {
    let model: Model = portcullis_authz::dsl::parse(MODEL).expect("model");
    model.validate().expect("valid");
    let (users, groups, folders, docs) = (50_000u64, 10_000u64, 10_000u64, 400_000u64);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let before = resident_bytes();
    let started = Instant::now();
    let mut tuples = MemoryTuples::default();
    let mut add = |text: String| {
        tuples.insert(Tuple::parse(&text).expect("tuple"));
    };
    for u in 0..users {
        for _ in 0..2 {
            add(format!("group:g{}#member@user:u{u}", rng.below(groups)));
        }
    }
    // Groups nest: g{i} is inside g{i/10}, so a user reaches up to four levels of groups.
    for g in 1..groups {
        add(format!("group:g{}#member@group:g{g}#member", g / 10));
    }
    for f in 0..folders {
        if f > 0 {
            add(format!("folder:f{f}#parent@folder:f{}", f / 10));
        }
        add(format!("folder:f{f}#viewer@group:g{}#member", rng.below(groups)));
    }
    for d in 0..docs {
        add(format!("doc:d{d}#parent@folder:f{}", rng.below(folders)));
        add(format!("doc:d{d}#owner@user:u{}", rng.below(users)));
    }
    for _ in 0..40_000 {
        add(format!("doc:d{}#editor@user:u{}", rng.below(docs), rng.below(users)));
    }
    // One user who edits 10,000 documents (every 40th).
    for d in (0..docs).step_by(40) {
        add(format!("doc:d{d}#editor@user:power"));
    }
    let built = started.elapsed();
    let count = tuples.len();
    let memory = resident_bytes().saturating_sub(before);
    let checker = Checker::new(&model, &tuples);

    let rounds = 200_000;
    let mut samples = Vec::with_capacity(rounds);
    let mut allowed = 0usize;
    for _ in 0..rounds {
        let doc = ObjectRef::parse(&format!("doc:d{}", rng.below(docs))).unwrap();
        let who = Subject::Object(ObjectRef::parse(&format!("user:u{}", rng.below(users))).unwrap());
        let start = Instant::now();
        let answer = checker.check(black_box(&doc), "viewer", black_box(&who));
        samples.push(start.elapsed());
        allowed += usize::from(answer == Ok(true));
    }
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    let power = Subject::Object(ObjectRef::parse("user:power").unwrap());
    let mut listings = Vec::new();
    let mut listed = 0;
    for _ in 0..20 {
        let start = Instant::now();
        listed = checker.list_objects("doc", "viewer", black_box(&power)).expect("lists").len();
        listings.push(start.elapsed());
    }
    listings.sort();
    println!(
        "RESULT tuples={count} build_s={:.1} memory_mb={:.0} bytes_per_tuple={:.0} checks={rounds} allowed={allowed} \
         p50_us={:.1} p99_us={:.1} p999_us={:.1} max_us={:.1}",
        built.as_secs_f64(),
        memory as f64 / 1e6,
        memory as f64 / count as f64,
        at(0.50).as_secs_f64() * 1e6,
        at(0.99).as_secs_f64() * 1e6,
        at(0.999).as_secs_f64() * 1e6,
        samples[samples.len() - 1].as_secs_f64() * 1e6,
    );
    println!(
        "RESULT list_objects=doc#viewer listed={listed} runs={} p50_ms={:.1} max_ms={:.1}",
        listings.len(),
        listings[listings.len() / 2].as_secs_f64() * 1e3,
        listings[listings.len() - 1].as_secs_f64() * 1e3,
    );
}
