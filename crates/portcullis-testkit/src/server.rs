use std::net::SocketAddr;

use portcullis::config::{Config, ServerArgs};
use portcullis_web::AppState;
use reqwest::Method;
use tokio::sync::oneshot;

use crate::database::{Engine, TestDatabase};

/// The bootstrap token every test server is started with.
pub const TEST_TOKEN: &str = "pct_testkit-bootstrap-token-0123456789abcdef";

/// The whole application on `127.0.0.1:{random port}` over a fresh database, started through
/// the same start-up path as `portcullis serve`.
pub struct TestServer {
    pub url: String,
    pub token: String,
    pub db: TestDatabase,
    /// The SMTP server the server sends its mail to.
    pub mail: crate::MailSink,
    /// The SMS provider the server sends its text messages to (its webhook, unless the test
    /// configured Twilio).
    pub sms: crate::SmsSink,
    pub client: reqwest::Client,
    /// The mutual-TLS listener's URL, when the test configured one.
    pub certificate_url: Option<String>,
    mtls_task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestServer {
    /// Starts a server on `engine`, known as `http://127.0.0.1:{port}` (passkeys off: WebAuthn
    /// cannot use an IP address).
    pub async fn start(engine: Engine) -> anyhow::Result<Self> {
        Self::start_as(engine, "127.0.0.1").await
    }

    /// Starts a server on `engine` known as `http://{host}:{port}` (`localhost` for passkeys).
    pub async fn start_as(engine: Engine, host: &str) -> anyhow::Result<Self> {
        Self::start_with(engine, host, |_, _| {}).await
    }

    /// Starts a server as [`TestServer::start_as`] does, with its configuration changed by
    /// `configure` first (given the SMS sink, to point another provider at it).
    pub async fn start_with(
        engine: Engine,
        host: &str,
        configure: impl FnOnce(&mut Config, &crate::SmsSink),
    ) -> anyhow::Result<Self> {
        let db = TestDatabase::new(engine).await?;
        let mail = crate::MailSink::start()?;
        let sms = crate::SmsSink::start().await?;
        let args = ServerArgs {
            smtp_url: Some(mail.url.clone()),
            listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            data_dir: Some(db.dir.path().join("data")),
            database_url: Some(db.url.clone()),
            hash_workers: Some(2),
            ..Default::default()
        };
        let mut config = Config::resolve(&args)?;
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let url = format!("http://{host}:{}", listener.local_addr()?.port());
        config.public_url = url.clone();
        config.bootstrap_token = Some(TEST_TOKEN.to_owned());
        config.sms = Some(portcullis::config::SmsConfig::Webhook {
            url: sms.webhook_url(),
            secret: crate::SmsSink::WEBHOOK_SECRET.to_owned(),
        });
        configure(&mut config, &sms);
        let started = portcullis::startup::start(&config).await?;
        started.services.sync_changes().await?;
        let follower = tokio::spawn(started.services.clone().follow_changes(portcullis::serve::CHANGE_POLL));
        let decision_log = tokio::spawn(started.services.clone().follow_decision_log());
        let mut state = AppState::new(started.services, portcullis_web::ops::prometheus(), &url);
        let (mut certificate_url, mut mtls_task) = (None, None);
        if let Some(mtls) = &config.mtls {
            let acceptor = portcullis::mtls::Mtls::load(mtls)?;
            let listener = tokio::net::TcpListener::bind(mtls.listen).await?;
            let mtls_url = portcullis::mtls::public_url(mtls, &url, listener.local_addr()?.port());
            state = state.with_certificate_url(&mtls_url);
            let serving = portcullis::mtls::serve_mtls(listener, acceptor, state.clone(), std::future::pending());
            mtls_task = Some(tokio::spawn(serving));
            certificate_url = Some(mtls_url);
        }
        let (shutdown, stop) = oneshot::channel::<()>();
        let task = tokio::spawn(portcullis::serve::serve_on(listener, state, async move {
            let _ = stop.await;
            follower.abort();
            decision_log.abort();
        }));
        Ok(Self {
            url,
            token: TEST_TOKEN.to_owned(),
            db,
            mail,
            sms,
            client: reqwest::Client::new(),
            certificate_url,
            mtls_task,
            shutdown: Some(shutdown),
            task: Some(task),
        })
    }

    /// A request to the admin API (`path` after `/admin/v1`) with the bootstrap token.
    pub fn admin(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}/admin/v1{path}", self.url)).bearer_auth(&self.token)
    }

    /// Sends an admin request with an optional JSON body; the status and the JSON answer
    /// (`null` when the answer has no JSON body).
    pub async fn admin_json(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> anyhow::Result<(reqwest::StatusCode, serde_json::Value)> {
        let mut request = self.admin(method, path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status();
        let bytes = response.bytes().await?;
        let value = if bytes.is_empty() { serde_json::Value::Null } else { serde_json::from_slice(&bytes)? };
        Ok((status, value))
    }

    /// A request to any path, unauthenticated.
    pub fn raw(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.url))
    }

    /// Asks the server to stop, as SIGTERM does: no new connections, in-flight requests go on.
    pub fn begin_shutdown(&mut self) {
        if let Some(task) = self.mtls_task.take() {
            task.abort();
        }
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }

    /// Stops the server and waits until in-flight requests have finished.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.begin_shutdown();
        if let Some(task) = self.task.take() {
            task.await??;
        }
        Ok(())
    }
}
