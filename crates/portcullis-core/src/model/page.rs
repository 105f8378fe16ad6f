//! Cursor pagination: a page of items and an opaque cursor for the next one.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use crate::error::{Error, Result};

/// Largest page a caller may ask for.
pub const MAX_PAGE_SIZE: u32 = 1000;
/// Page size when the caller does not say.
pub const DEFAULT_PAGE_SIZE: u32 = 100;

/// One page of a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Checks a requested page size.
pub fn page_size(limit: Option<u32>) -> Result<u32> {
    match limit {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(n),
        Some(_) => Err(Error::invalid("limit", format!("must be between 1 and {MAX_PAGE_SIZE}"))),
    }
}

/// Encodes the sort key of the last item as an opaque cursor.
pub fn encode_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key.as_bytes())
}

/// Decodes a cursor made by [`encode_cursor`].
pub fn decode_cursor(cursor: Option<&str>) -> Result<Option<String>> {
    cursor
        .map(|c| {
            URL_SAFE_NO_PAD
                .decode(c)
                .ok()
                .and_then(|raw| String::from_utf8(raw).ok())
                .ok_or_else(|| Error::invalid("cursor", "not a cursor returned by this API"))
        })
        .transpose()
}

/// Builds a page from `limit + 1` fetched rows: the extra row says whether more exist.
pub fn into_page<T>(mut rows: Vec<T>, limit: u32, key: impl Fn(&T) -> String) -> Page<T> {
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = if more { rows.last().map(|r| encode_cursor(&key(r))) } else { None };
    Page { items: rows, next_cursor }
}
