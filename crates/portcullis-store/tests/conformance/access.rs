//! Groups and roles; and raw database helpers for checks the services cannot make.

use portcullis_core::Clock;
use portcullis_core::Error;
use portcullis_core::model::group::{GroupChanges, NewGroup};
use portcullis_core::model::role::{AssignRole, NewRole, RoleChanges};
use portcullis_core::model::user::UserDocument;
use portcullis_core::service::Assignee;
use portcullis_testkit::{Engine, TestDatabase};
use portcullis_types::UserId;
use serde_json::json;
use sqlx::Connection;

use crate::on_every_engine;

/// A connection of our own to a test's SQLite file.
pub fn sqlite(db: &TestDatabase) -> rusqlite::Connection {
    rusqlite::Connection::open(db.url.trim_start_matches("sqlite://")).expect("connect")
}

/// Runs one statement directly on the database (to tamper, as an attacker with access would).
pub async fn exec(db: &TestDatabase, sql: &str) {
    match db.engine {
        Engine::Sqlite => {
            sqlite(db).execute_batch(sql).expect("exec");
        }
        Engine::Postgres => {
            let mut c = sqlx::PgConnection::connect(&db.url).await.expect("connect");
            sqlx::query(sql).execute(&mut c).await.expect("exec");
        }
    }
}

/// Everything the tables hold that could carry personal data, as text.
pub async fn dump_database(db: &TestDatabase) -> String {
    let sql = "SELECT COALESCE(username,'') || COALESCE(email,'') || claims || attributes FROM users
        UNION ALL SELECT value FROM user_unique_values
        UNION ALL SELECT COALESCE(before_state,'') || COALESCE(after_state,'') FROM audit_events";
    let rows: Vec<(String,)> = match db.engine {
        Engine::Sqlite => {
            let c = sqlite(db);
            let mut statement = c.prepare(sql).expect("prepare");
            statement.query_map([], |row| Ok((row.get(0)?,))).expect("dump").collect::<Result<_, _>>().expect("dump")
        }
        Engine::Postgres => {
            let mut c = sqlx::PgConnection::connect(&db.url).await.expect("connect");
            sqlx::query_as(sql).fetch_all(&mut c).await.expect("dump")
        }
    };
    rows.into_iter().map(|(r,)| r).collect::<Vec<_>>().join("\n")
}

/// The stored clients, as text (secret digests hex-encoded).
pub async fn dump_clients(db: &TestDatabase) -> String {
    let sql = "SELECT client_id, metadata, secret_digest FROM oauth_clients";
    let rows: Vec<(String, String, Option<Vec<u8>>)> = match db.engine {
        Engine::Sqlite => {
            let c = sqlite(db);
            let mut statement = c.prepare(sql).expect("prepare");
            let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?))).expect("clients");
            rows.collect::<Result<_, _>>().expect("clients")
        }
        Engine::Postgres => sqlx::query_as(sql)
            .fetch_all(&mut sqlx::PgConnection::connect(&db.url).await.expect("connect"))
            .await
            .expect("clients"),
    };
    rows.into_iter().map(|(id, meta, digest)| format!("{id} {meta} {digest:?}")).collect::<Vec<_>>().join("\n")
}

pub async fn count(db: &TestDatabase, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    match db.engine {
        Engine::Sqlite => sqlite(db).query_row(&sql, [], |row| row.get(0)).expect("count"),
        Engine::Postgres => {
            let (n,): (i64,) = sqlx::query_as(&sql)
                .fetch_one(&mut sqlx::PgConnection::connect(&db.url).await.expect("connect"))
                .await
                .expect("count");
            n
        }
    }
}

pub async fn password_hash(db: &TestDatabase, user: UserId) -> String {
    let sql = "SELECT hash FROM passwords WHERE user_id = $1";
    let (hash,): (String,) = match db.engine {
        Engine::Sqlite => sqlite(db).query_row(sql, [user.to_string()], |row| Ok((row.get(0)?,))).expect("hash"),
        Engine::Postgres => sqlx::query_as(sql)
            .bind(user.to_string())
            .fetch_one(&mut sqlx::PgConnection::connect(&db.url).await.expect("connect"))
            .await
            .expect("hash"),
    };
    hash
}

fn user(name: &str) -> UserDocument {
    portcullis_core::model::from_json(json!({"username": name})).expect("valid")
}

