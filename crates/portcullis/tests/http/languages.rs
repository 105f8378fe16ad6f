//! The hosted pages in the user's language: `ui_locales` of the authorization or logout
//! request first (OIDC Core §3.1.2.1, RP-Initiated Logout §2), else `Accept-Language`, else
//! English; the protocol's own error descriptions stay as the specification writes them.

use reqwest::StatusCode;

use crate::browser::{Browser, field, location};
use crate::oidc::{PASSWORD, setup, web_client};
use crate::oidc_errors::{authorize_url, request};
use crate::on_every_engine;

/// The standard authorization request of `id`, asking for `ui_locales` if given.
fn url(id: &str, ui_locales: Option<&str>) -> String {
    authorize_url(&request(id, &[("ui_locales", ui_locales)]))
}

/// The page at `target`: its status, `Content-Language` and HTML.
async fn page(browser: &mut Browser, target: &str) -> (StatusCode, String, String) {
    let response = browser.get(target).await;
    let status = response.status();
    let language = response.headers()["content-language"].to_str().expect("ascii").to_owned();
    (status, language, response.text().await.expect("html"))
}

on_every_engine!(pages_speak_the_language_the_client_or_browser_asks_for, |server| {
    let (id, _) = setup(&server, web_client()).await;

    // ui_locales names German among languages not offered; the browser asks for English.
    let mut browser = Browser::new(&server.url);
    browser.languages = Some("en-US,en;q=0.9");
    let to_login = location(&browser.get(&url(&id, Some("fr-CA de-DE en"))).await);
    let (status, language, html) = page(&mut browser, &to_login).await;
    assert_eq!((status, language.as_str()), (StatusCode::OK, "de"));
    assert!(html.contains(r#"<html lang="de">"#) && html.contains("<h1>Anmelden</h1>"), "{html}");
    assert!(html.contains(">Passwort</label>") && html.contains(r#"autocomplete="current-password""#), "{html}");
    // A wrong password: the message in German, the flow still the same.
    let (flow, csrf) = (field(&html, "flow"), field(&html, "csrf_token"));
    let wrong = browser
        .post("/t/acme/login", &[("flow", &flow), ("csrf_token", &csrf), ("username", "alice"), ("password", "nope")])
        .await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    let html = wrong.text().await.expect("html");
    assert!(html.contains("Benutzername oder Passwort ist falsch."), "{html}");
    let to_consent = location(
        &browser
            .post(
                "/t/acme/login",
                &[("flow", &flow), ("csrf_token", &csrf), ("username", "alice"), ("password", PASSWORD)],
            )
            .await,
    );
    let (_, language, html) = page(&mut browser, &to_consent).await;
    assert_eq!(language, "de");
    assert!(html.contains("Zugriff erlauben?") && html.contains("Ihre E-Mail-Adresse sehen"), "{html}");
    assert!(html.contains(">Erlauben</button>") && html.contains(">Ablehnen</button>"), "{html}");

    // Without ui_locales the browser's languages decide, weights included.
    let mut german = Browser::new(&server.url);
    german.languages = Some("fr;q=0.9, de-CH;q=0.8, en;q=0.1");
    let to_login = location(&german.get(&url(&id, None)).await);
    let (_, language, html) = page(&mut german, &to_login).await;
    assert_eq!(language, "de");
    assert!(html.contains("Benutzername oder E-Mail"), "{html}");
    // ui_locales wins over the browser.
    let to_login = location(&german.get(&url(&id, Some("en"))).await);
    let (_, language, html) = page(&mut german, &to_login).await;
    assert_eq!(language, "en");
    assert!(html.contains("<h1>Sign in</h1>") && html.contains("Username or e-mail"), "{html}");
    // Pages without a flow: the device page and an expired flow's error page.
    let (_, language, html) = page(&mut german, "/t/acme/device").await;
    assert_eq!(language, "de");
    assert!(html.contains("Gerät verbinden") && html.contains(">Weiter</button>"), "{html}");
    let (status, language, html) = page(&mut german, "/t/acme/login?flow=gone").await;
    assert_eq!((status, language.as_str()), (StatusCode::BAD_REQUEST, "de"));
    assert!(html.contains("Diese Anmeldung ist abgelaufen") && html.contains("Fehlercode"), "{html}");
    // A protocol error keeps the specification's description; the page around it is German.
    let (status, _, html) = page(&mut german, "/t/acme/authorize?client_id=nobody").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("Diese Anfrage kann nicht abgeschlossen werden"), "{html}");
    assert!(html.contains("the client is not registered"), "{html}");

    // Nothing offered in any of them: English.
    let mut other = Browser::new(&server.url);
    other.languages = Some("ja, fr;q=0.5");
    let to_login = location(&other.get(&url(&id, Some("ko"))).await);
    let (_, language, html) = page(&mut other, &to_login).await;
    assert_eq!(language, "en");
    assert!(html.contains(r#"<html lang="en">"#), "{html}");

    // RP-initiated logout with ui_locales: the confirmation in German.
    let (_, language, html) = page(&mut browser, "/t/acme/logout?ui_locales=de").await;
    assert_eq!(language, "de");
    assert!(html.contains("Abmelden?") && html.contains("Von acme abmelden?"), "{html}");
});
