//! Portcullis's HTTP front (DESIGN §3): the axum router, tower layers, extractors that turn
//! untrusted input into validated values, thin handlers that call one service each, and the
//! one [`error::WebError`] that renders every failure as RFC 9457 problem+json.

pub mod admin;
mod authzen;
mod browser;
mod cookies;
pub mod error;
pub mod extract;
pub mod flows;
pub mod issuer;
pub mod layers;
pub mod ops;
mod pages;
mod registration;

use std::sync::Arc;

use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use portcullis_core::Services;

/// Largest JSON body accepted (bulk imports stream and are not bound by it).
pub const MAX_JSON_BODY: usize = 1024 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub metrics: Option<PrometheusHandle>,
    /// The URL clients reach this server at, without a trailing slash; issuers live under it.
    pub public_url: Arc<str>,
    /// How the browser's cookies are named and flagged.
    pub cookies: cookies::CookiePolicy,
    /// For calls to relying parties (back-channel logout).
    pub http: reqwest::Client,
    /// Serialised discovery documents by tenant and kind (OpenID or RFC 8414).
    pub discovery: Arc<std::sync::RwLock<std::collections::HashMap<(String, bool), bytes::Bytes>>>,
    /// Reverse proxies whose `X-Forwarded-For` is believed (see [`extract::client_address`]).
    pub trusted_proxies: Arc<[ipnet::IpNet]>,
    /// Where the mutual-TLS listener is reached (same host, its own port), when there is one:
    /// the sign-in page links there for certificates.
    pub certificate_url: Option<Arc<str>>,
}

impl AppState {
    /// State over `services`; `metrics` renders `/metrics` when given.
    pub fn new(services: Services, metrics: Option<PrometheusHandle>, public_url: &str) -> Self {
        let public_url: Arc<str> = Arc::from(public_url.trim_end_matches('/'));
        let cookies = cookies::CookiePolicy::for_public_url(&public_url);
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("portcullis/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Self {
            services,
            metrics,
            public_url,
            cookies,
            http,
            discovery: Arc::default(),
            trusted_proxies: Arc::from([]),
            certificate_url: None,
        }
    }

    /// Offers sign-in with client certificates at `url`, the mutual-TLS listener's address.
    pub fn with_certificate_url(mut self, url: &str) -> Self {
        self.certificate_url = Some(Arc::from(url.trim_end_matches('/')));
        self
    }

    /// Believes `X-Forwarded-For` from these proxies (addresses or networks).
    pub fn with_trusted_proxies(mut self, proxies: &[ipnet::IpNet]) -> Self {
        self.trusted_proxies = Arc::from(proxies);
        self
    }

    /// The issuer identifier of a tenant: `{public_url}/t/{tenant}`.
    pub fn issuer(&self, tenant: &str) -> String {
        format!("{}/t/{tenant}", self.public_url)
    }
}

/// The whole application: admin API, OpenAPI document, operations endpoints, with the tower
/// layers every request passes (request id, tracing, metrics, security headers, body limit).
pub fn app(state: AppState) -> Router {
    let (admin, openapi) = admin::router();
    let openapi = Arc::new(openapi);
    let router = Router::new()
        .nest("/admin/v1", admin)
        .route(
            "/admin/v1/openapi.json",
            axum::routing::get(move || {
                let doc = openapi.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .merge(ops::router())
        .merge(issuer::router())
        .merge(authzen::router())
        .merge(browser::router())
        .merge(flows::router())
        .merge(registration::router())
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .with_state(state);
    layers::apply(router)
}

/// The OpenAPI document of the admin API, as served at `/admin/v1/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    admin::router().1
}
