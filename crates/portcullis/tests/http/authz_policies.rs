//! Cedar policies through the whole API: stored and validated against the schema derived from
//! the user schema and model, decided through AuthZEN with the directory's attributes and
//! roles, request properties and context — a forbid winning over a relation — and tried out
//! by the policy test endpoint without being stored.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::authzen::{post, token};
use crate::on_every_engine;

const MODEL: &str = "type user\ntype doc\n  relations\n    define viewer: [user]";

const POLICIES: &str = r#"
@id("editors-edit")
permit (principal in Role::"editor", action == Action::"edit", resource is doc);

@id("eu-premium-stream")
permit (principal, action == Action::"stream", resource is title)
when { principal has department && principal.department == "media"
    && context has region && context.region == "eu" && resource has premium && resource.premium };

@id("block-risky")
forbid (principal, action, resource) when { context has risk && context.risk > 80 };

@id("owner")
permit (principal == ?principal, action, resource == ?resource);
"#;

fn document(owner: &str) -> Value {
    json!({
        "policies": POLICIES,
        "links": [{"id": "owner-of-x", "template": "owner", "principal": format!("User::\"{owner}\""), "resource": "doc::\"x\""}],
        "entity_types": {"title": {"premium": "Boolean"}},
        "actions": {"edit": ["doc"], "stream": ["title"]}
    })
}

fn ask(subject: &str, action: &str, resource: Value, context: Value) -> Value {
    json!({"subject": {"type": "user", "id": subject}, "action": {"name": action}, "resource": resource, "context": context})
}

