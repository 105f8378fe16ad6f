//! Two in-process benchmarks of issue 5 (BENCHMARKS.md):
//!
//! 1. The same RBAC model decided by Portcullis's relationship engine and by `casbin` (the
//!    Rust crate), side by side in one run: 1,000 roles each granting `read` on 20 of
//!    10,000 documents, 10,000 users holding 3 roles each; 200,000 random checks (casbin: the
//!    first 2,000 of them, it is that much slower), the same questions for both, whose answers
//!    are compared.
//! 2. Cedar with 1,000 policies (`permit` per role with an attribute condition, and a
//!    `forbid`): decision time as the server pays it (entities built per request), with the
//!    role in each policy's scope (sliced away for other principals) and in its condition
//!    (every policy read), and with one policy (the fixed cost).
//!
//! `cargo bench -p portcullis-authz --bench rbac_and_policies`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use casbin::{CoreApi, DefaultModel, Enforcer, MemoryAdapter, MgmtApi};
use portcullis_authz::cedar::{EntityFacts, Policies, PolicyDocument};
use portcullis_authz::{Checker, MemoryTuples, ObjectRef, Subject, Tuple};
use serde_json::{Map, json};

const ROLES: u64 = 1_000;
const USERS: u64 = 10_000;
const DOCS: u64 = 10_000;
const CHECKS: usize = 200_000;
/// casbin matches each request against every `p` line (20,000): fewer of its checks fit in a run.
const CASBIN_CHECKS: usize = 2_000;

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn percentiles(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)].as_secs_f64() * 1e6;
    format!("p50_us={:.2} p99_us={:.2} p999_us={:.2}", at(0.5), at(0.99), at(0.999))
}

const CASBIN_MODEL: &str = "
[request_definition]
r = sub, obj, act
[policy_definition]
p = sub, obj, act
[role_definition]
g = _, _
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = g(r.sub, p.sub) && r.obj == p.obj && r.act == p.act
";

fn rbac(runtime: &tokio::runtime::Runtime) {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut grants = Vec::new();
    for role in 0..ROLES {
        for _ in 0..20 {
            grants.push((role, rng.below(DOCS)));
        }
    }
    let mut holders = Vec::new();
    for user in 0..USERS {
        for _ in 0..3 {
            holders.push((user, rng.below(ROLES)));
        }
    }
    let questions: Vec<(u64, u64)> = (0..CHECKS).map(|_| (rng.below(USERS), rng.below(DOCS))).collect();

    // Portcullis: roles are usersets, `doc:d#read@role:r#assignee`.
    let model = portcullis_authz::dsl::parse(
        "type user\ntype role\n  relations\n    define assignee: [user]\ntype doc\n  relations\n    define read: [role#assignee]",
    )
    .expect("model");
    let mut tuples = MemoryTuples::default();
    for (role, doc) in &grants {
        tuples.insert(Tuple::parse(&format!("doc:d{doc}#read@role:r{role}#assignee")).expect("tuple"));
    }
    for (user, role) in &holders {
        tuples.insert(Tuple::parse(&format!("role:r{role}#assignee@user:u{user}")).expect("tuple"));
    }
    let checker = Checker::new(&model, &tuples);
    let asked: Vec<(ObjectRef, Subject)> = questions
        .iter()
        .map(|(u, d)| {
            (
                ObjectRef::new("doc", &format!("d{d}")).unwrap(),
                Subject::Object(ObjectRef::new("user", &format!("u{u}")).unwrap()),
            )
        })
        .collect();
    let mut ours = Vec::with_capacity(CHECKS);
    let mut our_answers = Vec::with_capacity(CHECKS);
    for (doc, user) in &asked {
        let start = Instant::now();
        let answer = checker.check(black_box(doc), "read", black_box(user)).expect("check");
        ours.push(start.elapsed());
        our_answers.push(answer);
    }

    // casbin: the same grants as `p` lines, the same holders as `g` lines.
    let setup = Instant::now();
    let mut enforcer = runtime.block_on(async {
        let model = DefaultModel::from_str(CASBIN_MODEL).await.expect("casbin model");
        let mut enforcer = Enforcer::new(model, MemoryAdapter::default()).await.expect("enforcer");
        enforcer
            .add_policies(
                grants.iter().map(|(r, d)| vec![format!("r{r}"), format!("d{d}"), "read".to_owned()]).collect(),
            )
            .await
            .expect("policies");
        enforcer
            .add_grouping_policies(holders.iter().map(|(u, r)| vec![format!("u{u}"), format!("r{r}")]).collect())
            .await
            .expect("roles");
        enforcer
    });
    enforcer.build_role_links().expect("role links");
    println!("RESULT rbac casbin_setup_s={:.1}", setup.elapsed().as_secs_f64());
    let asked: Vec<(String, String)> = questions.iter().map(|(u, d)| (format!("u{u}"), format!("d{d}"))).collect();
    let mut theirs = Vec::with_capacity(CHECKS);
    let mut allowed = 0;
    for ((user, doc), ours) in asked.iter().zip(&our_answers).take(CASBIN_CHECKS) {
        let start = Instant::now();
        let answer = enforcer.enforce((black_box(user.as_str()), black_box(doc.as_str()), "read")).expect("enforce");
        theirs.push(start.elapsed());
        assert_eq!(answer, *ours, "both engines give the same answer for {user} read {doc}");
        allowed += usize::from(answer);
    }
    let mean = |s: &[Duration]| s.iter().sum::<Duration>().as_secs_f64() / s.len() as f64 * 1e6;
    let ratio = mean(&theirs) / mean(&ours);
    println!(
        "RESULT rbac engine=portcullis checks={CHECKS} allowed={} mean_us={:.2} {}",
        our_answers.iter().filter(|a| **a).count(),
        mean(&ours),
        percentiles(ours.clone())
    );
    println!(
        "RESULT rbac engine=casbin checks={CASBIN_CHECKS} allowed={allowed} mean_us={:.2} {}",
        mean(&theirs),
        percentiles(theirs)
    );
    println!("RESULT rbac casbin_mean_over_portcullis_mean={ratio:.1}");
}

