use portcullis_core::Error;
use portcullis_core::model::schema::{AttributeDefinition, AttributeType};
use portcullis_core::model::user::{UserDocument, UserStatus};
use portcullis_core::service::UserQuery;
use portcullis_types::AttributeName;
use serde_json::json;

use crate::{TOKEN, on_every_engine};

fn doc(value: serde_json::Value) -> UserDocument {
    portcullis_core::model::from_json(value).expect("valid document")
}

fn attribute(name: &str, kind: AttributeType, unique: bool, sensitive: bool) -> AttributeDefinition {
    AttributeDefinition {
        name: AttributeName::parse(name).expect("valid"),
        kind,
        required: false,
        unique,
        pattern: None,
        sensitive,
        purpose: Some("test".into()),
        description: None,
    }
}

on_every_engine!(bootstrap_happens_once, |fx| {
    assert_eq!(
        fx.services.bootstrap(None).await.expect("second run"),
        portcullis_core::service::Bootstrap::AlreadyDone
    );
    assert!(fx.services.store().ready().await.expect("ready"));
    assert_eq!(fx.services.store().migrate().await.expect("migrate again"), 0);
    let tenants = fx.services.list_tenants(&fx.admin, None, None).await.expect("list");
    let names: Vec<_> = tenants.items.iter().map(|t| t.name.to_string()).collect();
    assert_eq!(names, ["acme", "admin"]);
    assert!(matches!(fx.services.delete_tenant(&fx.admin, "admin").await, Err(Error::Conflict { .. })));
    let wrong = fx.services.authenticate("pct_wrong", Default::default()).await;
    assert_eq!(wrong.err(), Some(Error::Unauthenticated));
    assert!(fx.services.authenticate(TOKEN, Default::default()).await.is_ok());
});

on_every_engine!(users_are_unique_case_insensitively, |fx| {
    let s = &fx.services;
    let alice = s
        .create_user(&fx.admin, "acme", doc(json!({"username": "Alice", "email": "Alice@Example.com"})))
        .await
        .expect("create");
    assert_eq!(alice.username, "Alice");
    let again = s.create_user(&fx.admin, "acme", doc(json!({"username": "alice"}))).await;
    assert!(matches!(again, Err(Error::Conflict { ref constraint, .. }) if constraint == "username"), "{again:?}");
    let same_mail =
        s.create_user(&fx.admin, "acme", doc(json!({"username": "alice2", "email": "alice@example.COM"}))).await;
    assert!(matches!(same_mail, Err(Error::Conflict { ref constraint, .. }) if constraint == "email"), "{same_mail:?}");
    let found = s
        .list_users(
            &fx.admin,
            "acme",
            UserQuery { email: Some("ALICE@example.com".into()), ..Default::default() },
            None,
            None,
        )
        .await
        .expect("list");
    assert_eq!(found.items.len(), 1);
    assert_eq!(found.items[0].id, alice.id);
    // Another tenant may reuse the name.
    s.create_tenant(
        &fx.admin,
        portcullis_core::model::tenant::NewTenant {
            name: portcullis_types::TenantName::parse("globex").expect("valid"),
            display_name: None,
            profile: None,
        },
    )
    .await
    .expect("tenant");
    s.create_user(&fx.admin, "globex", doc(json!({"username": "alice"}))).await.expect("other tenant");
});

