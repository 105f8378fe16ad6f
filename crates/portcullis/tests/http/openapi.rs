//! The OpenAPI document lists every endpoint, and every endpoint it lists is served.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::Value;

use crate::on_every_engine;

/// Every admin endpoint, as `METHOD /path`.
const ENDPOINTS: &[&str] = &[
    "GET /tenants",
    "POST /tenants",
    "GET /tenants/{tenant}",
    "PATCH /tenants/{tenant}",
    "DELETE /tenants/{tenant}",
    "GET /tenants/{tenant}/users",
    "POST /tenants/{tenant}/users",
    "POST /tenants/{tenant}/users:import",
    "GET /tenants/{tenant}/users/{id}",
    "PATCH /tenants/{tenant}/users/{id}",
    "DELETE /tenants/{tenant}/users/{id}",
    "PUT /tenants/{tenant}/users/{id}/password",
    "GET /tenants/{tenant}/password-policy",
    "PUT /tenants/{tenant}/password-policy",
    "POST /tenants/{tenant}/users/{id}/disable",
    "POST /tenants/{tenant}/users/{id}/enable",
    "GET /tenants/{tenant}/users/{id}/effective",
    "GET /tenants/{tenant}/users/{id}/sessions",
    "DELETE /tenants/{tenant}/users/{id}/sessions",
    "DELETE /tenants/{tenant}/users/{id}/sessions/{sid}",
    "GET /tenants/{tenant}/users/{id}/credentials",
    "DELETE /tenants/{tenant}/users/{id}/credentials/{credential}",
    "POST /tenants/{tenant}/users/{id}/mfa:reset",
    "POST /tenants/{tenant}/users/{id}/certificates",
    "GET /tenants/{tenant}/users/{id}/requirements",
    "PUT /tenants/{tenant}/users/{id}/requirements/{requirement}",
    "DELETE /tenants/{tenant}/users/{id}/requirements/{requirement}",
    "GET /tenants/{tenant}/auth-policy",
    "PUT /tenants/{tenant}/auth-policy",
    "GET /tenants/{tenant}/email-templates/{purpose}/{language}",
    "PUT /tenants/{tenant}/email-templates/{purpose}/{language}",
    "DELETE /tenants/{tenant}/email-templates/{purpose}/{language}",
    "GET /tenants/{tenant}/sms-templates/{language}",
    "PUT /tenants/{tenant}/sms-templates/{language}",
    "DELETE /tenants/{tenant}/sms-templates/{language}",
    "GET /tenants/{tenant}/users/{id}/roles",
    "PUT /tenants/{tenant}/users/{id}/roles/{role}",
    "DELETE /tenants/{tenant}/users/{id}/roles/{role}",
    "GET /tenants/{tenant}/groups",
    "POST /tenants/{tenant}/groups",
    "GET /tenants/{tenant}/groups/{id}",
    "PATCH /tenants/{tenant}/groups/{id}",
    "DELETE /tenants/{tenant}/groups/{id}",
    "GET /tenants/{tenant}/groups/{id}/members",
    "PUT /tenants/{tenant}/groups/{id}/members/{user}",
    "DELETE /tenants/{tenant}/groups/{id}/members/{user}",
    "GET /tenants/{tenant}/groups/{id}/roles",
    "PUT /tenants/{tenant}/groups/{id}/roles/{role}",
    "DELETE /tenants/{tenant}/groups/{id}/roles/{role}",
    "GET /tenants/{tenant}/roles",
    "POST /tenants/{tenant}/roles",
    "GET /tenants/{tenant}/roles/{id}",
    "PATCH /tenants/{tenant}/roles/{id}",
    "DELETE /tenants/{tenant}/roles/{id}",
    "GET /tenants/{tenant}/schema",
    "PUT /tenants/{tenant}/schema/attributes/{name}",
    "DELETE /tenants/{tenant}/schema/attributes/{name}",
    "GET /tenants/{tenant}/clients",
    "POST /tenants/{tenant}/clients",
    "GET /tenants/{tenant}/clients/{client_id}",
    "PATCH /tenants/{tenant}/clients/{client_id}",
    "DELETE /tenants/{tenant}/clients/{client_id}",
    "POST /tenants/{tenant}/clients/{client_id}/secret",
    "GET /tenants/{tenant}/authz/model",
    "PUT /tenants/{tenant}/authz/model",
    "GET /tenants/{tenant}/authz/tuples",
    "POST /tenants/{tenant}/authz/tuples",
    "POST /tenants/{tenant}/authz/query",
    "GET /tenants/{tenant}/authz/policies",
    "PUT /tenants/{tenant}/authz/policies",
    "GET /tenants/{tenant}/authz/policies/schema",
    "POST /tenants/{tenant}/authz/policies:test",
    "GET /tenants/{tenant}/authz/settings",
    "PUT /tenants/{tenant}/authz/settings",
    "GET /tenants/{tenant}/registration-tokens",
    "POST /tenants/{tenant}/registration-tokens",
    "DELETE /tenants/{tenant}/registration-tokens/{id}",
    "GET /tenants/{tenant}/scopes",
    "PUT /tenants/{tenant}/scopes/{name}",
    "DELETE /tenants/{tenant}/scopes/{name}",
    "GET /tenants/{tenant}/keys",
    "POST /tenants/{tenant}/keys:rotate",
    "GET /tokens",
    "POST /tokens",
    "DELETE /tokens/{id}",
    "GET /tenants/{tenant}/audit",
];