/// `count` policies, each naming a role in its scope (`scoped`), or each only a condition on
/// the principal's role (every policy must then be read for every request).
fn cedar(count: usize, scoped: bool) {
    let mut policies = String::new();
    for role in 0..count {
        let policy = if scoped {
            format!(
                "@id(\"role-{role}\")\npermit (principal in Role::\"r{role}\", action == Action::\"read\", resource is doc) \
                 when {{ resource has level && resource.level <= {} }};\n",
                role % 10
            )
        } else {
            format!(
                "@id(\"role-{role}\")\npermit (principal, action == Action::\"read\", resource is doc) \
                 when {{ principal in Role::\"r{role}\" && resource has level && resource.level <= {} }};\n",
                role % 10
            )
        };
        policies.push_str(&policy);
    }
    policies.push_str(
        "@id(\"risky\")\nforbid (principal, action, resource) when { context has risk && context.risk > 80 };\n",
    );
    let document = PolicyDocument { policies, ..Default::default() };
    let compiled = Policies::compile(&document).expect("compiles");
    assert_eq!(compiled.len(), count + 1);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let rounds = 50_000;
    let mut samples = Vec::with_capacity(rounds);
    let mut allowed = 0;
    for _ in 0..rounds {
        let principal = EntityFacts {
            kind: "user".into(),
            id: format!("u{}", rng.below(USERS)),
            attributes: json!({"username": "someone", "email_verified": true}).as_object().cloned().unwrap_or_default(),
            parents: (0..3).map(|_| ("role".to_owned(), format!("r{}", rng.below(1_000)))).collect(),
        };
        let resource = EntityFacts {
            kind: "doc".into(),
            id: format!("d{}", rng.below(DOCS)),
            attributes: json!({"level": rng.below(10)}).as_object().cloned().unwrap_or_default(),
            parents: Vec::new(),
        };
        let mut context = Map::new();
        context.insert("risk".into(), json!(rng.below(100)));
        let start = Instant::now();
        let decision = compiled.decide(black_box(&principal), "read", black_box(&resource), &context).expect("decides");
        samples.push(start.elapsed());
        allowed += usize::from(matches!(decision, portcullis_authz::cedar::CedarDecision::Permit(_)));
    }
    println!(
        "RESULT cedar policies={} scoped={scoped} decisions={rounds} allowed={allowed} {}",
        count + 1,
        percentiles(samples)
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    rbac(&runtime);
    cedar(1_000, true);
    cedar(1_000, false);
    cedar(1, true);
}
