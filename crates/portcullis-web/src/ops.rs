//! Operations endpoints: liveness, readiness, Prometheus metrics.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::json;

use crate::AppState;

/// `/healthz`, `/readyz`, `/metrics`.
pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).route("/metrics", get(metrics))
}

/// Liveness: the process answers.
async fn healthz() -> impl IntoResponse {
    axum::Json(json!({"status": "ok"}))
}

/// Readiness: the database answers and every migration has run.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.services.store().ready().await {
        Ok(true) => {
            (StatusCode::OK, axum::Json(json!({"status": "ready", "database": state.services.store().engine()})))
        }
        Ok(false) => (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({"status": "migrations pending"}))),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({"status": "database unavailable"})))
        }
    }
}

/// Prometheus text exposition of every metric.
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let Some(handle) = &state.metrics else {
        return (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/plain")], "metrics are disabled\n".to_owned());
    };
    let (size, idle) = state.services.store().pool_status();
    metrics::gauge!("portcullis_db_pool_connections").set(f64::from(size));
    metrics::gauge!("portcullis_db_pool_idle_connections").set(f64::from(idle));
    metrics::gauge!("portcullis_hash_pool_waiting").set(state.services.hash_pool().waiting() as f64);
    metrics::gauge!("portcullis_authz_tuples_in_memory").set(state.services.authz_tuples_in_memory() as f64);
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4")], handle.render())
}

/// Installs the process-wide Prometheus recorder once and returns its handle (the `metrics`
/// facade is global by design; a second server in the same process shares it).
pub fn prometheus() -> Option<metrics_exporter_prometheus::PrometheusHandle> {
    static HANDLE: std::sync::OnceLock<Option<metrics_exporter_prometheus::PrometheusHandle>> =
        std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
            metrics_exporter_prometheus::PrometheusBuilder::new().set_buckets(&buckets).ok()?.install_recorder().ok()
        })
        .clone()
}
