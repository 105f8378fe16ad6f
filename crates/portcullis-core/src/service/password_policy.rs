//! Each tenant's password policy (issue 4 item 2) and the check of a new password against it:
//! length, the most common passwords (zxcvbn's list, shipped in the binary), a strength
//! estimate that counts the user's own names against the password, and optionally a
//! Have-I-Been-Pwned-style range API with k-anonymity (only five hex digits of the SHA-1
//! leave the server).

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::json;
use sha1::{Digest, Sha1};
use zxcvbn::matching::patterns::MatchPattern;

use super::audit::Change;
use super::{Principal, Services};
use crate::error::{Error, FieldError, Result};
use crate::model::password_policy::PasswordPolicy;
use crate::model::tenant::TenantRecord;
use crate::model::token::Access;
use crate::store::StoreTx;

/// Fetches a range of a breached-password API: the body of `GET {url}`, or why not.
#[async_trait]
pub trait BreachedPasswords: Send + Sync {
    async fn range(&self, url: &str) -> std::result::Result<String, String>;
}

/// Whether the password matches one of zxcvbn's common passwords as a whole (also reversed
/// or with l33t substitutions). zxcvbn does not export the type naming its dictionaries, so the
/// name is compared as it prints (a unit test notices if that changes).
fn is_common(entropy: &zxcvbn::Entropy, length: usize) -> bool {
    entropy.sequence().iter().any(|m| {
        m.i == 0
            && m.j + 1 >= length
            && matches!(&m.pattern, MatchPattern::Dictionary(d) if format!("{:?}", d.dictionary_name) == "Passwords")
    })
}

/// Whether `body` (lines `SUFFIX:COUNT`) lists `suffix` with a count above zero (padding lines
/// have zero).
fn listed(body: &str, suffix: &str) -> bool {
    body.lines().any(|line| {
        line.trim().split_once(':').is_some_and(|(s, count)| {
            s.eq_ignore_ascii_case(suffix) && count.trim().parse::<u64>().is_ok_and(|n| n > 0)
        })
    })
}

