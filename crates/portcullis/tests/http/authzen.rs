//! The AuthZEN Authorization API 1.0 as a policy enforcement point sees it: a client
//! credentials token with the `authzen` scope, requests and answers in the specification's
//! JSON shapes (§6–§9), the three batch semantics, paged searches, the directory's roles, and
//! the refusals.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::on_every_engine;

const MODEL: &str = "type user
type role
  relations
    define assignee: [user]
type folder
  relations
    define viewer: [user, role#assignee]
type doc
  relations
    define parent: [folder]
    define owner: [user]
    define can_read: [user] or owner or viewer from parent
    define can_edit: owner
";

/// A client credentials token of a new client of `tenant` registered for `scope`.
pub(crate) async fn token(server: &portcullis_testkit::TestServer, tenant: &str, scope: &str) -> String {
    let (_, client) = server
        .admin_json(
            Method::POST,
            &format!("/tenants/{tenant}/clients"),
            Some(json!({"client_name": "PEP", "grant_types": ["client_credentials"], "scope": scope})),
        )
        .await
        .expect("client");
    let response: Value = server
        .raw(Method::POST, &format!("/t/{tenant}/token"))
        .basic_auth(client["client_id"].as_str().expect("id"), client["client_secret"].as_str())
        .form(&[("grant_type", "client_credentials"), ("scope", scope)])
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    response["access_token"].as_str().expect("access_token").to_owned()
}

pub(crate) async fn post(
    server: &portcullis_testkit::TestServer,
    token: &str,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    let response = server
        .raw(Method::POST, &format!("/t/acme/access/v1/{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("send");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn logged_decisions(server: &portcullis_testkit::TestServer) -> Vec<Value> {
    let (_, audit) = server
        .admin_json(Method::GET, "/tenants/acme/audit?action=authz.decision&limit=100", None)
        .await
        .expect("audit");
    audit["items"].as_array().cloned().unwrap_or_default()
}

fn ask(subject: &str, action: &str, resource: &str) -> Value {
    let (kind, id) = resource.split_once(':').expect("type:id");
    json!({"subject": {"type": "user", "id": subject}, "action": {"name": action}, "resource": {"type": kind, "id": id}})
}

on_every_engine!(authzen_evaluations_searches_and_metadata, |server| {
    server.admin_json(Method::POST, "/tenants", Some(json!({"name": "acme"}))).await.expect("tenant");
    server.admin_json(Method::POST, "/tenants", Some(json!({"name": "other"}))).await.expect("tenant");
    server.admin_json(Method::PUT, "/tenants/acme/authz/model", Some(json!({"dsl": MODEL}))).await.expect("model");
    let (status, _) = server
        .admin_json(
            Method::POST,
            "/tenants/acme/authz/tuples",
            Some(json!({"writes": ["doc:1#owner@user:anne", "doc:2#parent@folder:f", "folder:f#viewer@user:bob",
                                   "doc:3#parent@folder:f", "folder:f#viewer@role:auditor#assignee"]})),
        )
        .await
        .expect("tuples");
    assert_eq!(status, StatusCode::OK);
    let pep = token(&server, "acme", "authzen").await;

    // §9: the metadata, at the inserted well-known path and under the issuer.
    let issuer = format!("{}/t/acme", server.url);
    for path in ["/.well-known/authzen-configuration/t/acme", "/t/acme/.well-known/authzen-configuration"] {
        let metadata: Value = server.raw(Method::GET, path).send().await.expect("send").json().await.expect("json");
        assert_eq!(metadata["policy_decision_point"], issuer.as_str());
        assert_eq!(metadata["access_evaluation_endpoint"], format!("{issuer}/access/v1/evaluation"));
        assert_eq!(metadata["access_evaluations_endpoint"], format!("{issuer}/access/v1/evaluations"));
        assert_eq!(metadata["search_resource_endpoint"], format!("{issuer}/access/v1/search/resource"));
    }
    let missing = server.raw(Method::GET, "/.well-known/authzen-configuration/t/nowhere").send().await.expect("send");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    // §6: single decisions with their reason.
    let (status, answer) = post(&server, &pep, "evaluation", ask("anne", "can_edit", "doc:1")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        answer,
        json!({"decision": true, "context": {"reason_admin": {"en": "user:anne has can_edit on doc:1"}}})
    );
    let (_, answer) = post(&server, &pep, "evaluation", ask("bob", "can_edit", "doc:2")).await;
    assert_eq!(answer["decision"], false);
    let (_, answer) = post(&server, &pep, "evaluation", ask("bob", "can_read", "doc:2")).await;
    assert_eq!(answer["decision"], true, "through the folder");
    let (_, answer) = post(&server, &pep, "evaluation", ask("anne", "delete", "doc:1")).await;
    assert_eq!((answer["decision"].as_bool(), answer["context"]["error"]["status"].as_u64()), (Some(false), Some(404)));
    let (status, problem) = post(&server, &pep, "evaluation", json!({"action": {"name": "can_read"}})).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("subject")));

    // §7: defaults, overrides and the three semantics.
    let batch = |semantic: &str| {
        json!({
            "subject": {"type": "user", "id": "bob"}, "action": {"name": "can_read"},
            "options": {"evaluations_semantic": semantic},
            "evaluations": [
                {"resource": {"type": "doc", "id": "2"}},
                {"resource": {"type": "doc", "id": "1"}},
                {"resource": {"type": "doc", "id": "3"}},
                {"resource": {"type": "doc", "id": "1"}, "subject": {"type": "user", "id": "anne"}}
            ]
        })
    };
    let decisions = |answer: &Value| -> Vec<bool> {
        answer["evaluations"]
            .as_array()
            .expect("evaluations")
            .iter()
            .map(|e| e["decision"].as_bool().expect("bool"))
            .collect()
    };
    let (_, all) = post(&server, &pep, "evaluations", batch("execute_all")).await;
    assert_eq!(decisions(&all), [true, false, true, true]);
    let (_, deny) = post(&server, &pep, "evaluations", batch("deny_on_first_deny")).await;
    assert_eq!(decisions(&deny), [true, false]);
    let (_, permit) = post(&server, &pep, "evaluations", batch("permit_on_first_permit")).await;
    assert_eq!(decisions(&permit), [true]);
    let (status, _) = post(&server, &pep, "evaluations", batch("most_of_them")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, single) = post(&server, &pep, "evaluations", ask("anne", "can_read", "doc:1")).await;
    assert_eq!(single["decision"], true, "without an array, one evaluation (§7.1)");

    // RBAC: a holder of the auditor role reads what the role may.
    let (_, user) = server
        .admin_json(Method::POST, "/tenants/acme/users", Some(json!({"username": "ada", "email": "ada@example.com"})))
        .await
        .expect("user");
    let ada = user["id"].as_str().expect("id").to_owned();
    let (_, role) =
        server.admin_json(Method::POST, "/tenants/acme/roles", Some(json!({"name": "auditor"}))).await.expect("role");
    let (_, answer) = post(&server, &pep, "evaluation", ask(&ada, "can_read", "doc:3")).await;
    assert_eq!(answer["decision"], false);
    server
        .admin_json(Method::PUT, &format!("/tenants/acme/users/{ada}/roles/{}", role["id"].as_str().expect("id")), None)
        .await
        .expect("assign");
    let (_, answer) = post(&server, &pep, "evaluation", ask(&ada, "can_read", "doc:3")).await;
    assert_eq!(answer["decision"], true, "the role decides");

    // A write answered at its consistency token.
    let (_, written) = server
        .admin_json(Method::POST, "/tenants/acme/authz/tuples", Some(json!({"writes": ["doc:9#owner@user:anne"]})))
        .await
        .expect("write");
    let mut fresh = ask("anne", "can_edit", "doc:9");
    fresh["context"] = json!({"consistency_token": written["consistency_token"]});
    let (_, answer) = post(&server, &pep, "evaluation", fresh).await;
    assert_eq!(answer["decision"], true);

    // §8: searches, paged.
    let search = json!({"subject": {"type": "user", "id": "bob"}, "action": {"name": "can_read"},
                        "resource": {"type": "doc"}, "page": {"limit": 1}});
    let (_, first) = post(&server, &pep, "search/resource", search.clone()).await;
    assert_eq!(first["results"], json!([{"type": "doc", "id": "2"}]));
    let mut next = search.clone();
    next["page"]["token"] = first["page"]["next_token"].clone();
    let (_, second) = post(&server, &pep, "search/resource", next).await;
    assert_eq!(second["results"], json!([{"type": "doc", "id": "3"}]));
    assert_eq!(second["page"]["next_token"], "");
    let (_, subjects) = post(
        &server,
        &pep,
        "search/subject",
        json!({"subject": {"type": "user"}, "action": {"name": "can_read"}, "resource": {"type": "doc", "id": "1"}}),
    )
    .await;
    assert_eq!(subjects["results"], json!([{"type": "user", "id": "anne"}]));
    let (_, actions) = post(
        &server,
        &pep,
        "search/action",
        json!({"subject": {"type": "user", "id": "anne"}, "resource": {"type": "doc", "id": "1"}}),
    )
    .await;
    assert_eq!(actions["results"], json!([{"name": "can_edit"}, {"name": "can_read"}, {"name": "owner"}]));

    // Decision logging: every decision at a sample of 1, none at 0.
    let (status, _) = server
        .admin_json(Method::PUT, "/tenants/acme/authz/settings", Some(json!({"decision_log_sample": 2.0})))
        .await
        .expect("settings");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    server
        .admin_json(Method::PUT, "/tenants/acme/authz/settings", Some(json!({"decision_log_sample": 1.0})))
        .await
        .expect("settings");
    post(&server, &pep, "evaluation", ask("anne", "can_edit", "doc:1")).await;
    post(&server, &pep, "evaluations", batch("execute_all")).await;
    let mut events = Vec::new();
    for _ in 0..100 {
        events = logged_decisions(&server).await;
        if events.len() >= 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(events.len(), 5, "one event per decision: {events:?}");
    let first = events.last().expect("oldest");
    assert_eq!(first["actor"].as_str().map(|a| a.starts_with("client:")), Some(true), "{first}");
    assert_eq!(first["after"]["decision"], true, "{first}");
    assert_eq!(first["after"]["subject"], "user:anne");
    assert_eq!(first["after"]["reason"]["kind"], "relation");
    server
        .admin_json(Method::PUT, "/tenants/acme/authz/settings", Some(json!({"decision_log_sample": 0.0})))
        .await
        .expect("settings");
    post(&server, &pep, "evaluation", ask("anne", "can_edit", "doc:1")).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(logged_decisions(&server).await.len(), 5, "nothing logged at a sample of 0");

    // Malformed requests: a clear 400 each.
    let many: Vec<Value> = (0..1001).map(|i| json!({"resource": {"type": "doc", "id": i.to_string()}})).collect();
    for (path, body) in [
        (
            "evaluation",
            json!({"subject": {"type": "user"}, "action": {"name": "can_read"}, "resource": {"type": "doc", "id": "1"}}),
        ),
        (
            "evaluation",
            json!({"subject": "anne", "action": {"name": "can_read"}, "resource": {"type": "doc", "id": "1"}}),
        ),
        (
            "evaluations",
            json!({"subject": {"type": "user", "id": "bob"}, "action": {"name": "can_read"}, "evaluations": many}),
        ),
        (
            "search/resource",
            json!({"subject": {"type": "user", "id": "bob"}, "action": {"name": "can_read"},
                                   "resource": {"type": "doc"}, "page": {"token": "%%%"}}),
        ),
        (
            "search/resource",
            json!({"subject": {"type": "user", "id": "bob"}, "action": {"name": "can_read"},
                                   "resource": {"type": "doc"}, "page": {"limit": 0}}),
        ),
        (
            "evaluation",
            json!({"subject": {"type": "user", "id": "bob"}, "action": {"name": "can_read"},
                              "resource": {"type": "doc", "id": "1"}, "context": {"consistency_token": "v1.99999999"}}),
        ),
    ] {
        let (status, problem) = post(&server, &pep, path, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {problem}");
    }
    let not_json = server
        .raw(Method::POST, "/t/acme/access/v1/evaluation")
        .bearer_auth(&pep)
        .header("content-type", "application/json")
        .body("{\"subject\": ")
        .send()
        .await
        .expect("send");
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);

    // Refusals: no token, a forged one, one without the scope, one of another tenant.
    let bare = server
        .raw(Method::POST, "/t/acme/access/v1/evaluation")
        .json(&ask("anne", "can_read", "doc:1"))
        .send()
        .await
        .expect("send");
    assert_eq!(bare.status(), StatusCode::UNAUTHORIZED);
    assert!(bare.headers()["www-authenticate"].to_str().expect("ascii").starts_with("Bearer"));
    let (status, _) = post(&server, &format!("{pep}x"), "evaluation", ask("anne", "can_read", "doc:1")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let unscoped = token(&server, "acme", "reports").await;
    let response = server
        .raw(Method::POST, "/t/acme/access/v1/evaluation")
        .bearer_auth(&unscoped)
        .json(&ask("anne", "can_read", "doc:1"))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.headers()["www-authenticate"].to_str().expect("ascii").contains("insufficient_scope"));
    let foreign = token(&server, "other", "authzen").await;
    let (status, _) = post(&server, &foreign, "evaluation", ask("anne", "can_read", "doc:1")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a token of another tenant");
    let (status, _) = server
        .admin_json(Method::PUT, "/tenants/acme/scopes/authzen", Some(json!({"description": "x", "claims": []})))
        .await
        .expect("scope");
    assert_eq!(status, StatusCode::BAD_REQUEST, "the authzen scope is reserved");
});