on_every_engine!(patch_is_a_json_merge_patch, |fx| {
    let s = &fx.services;
    s.put_schema_attribute(&fx.admin, "acme", attribute("department", AttributeType::String, false, false))
        .await
        .expect("schema");
    let user = s
        .create_user(
            &fx.admin,
            "acme",
            doc(json!({"username": "bob", "given_name": "Bob", "attributes": {"department": "sales"}})),
        )
        .await
        .expect("create");
    let patched = s
        .update_user(
            &fx.admin,
            "acme",
            user.id,
            json!({"given_name": null, "family_name": "Builder", "attributes": {"department": null}}),
        )
        .await
        .expect("patch");
    assert_eq!(patched.claims.given_name, None);
    assert_eq!(patched.claims.family_name.as_deref(), Some("Builder"));
    assert!(patched.attributes.is_empty());
    let refused = s.update_user(&fx.admin, "acme", user.id, json!({"password": "new-password-1"})).await;
    assert!(matches!(refused, Err(Error::Validation(_))));
    let wrong_type = s.update_user(&fx.admin, "acme", user.id, json!({"email_verified": "yes"})).await;
    let Err(Error::Validation(fields)) = wrong_type else { panic!("expected validation error") };
    assert_eq!(fields[0].field, "email_verified");
    let unknown = s.update_user(&fx.admin, "acme", user.id, json!({"shoe_size": 44})).await;
    assert!(matches!(unknown, Err(Error::Validation(_))), "{unknown:?}");
    let stored = s.get_user(&fx.admin, "acme", user.id).await.expect("get");
    assert_eq!(stored.claims.family_name.as_deref(), Some("Builder"));
});

on_every_engine!(sensitive_attributes_are_sealed_and_shredded, |fx| {
    let s = &fx.services;
    s.put_schema_attribute(&fx.admin, "acme", attribute("national_id", AttributeType::String, true, true))
        .await
        .expect("schema");
    let user = s
        .create_user(
            &fx.admin,
            "acme",
            doc(json!({"username": "carol", "attributes": {"national_id": "AB-123-SECRET"}})),
        )
        .await
        .expect("create");
    assert_eq!(user.attributes["national_id"], "AB-123-SECRET");
    assert_eq!(s.get_user(&fx.admin, "acme", user.id).await.expect("get").attributes["national_id"], "AB-123-SECRET");
    // The value is nowhere in the database in the clear: not in users, not in the unique index,
    // not in the audit log.
    let dump = crate::access::dump_database(&fx.db).await;
    assert!(!dump.contains("AB-123-SECRET"), "plaintext leaked into the database");
    // Uniqueness still holds, through the blind index.
    let twin = s
        .create_user(
            &fx.admin,
            "acme",
            doc(json!({"username": "mallory", "attributes": {"national_id": "AB-123-SECRET"}})),
        )
        .await;
    assert!(
        matches!(twin, Err(Error::Conflict { ref constraint, .. }) if constraint == "attribute:national_id"),
        "{twin:?}"
    );
    // The failed create wrote nothing: no half-created user.
    let all = s.list_users(&fx.admin, "acme", UserQuery::default(), None, None).await.expect("list");
    assert_eq!(all.items.len(), 1);
    // Sensitive attributes cannot be searched.
    let search = s
        .list_users(
            &fx.admin,
            "acme",
            UserQuery { attribute: Some("national_id:x".into()), ..Default::default() },
            None,
            None,
        )
        .await;
    assert!(matches!(search, Err(Error::Validation(_))));
    s.delete_user(&fx.admin, "acme", user.id).await.expect("delete");
    assert_eq!(crate::access::count(&fx.db, "user_keys").await, 0);
    assert_eq!(crate::access::count(&fx.db, "user_unique_values").await, 0);
    // Changing `sensitive` on an existing attribute is refused.
    let flip =
        s.put_schema_attribute(&fx.admin, "acme", attribute("national_id", AttributeType::String, true, false)).await;
    assert!(matches!(flip, Err(Error::Conflict { .. })));
});

