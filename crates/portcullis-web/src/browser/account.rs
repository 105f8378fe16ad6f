//! The signed-in user's own account pages: change the password (`{issuer}/account/password`).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use portcullis_core::service::PasswordChange;

use super::authorize::signed_in;
use super::{Browser, error_page, form};
use crate::AppState;
use crate::extract::{ApiPath, Context};
use crate::pages;

/// The CSRF purpose of the form.
const PURPOSE: &str = "account-password";

fn password_form(tenant: &str, browser: &Browser, username: &str, done: bool, error: Option<String>) -> Response {
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let context = minijinja::context! {
        tenant,
        action => format!("/t/{tenant}/account/password"),
        csrf => browser.csrf(PURPOSE),
        username,
        done,
        error,
    };
    browser.attach(pages::render(status, "account_password.html", context))
}

/// The page's title (key), also of its "sign in first" page.
const TITLE: &str = "account.password_title";

fn sign_in_first(tenant: &str) -> Response {
    pages::error(StatusCode::UNAUTHORIZED, tenant, TITLE, "account.sign_in_first", None)
}

pub(super) async fn page(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    headers: HeaderMap,
) -> Response {
    let browser = Browser::of(&state, &headers);
    let session = match signed_in(&state, &tenant, &headers, TITLE).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    match state.services.user_for_claims(&tenant, "", session.user_id, false, None).await {
        Ok(Some((user, _))) => password_form(&tenant, &browser, &user.username, false, None),
        Ok(None) => sign_in_first(&tenant),
        Err(error) => error_page(&tenant, &error.into()),
    }
}

pub(super) async fn submit(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    Context(context): Context,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let browser = Browser::of(&state, &headers);
    let session = match signed_in(&state, &tenant, &headers, TITLE).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let Some(params) = form(&headers, &body) else { return sign_in_first(&tenant) };
    let field = |name: &str| params.single(name).ok().flatten().unwrap_or_default().to_owned();
    let username = field("username");
    if !browser.csrf_ok(PURPOSE, params.single("csrf_token").ok().flatten()) {
        return password_form(&tenant, &browser, &username, false, Some(pages::i18n::text("error.reload")));
    }
    let outcome = state
        .services
        .change_own_password(&tenant, &session, field("current_password"), field("new_password"), &context)
        .await;
    match outcome {
        Ok(PasswordChange::Changed) => password_form(&tenant, &browser, &username, true, None),
        Ok(PasswordChange::WrongCurrent) => {
            password_form(&tenant, &browser, &username, false, Some(pages::i18n::text("account.wrong_current")))
        }
        Ok(PasswordChange::Throttled { retry_after }) => {
            let mut page =
                pages::error(StatusCode::TOO_MANY_REQUESTS, &tenant, "error.too_many", "error.wait", Some("throttled"));
            if let Ok(value) = HeaderValue::from_str(&retry_after.to_string()) {
                page.headers_mut().insert(header::RETRY_AFTER, value);
            }
            page
        }
        // The policy's reasons are written for administrators, in English, like OAuth's.
        Err(portcullis_core::Error::Validation(errors)) => {
            let reasons: Vec<String> = errors.iter().map(|e| format!("{}: {}", e.field, e.reason)).collect();
            password_form(&tenant, &browser, &username, false, Some(reasons.join("; ")))
        }
        Err(error) => error_page(&tenant, &error.into()),
    }
}
