//! A tenant's password policy (issue 4 item 2).

use serde::{Deserialize, Serialize};

use crate::model::tenant::TenantProfile;

/// What a new password must meet, beyond the bounds every password has (8 to 1024 bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordPolicy {
    /// Fewest characters (8 to 128).
    pub min_length: u32,
    /// Lowest strength estimate (zxcvbn score): 0 (anything) to 4 (more than 10^10 guesses).
    /// The user's own username, e-mail and names count against a password that contains them.
    pub min_strength: u8,
    /// Refuse the 30,000 most common passwords (the list ships with the binary), also
    /// reversed or with l33t substitutions.
    pub reject_common: bool,
    /// A Have-I-Been-Pwned-style range API (`https://api.pwnedpasswords.com/range/`): the
    /// first five hex digits of the password's SHA-1 are appended and only they leave the
    /// server (k-anonymity); a password found there is refused. An unreachable service lets
    /// the password through (and says so in the log).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breached_range_url: Option<String>,
}

impl PasswordPolicy {
    /// The defaults of a profile: NIST SP 800-63B's 8 characters with a strength floor for
    /// customers, 12 and a higher floor for a workforce.
    pub fn for_profile(profile: TenantProfile) -> Self {
        match profile {
            TenantProfile::Workforce => {
                Self { min_length: 12, min_strength: 3, reject_common: true, breached_range_url: None }
            }
            TenantProfile::Customer => {
                Self { min_length: 8, min_strength: 2, reject_common: true, breached_range_url: None }
            }
        }
    }
}