on_every_engine!(attribute_filters_and_pagination, |fx| {
    let s = &fx.services;
    s.put_schema_attribute(&fx.admin, "acme", attribute("level", AttributeType::Integer, false, false))
        .await
        .expect("schema");
    s.put_schema_attribute(&fx.admin, "acme", attribute("manager", AttributeType::Boolean, false, false))
        .await
        .expect("schema");
    for i in 0..7 {
        s.create_user(
            &fx.admin,
            "acme",
            doc(json!({"username": format!("user{i}"), "attributes": {"level": i % 3, "manager": i == 4}})),
        )
        .await
        .expect("create");
    }
    let level_one = s
        .list_users(
            &fx.admin,
            "acme",
            UserQuery { attribute: Some("level:1".into()), ..Default::default() },
            None,
            None,
        )
        .await
        .expect("filter");
    let names: Vec<_> = level_one.items.iter().map(|u| u.username.clone()).collect();
    assert_eq!(names, ["user1", "user4"]);
    let managers = s
        .list_users(
            &fx.admin,
            "acme",
            UserQuery { attribute: Some("manager:true".into()), ..Default::default() },
            None,
            None,
        )
        .await
        .expect("filter");
    assert_eq!(managers.items.len(), 1);
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page =
            s.list_users(&fx.admin, "acme", UserQuery::default(), cursor.as_deref(), Some(3)).await.expect("page");
        seen.extend(page.items.iter().map(|u| u.username.clone()));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    s.delete_schema_attribute(&fx.admin, "acme", "level").await.expect("delete attribute");
    let after = s.list_users(&fx.admin, "acme", UserQuery::default(), None, Some(1)).await.expect("list");
    assert!(!after.items[0].attributes.contains_key("level"));
    assert!(matches!(
        s.list_users(&fx.admin, "acme", UserQuery::default(), Some("!!"), None).await,
        Err(Error::Validation(_))
    ));
});

on_every_engine!(passwords_rehash_imported_formats, |fx| {
    let s = &fx.services;
    // PHP's documented bcrypt example, as an Auth0 export would carry it.
    let user = s.create_user(&fx.admin, "acme", doc(json!({"username": "dave", "email": "dave@example.com", "password_hash": "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a"}))).await.expect("create");
    assert_eq!(s.check_password("acme", "dave", "wrong-password".into()).await.expect("check"), None);
    assert_eq!(
        s.check_password("acme", "DAVE@example.com", "rasmuslerdorf".into()).await.expect("check"),
        Some(user.id)
    );
    let hash = crate::access::password_hash(&fx.db, user.id).await;
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "re-hashed: {hash}");
    assert_eq!(s.check_password("acme", "dave", "rasmuslerdorf".into()).await.expect("check"), Some(user.id));
    assert_eq!(s.check_password("acme", "nobody", "rasmuslerdorf".into()).await.expect("check"), None);
    s.set_user_status(&fx.admin, "acme", user.id, UserStatus::Disabled).await.expect("disable");
    assert_eq!(s.check_password("acme", "dave", "rasmuslerdorf".into()).await.expect("check"), None);
    // No enumeration: an unknown user, a user without a password, a wrong password and a
    // disabled account each cost exactly one password verification on the hashing pool, as a
    // right password does.
    s.create_user(&fx.admin, "acme", doc(json!({"username": "frank"}))).await.expect("passwordless user");
    let pool = s.hash_pool().clone();
    for (login, password) in
        [("nobody", "rasmuslerdorf"), ("frank", "rasmuslerdorf"), ("dave", "wrong-password"), ("dave", "rasmuslerdorf")]
    {
        let before = pool.completed();
        assert_eq!(s.check_password("acme", login, password.into()).await.expect("check"), None);
        assert_eq!(pool.completed() - before, 1, "{login}/{password}");
    }
    let short = s.create_user(&fx.admin, "acme", doc(json!({"username": "erin", "password": "short"}))).await;
    assert!(matches!(short, Err(Error::Validation(_))));
    let both = s
        .create_user(
            &fx.admin,
            "acme",
            doc(json!({"username": "erin", "password": "long-enough-1", "password_hash": "$2y$10$x"})),
        )
        .await;
    assert!(matches!(both, Err(Error::Validation(_))));
});
