//! The pages' languages: English and German, chosen per request from the client's
//! `ui_locales` (OIDC Core §3.1.2.1, RP-Initiated Logout §2) when it names one offered, else
//! from `Accept-Language` (RFC 9110 §12.5.4), else English. Texts live in `locales/*.toml`,
//! one file per language with the same keys; a missing text falls back to English.

use std::cell::Cell;
use std::sync::LazyLock;

use axum::extract::Request;
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;

/// A language the pages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locale {
    En,
    De,
}

/// The languages offered, by primary language subtag (RFC 5646 §2.2.1).
const OFFERED: [(&str, Locale); 2] = [("en", Locale::En), ("de", Locale::De)];

/// The tags of the languages offered, for discovery's `ui_locales_supported`.
pub const OFFERED_TAGS: [&str; 2] = [OFFERED[0].0, OFFERED[1].0];

impl Locale {
    /// The language tag, for `<html lang>` and `Content-Language`.
    pub fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::De => "de",
        }
    }

    /// The language of a tag such as `de-CH`, if offered.
    fn of_tag(tag: &str) -> Option<Self> {
        let primary = tag.split('-').next().unwrap_or_default();
        OFFERED.iter().find(|(code, _)| code.eq_ignore_ascii_case(primary)).map(|(_, locale)| *locale)
    }

    fn catalog(self) -> &'static Catalog {
        match self {
            Self::En => &CATALOGS.0,
            Self::De => &CATALOGS.1,
        }
    }
}

/// One language's texts: as a TOML table for lookups from code, and as a template value.
struct Catalog {
    table: toml::Table,
    value: minijinja::Value,
}

impl Catalog {
    fn parse(name: &str, source: &str) -> Self {
        let table: toml::Table = toml::from_str(source).unwrap_or_else(|error| {
            tracing::error!(%error, name, "a built-in language file does not parse");
            toml::Table::new()
        });
        let value = minijinja::Value::from_serialize(&table);
        Self { table, value }
    }

    fn get(&self, key: &str) -> Option<&str> {
        let (section, name) = key.split_once('.')?;
        self.table.get(section)?.get(name)?.as_str()
    }
}

static CATALOGS: LazyLock<(Catalog, Catalog)> = LazyLock::new(|| {
    (
        Catalog::parse("en.toml", include_str!("locales/en.toml")),
        Catalog::parse("de.toml", include_str!("locales/de.toml")),
    )
});

/// The first offered language of a `ui_locales` value: tags separated by spaces, most
/// preferred first.
pub fn from_ui_locales(ui_locales: &str) -> Option<Locale> {
    ui_locales.split(' ').take(32).find_map(Locale::of_tag)
}

/// The offered language an `Accept-Language` header prefers most (weights `q`; `q=0` means
/// "not this one"; equal weights keep their order).
pub fn from_accept_language(headers: &HeaderMap) -> Option<Locale> {
    let value = headers.get(header::ACCEPT_LANGUAGE)?.to_str().ok()?;
    let mut ranges: Vec<(u16, Locale)> = value
        .split(',')
        .take(32)
        .filter_map(|item| {
            let mut parts = item.split(';');
            let locale = Locale::of_tag(parts.next()?.trim())?;
            let weight =
                parts.find_map(|p| p.trim().strip_prefix("q=").map(str::to_owned)).map_or(Some(1000), |q| {
                    q.parse::<f32>().ok().filter(|q| (0.0..=1.0).contains(q)).map(|q| (q * 1000.0) as u16)
                })?;
            (weight > 0).then_some((weight, locale))
        })
        .collect();
    ranges.sort_by_key(|(weight, _)| std::cmp::Reverse(*weight));
    ranges.first().map(|(_, locale)| *locale)
}

tokio::task_local! {
    /// The language of the page this request answers with.
    static CURRENT: Cell<Locale>;
}

/// Middleware of the pages: the request's `Accept-Language` sets its language.
pub async fn scope(request: Request, next: Next) -> Response {
    let locale = from_accept_language(request.headers()).unwrap_or(Locale::En);
    CURRENT.scope(Cell::new(locale), next.run(request)).await
}

