//! Relationship-based authorization through the admin API: the model, tuples written in
//! transactions with preconditions, queries at a consistency token, the directory's roles and
//! groups as relations — and the refusals, each leaving nothing written.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::on_every_engine;

const MODEL: &str = "model
  schema 1.1
type user
type role
  relations
    define assignee: [user]
type group
  relations
    define member: [user, group#member]
type folder
  relations
    define owner: [user]
    define viewer: [user, group#member, role#assignee] or owner
type doc
  relations
    define parent: [folder]
    define owner: [user]
    define blocked: [user]
    define viewer: ([user, user:*] or owner or viewer from parent) but not blocked
";

async fn query(server: &portcullis_testkit::TestServer, body: Value) -> (StatusCode, Value) {
    server.admin_json(Method::POST, "/tenants/acme/authz/query", Some(body)).await.expect("query")
}

async fn check(
    server: &portcullis_testkit::TestServer,
    object: &str,
    relation: &str,
    subject: &str,
    token: &str,
) -> bool {
    let (status, answer) = query(
        server,
        json!({"query": "check", "object": object, "relation": relation, "subject": subject, "consistency_token": token}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer["allowed"].as_bool().expect("allowed")
}

async fn write(server: &portcullis_testkit::TestServer, body: Value) -> (StatusCode, Value) {
    server.admin_json(Method::POST, "/tenants/acme/authz/tuples", Some(body)).await.expect("write")
}

async fn stored(server: &portcullis_testkit::TestServer) -> Vec<String> {
    let (_, page) = server.admin_json(Method::GET, "/tenants/acme/authz/tuples", None).await.expect("list");
    page["items"].as_array().expect("items").iter().map(|t| t.as_str().expect("text").to_owned()).collect()
}

on_every_engine!(relationships_model_tuples_and_queries, |server| {
    server.admin_json(Method::POST, "/tenants", Some(json!({"name": "acme"}))).await.expect("tenant");
    let (status, problem) = write(&server, json!({"writes": ["doc:a#owner@user:anne"]})).await;
    assert_eq!((status, problem["constraint"].as_str()), (StatusCode::CONFLICT, Some("authz_model")), "{problem}");

    let (status, model) =
        server.admin_json(Method::PUT, "/tenants/acme/authz/model", Some(json!({"dsl": MODEL}))).await.expect("put");
    assert_eq!(status, StatusCode::OK, "{model}");
    assert_eq!(model["model"]["types"]["doc"]["relations"]["parent"], json!({"direct": [{"type": "folder"}]}));
    let (_, read) = server.admin_json(Method::GET, "/tenants/acme/authz/model", None).await.expect("get");
    assert_eq!(read["model"], model["model"]);
    assert!(read["dsl"].as_str().expect("dsl").contains("viewer from parent"));

    let (status, written) = write(
        &server,
        json!({"writes": [
            "doc:plan#parent@folder:eng",
            "folder:eng#viewer@group:eng#member",
            "group:eng#member@user:bob",
            "doc:plan#owner@user:anne",
            "doc:memo#viewer@user:*",
            "doc:memo#blocked@user:carl",
        ]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{written}");
    assert_eq!(written["written"], 6);
    let token = written["consistency_token"].as_str().expect("token").to_owned();
    assert!(check(&server, "doc:plan", "viewer", "user:bob", &token).await, "through folder and group");
    assert!(check(&server, "doc:plan", "viewer", "user:anne", &token).await, "owner");
    assert!(!check(&server, "doc:plan", "viewer", "user:carl", &token).await);
    assert!(check(&server, "doc:memo", "viewer", "user:dora", &token).await, "wildcard");
    assert!(!check(&server, "doc:memo", "viewer", "user:carl", &token).await, "exclusion");

    let (_, listed) =
        query(&server, json!({"query": "list_objects", "object": "doc", "relation": "viewer", "subject": "user:bob"}))
            .await;
    assert_eq!(listed["results"], json!(["doc:memo", "doc:plan"]));
    let (_, listed) = query(
        &server,
        json!({"query": "list_subjects", "object": "doc:plan", "relation": "viewer", "subject": "user"}),
    )
    .await;
    assert_eq!(listed["results"], json!(["user:anne", "user:bob"]));
    let (_, expanded) = query(&server, json!({"query": "expand", "object": "folder:eng", "relation": "viewer"})).await;
    assert_eq!(expanded["tree"]["union"][0]["leaf"], json!(["group:eng#member"]), "{expanded}");
    let (_, contextual) = query(
        &server,
        json!({"query": "check", "object": "doc:plan", "relation": "viewer", "subject": "user:erin",
               "contextual_tuples": ["group:eng#member@user:erin"]}),
    )
    .await;
    assert_eq!(contextual["allowed"], true, "a contextual tuple counts for its query only");
    assert!(!check(&server, "doc:plan", "viewer", "user:erin", &token).await);

    // Refusals change nothing: a duplicate, a failed precondition, a tuple the model refuses.
    let before = stored(&server).await;
    let (status, problem) =
        write(&server, json!({"writes": ["doc:x#owner@user:zed", "group:eng#member@user:bob"]})).await;
    assert_eq!((status, problem["constraint"].as_str()), (StatusCode::CONFLICT, Some("tuple_exists")), "{problem}");
    let (status, problem) = write(
        &server,
        json!({"writes": ["doc:x#owner@user:zed"],
               "preconditions": [{"must": "not_match", "filter": {"object": "doc:plan", "relation": "owner"}}]}),
    )
    .await;
    assert_eq!((status, problem["constraint"].as_str()), (StatusCode::CONFLICT, Some("precondition")), "{problem}");
    let (status, problem) =
        write(&server, json!({"writes": ["doc:x#owner@user:zed", "doc:x#viewer@group:eng#member", "doc:x#owner@bad"]}))
            .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    let fields: Vec<&str> =
        problem["errors"].as_array().expect("errors").iter().map(|e| e["field"].as_str().expect("field")).collect();
    assert_eq!(fields, ["writes/2", "writes/1"], "{problem}");
    let (status, _) = write(&server, json!({"deletes": ["doc:nothing#owner@user:zed"]})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(stored(&server).await, before, "nothing was written by a refused request");

    let (status, again) = write(
        &server,
        json!({"writes": ["group:eng#member@user:bob"], "on_duplicate": "ignore",
               "preconditions": [{"must": "match", "filter": {"subject": "user:bob"}}]}),
    )
    .await;
    assert_eq!((status, again["written"].as_u64()), (StatusCode::OK, Some(0)), "{again}");
    let (_, removed) = write(&server, json!({"deletes": ["group:eng#member@user:bob"]})).await;
    let token = removed["consistency_token"].as_str().expect("token").to_owned();
    assert!(!check(&server, "doc:plan", "viewer", "user:bob", &token).await);

    // The directory's roles take part: a role holder is the userset role:auditor#assignee.
    let (_, user) = server
        .admin_json(Method::POST, "/tenants/acme/users", Some(json!({"username": "una", "email": "una@example.com"})))
        .await
        .expect("user");
    let user_id = user["id"].as_str().expect("id").to_owned();
    let (_, role) =
        server.admin_json(Method::POST, "/tenants/acme/roles", Some(json!({"name": "auditor"}))).await.expect("role");
    let role_id = role["id"].as_str().expect("id").to_owned();
    let (_, written) = write(&server, json!({"writes": ["folder:eng#viewer@role:auditor#assignee"]})).await;
    let token = written["consistency_token"].as_str().expect("token").to_owned();
    let subject = format!("user:{user_id}");
    assert!(!check(&server, "doc:plan", "viewer", &subject, &token).await);
    let (status, _) = server
        .admin_json(Method::PUT, &format!("/tenants/acme/users/{user_id}/roles/{role_id}"), None)
        .await
        .expect("assign");
    assert!(status.is_success());
    assert!(check(&server, "doc:plan", "viewer", &subject, &token).await, "the role decides");

    let (_, page) =
        server.admin_json(Method::GET, "/tenants/acme/authz/tuples?object=doc:plan&limit=1", None).await.expect("page");
    assert_eq!(page["items"], json!(["doc:plan#owner@user:anne"]));
    let cursor = page["next_cursor"].as_str().expect("cursor");
    let (_, page) = server
        .admin_json(Method::GET, &format!("/tenants/acme/authz/tuples?object=doc:plan&limit=1&cursor={cursor}"), None)
        .await
        .expect("page");
    assert_eq!(page["items"], json!(["doc:plan#parent@folder:eng"]));
    assert!(page.get("next_cursor").is_none());

    for bad in ["v2.1", "v1.x", "v1.99999999"] {
        let (status, problem) = query(
            &server,
            json!({"query": "check", "object": "doc:plan", "relation": "viewer", "subject": "user:anne", "consistency_token": bad}),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {problem}");
    }
    let (status, _) =
        query(&server, json!({"query": "check", "object": "doc:plan", "relation": "nothing", "subject": "user:anne"}))
            .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = server
        .admin_json(
            Method::PUT,
            "/tenants/acme/authz/model",
            Some(json!({"dsl": "type doc\n  relations\n    define v: [nobody]"})),
        )
        .await
        .expect("put");
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (_, audit) =
        server.admin_json(Method::GET, "/tenants/acme/audit?action=authz.tuples.write", None).await.expect("audit");
    assert_eq!(audit["items"].as_array().expect("items").len(), 3, "only writes that changed something: {audit}");
});
