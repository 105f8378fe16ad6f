//! A minimal browser for the hosted pages: keeps cookies, follows nothing by itself, and
//! reads the hidden fields of a form.

use std::collections::BTreeMap;

use reqwest::header::{ACCEPT_LANGUAGE, COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Response, StatusCode};

pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
    pub cookies: BTreeMap<String, String>,
    /// Sent as `Accept-Language` when set.
    pub languages: Option<&'static str>,
}

impl Browser {
    pub fn new(base: &str) -> Self {
        Self::from_address(base, None)
    }

    /// A browser on another host as the server sees it: its connections leave from `address`
    /// (any `127.x.y.z` reaches a server on `127.0.0.1`).
    pub fn from_address(base: &str, address: Option<std::net::IpAddr>) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .local_address(address)
            .build()
            .expect("client");
        Self { http, base: base.to_owned(), cookies: BTreeMap::new(), languages: None }
    }

    fn url(&self, target: &str) -> String {
        if target.starts_with("http") { target.to_owned() } else { format!("{}{target}", self.base) }
    }

    fn keep(&mut self, response: &Response) {
        for value in response.headers().get_all(SET_COOKIE) {
            let text = value.to_str().expect("ascii");
            let (pair, attributes) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').expect("name=value");
            assert!(attributes.contains("HttpOnly") && attributes.contains("SameSite=Lax"), "{text}");
            if attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    pub async fn get(&mut self, target: &str) -> Response {
        let mut request = self.http.get(self.url(target));
        if !self.cookies.is_empty() {
            request = request.header(COOKIE, self.cookie_header());
        }
        if let Some(languages) = self.languages {
            request = request.header(ACCEPT_LANGUAGE, languages);
        }
        let response = request.send().await.expect("send");
        self.keep(&response);
        response
    }

    pub async fn post(&mut self, target: &str, form: &[(&str, &str)]) -> Response {
        let mut request = self.http.post(self.url(target)).form(form);
        if !self.cookies.is_empty() {
            request = request.header(COOKIE, self.cookie_header());
        }
        if let Some(languages) = self.languages {
            request = request.header(ACCEPT_LANGUAGE, languages);
        }
        let response = request.send().await.expect("send");
        self.keep(&response);
        response
    }
}

/// The `Location` of a 303 answer.
pub fn location(response: &Response) -> String {
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "expected a redirect");
    response.headers().get(LOCATION).expect("location").to_str().expect("ascii").to_owned()
}

/// The `value` of the input named `name` in a page.
pub fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no field {name} in {html}")) + marker.len();
    html[start..].split('"').next().expect("value").to_owned()
}

/// The query parameters of a URL.
pub fn query(url: &str) -> BTreeMap<String, String> {
    url::Url::parse(url).expect("url").query_pairs().into_owned().collect()
}

/// The parameters in a URL's fragment.
pub fn fragment(url: &str) -> BTreeMap<String, String> {
    let (_, fragment) = url.split_once('#').unwrap_or_else(|| panic!("no fragment in {url}"));
    url::form_urlencoded::parse(fragment.as_bytes()).into_owned().collect()
}

/// A hidden field's value with the HTML escapes of URLs undone.
pub fn field_value(html: &str, name: &str) -> String {
    field(html, name).replace("&#x2f;", "/").replace("&quot;", "\"").replace("&amp;", "&")
}