/// A request that carries `ui_locales` (kept in its flow) prefers those languages.
pub fn prefer(ui_locales: Option<&str>) {
    if let Some(locale) = ui_locales.and_then(from_ui_locales) {
        // Outside a page request (a test calling a handler directly) there is nothing to set.
        let _ = CURRENT.try_with(|current| current.set(locale));
    }
}

/// The language of the page being answered.
pub fn current() -> Locale {
    CURRENT.try_with(Cell::get).unwrap_or(Locale::En)
}

/// The text at `key` (`section.name`) in the current language, else in English, else the key.
pub fn text(key: &str) -> String {
    let locale = current();
    locale.catalog().get(key).or_else(|| Locale::En.catalog().get(key)).unwrap_or(key).to_owned()
}

/// The current language's texts, for templates (`{{ t.login.title }}`).
pub fn texts() -> minijinja::Value {
    current().catalog().value.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(catalog: &Catalog) -> Vec<String> {
        let mut keys = Vec::new();
        for (section, entries) in &catalog.table {
            for (name, value) in entries.as_table().into_iter().flatten() {
                assert!(value.is_str(), "{section}.{name}");
                keys.push(format!("{section}.{name}"));
            }
        }
        keys.sort();
        keys
    }

    #[test]
    fn every_language_has_every_text() {
        let english = keys(Locale::En.catalog());
        assert!(english.len() > 50, "{english:?}");
        assert_eq!(keys(Locale::De.catalog()), english);
        for (key, de) in english.iter().map(|k| (k, Locale::De.catalog().get(k))) {
            let en = Locale::En.catalog().get(key);
            let placeholders = |text: Option<&str>| text.unwrap_or_default().matches('{').count();
            assert_eq!(placeholders(de), placeholders(en), "{key}: the same placeholders");
        }
    }

    #[test]
    fn templates_use_only_texts_that_exist() {
        for (name, source) in super::super::TEMPLATE_SOURCES {
            for (at, _) in source.match_indices("t.") {
                let before = source[..at].chars().last();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                let key: String = source[at + 2..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
                    .collect();
                assert!(Locale::En.catalog().get(&key).is_some(), "{name}: t.{key} is not in en.toml");
            }
        }
    }

    #[test]
    fn ui_locales_pick_the_first_offered_language() {
        assert_eq!(from_ui_locales("fr-CA de-DE en"), Some(Locale::De));
        assert_eq!(from_ui_locales("EN-gb"), Some(Locale::En));
        assert_eq!(from_ui_locales("fr ja"), None);
        assert_eq!(from_ui_locales(""), None);
    }

    #[test]
    fn accept_language_weights_decide() {
        let mut headers = HeaderMap::new();
        let mut with = |value: &'static str| {
            headers.insert(header::ACCEPT_LANGUAGE, axum::http::HeaderValue::from_static(value));
            from_accept_language(&headers)
        };
        assert_eq!(with("de-DE,de;q=0.9,en;q=0.8"), Some(Locale::De));
        assert_eq!(with("en;q=0.5, de;q=0.7"), Some(Locale::De));
        assert_eq!(with("fr, de;q=0"), None, "q=0 refuses a language");
        assert_eq!(with("de;q=2, en"), Some(Locale::En), "a weight above 1 is malformed and ignored");
        assert_eq!(with("*"), None);
        assert_eq!(with(";;;,,,q=,de;q=abc"), None);
    }

    #[tokio::test]
    async fn texts_follow_the_request_and_fall_back_to_english() {
        assert_eq!(text("login.title"), "Sign in", "outside a request: English");
        CURRENT
            .scope(Cell::new(Locale::En), async {
                prefer(Some("de"));
                assert_eq!(current(), Locale::De);
                assert_eq!(text("login.title"), "Anmelden");
                assert_eq!(text("no.such_key"), "no.such_key");
                prefer(Some("ja"));
                assert_eq!(current(), Locale::De, "a language not offered changes nothing");
            })
            .await;
    }
}
