//! The `portcullis` binary: first start, restart, shutdown, configuration, the README's quick
//! start, `audit verify`, and the admin CLI.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use portcullis_testkit::{Engine, TestDatabase, engines};

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

struct Running {
    child: Child,
    port: u16,
    log: std::path::PathBuf,
}

fn serve(data_dir: &Path, database_url: &str, extra_env: &[(&str, &str)]) -> Running {
    let port = free_port();
    let log = data_dir.with_extension(format!("{port}.log"));
    let child = Command::new(BIN)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(data_dir)
        .args(["--database-url", database_url])
        .env_remove("PORTCULLIS_BOOTSTRAP_TOKEN")
        .env_remove("PORTCULLIS_MASTER_KEY")
        .envs(extra_env.iter().copied())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("binary starts");
    let running = Running { child, port, log };
    wait_ready(&running);
    running
}

fn wait_ready(server: &Running) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let url = format!("http://127.0.0.1:{}/readyz", server.port);
    while Instant::now() < deadline {
        if reqwest::blocking_get(&url) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("server not ready: {}", std::fs::read_to_string(&server.log).unwrap_or_default());
}

mod reqwest {
    /// A tiny synchronous GET, to keep these tests free of a second HTTP client.
    pub fn blocking_get(url: &str) -> bool {
        let Some(rest) = url.strip_prefix("http://") else { return false };
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        let Ok(mut stream) = std::net::TcpStream::connect(host) else { return false };
        use std::io::{Read, Write};
        let _ = write!(stream, "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer.starts_with("HTTP/1.1 200")
    }
}

fn stop(mut server: Running) -> String {
    let pid = server.child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
    let status = server.child.wait().expect("exits");
    let log = std::fs::read_to_string(&server.log).unwrap_or_default();
    assert!(status.success(), "clean exit on SIGTERM: {status}\n{log}");
    assert!(log.contains("shutting down"), "{log}");
    log
}

fn curl(args: &[&str]) -> String {
    let out = Command::new("curl").args(["-sS", "--fail-with-body"]).args(args).output().expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "curl {args:?}: {text} {}", String::from_utf8_lossy(&out.stderr));
    text
}

fn have(program: &str) -> bool {
    let found =
        Command::new("sh").args(["-c", &format!("command -v {program}")]).output().is_ok_and(|o| o.status.success());
    if !found {
        portcullis_testkit::skipped(&format!(
            "tests that need `{program}`: it is not installed (scripts/check installs it)"
        ));
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_start_restart_and_shutdown_keep_data() {
    if !have("curl") {
        return;
    }
    for engine in engines() {
        let db = TestDatabase::new(engine).await.expect("database");
        let data = db.dir.path().join("data");
        let first = serve(&data, &db.url, &[]);
        let token_file = data.join("bootstrap-token");
        let token = std::fs::read_to_string(&token_file).expect("bootstrap token written").trim().to_owned();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&token_file).expect("meta").permissions().mode() & 0o777, 0o600);
            assert_eq!(std::fs::metadata(data.join("master.key")).expect("meta").permissions().mode() & 0o777, 0o600);
            if engine == Engine::Sqlite {
                let db_file = db.url.trim_start_matches("sqlite://");
                assert_eq!(std::fs::metadata(db_file).expect("meta").permissions().mode() & 0o777, 0o600);
            }
        }
        let url = format!("http://127.0.0.1:{}/admin/v1/tenants", first.port);
        curl(&[
            "-X",
            "POST",
            &url,
            "-H",
            &format!("Authorization: Bearer {token}"),
            "-H",
            "Content-Type: application/json",
            "-d",
            r#"{"name":"kept"}"#,
        ]);
        let log = stop(first);
        assert_eq!(log.matches(&token).count(), 1, "the token is printed once");

        let second = serve(&data, &db.url, &[]);
        let listed = curl(&[
            &format!("http://127.0.0.1:{}/admin/v1/tenants", second.port),
            "-H",
            &format!("Authorization: Bearer {token}"),
        ]);
        assert!(listed.contains("\"kept\""), "data survives a restart: {listed}");
        let log = stop(second);
        assert!(!log.contains("bootstrap admin token"), "a restart creates no second token: {log}");
        assert_eq!(std::fs::read_to_string(&token_file).expect("file").trim(), token);

        // A wrong master key is refused instead of silently corrupting data.
        let other_key = portcullis_crypto_key();
        let refused = Command::new(BIN)
            .args(["serve", "--listen", &format!("127.0.0.1:{}", free_port()), "--data-dir"])
            .arg(&data)
            .args(["--database-url", &db.url])
            .env("PORTCULLIS_MASTER_KEY", other_key)
            .output()
            .expect("runs");
        assert!(!refused.status.success());
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("master key"),
            "{}",
            String::from_utf8_lossy(&refused.stderr)
        );

        let verify = Command::new(BIN)
            .args(["audit", "verify", "--data-dir"])
            .arg(&data)
            .args(["--database-url", &db.url])
            .output()
            .expect("runs");
        assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
        assert!(String::from_utf8_lossy(&verify.stdout).contains("audit log intact"));
        if engine == Engine::Postgres {
            eprintln!("binary restart on PostgreSQL passed");
        }
    }
}