on_every_engine!(cedar_policies_decide_through_authzen, |server| {
    server.admin_json(Method::POST, "/tenants", Some(json!({"name": "acme"}))).await.expect("tenant");
    server
        .admin_json(
            Method::PUT,
            "/tenants/acme/schema/attributes/department",
            Some(json!({"name": "department", "type": "string"})),
        )
        .await
        .expect("attribute");
    server.admin_json(Method::PUT, "/tenants/acme/authz/model", Some(json!({"dsl": MODEL}))).await.expect("model");
    let (_, user) = server
        .admin_json(
            Method::POST,
            "/tenants/acme/users",
            Some(json!({"username": "mia", "email": "mia@example.com", "attributes": {"department": "media"}})),
        )
        .await
        .expect("user");
    let mia = user["id"].as_str().expect("id").to_owned();
    let (_, role) =
        server.admin_json(Method::POST, "/tenants/acme/roles", Some(json!({"name": "editor"}))).await.expect("role");

    // The derived schema knows the user's attributes and the model's relations.
    let (_, schema) =
        server.admin_json(Method::GET, "/tenants/acme/authz/policies/schema", None).await.expect("schema");
    assert_eq!(schema[""]["entityTypes"]["User"]["shape"]["attributes"]["department"]["type"], "String", "{schema}");
    assert!(schema[""]["actions"]["viewer"].is_object());

    // Refused: a policy on an attribute no schema declares, an action nobody declared.
    let mut bad = document(&mia);
    bad["entity_types"] = json!({});
    let (status, problem) =
        server.admin_json(Method::PUT, "/tenants/acme/authz/policies", Some(bad)).await.expect("put");
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("policies")),
        "{problem}"
    );
    let mut bad = document(&mia);
    bad["policies"] = json!("permit (principal, action, resource) when { ");
    let (status, _) = server.admin_json(Method::PUT, "/tenants/acme/authz/policies", Some(bad)).await.expect("put");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = server.admin_json(Method::GET, "/tenants/acme/authz/policies", None).await.expect("get");
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing was stored");

    let (status, stored) =
        server.admin_json(Method::PUT, "/tenants/acme/authz/policies", Some(document(&mia))).await.expect("put");
    assert_eq!((status, stored["count"].as_u64()), (StatusCode::OK, Some(4)), "{stored}");
    server
        .admin_json(
            Method::POST,
            "/tenants/acme/authz/tuples",
            Some(json!({"writes": [format!("doc:plan#viewer@user:{mia}")]})),
        )
        .await
        .expect("tuple");

    let pep = token(&server, "acme", "authzen").await;
    let premium = json!({"type": "title", "id": "t1", "properties": {"premium": true}});
    let (_, answer) =
        post(&server, &pep, "evaluation", ask(&mia, "stream", premium.clone(), json!({"region": "eu"}))).await;
    assert_eq!(answer["decision"], true, "{answer}");
    assert_eq!(answer["context"]["policies"], json!(["eu-premium-stream"]));
    let (_, answer) =
        post(&server, &pep, "evaluation", ask(&mia, "stream", premium.clone(), json!({"region": "us"}))).await;
    assert_eq!(answer["decision"], false);
    let basic = json!({"type": "title", "id": "t2", "properties": {"premium": false}});
    let (_, answer) = post(&server, &pep, "evaluation", ask(&mia, "stream", basic, json!({"region": "eu"}))).await;
    assert_eq!(answer["decision"], false);

    // A relation allows; a forbid wins over it.
    let plan = json!({"type": "doc", "id": "plan"});
    let (_, answer) = post(&server, &pep, "evaluation", ask(&mia, "viewer", plan.clone(), json!({"risk": 10}))).await;
    assert_eq!(answer["decision"], true, "{answer}");
    let (_, answer) = post(&server, &pep, "evaluation", ask(&mia, "viewer", plan.clone(), json!({"risk": 95}))).await;
    assert_eq!(
        (answer["decision"].as_bool(), answer["context"]["policies"].clone()),
        (Some(false), json!(["block-risky"]))
    );

    // RBAC in Cedar: the role is the user's parent.
    let (_, answer) = post(&server, &pep, "evaluation", ask(&mia, "edit", plan.clone(), json!({}))).await;
    assert_eq!(answer["decision"], false);
    server
        .admin_json(Method::PUT, &format!("/tenants/acme/users/{mia}/roles/{}", role["id"].as_str().expect("id")), None)
        .await
        .expect("assign");
    let (_, answer) = post(&server, &pep, "evaluation", ask(&mia, "edit", plan.clone(), json!({}))).await;
    assert_eq!(answer["context"]["policies"], json!(["editors-edit"]), "{answer}");
    // The linked template.
    let (_, answer) =
        post(&server, &pep, "evaluation", ask(&mia, "viewer", json!({"type": "doc", "id": "x"}), json!({}))).await;
    assert_eq!(answer["context"]["policies"], json!(["owner-of-x"]), "{answer}");
    let (_, actions) =
        post(&server, &pep, "search/action", json!({"subject": {"type": "user", "id": mia}, "resource": plan.clone()}))
            .await;
    assert_eq!(actions["results"], json!([{"name": "edit"}, {"name": "viewer"}]), "{actions}");

    // The test endpoint: the stored policies, then a candidate document, neither stored.
    let question = json!({"subject": {"type": "user", "id": mia}, "action": "viewer", "resource": {"type": "doc", "id": "plan"},
                          "context": {"risk": 95}});
    let (_, tried) = server
        .admin_json(Method::POST, "/tenants/acme/authz/policies:test", Some(question.clone()))
        .await
        .expect("test");
    assert_eq!(
        (tried["decision"].as_bool(), tried["reason"]["kind"].as_str()),
        (Some(false), Some("forbid")),
        "{tried}"
    );
    let mut candidate = question.clone();
    candidate["document"] = json!({"policies": "@id(\"lenient\") permit (principal, action, resource);"});
    let (_, tried) =
        server.admin_json(Method::POST, "/tenants/acme/authz/policies:test", Some(candidate)).await.expect("test");
    assert_eq!(
        (tried["decision"].as_bool(), tried["reason"]["policies"].clone()),
        (Some(true), json!(["lenient"])),
        "{tried}"
    );
    let (_, still) = server.admin_json(Method::GET, "/tenants/acme/authz/policies", None).await.expect("get");
    assert_eq!(still["count"], 4, "a test stores nothing");
    let (_, audit) =
        server.admin_json(Method::GET, "/tenants/acme/audit?action=authz.policies.put", None).await.expect("audit");
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(1));
});
