//! A signed-in user changes their password on the hosted page: the current one is required
//! (a wrong one counts like a failed login), the new one meets the tenant's policy, the form is
//! CSRF-protected, and the next login takes the new password.

use reqwest::StatusCode;

use crate::browser::{Browser, field, location};
use crate::oidc::{PASSWORD, REDIRECT, log_in, setup, web_client};
use crate::oidc_errors::{authorize_url, code_for, request};
use crate::on_every_engine;

const NEW_PASSWORD: &str = "saffron lighthouse wanders";

async fn submit(browser: &mut Browser, current: &str, new: &str) -> (StatusCode, String) {
    let html = browser.get("/t/acme/account/password").await.text().await.expect("html");
    let csrf = field(&html, "csrf_token");
    let answer = browser
        .post(
            "/t/acme/account/password",
            &[("csrf_token", &csrf), ("current_password", current), ("new_password", new)],
        )
        .await;
    (answer.status(), answer.text().await.expect("html"))
}

on_every_engine!(a_signed_in_user_changes_their_password, |server| {
    let (id, _) = setup(&server, web_client()).await;
    let mut stranger = Browser::new(&server.url);
    assert_eq!(stranger.get("/t/acme/account/password").await.status(), StatusCode::UNAUTHORIZED);

    let mut browser = Browser::new(&server.url);
    code_for(&mut browser, &id, &[]).await;
    let page = browser.get("/t/acme/account/password").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(html.contains(r#"autocomplete="current-password""#) && html.contains(r#"autocomplete="new-password""#));
    assert!(!html.contains("<script"));

    let (status, html) = submit(&mut browser, "not my password", NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("current password is wrong"), "{html}");
    let (status, html) = submit(&mut browser, PASSWORD, "password123").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the policy applies");
    assert!(html.contains("most common"), "{html}");
    let forged = browser
        .post(
            "/t/acme/account/password",
            &[("csrf_token", "forged"), ("current_password", PASSWORD), ("new_password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    let (status, html) = submit(&mut browser, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("password was changed"), "{html}");

    // The next login: the old password no longer works, the new one does.
    let mut other = Browser::new(&server.url);
    let answer = log_in(&mut other, &authorize_url(&request(&id, &[])), PASSWORD).await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    let mut fresh = Browser::new(&server.url);
    let answer = log_in(&mut fresh, &authorize_url(&request(&id, &[])), NEW_PASSWORD).await;
    let target = location(&answer);
    assert!(target.starts_with(REDIRECT) && target.contains("code="), "logged in with the new password: {target}");
    let (_, audit) = server
        .admin_json(reqwest::Method::GET, "/tenants/acme/audit?action=user.password.change", None)
        .await
        .expect("audit");
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(1));
});