fn portcullis_crypto_key() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode([7u8; 32])
}

#[test]
fn config_print_precedence_and_refusals() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("portcullis.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:7000\"\npublic_url = \"https://id.example.com\"\nbootstrap_token = \"pct_file-secret-token-value\"\n").expect("write");
    let output = Command::new(BIN)
        .args(["config", "print", "--config"])
        .arg(&file)
        .env("PORTCULLIS_LISTEN", "127.0.0.1:7001")
        .env_remove("PORTCULLIS_DATA_DIR")
        .env_remove("PORTCULLIS_DATABASE_URL")
        .env_remove("PORTCULLIS_BOOTSTRAP_TOKEN")
        .output()
        .expect("runs");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{printed}");
    assert!(printed.contains("listen = \"127.0.0.1:7001\""), "env beats file: {printed}");
    assert!(printed.contains("public_url = \"https://id.example.com\""), "file beats default: {printed}");
    assert!(!printed.contains("file-secret"), "secrets are redacted: {printed}");
    let flag = Command::new(BIN)
        .args(["config", "print", "--listen", "127.0.0.1:7002", "--config"])
        .arg(&file)
        .env("PORTCULLIS_LISTEN", "127.0.0.1:7001")
        .output()
        .expect("runs");
    assert!(String::from_utf8_lossy(&flag.stdout).contains("127.0.0.1:7002"), "flag beats env");

    std::fs::write(&file, "listen = \"127.0.0.1:7000\"\nlisten_addr = \"x\"\n").expect("write");
    let unknown = Command::new(BIN).args(["config", "print", "--config"]).arg(&file).output().expect("runs");
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("listen_addr"));
    let invalid =
        Command::new(BIN).args(["config", "print"]).env("PORTCULLIS_LISTEN", "nowhere").output().expect("runs");
    assert!(!invalid.status.success());
    assert!(String::from_utf8_lossy(&invalid.stderr).contains("--listen"));
}

