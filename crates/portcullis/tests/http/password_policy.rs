//! The tenant's password policy as an administrator meets it: the most common passwords,
//! length, strength, and a breached-password range API (a real HTTP server in the test) that
//! learns only five hex digits of the SHA-1; unreachable, it lets the password through.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha1::{Digest, Sha1};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::on_every_engine;

const BREACHED: &str = "unusual Lantern 97 orbit";

/// A range API answering every request with `body`; returns its base URL and the paths asked.
async fn range_server(body: String) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/range/", listener.local_addr().expect("address"));
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = asked.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = vec![0u8; 4096];
            let n = socket.read(&mut request).await.unwrap_or(0);
            let text = String::from_utf8_lossy(&request[..n]).into_owned();
            let path = text.split(' ').nth(1).unwrap_or_default().to_owned();
            seen.lock().expect("lock").push(path);
            let answer =
                format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    (url, asked)
}

async fn create(server: &portcullis_testkit::TestServer, username: &str, password: &str) -> (StatusCode, Value) {
    server
        .admin_json(
            Method::POST,
            "/tenants/acme/users",
            Some(json!({"username": username, "email": format!("{username}@example.com"), "password": password})),
        )
        .await
        .expect("create")
}

on_every_engine!(new_passwords_meet_the_tenants_policy, |server| {
    server
        .admin_json(Method::POST, "/tenants", Some(json!({"name": "acme", "profile": "customer"})))
        .await
        .expect("tenant");
    let (_, policy) = server.admin_json(Method::GET, "/tenants/acme/password-policy", None).await.expect("policy");
    assert_eq!(policy, json!({"min_length": 8, "min_strength": 2, "reject_common": true}));

    for common in ["password1", "P@ssw0rd123", "qwertyuiop"] {
        let (status, problem) = create(&server, "ann", common).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{common}");
        assert_eq!(problem["errors"][0]["field"], "password");
    }
    let (status, problem) = create(&server, "ann", "ann@example.com").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the user's own e-mail: {problem}");
    let (status, _) = create(&server, "ann", "tangerine bicycle quietly").await;
    assert_eq!(status, StatusCode::CREATED);

    let (status, _) = server
        .admin_json(
            Method::PUT,
            "/tenants/acme/password-policy",
            Some(json!({"min_length": 4, "min_strength": 2, "reject_common": true})),
        )
        .await
        .expect("policy");
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A breached-password range API: only the first five hex digits of the SHA-1 leave.
    let digest = hex::encode_upper(Sha1::digest(BREACHED.as_bytes()));
    let (url, asked) = range_server(format!("{}:42\r\n0000000000000000000000000000000000A:0\r\n", &digest[5..])).await;
    let (status, _) = server
        .admin_json(
            Method::PUT,
            "/tenants/acme/password-policy",
            Some(json!({"min_length": 14, "min_strength": 2, "reject_common": true, "breached_range_url": url})),
        )
        .await
        .expect("policy");
    assert_eq!(status, StatusCode::OK);
    let (status, problem) = create(&server, "bob", "short phrase").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(problem["errors"][0]["reason"].as_str().expect("reason").contains("14"), "{problem}");
    let (status, problem) = create(&server, "bob", BREACHED).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(problem["errors"][0]["reason"].as_str().expect("reason").contains("breach"), "{problem}");
    assert!(asked.lock().expect("lock").iter().all(|path| path.len() == "/range/".len() + 5), "{asked:?}");
    let (status, user) = create(&server, "bob", "marble umbrella westward").await;
    assert_eq!(status, StatusCode::CREATED);

    // Setting a password is held to the same policy.
    let id = user["id"].as_str().expect("id").to_owned();
    let (status, _) = server
        .admin_json(Method::PUT, &format!("/tenants/acme/users/{id}/password"), Some(json!({"password": BREACHED})))
        .await
        .expect("set");
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // An unreachable service lets the password through.
    server
        .admin_json(
            Method::PUT,
            "/tenants/acme/password-policy",
            Some(json!({"min_length": 14, "min_strength": 2, "reject_common": true, "breached_range_url": "http://127.0.0.1:9/range/"})),
        )
        .await
        .expect("policy");
    let (status, _) = create(&server, "cat", BREACHED).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, audit) =
        server.admin_json(Method::GET, "/tenants/acme/audit?action=password_policy.put", None).await.expect("audit");
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(2));
});
