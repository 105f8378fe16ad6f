//! Migrations run forward from the previous schema with the data in place.

use std::sync::Arc;

use portcullis_core::clock::FixedClock;
use portcullis_core::hashing::HashPool;
use portcullis_core::keys::KeyRing;
use portcullis_core::model::client::ClientMetadata;
use portcullis_core::model::tenant::NewTenant;
use portcullis_core::service::{Principal, UserQuery};
use portcullis_core::store::Store;
use portcullis_core::{Clock, Services};
use portcullis_crypto::envelope::Key;
use portcullis_testkit::{Engine, TestDatabase, engines};
use serde_json::json;

/// A database migrated up to `version` only, services over it, bootstrapped, and their admin.
async fn at_schema(engine: Engine, version: i64) -> (TestDatabase, Arc<dyn Store>, Services, Principal) {
    let db = TestDatabase::new(engine).await.expect("database");
    let store = portcullis_store::open(&db.url).await.expect("store");
    let ran = store.migrate_up_to(version).await.expect("older schema");
    assert_eq!(i64::try_from(ran).expect("count"), version, "every migration up to {version} ran");
    let clock = Arc::new(FixedClock::new(time::macros::datetime!(2026-01-01 0:00 UTC)));
    let services =
        Services::new(store.clone(), clock as Arc<dyn Clock>, KeyRing::new(Key::generate()), HashPool::new(1, 8));
    services.bootstrap(Some(crate::TOKEN)).await.expect("bootstrap on the older schema");
    let admin = services.authenticate(crate::TOKEN, Default::default()).await.expect("token");
    (db, store, services, admin)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrading_from_schema_1_keeps_the_data() {
    for engine in engines() {
        let (_db, store, services, admin) = at_schema(engine, 1).await;
        assert!(!store.ready().await.expect("ready answers"), "{engine:?}: pending migrations mean not ready");
        // Data as schema 1 knew it: the bootstrapped admin tenant and a user in it (with a
        // hash: today's password policy is a table schema 1 does not have).
        let hash = portcullis_crypto::password::hash_password("from schema one").expect("hash");
        let doc = portcullis_core::model::from_json(json!({"username": "kept", "password_hash": hash})).expect("doc");
        let user = services.create_user(&admin, "admin", doc).await.expect("user");

        let ran = store.migrate().await.expect("upgrade");
        assert_eq!(ran, portcullis_store::MIGRATIONS.len() - 1, "{engine:?}");
        assert!(store.ready().await.expect("ready"));
        let users = services.list_users(&admin, "admin", UserQuery::default(), None, None).await.expect("list");
        assert_eq!(users.items[0].id, user.id);
        assert_eq!(
            services.check_password("admin", "kept", "from schema one".into()).await.expect("check"),
            Some(user.id)
        );
        let metadata: ClientMetadata =
            portcullis_core::model::from_json(json!({"client_name": "New", "grant_types": ["client_credentials"]}))
                .expect("meta");
        services.create_client(&admin, "admin", metadata).await.expect("schema 2 works");
        // A tenant from before signing keys gets them on first use; new tenants at creation.
        let jwks = services.jwks("admin").await.expect("schema 3 works");
        assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(3));
        let name = portcullis_types::TenantName::parse("new").expect("valid");
        services.create_tenant(&admin, NewTenant { name, display_name: None, profile: None }).await.expect("tenant");
        assert!(services.verify_audit().await.expect("verify").first_broken.is_none());
    }
}

/// Workforce tenants made before MFA became their default keep asking only those who enrolled
/// a second factor (migration 13); new workforce tenants require one; customers are untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workforce_tenants_from_before_required_mfa_keep_optional() {
    use portcullis_core::model::auth_policy::{AuthPolicy, MfaPolicy};
    use portcullis_core::model::tenant::TenantProfile;
    for engine in engines() {
        let (_db, store, services, admin) = at_schema(engine, 12).await;
        for (name, profile) in [("staff", TenantProfile::Workforce), ("shop", TenantProfile::Customer)] {
            let name = portcullis_types::TenantName::parse(name).expect("valid");
            let tenant = NewTenant { name, display_name: None, profile: Some(profile) };
            services.create_tenant(&admin, tenant).await.expect("tenant");
        }
        // One workforce tenant whose administrator already chose: its choice stays.
        let mut chosen = AuthPolicy::for_profile(TenantProfile::Workforce);
        chosen.mfa = MfaPolicy::Off;
        services.put_auth_policy(&admin, "admin", chosen.clone()).await.expect("policy");

        assert_eq!(store.migrate().await.expect("upgrade"), 1, "{engine:?}");
        let policy = |tenant: &'static str| {
            let (services, admin) = (&services, &admin);
            async move { services.get_auth_policy(admin, tenant).await.expect("policy") }
        };
        let mut kept = AuthPolicy::for_profile(TenantProfile::Workforce);
        kept.mfa = MfaPolicy::Optional;
        assert_eq!(policy("staff").await, kept, "{engine:?}: only mfa changes for an old workforce tenant");
        assert_eq!(policy("admin").await, chosen, "{engine:?}");
        assert_eq!(policy("shop").await, AuthPolicy::for_profile(TenantProfile::Customer), "{engine:?}");
        let name = portcullis_types::TenantName::parse("new").expect("valid");
        services.create_tenant(&admin, NewTenant { name, display_name: None, profile: None }).await.expect("tenant");
        assert_eq!(policy("new").await.mfa, MfaPolicy::Required, "{engine:?}: new workforce tenants require MFA");
    }
}