fn check_policy(policy: &PasswordPolicy) -> Result<()> {
    let mut errors = Vec::new();
    if !(8..=128).contains(&policy.min_length) {
        errors.push(FieldError::new("min_length", "must be between 8 and 128"));
    }
    if policy.min_strength > 4 {
        errors.push(FieldError::new("min_strength", "must be between 0 and 4"));
    }
    if let Some(url) = &policy.breached_range_url
        && (!(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 500 || url.contains(['?', '#']))
    {
        errors.push(FieldError::new("breached_range_url", "must be an http(s) URL without query or fragment"));
    }
    if errors.is_empty() { Ok(()) } else { Err(Error::Validation(errors)) }
}

impl Services {
    /// Uses `checker` for the policies that name a breached-password range API.
    pub fn with_breach_check(mut self, checker: Arc<dyn BreachedPasswords>) -> Self {
        self.breaches = Some(checker);
        self
    }

    async fn policy_in(&self, tx: &mut Box<dyn StoreTx>, tenant: &TenantRecord) -> Result<PasswordPolicy> {
        match tx.password_policy_get(tenant.id).await? {
            Some(text) => serde_json::from_str(&text).map_err(Error::internal),
            None => Ok(PasswordPolicy::for_profile(tenant.profile)),
        }
    }

    /// `GET …/password-policy`.
    pub async fn get_password_policy(&self, who: &Principal, tenant: &str) -> Result<PasswordPolicy> {
        let mut tx = self.store.read().await?;
        let record = self.tenant_for(&mut tx, who, tenant, Access::Read).await?;
        self.policy_in(&mut tx, &record).await
    }

    /// `PUT …/password-policy`: applies to passwords set from now on.
    pub async fn put_password_policy(
        &self,
        who: &Principal,
        tenant: &str,
        policy: PasswordPolicy,
    ) -> Result<PasswordPolicy> {
        check_policy(&policy)?;
        let mut tx = self.store.write().await?;
        let record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        let before = self.policy_in(&mut tx, &record).await?;
        let text = serde_json::to_string(&policy).map_err(Error::internal)?;
        tx.password_policy_put(record.id, &text, self.clock.now()).await?;
        self.record(
            &mut tx,
            who,
            Change {
                action: "password_policy.put",
                tenant: Some(tenant),
                target_type: "password_policy",
                target_id: None,
                before: Some(json!(before)),
                after: Some(json!(policy)),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(policy)
    }

    /// Checks a new password against the tenant's policy; `inputs` are the user's own words
    /// (username, e-mail, names), which make a password that contains them weaker. Every
    /// failed rule is named under `password`.
    pub(crate) async fn check_new_password(
        &self,
        tenant: &TenantRecord,
        password: &str,
        inputs: Vec<String>,
    ) -> Result<()> {
        let policy = {
            let mut tx = self.store.read().await?;
            self.policy_in(&mut tx, tenant).await?
        };
        let mut errors = Vec::new();
        let length = password.chars().count();
        if length < policy.min_length as usize {
            errors.push(FieldError::new("password", format!("must be at least {} characters", policy.min_length)));
        }
        // zxcvbn's work grows with the length: on the bounded pool, like hashing.
        let candidate = password.to_owned();
        let (common, score) = self
            .hash_pool
            .run(move || {
                let words: Vec<&str> = inputs.iter().map(String::as_str).collect();
                let entropy = zxcvbn::zxcvbn(&candidate, &words);
                (is_common(&entropy, candidate.chars().count()), u8::from(entropy.score()))
            })
            .await?;
        if policy.reject_common && common {
            errors.push(FieldError::new("password", "is one of the most common passwords"));
        } else if score < policy.min_strength {
            errors.push(FieldError::new("password", "is too easy to guess: use a longer phrase of unrelated words"));
        }
        if errors.is_empty()
            && let (Some(url), Some(checker)) = (&policy.breached_range_url, &self.breaches)
        {
            let digest = hex::encode_upper(Sha1::digest(password.as_bytes()));
            let (prefix, suffix) = digest.split_at(5);
            match checker.range(&format!("{url}{prefix}")).await {
                Ok(body) if listed(&body, suffix) => {
                    errors.push(FieldError::new("password", "appears in known data breaches"));
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, "the breached-password service did not answer; the password was not checked there")
                }
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(Error::Validation(errors)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_answers_are_read_with_their_counts() {
        let body = "0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n00D4F6E8FA6EECAD2A3AA415EEC418D38EC:0\r\n";
        assert!(listed(body, "0018a45c4d1def81644b54ab7f969b88d65"));
        assert!(!listed(body, "00D4F6E8FA6EECAD2A3AA415EEC418D38EC"), "padding has a count of zero");
        assert!(!listed(body, "FFFF"));
        assert!(!listed("garbage", "FFFF"));
    }

    #[test]
    fn common_passwords_are_found_whole_and_disguised() {
        for common in ["password1", "dragon", "P@ssw0rd", "drowssap", "qwertyuiop"] {
            let entropy = zxcvbn::zxcvbn(common, &[]);
            assert!(is_common(&entropy, common.chars().count()), "{common}");
        }
        let phrase = "correct horse battery staple";
        assert!(!is_common(&zxcvbn::zxcvbn(phrase, &[]), phrase.chars().count()));
    }

    #[test]
    fn policies_out_of_bounds_are_refused() {
        let mut policy = PasswordPolicy::for_profile(crate::model::tenant::TenantProfile::Customer);
        assert!(check_policy(&policy).is_ok());
        policy.min_length = 4;
        policy.min_strength = 5;
        policy.breached_range_url = Some("ftp://x".into());
        let Err(Error::Validation(errors)) = check_policy(&policy) else { panic!("refused") };
        assert_eq!(errors.len(), 3);
    }
}
