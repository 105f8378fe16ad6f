//! Form and query parameters as the protocol reads them (RFC 6749 §3.1, §3.2): each at most
//! once, and an empty value counts as absent.

use crate::error::OAuthError;

/// The parameters of a request, in order, repeats included (so they can be refused).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    /// Parses `application/x-www-form-urlencoded` text (a query string or a form body).
    pub fn parse(text: &[u8]) -> Self {
        Self(url::form_urlencoded::parse(text).into_owned().collect())
    }

    /// The single value of `name`. RFC 6749 §3.1: parameters must not repeat; parameters sent
    /// without a value are treated as omitted.
    pub fn single(&self, name: &str) -> Result<Option<&str>, OAuthError> {
        let mut values = self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(OAuthError::invalid_request(format!("the parameter {name} is repeated")));
        }
        Ok(first.filter(|v| !v.is_empty()))
    }

    /// Every value of a parameter that may repeat (RFC 8707 `resource`).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }

    /// Refuses any repeated parameter except those in `may_repeat`.
    pub fn no_repeats(&self, may_repeat: &[&str]) -> Result<(), OAuthError> {
        for (name, _) in &self.0 {
            if !may_repeat.contains(&name.as_str()) {
                self.single(name)?;
            }
        }
        Ok(())
    }
}
