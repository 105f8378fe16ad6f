//! Store conformance: every scenario runs through the services on SQLite and, when
//! `PORTCULLIS_TEST_DATABASE_URL` is set, on PostgreSQL.

// Test code: a failed expectation should panic with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access;
mod audit;
mod authz;
mod caches;
mod clients;
mod directory;
mod import;
mod jobs;
mod keys;
mod sessions;
mod upgrade;

use std::sync::Arc;

use portcullis_core::clock::FixedClock;
use portcullis_core::hashing::HashPool;
use portcullis_core::keys::KeyRing;
use portcullis_core::model::auth_policy::{AuthPolicy, MfaPolicy};
use portcullis_core::model::tenant::{NewTenant, TenantProfile};
use portcullis_core::service::{Bootstrap, Principal, RequestContext};
use portcullis_core::{Clock, Services};
use portcullis_crypto::envelope::Key;
use portcullis_testkit::{Engine, TestDatabase, engines};
use time::macros::datetime;

pub const TOKEN: &str = "pct_conformance-test-token-0123456789";

/// One engine's fixture: a migrated database, services over it, an admin principal and a
/// workforce tenant named `acme` that asks a second factor of those who enrolled one.
pub struct Fixture {
    pub db: TestDatabase,
    pub services: Services,
    pub clock: Arc<FixedClock>,
    pub admin: Principal,
    pub master_key: Key,
}

impl Fixture {
    pub async fn new(engine: Engine) -> Fixture {
        let db = TestDatabase::new(engine).await.expect("database");
        let store = db.store().await.expect("store");
        let clock = Arc::new(FixedClock::new(datetime!(2026-01-01 12:00 UTC)));
        let master_key = Key::generate();
        let services = Services::new(
            store,
            clock.clone() as Arc<dyn Clock>,
            KeyRing::new(master_key.clone()),
            HashPool::new(2, 64),
        );
        assert_eq!(services.bootstrap(Some(TOKEN)).await.expect("bootstrap"), Bootstrap::InstalledGivenToken);
        let admin = services.authenticate(TOKEN, RequestContext::default()).await.expect("token works");
        let new = NewTenant {
            name: portcullis_types::TenantName::parse("acme").expect("valid"),
            display_name: Some("Acme".into()),
            profile: None,
        };
        services.create_tenant(&admin, new).await.expect("tenant");
        // A second factor from those who enrolled one, not the workforce default (required):
        // these scenarios are about the store; MFA is tested through the server.
        let mut policy = AuthPolicy::for_profile(TenantProfile::Workforce);
        policy.mfa = MfaPolicy::Optional;
        services.put_auth_policy(&admin, "acme", policy).await.expect("policy");
        Fixture { db, services, clock, admin, master_key }
    }

    /// Another node: its own connection pools and caches over the same database and key.
    pub async fn second_node(&self) -> Services {
        let store = self.db.store().await.expect("store");
        let keys = KeyRing::new(self.master_key.clone());
        let node = Services::new(store, self.clock.clone() as Arc<dyn Clock>, keys, HashPool::new(2, 64));
        node.sync_changes().await.expect("starting point");
        node
    }
}

/// Runs `scenario` once per engine.
#[macro_export]
macro_rules! on_every_engine {
    ($name:ident, |$fx:ident| $body:block) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            for engine in $crate::engines() {
                let $fx = $crate::Fixture::new(engine).await;
                eprintln!("{} on {:?}", stringify!($name), engine);
                $body
            }
        }
    };
}

pub fn engines_list() -> Vec<Engine> {
    engines()
}