/// Runs the README's quick start verbatim (only the port is changed), so it cannot rot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_quick_start_works() {
    if !have("curl") || !have("bash") {
        return;
    }
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).expect("README");
    let start = readme.find("<!-- quickstart:begin -->").expect("quick start marker");
    let end = readme.find("<!-- quickstart:end -->").expect("quick start end marker");
    let script: String = readme[start..end]
        .split("```")
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, block)| block.trim_start_matches("sh").trim_start_matches("bash").to_owned())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(script.contains("curl"), "the quick start has commands");
    let db = TestDatabase::new(Engine::Sqlite).await.expect("db");
    let work = db.dir.path().join("work");
    std::fs::create_dir_all(&work).expect("dir");
    // `cargo run --release -- serve` is what the README says; the test runs the built binary
    // the same way, from a directory where ./portcullis-data is created.
    let port = free_port();
    let log = work.join("serve.log");
    let child = Command::new(BIN)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .current_dir(&work)
        .env_remove("PORTCULLIS_DATA_DIR")
        .env_remove("PORTCULLIS_DATABASE_URL")
        .env_remove("PORTCULLIS_BOOTSTRAP_TOKEN")
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("starts");
    let server = Running { child, port, log };
    wait_ready(&server);
    let script = script.replace("cargo run --release -- serve", "true").replace("8080", &port.to_string());
    let output =
        Command::new("bash").args(["-euo", "pipefail", "-c", &script]).current_dir(&work).output().expect("bash");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "README quick start failed:\n{script}\n--- stdout\n{stdout}\n--- stderr\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("\"username\":\"alice\""), "the quick start creates alice: {stdout}");
    stop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_cli_drives_the_api() {
    let server = portcullis_testkit::TestServer::start(Engine::Sqlite).await.expect("server");
    let (url, token) = (server.url.clone(), server.token.clone());
    let run = move |args: &[&str], stdin: Option<&str>| {
        let mut child = Command::new(BIN)
            .arg("admin")
            .args(args)
            .env("PORTCULLIS_URL", &url)
            .env("PORTCULLIS_TOKEN", &token)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cli");
        if let Some(text) = stdin {
            use std::io::Write;
            child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write");
        } else {
            drop(child.stdin.take());
        }
        let out = child.wait_with_output().expect("runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let cli = tokio::task::spawn_blocking(move || {
        let (ok, out, err) = run(&["tenants", "create", "acme", "--profile", "customer"], None);
        assert!(ok, "{out}{err}");
        let (ok, out, _) = run(&["tenants", "list"], None);
        assert!(ok && out.starts_with("NAME") && out.contains("acme") && out.contains("customer"), "{out}");
        let (ok, out, err) = run(
            &["users", "create", "acme", "--username", "alice", "--email", "alice@example.com", "--password-stdin"],
            Some("correct horse battery\n"),
        );
        assert!(ok, "{out}{err}");
        let (ok, out, _) = run(&["--json", "users", "list", "acme", "--username", "alice"], None);
        let page: serde_json::Value = serde_json::from_str(&out).expect("json");
        assert!(ok && page["items"][0]["email"] == "alice@example.com", "{out}");
        let (ok, _, err) = run(&["users", "create", "acme", "--username", "alice"], None);
        assert!(!ok && err.contains("409"), "{err}");
        let (ok, out, err) =
            run(&["clients", "create", "acme", "--name", "Batch", "--grant-type", "client_credentials"], None);
        assert!(ok && out.contains("client_secret: pcs_"), "{out}{err}");
        let (ok, out, _) = run(&["clients", "list", "acme"], None);
        assert!(ok && out.contains("Batch") && out.contains("client_credentials"), "{out}");
        let (ok, out, _) = run(&["audit", "list", "acme"], None);
        assert!(ok && out.contains("user.create"), "{out}");

        // Authorization: model from standard input, tuples, queries, Cedar policies.
        let model = "type user\ntype doc\n  relations\n    define owner: [user]\n    define viewer: [user] or owner\n";
        let (ok, out, err) = run(&["authz", "model", "put", "acme", "-"], Some(model));
        assert!(ok && out.starts_with("v1."), "{out}{err}");
        let (ok, out, _) = run(&["authz", "model", "get", "acme"], None);
        assert!(ok && out.contains("define viewer: [user] or owner"), "{out}");
        let (ok, out, err) = run(&["authz", "tuples", "write", "acme", "--add", "doc:plan#owner@user:anne"], None);
        assert!(ok && out.contains("written: 1"), "{out}{err}");
        let (ok, out, _) = run(&["authz", "tuples", "list", "acme"], None);
        assert_eq!((ok, out.as_str()), (true, "doc:plan#owner@user:anne\n"));
        let (ok, out, _) = run(&["authz", "check", "acme", "doc:plan", "viewer", "user:anne"], None);
        assert_eq!((ok, out.trim()), (true, "true"));
        let (ok, out, _) = run(&["authz", "list-objects", "acme", "doc", "viewer", "user:anne"], None);
        assert_eq!((ok, out.trim()), (true, "doc:plan"));
        let (ok, _, err) = run(&["authz", "tuples", "write", "acme", "--add", "doc:plan#owner@user:anne"], None);
        assert!(!ok && err.contains("409"), "{err}");
        let policy = "@id(\"nobody-edits\") forbid (principal, action == Action::\"owner\", resource);";
        let (ok, out, err) = run(&["authz", "policies", "put", "acme", "-", "--cedar"], Some(policy));
        assert_eq!((ok, out.trim()), (true, "1"), "{err}");
        let (ok, out, _) = run(&["authz", "policies", "get", "acme"], None);
        assert!(ok && out.contains("nobody-edits"), "{out}");
        let test = r#"{"subject": {"type": "user", "id": "anne"}, "action": "owner", "resource": {"type": "doc", "id": "plan"}}"#;
        let (ok, out, _) = run(&["authz", "policies", "test", "acme", "--data", test], None);
        assert!(ok && out.contains("decision: false") && out.contains("nobody-edits"), "{out}");
    });
    cli.await.expect("cli tests");
    server.stop().await.expect("stop");
}
