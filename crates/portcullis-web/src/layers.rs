//! The tower layers every request passes: request id, tracing, metrics, security headers,
//! body limit, and the request id written into problem documents.

use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use http_body_util::BodyExt;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::error::ProblemMarker;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Keeps a client's `x-request-id` only when it is a sane token (1–128 of `A-Za-z0-9._:-`);
/// otherwise drops it so a fresh id is made. The id lands in logs and audit events, so it must
/// not carry arbitrary text.
async fn sanitize_request_id(mut request: Request, next: Next) -> Response {
    let acceptable = request.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).is_some_and(|id| {
        (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b))
    });
    if !acceptable {
        request.headers_mut().remove(&REQUEST_ID);
    }
    next.run(request).await
}

/// Counts requests and their latency by route (the matched path, never the raw URL, so ids do
/// not explode the label space).
async fn record_metrics(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route =
        request.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route)];
    metrics::histogram!("portcullis_http_request_duration_seconds", &labels).record(started.elapsed().as_secs_f64());
    let [(_, method), (_, route)] = labels;
    metrics::counter!("portcullis_http_requests_total", "method" => method, "route" => route, "status" => status)
        .increment(1);
    response
}

/// Writes the request id into problem documents, so a client can quote it.
async fn problem_request_id(request: Request, next: Next) -> Response {
    let request_id = request.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let response = next.run(request).await;
    let (Some(request_id), Some(_)) = (request_id, response.extensions().get::<ProblemMarker>()) else {
        return response;
    };
    let (parts, body) = response.into_parts();
    let Ok(collected) = body.collect().await else {
        return Response::from_parts(parts, Body::empty());
    };
    let bytes = collected.to_bytes();
    let rewritten = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(mut problem)) => {
            problem.insert("request_id".to_owned(), serde_json::Value::String(request_id));
            serde_json::to_vec(&problem).unwrap_or_else(|_| bytes.to_vec())
        }
        _ => bytes.to_vec(),
    };
    let mut response = Response::from_parts(parts, Body::from(rewritten));
    response.headers_mut().remove(header::CONTENT_LENGTH);
    response
}

/// Wraps `router` in the layers (outermost first when reading top to bottom).
pub fn apply(router: Router) -> Router {
    router.layer(
        ServiceBuilder::new()
            .layer(middleware::from_fn(sanitize_request_id))
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
            .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
                let request_id = request.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
                tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %request_id)
            }))
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(middleware::from_fn(problem_request_id))
            .layer(middleware::from_fn(record_metrics))
            .layer(SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
            .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
            .layer(SetResponseHeaderLayer::if_not_present(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
            ))
            .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
            .layer(DefaultBodyLimit::max(crate::MAX_JSON_BODY)),
    )
}
