//! `portcullis serve`: start, listen, serve until SIGTERM/SIGINT, finish in-flight requests.

use std::net::SocketAddr;

use anyhow::Context;
use portcullis_web::AppState;
use tokio::net::TcpListener;

use crate::config::{Config, LogFormat};
use crate::startup;

/// How often each node reads the change log to evict stale cache entries: the longest a
/// change made on another node (a revoked token, say) can go unnoticed here.
pub const CHANGE_POLL: std::time::Duration = std::time::Duration::from_millis(500);

/// How often the node holding the housekeeping lease purges and checks key ages.
pub const HOUSEKEEPING_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Installs the log subscriber (`RUST_LOG` filters; default `info`).
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// Resolves when the process is asked to stop.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// Serves the application on `listener` until `shutdown` resolves.
pub async fn serve_on(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = portcullis_web::app(state);
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
        .context("server error")
}

/// `portcullis serve`.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let started_at = std::time::Instant::now();
    let started = startup::start(&config).await?;
    let listener =
        TcpListener::bind(config.listen).await.with_context(|| format!("cannot listen on {}", config.listen))?;
    // Caches follow the change log; the first poll marks where this node starts.
    started.services.sync_changes().await.context("reading the change log")?;
    let follower = tokio::spawn(started.services.clone().follow_changes(CHANGE_POLL));
    let decision_log = tokio::spawn(started.services.clone().follow_decision_log());
    let preload = {
        let services = started.services.clone();
        tokio::spawn(async move { services.preload_authz().await })
    };
    let key_max_age = (config.key_rotation_days > 0).then(|| time::Duration::days(i64::from(config.key_rotation_days)));
    let node = portcullis_crypto::secret::random_id();
    let jobs = tokio::spawn(started.services.clone().follow_jobs(node, HOUSEKEEPING_EVERY, key_max_age));
    if !config.public_url.starts_with("https://") {
        tracing::warn!(
            public_url = %config.public_url,
            "the public URL is plain http: session cookies go without Secure and the __Host- prefix; use https outside development"
        );
    }
    let mut state = AppState::new(started.services, portcullis_web::ops::prometheus(), &config.public_url)
        .with_trusted_proxies(&config.trusted_proxies);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut mtls_server = None;
    if let Some(mtls) = &config.mtls {
        let acceptor = crate::mtls::Mtls::load(mtls)?;
        let listener =
            TcpListener::bind(mtls.listen).await.with_context(|| format!("cannot listen on {}", mtls.listen))?;
        let url = crate::mtls::public_url(mtls, &config.public_url, listener.local_addr()?.port());
        tracing::info!(listen = %mtls.listen, url, "serving mutual TLS for client certificates");
        state = state.with_certificate_url(&url);
        let mut stopped = stopped.clone();
        let shutdown = async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        mtls_server = Some(tokio::spawn(crate::mtls::serve_mtls(listener, acceptor, state.clone(), shutdown)));
    }
    tracing::info!(
        listen = %config.listen,
        public_url = %config.public_url,
        database = started.store.engine(),
        startup_ms = started_at.elapsed().as_millis() as u64,
        "portcullis is ready"
    );
    let shutdown = async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    };
    let result = serve_on(listener, state, shutdown).await;
    if let Some(server) = mtls_server {
        let _ = server.await;
    }
    follower.abort();
    jobs.abort();
    decision_log.abort();
    preload.abort();
    started.store.close().await;
    result
}
