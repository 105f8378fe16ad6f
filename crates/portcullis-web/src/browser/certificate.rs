//! Signing in with a client certificate (`{issuer}/login/certificate`, issue 4 item 7): served
//! by the mutual-TLS listener, on the public URL's host at its own port, so the browser brings
//! its cookies and the flow stays bound to it (no login CSRF). `GET` shows whose certificate the
//! browser presented; the form posts it. Reached on the plain listener, or without a
//! certificate, it says so.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use portcullis_core::model::session::FlowStep;
use portcullis_core::service::LoginRefusal;
use portcullis_core::service::certificates::{CertificateProblem, PresentedCertificate, identity_of};

use super::login::{FlowQuery, advance, load, posted, refused};
use super::{Browser, error_page, flow_gone, form};
use crate::AppState;
use crate::extract::{ApiPath, Context};
use crate::pages;

fn no_certificate(tenant: &str, problem: CertificateProblem) -> Response {
    pages::error(
        StatusCode::FORBIDDEN,
        tenant,
        "login.certificate_title",
        "login.certificate_refused",
        Some(problem.as_str()),
    )
}

pub(super) async fn page(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    headers: HeaderMap,
    Query(query): Query<FlowQuery>,
    presented: Option<Extension<PresentedCertificate>>,
) -> Response {
    let browser = Browser::of(&state, &headers);
    let (flow, client) = match load(&state, &tenant, &browser, &query.flow, FlowStep::Authenticate).await {
        Ok(loaded) => loaded,
        Err(response) => return response,
    };
    let Some(Extension(presented)) = presented.filter(|p| p.problem != Some(CertificateProblem::Missing)) else {
        return no_certificate(&tenant, CertificateProblem::Missing);
    };
    let subject = identity_of(&presented.der).map(|identity| identity.subject);
    let context = minijinja::context! {
        tenant,
        client_name => client.metadata.client_name,
        action => format!("/t/{tenant}/login/certificate"),
        flow => flow.id,
        csrf => browser.csrf(&flow.id),
        subject,
    };
    pages::render(StatusCode::OK, "login_certificate.html", context)
}

pub(super) async fn submit(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    Context(context): Context,
    headers: HeaderMap,
    presented: Option<Extension<PresentedCertificate>>,
    body: Bytes,
) -> Response {
    let browser = Browser::of(&state, &headers);
    let Some(params) = form(&headers, &body) else { return flow_gone(&tenant) };
    let (flow, client) = match posted(&state, &tenant, &browser, &params, FlowStep::Authenticate).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let presented = presented
        .map(|Extension(p)| p)
        .unwrap_or(PresentedCertificate { der: Vec::new(), problem: Some(CertificateProblem::Missing) });
    let at_once = super::code_at_once(&flow, &client);
    match state.services.login_with_certificate(&tenant, &flow, &presented, &context, at_once).await {
        Ok(Ok(progress)) => advance(&state, &tenant, &client, progress).await,
        Ok(Err(LoginRefusal::InvalidCertificate(problem))) => no_certificate(&tenant, problem),
        Ok(Err(refusal)) => refused(&tenant, refusal).unwrap_or_else(|| flow_gone(&tenant)),
        Err(portcullis_core::Error::NotFound(_)) => flow_gone(&tenant),
        Err(error) => error_page(&tenant, &error.into()),
    }
}
