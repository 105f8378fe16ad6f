//! Bad input of every kind gets a clear 4xx problem, never a 500, and writes nothing.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::on_every_engine;

async fn problem(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    assert_eq!(
        response.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/problem+json"),
        "problem+json for {status}"
    );
    let body: Value = response.json().await.expect("problem body is JSON");
    assert_eq!(body["status"], status.as_u16());
    assert!(body["type"].as_str().is_some_and(|t| t.starts_with("urn:portcullis:problem:")), "{body}");
    assert!(body["request_id"].is_string(), "{body}");
    (status, body)
}

async fn user_count(server: &portcullis_testkit::TestServer) -> usize {
    let page: Value =
        server.admin(Method::GET, "/tenants/acme/users").send().await.expect("send").json().await.expect("json");
    page["items"].as_array().map_or(0, Vec::len)
}

on_every_engine!(malformed_requests_get_clear_problems, |server| {
    server.admin(Method::POST, "/tenants").json(&json!({"name": "acme"})).send().await.expect("send");
    let users = "/tenants/acme/users";
    let post = |body: Vec<u8>| server.admin(Method::POST, users).header("content-type", "application/json").body(body);

    let cases: Vec<(&str, reqwest::RequestBuilder, StatusCode, &str)> = vec![
        ("malformed JSON", post(b"{\"username\":".to_vec()), StatusCode::BAD_REQUEST, "malformed-json"),
        ("trailing garbage", post(b"{\"username\":\"a\"} x".to_vec()), StatusCode::BAD_REQUEST, "malformed-json"),
        ("not an object", post(b"[1,2]".to_vec()), StatusCode::BAD_REQUEST, "validation"),
        ("wrong type", post(br#"{"username": 12}"#.to_vec()), StatusCode::BAD_REQUEST, "validation"),
        (
            "unknown field",
            post(br#"{"username": "a", "is_admin": true}"#.to_vec()),
            StatusCode::BAD_REQUEST,
            "validation",
        ),
        ("invalid UTF-8", post(b"{\"username\": \"\xc3\x28\"}".to_vec()), StatusCode::BAD_REQUEST, "malformed-json"),
        ("missing username", post(br#"{"email": "a@example.com"}"#.to_vec()), StatusCode::BAD_REQUEST, "validation"),
        (
            "bad email",
            post(br#"{"username": "a", "email": "not-an-email"}"#.to_vec()),
            StatusCode::BAD_REQUEST,
            "validation",
        ),
        (
            "bad phone",
            post(br#"{"username": "a", "phone_number": "555-1234"}"#.to_vec()),
            StatusCode::BAD_REQUEST,
            "validation",
        ),
        ("control chars", post(b"{\"username\": \"a\\u0000b\"}".to_vec()), StatusCode::BAD_REQUEST, "validation"),
        (
            "short password",
            post(br#"{"username": "a", "password": "123"}"#.to_vec()),
            StatusCode::BAD_REQUEST,
            "validation",
        ),
        (
            "unknown hash",
            post(br#"{"username": "a", "password_hash": "$md5$abc"}"#.to_vec()),
            StatusCode::BAD_REQUEST,
            "validation",
        ),
        (
            "oversized body",
            post(format!("{{\"username\":\"{}\"}}", "a".repeat(1024 * 1024 + 16)).into_bytes()),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
        ),
        (
            "wrong content type",
            server.admin(Method::POST, users).header("content-type", "text/plain").body("{}"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
        ),
        ("no token", server.raw(Method::GET, "/admin/v1/tenants"), StatusCode::UNAUTHORIZED, "unauthenticated"),
        (
            "wrong token",
            server.raw(Method::GET, "/admin/v1/tenants").bearer_auth("pct_nope"),
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        ),
        (
            "basic auth",
            server.raw(Method::GET, "/admin/v1/tenants").basic_auth("admin", Some("admin")),
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        ),
        ("unknown tenant", server.admin(Method::GET, "/tenants/nope/users"), StatusCode::NOT_FOUND, "not-found"),
        (
            "unknown user",
            server.admin(Method::GET, "/tenants/acme/users/01900000-0000-7000-8000-000000000000"),
            StatusCode::NOT_FOUND,
            "not-found",
        ),
        (
            "invalid id",
            server.admin(Method::GET, "/tenants/acme/users/not-a-uuid"),
            StatusCode::BAD_REQUEST,
            "validation",
        ),
        ("bad limit", server.admin(Method::GET, "/tenants/acme/users?limit=0"), StatusCode::BAD_REQUEST, "validation"),
        (
            "unknown query",
            server.admin(Method::GET, "/tenants/acme/users?sort=desc"),
            StatusCode::BAD_REQUEST,
            "validation",
        ),
        (
            "bad cursor",
            server.admin(Method::GET, "/tenants/acme/users?cursor=%%%"),
            StatusCode::BAD_REQUEST,
            "validation",
        ),
        (
            "bad tenant name",
            server.admin(Method::POST, "/tenants").json(&json!({"name": "Not Valid"})),
            StatusCode::BAD_REQUEST,
            "validation",
        ),
        (
            "duplicate tenant",
            server.admin(Method::POST, "/tenants").json(&json!({"name": "acme"})),
            StatusCode::CONFLICT,
            "conflict",
        ),
        ("delete admin tenant", server.admin(Method::DELETE, "/tenants/admin"), StatusCode::CONFLICT, "conflict"),
        ("unknown route", server.admin(Method::GET, "/nothing-here"), StatusCode::NOT_FOUND, "not-found"),
        ("wrong method", server.admin(Method::PUT, "/tenants"), StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed"),
        (
            "past expiry",
            server
                .admin(Method::POST, "/tokens")
                .json(&json!({"name": "t", "access": "read", "expires_at": "2000-01-01T00:00:00Z"})),
            StatusCode::BAD_REQUEST,
            "validation",
        ),
        (
            "bad access",
            server.admin(Method::POST, "/tokens").json(&json!({"name": "t", "access": "root"})),
            StatusCode::BAD_REQUEST,
            "validation",
        ),
        (
            "bad schema type",
            server.admin(Method::PUT, "/tenants/acme/schema/attributes/x").json(&json!({"name": "x", "type": "blob"})),
            StatusCode::BAD_REQUEST,
            "validation",
        ),
        (
            "bad pattern",
            server
                .admin(Method::PUT, "/tenants/acme/schema/attributes/x")
                .json(&json!({"name": "x", "type": "string", "pattern": "("})),
            StatusCode::BAD_REQUEST,
            "validation",
        ),
        (
            "name mismatch",
            server
                .admin(Method::PUT, "/tenants/acme/schema/attributes/x")
                .json(&json!({"name": "y", "type": "string"})),
            StatusCode::BAD_REQUEST,
            "validation",
        ),
        (
            "bad attribute name",
            server
                .admin(Method::PUT, "/tenants/acme/schema/attributes/a.b")
                .json(&json!({"name": "a.b", "type": "string"})),
            StatusCode::BAD_REQUEST,
            "validation",
        ),
    ];
    for (name, request, status, code) in cases {
        let (got, body) = problem(request.send().await.expect("send")).await;
        assert_eq!(got, status, "{name}: {body}");
        assert_eq!(body["type"], format!("urn:portcullis:problem:{code}"), "{name}");
    }
    assert_eq!(user_count(&server).await, 0, "no bad request wrote anything");

    // A type error names the field.
    let (_, body) =
        problem(post(br#"{"username": "a", "address": {"country": 5}}"#.to_vec()).send().await.expect("send")).await;
    assert_eq!(body["errors"][0]["field"], "address/country", "{body}");
    // Several rule violations are reported together.
    let (_, body) =
        problem(post(br#"{"username": " a", "email": "x", "locale": "!!"}"#.to_vec()).send().await.expect("send"))
            .await;
    let fields: Vec<_> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(fields, ["username", "email", "locale"]);
});

on_every_engine!(duplicates_conflict_and_write_nothing, |server| {
    server.admin(Method::POST, "/tenants").json(&json!({"name": "acme"})).send().await.expect("send");
    let create = |body: Value| server.admin(Method::POST, "/tenants/acme/users").json(&body);
    assert_eq!(
        create(json!({"username": "bob", "email": "bob@example.com"})).send().await.expect("send").status(),
        StatusCode::CREATED
    );
    let (status, body) = problem(create(json!({"username": "BOB"})).send().await.expect("send")).await;
    assert_eq!((status, body["constraint"].as_str()), (StatusCode::CONFLICT, Some("username")));
    let (status, body) =
        problem(create(json!({"username": "robert", "email": "Bob@Example.com"})).send().await.expect("send")).await;
    assert_eq!((status, body["constraint"].as_str()), (StatusCode::CONFLICT, Some("email")));
    assert_eq!(user_count(&server).await, 1);
    // The failed creates left no audit events either (one transaction per request).
    let audit: Value = server
        .admin(Method::GET, "/tenants/acme/audit?action=user.create")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(1));
});

on_every_engine!(server_errors_never_leak_internals, |server| {
    // Probe a spread of odd inputs; none may produce a 5xx.
    let paths = [
        "/tenants/acme/users/%00",
        "/tenants/%2e%2e/users",
        "/tenants/acme/users/..%2f..%2f",
        "/tenants/a/users?limit=99999999999999999999",
        "/tenants/admin/audit?since=yesterday",
        "/tenants/admin/users?status=ghost",
        "/tokens/123",
        "/tenants/admin/groups/x/members/y",
    ];
    for path in paths {
        let response = server.admin(Method::GET, path).send().await.expect("send");
        assert!(response.status().is_client_error(), "{path}: {}", response.status());
    }
});
