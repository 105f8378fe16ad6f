use portcullis_core::model::audit::AuditFilter;
use portcullis_core::model::user::UserDocument;
use portcullis_testkit::Engine;
use serde_json::json;

use crate::access::exec;
use crate::on_every_engine;

fn user(name: &str) -> UserDocument {
    portcullis_core::model::from_json(json!({"username": name, "email": format!("{name}@example.com")})).expect("valid")
}

on_every_engine!(every_change_is_audited_and_the_chain_verifies, |fx| {
    let s = &fx.services;
    let created = s.create_user(&fx.admin, "acme", user("frank")).await.expect("create");
    s.update_user(&fx.admin, "acme", created.id, json!({"nickname": "frankie"})).await.expect("update");
    s.delete_user(&fx.admin, "acme", created.id).await.expect("delete");
    let page = s.list_audit(&fx.admin, "acme", AuditFilter::default(), None, None).await.expect("audit");
    let actions: Vec<_> = page.items.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["user.delete", "user.update", "user.create", "auth_policy.put", "tenant.create"]);
    let update = &page.items[1];
    assert_eq!(update.before.as_ref().and_then(|b| b.get("nickname")), None);
    assert_eq!(update.after.as_ref().and_then(|a| a.get("nickname")), Some(&json!("frankie")));
    assert!(update.actor.starts_with("token:"));
    let filtered = s
        .list_audit(
            &fx.admin,
            "acme",
            AuditFilter { action: Some("user.create".into()), ..Default::default() },
            None,
            None,
        )
        .await
        .expect("filter");
    assert_eq!(filtered.items.len(), 1);

    let verified = s.verify_audit().await.expect("verify");
    assert_eq!(verified.first_broken, None);
    assert!(verified.events_checked >= 6);

    // An attacker with database access edits an event: the chain breaks exactly there.
    let drop_triggers = match fx.db.engine {
        Engine::Sqlite => "DROP TRIGGER audit_events_no_update",
        Engine::Postgres => "DROP TRIGGER audit_events_no_update ON audit_events",
    };
    exec(&fx.db, drop_triggers).await;
    exec(&fx.db, &format!("UPDATE audit_events SET actor = 'someone-else' WHERE seq = {}", update.seq)).await;
    let broken = s.verify_audit().await.expect("verify");
    assert_eq!(broken.first_broken.map(|b| b.seq), Some(update.seq));
});

on_every_engine!(the_audit_log_refuses_edits_and_notices_truncation, |fx| {
    let s = &fx.services;
    s.create_user(&fx.admin, "acme", user("grace")).await.expect("create");
    // The triggers refuse updates and deletes outright.
    for sql in ["UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events"] {
        let refused = match fx.db.engine {
            Engine::Sqlite => crate::access::sqlite(&fx.db).execute_batch(sql).is_err(),
            Engine::Postgres => {
                use sqlx::Connection;
                let mut c = sqlx::PgConnection::connect(&fx.db.url).await.expect("connect");
                sqlx::query(sql).execute(&mut c).await.is_err()
            }
        };
        assert!(refused, "{sql} must be refused");
    }
    // Removing the newest event (after disabling the guard) is noticed through the head.
    let (drop_guard, delete_last) = match fx.db.engine {
        Engine::Sqlite => (
            "DROP TRIGGER audit_events_no_delete",
            "DELETE FROM audit_events WHERE seq = (SELECT MAX(seq) FROM audit_events)",
        ),
        Engine::Postgres => (
            "DROP TRIGGER audit_events_no_update ON audit_events",
            "DELETE FROM audit_events WHERE seq = (SELECT MAX(seq) FROM audit_events)",
        ),
    };
    exec(&fx.db, drop_guard).await;
    exec(&fx.db, delete_last).await;
    let verified = s.verify_audit().await.expect("verify");
    assert!(verified.first_broken.is_some(), "truncation must be detected");
});