/// The flow API: in the same document, served from the issuer (each path names `/` as its
/// server) and authenticated by a flow token, not an admin token.
const FLOW_ENDPOINTS: &[&str] = &[
    "POST /t/{tenant}/flows/login",
    "POST /t/{tenant}/flows/settings",
    "GET /t/{tenant}/flows/{id}",
    "POST /t/{tenant}/flows/{id}",
];

on_every_engine!(openapi_lists_exactly_what_is_served, |server| {
    let doc: Value =
        server.raw(Method::GET, "/admin/v1/openapi.json").send().await.expect("send").json().await.expect("json");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "OpenAPI 3.1: {}", doc["openapi"]);
    assert_eq!(doc["servers"][0]["url"], "/admin/v1");
    let mut documented = BTreeSet::new();
    let mut operation_ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "post", "put", "patch", "delete"] {
            if let Some(operation) = item.get(method) {
                documented.insert(format!("{} {path}", method.to_uppercase()));
                // OpenAPI 3.1 §4.8.10: operation ids are unique (code generators name methods by them).
                let id = operation["operationId"].as_str().unwrap_or_default().to_owned();
                assert!(operation_ids.insert(id.clone()), "operationId {id:?} of {method} {path} is not unique");
                if path.starts_with("/t/") {
                    assert_eq!(item["servers"][0]["url"], "/", "{path} is served from the root");
                    continue;
                }
                assert!(
                    operation["responses"].as_object().is_some_and(|r| r.contains_key("401")),
                    "{method} {path} documents its errors"
                );
            }
        }
    }
    // Every `$ref` points at a schema the document defines.
    let text = doc.to_string();
    for reference in text.split("\"$ref\":\"").skip(1) {
        let target = reference.split('"').next().unwrap_or_default();
        let name = target.strip_prefix("#/components/schemas/").expect("local schema reference");
        assert!(doc["components"]["schemas"].get(name).is_some(), "dangling $ref {target}");
    }
    let expected: BTreeSet<String> = ENDPOINTS.iter().chain(FLOW_ENDPOINTS).map(|e| (*e).to_owned()).collect();
    assert_eq!(documented, expected);

    // Every documented operation is routed: it may refuse the dummy values, but it is never
    // "no such endpoint" or "method not allowed".
    for endpoint in ENDPOINTS {
        let (method, path) = endpoint.split_once(' ').expect("method and path");
        let concrete = path
            .replace("{tenant}", "admin")
            .replace("{id}", "01900000-0000-7000-8000-000000000000")
            .replace("{user}", "01900000-0000-7000-8000-000000000001")
            .replace("{role}", "01900000-0000-7000-8000-000000000002")
            .replace("{name}", "probe")
            .replace("{client_id}", "probe-client")
            .replace("{sid}", "probe-session")
            .replace("{credential}", "probe-credential")
            .replace("{requirement}", "enrol_mfa")
            .replace("{purpose}", "login_code")
            .replace("{language}", "de");
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = server.admin(method.clone(), &concrete);
        if concrete.ends_with("users:import") {
            request = request.header("content-type", "application/x-ndjson").body("");
        } else if method != Method::GET && method != Method::DELETE {
            request = request.header("content-type", "application/json").body("{}");
        }
        let response = request.send().await.expect("send");
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert_ne!(status, 405, "{endpoint} is routed");
        assert!(!body.contains("no such endpoint"), "{endpoint} is routed: {body}");
        assert!(!status.is_server_error(), "{endpoint}: {status} {body}");
    }
    for endpoint in FLOW_ENDPOINTS {
        let (method, path) = endpoint.split_once(' ').expect("method and path");
        let concrete = path.replace("{tenant}", "admin").replace("{id}", "probe-flow");
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let response = server
            .raw(method, &concrete)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("send");
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert_ne!(status, 405, "{endpoint} is routed");
        assert!(!body.contains("no such endpoint") && !status.is_server_error(), "{endpoint}: {status} {body}");
    }
});
