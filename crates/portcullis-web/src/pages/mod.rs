//! The hosted pages (DESIGN §6): server-rendered, no script at all, a strict content security
//! policy, never cached. Templates are minijinja with HTML auto-escaping; every value in them
//! is escaped. Every template gets `lang` and the texts `t` of the request's language
//! ([`i18n`]).

pub mod i18n;

use std::sync::LazyLock;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::Environment;
use serde::Serialize;

/// The pages' policy: their own stylesheet and nothing else; never framed.
const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'";

const TEMPLATE_SOURCES: [(&str, &str); 19] = [
    ("base.html", include_str!("templates/base.html")),
    ("login.html", include_str!("templates/login.html")),
    ("consent.html", include_str!("templates/consent.html")),
    ("logout.html", include_str!("templates/logout.html")),
    ("error.html", include_str!("templates/error.html")),
    ("device.html", include_str!("templates/device.html")),
    ("form_post.html", include_str!("templates/form_post.html")),
    ("account_password.html", include_str!("templates/account_password.html")),
    ("login_code.html", include_str!("templates/login_code.html")),
    ("login_email_code.html", include_str!("templates/login_email_code.html")),
    ("login_enrol.html", include_str!("templates/login_enrol.html")),
    ("login_new_password.html", include_str!("templates/login_new_password.html")),
    ("recovery_codes.html", include_str!("templates/recovery_codes.html")),
    ("account_security.html", include_str!("templates/account_security.html")),
    ("account_passkey.html", include_str!("templates/account_passkey.html")),
    ("login_sms_code.html", include_str!("templates/login_sms_code.html")),
    ("account_sms.html", include_str!("templates/account_sms.html")),
    ("login_certificate.html", include_str!("templates/login_certificate.html")),
    ("login_register.html", include_str!("templates/login_register.html")),
];

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in TEMPLATE_SOURCES {
        if let Err(error) = env.add_template(name, source) {
            tracing::error!(%error, name, "a built-in template does not parse");
        }
    }
    env
});

/// An SVG drawn by the server (a QR code), to place in a page as markup: without its XML
/// declaration, marked safe — it holds no text from a request.
pub fn inline_svg(svg: &str) -> minijinja::Value {
    let start = svg.find("<svg").unwrap_or(0);
    minijinja::Value::from_safe_string(svg[start..].to_owned())
}

/// Renders template `name` with `context` (and the language's `lang` and `t`) as a complete
/// response.
pub fn render<S: Serialize>(status: StatusCode, name: &str, context: S) -> Response {
    match html(name, context) {
        Ok(html) => html_response(status, html),
        Err(error) => {
            tracing::error!(%error, name, "page rendering failed");
            html_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "<!DOCTYPE html><title>Error</title><p>Something went wrong.</p>".to_owned(),
            )
        }
    }
}

/// Template `name` rendered with `context` and the language's `lang` and `t`.
fn html<S: Serialize>(name: &str, context: S) -> Result<String, minijinja::Error> {
    let context = minijinja::context! {
        lang => i18n::current().tag(),
        t => i18n::texts(),
        ..minijinja::Value::from_serialize(&context)
    };
    TEMPLATES.get_template(name).and_then(|t| t.render(context))
}

fn html_response(status: StatusCode, html: String) -> Response {
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(i18n::current().tag()));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CSP));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// An error page: for requests that cannot be sent back to a client (RFC 6749 §4.1.2.1).
/// `heading` and `message` are text keys ([`i18n::text`]).
pub fn error(status: StatusCode, tenant: &str, heading: &str, message: &str, code: Option<&str>) -> Response {
    error_with(status, tenant, heading, &i18n::text(message), code)
}

/// An error page whose message is not a text key but a protocol's own description (an
/// OAuth `error_description`, written for developers, in English).
pub fn error_with(status: StatusCode, tenant: &str, heading: &str, message: &str, code: Option<&str>) -> Response {
    let context = minijinja::context! { tenant, heading => i18n::text(heading), message, code };
    render(status, "error.html", context)
}

/// The form post page's policy: its one script, from this server's assets (DESIGN §6: no
/// inline script), and nothing else.
const FORM_POST_CSP: &str = "default-src 'none'; script-src 'self'; base-uri 'none'; frame-ancestors 'none'";

/// An authorization response in the form post response mode (OAuth 2.0 Form Post Response
/// Mode §2): a page whose form the browser posts to the client's redirect URI.
pub fn form_post(redirect_uri: &str, params: &[(&str, String)]) -> Response {
    let context = minijinja::context! { action => redirect_uri, params };
    let mut response = render(StatusCode::OK, "form_post.html", context);
    if response.status() == StatusCode::OK {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(FORM_POST_CSP));
    }
    response
}

/// The pages' stylesheet.
pub async fn stylesheet() -> Response {
    asset(include_str!("../../assets/portcullis.css"), "text/css; charset=utf-8")
}

/// The passkey pages' script.
pub async fn passkey_script() -> Response {
    asset(include_str!("../../assets/passkey.js"), "text/javascript; charset=utf-8")
}

/// The policy of a page that runs the server's own passkey script (never inline script).
const SCRIPTED_PAGE_CSP: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'";

/// `response` with the policy that lets the passkey script run.
pub fn with_passkey_script(mut response: Response) -> Response {
    response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(SCRIPTED_PAGE_CSP));
    response
}

/// The form post page's script.
pub async fn form_post_script() -> Response {
    asset(include_str!("../../assets/form-post.js"), "text/javascript; charset=utf-8")
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses_and_escapes() {
        for (name, _) in TEMPLATE_SOURCES.iter().filter(|(name, _)| *name != "base.html") {
            let rendered = html(name, minijinja::context! {});
            assert!(rendered.is_ok(), "{name}: {rendered:?}");
        }
        let html = html(
            "error.html",
            minijinja::context! { tenant => "acme", heading => "x", message => "<script>alert(1)</script>" },
        )
        .expect("renders");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("<script>"));
    }

    #[test]
    fn the_form_post_page_escapes_values_and_loads_only_its_own_script() {
        let params = [("code", "a\"><script>".to_owned()), ("state", "s&t".to_owned())];
        let response = form_post("https://app.example/cb?x=\"y", &params);
        let csp = response.headers()[header::CONTENT_SECURITY_POLICY].to_str().expect("ascii").to_owned();
        assert_eq!(csp, FORM_POST_CSP);
        let html =
            html("form_post.html", minijinja::context! { action => "https://app.example/cb?x=\"y", params => params })
                .expect("renders");
        assert!(html.contains(r#"<script src="/assets/form-post.js"></script>"#), "{html}");
        assert!(html.contains(r#"value="a&quot;&gt;&lt;script&gt;""#), "{html}");
        assert!(html.contains(r#"action="https:&#x2f;&#x2f;app.example&#x2f;cb?x=&quot;y""#), "{html}");
        assert_eq!(html.matches("<script").count(), 1, "{html}");
    }
}
