//! Health, readiness, metrics and request ids.

use reqwest::Method;
use serde_json::Value;

use crate::on_every_engine;

on_every_engine!(health_readiness_and_metrics, |server| {
    let health = server.raw(Method::GET, "/healthz").send().await.expect("send");
    assert_eq!(health.status(), 200);
    let ready: Value = server.raw(Method::GET, "/readyz").send().await.expect("send").json().await.expect("json");
    assert_eq!(ready["status"], "ready");
    let _ = server.admin(Method::GET, "/tenants").send().await.expect("send");
    let metrics = server.raw(Method::GET, "/metrics").send().await.expect("send").text().await.expect("text");
    for needle in [
        "portcullis_http_requests_total{method=\"GET\",route=\"/admin/v1/tenants\",status=\"200\"}",
        "portcullis_http_request_duration_seconds_bucket",
        "portcullis_db_pool_connections",
        "portcullis_hash_pool_waiting",
    ] {
        assert!(metrics.contains(needle), "metrics lack {needle}:\n{metrics}");
    }
});

on_every_engine!(request_ids_are_echoed, |server| {
    let response =
        server.raw(Method::GET, "/healthz").header("x-request-id", "trace-me-123").send().await.expect("send");
    assert_eq!(response.headers()["x-request-id"], "trace-me-123");
    // Arbitrary text is not echoed (it would land in logs and the audit log): a new id replaces it.
    let hostile =
        server.raw(Method::GET, "/healthz").header("x-request-id", "a b\" <script>").send().await.expect("send");
    let replaced = hostile.headers()["x-request-id"].to_str().expect("ascii").to_owned();
    assert_ne!(replaced, "a b\" <script>");
    assert_eq!(replaced.len(), 36, "a UUID: {replaced}");
    let generated = server.raw(Method::GET, "/healthz").send().await.expect("send");
    assert!(generated.headers().contains_key("x-request-id"));
    assert_eq!(generated.headers()["x-content-type-options"], "nosniff");
});

/// A request still streaming its body when shutdown begins is finished, not cut off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_in_flight_requests() {
    let mut server = portcullis_testkit::TestServer::start(portcullis_testkit::Engine::Sqlite).await.expect("server");
    server.admin(Method::POST, "/tenants").json(&serde_json::json!({"name": "shop"})).send().await.expect("send");
    let (lines, receiver) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let stream =
        futures::stream::unfold(
            receiver,
            |mut receiver| async move { receiver.recv().await.map(|line| (line, receiver)) },
        );
    let upload = server
        .admin(Method::POST, "/tenants/shop/users:import")
        .header("content-type", "application/x-ndjson")
        .body(reqwest::Body::wrap_stream(stream))
        .send();
    let upload = tokio::spawn(upload);
    lines.send(Ok(b"{\"username\": \"first\"}\n".to_vec())).await.expect("line");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    server.begin_shutdown();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    lines.send(Ok(b"{\"username\": \"second\"}\n".to_vec())).await.expect("line");
    drop(lines);
    let response = upload.await.expect("joins").expect("the in-flight request completes");
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.expect("json");
    assert_eq!(report["imported"], 2, "{report}");
    server.stop().await.expect("stops after the request");
}