on_every_engine!(nested_groups_composite_roles_and_expiry, |fx| {
    let s = &fx.services;
    let a = &fx.admin;
    let eng = s
        .create_group(a, "acme", NewGroup { name: "engineering".into(), description: None, parent_id: None })
        .await
        .expect("group");
    let backend = s
        .create_group(a, "acme", NewGroup { name: "backend".into(), description: None, parent_id: Some(eng.id) })
        .await
        .expect("group");
    let dup = s.create_group(a, "acme", NewGroup { name: "backend".into(), description: None, parent_id: None }).await;
    assert!(matches!(dup, Err(Error::Conflict { ref constraint, .. }) if constraint == "group_name"), "{dup:?}");
    // No cycles: engineering cannot move under its own subgroup.
    let cycle = s
        .update_group(
            a,
            "acme",
            eng.id,
            GroupChanges { name: None, description: None, parent_id: Some(Some(backend.id)) },
        )
        .await;
    assert!(matches!(cycle, Err(Error::Validation(_))));

    let read = s
        .create_role(a, "acme", NewRole { name: "read".into(), client_id: None, description: None, composites: vec![] })
        .await
        .expect("role");
    let write = s
        .create_role(
            a,
            "acme",
            NewRole { name: "write".into(), client_id: None, description: None, composites: vec![read.id] },
        )
        .await
        .expect("role");
    let admin_role = s
        .create_role(
            a,
            "acme",
            NewRole { name: "admin".into(), client_id: None, description: None, composites: vec![write.id] },
        )
        .await
        .expect("role");
    let oncall = s
        .create_role(
            a,
            "acme",
            NewRole { name: "on-call".into(), client_id: None, description: None, composites: vec![] },
        )
        .await
        .expect("role");
    let loop_back = s
        .update_role(
            a,
            "acme",
            read.id,
            RoleChanges { name: None, description: None, composites: Some(vec![admin_role.id]) },
        )
        .await;
    assert!(matches!(loop_back, Err(Error::Validation(_))), "{loop_back:?}");

    let erin = s.create_user(a, "acme", user("erin")).await.expect("user");
    s.set_group_member(a, "acme", backend.id, erin.id, true).await.expect("member");
    s.assign_role(a, "acme", Assignee::Group(eng.id), write.id, AssignRole::default()).await.expect("assign");
    let until = fx.clock.now() + time::Duration::hours(1);
    s.assign_role(a, "acme", Assignee::User(erin.id), oncall.id, AssignRole { expires_at: Some(until) })
        .await
        .expect("assign");

    let access = s.effective_access(a, "acme", erin.id).await.expect("effective");
    let groups: Vec<_> = access.groups.iter().map(|g| (g.name.as_str(), g.direct)).collect();
    assert_eq!(groups, [("backend", true), ("engineering", false)]);
    let roles: Vec<_> = access.roles.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(roles, ["on-call", "read", "write"]);

    // The time-bound assignment lapses by itself.
    fx.clock.advance(time::Duration::hours(2));
    let later = s.effective_access(a, "acme", erin.id).await.expect("effective");
    let roles: Vec<_> = later.roles.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(roles, ["read", "write"]);
    assert!(s.list_assignments(a, "acme", Assignee::User(erin.id)).await.expect("direct").is_empty());

    // Deleting the middle group moves nothing into limbo; deleting a role removes it everywhere.
    s.delete_group(a, "acme", eng.id).await.expect("delete group");
    assert_eq!(s.get_group(a, "acme", backend.id).await.expect("still there").parent_id, None);
    s.delete_role(a, "acme", read.id).await.expect("delete role");
    assert!(s.get_role(a, "acme", write.id).await.expect("role").composites.is_empty());
    let past = s
        .assign_role(a, "acme", Assignee::User(erin.id), write.id, AssignRole { expires_at: Some(fx.clock.now()) })
        .await;
    assert!(matches!(past, Err(Error::Validation(_))));
});

on_every_engine!(tenant_scoped_tokens_stay_in_their_tenant, |fx| {
    use portcullis_core::model::token::{Access, NewToken};
    let s = &fx.services;
    let globex = portcullis_types::TenantName::parse("globex").expect("valid");
    s.create_tenant(
        &fx.admin,
        portcullis_core::model::tenant::NewTenant { name: globex.clone(), display_name: None, profile: None },
    )
    .await
    .expect("tenant");
    let acme = portcullis_types::TenantName::parse("acme").expect("valid");
    let created = s
        .create_token(
            &fx.admin,
            NewToken { name: "acme-reader".into(), tenant: Some(acme), access: Access::Read, expires_at: None },
        )
        .await
        .expect("token");
    let reader = s.authenticate(&created.secret, Default::default()).await.expect("auth");
    assert!(s.list_users(&reader, "acme", Default::default(), None, None).await.is_ok());
    assert!(matches!(s.list_users(&reader, "globex", Default::default(), None, None).await, Err(Error::Forbidden(_))));
    assert!(matches!(
        s.list_users(&reader, "nonexistent", Default::default(), None, None).await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(s.create_user(&reader, "acme", user("x")).await, Err(Error::Forbidden(_))));
    assert!(matches!(
        s.create_tenant(
            &reader,
            portcullis_core::model::tenant::NewTenant { name: globex, display_name: None, profile: None }
        )
        .await,
        Err(Error::Forbidden(_))
    ));
    let listed = s.list_tenants(&reader, None, None).await.expect("own tenant");
    assert_eq!(listed.items.len(), 1);
    s.revoke_token(&fx.admin, created.token.id).await.expect("revoke");
    assert_eq!(s.authenticate(&created.secret, Default::default()).await.err(), Some(Error::Unauthenticated));
    // Deleting a tenant takes its tokens along: a later tenant of the same name inherits none.
    let again = s
        .create_token(
            &fx.admin,
            NewToken {
                name: "globex".into(),
                tenant: Some(portcullis_types::TenantName::parse("globex").expect("valid")),
                access: Access::Write,
                expires_at: None,
            },
        )
        .await
        .expect("token");
    s.delete_tenant(&fx.admin, "globex").await.expect("delete");
    assert_eq!(s.authenticate(&again.secret, Default::default()).await.err(), Some(Error::Unauthenticated));
});
