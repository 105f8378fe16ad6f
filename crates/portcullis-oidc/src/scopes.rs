//! Scopes and the claims they release (OIDC Core §5.4), plus Portcullis's `roles` and
//! `groups` scopes.

use portcullis_core::model::client::ClientRecord;
use portcullis_core::model::scope::ScopeDefinition;

/// The scopes a client may request when its registration names none (and the tenant's own).
pub const BUILT_IN: &[&str] = portcullis_core::model::scope::BUILT_IN_SCOPES;

/// The claims each scope releases (OIDC Core §5.4; `roles` and `groups` are Portcullis's).
pub fn claims_of(scope: &str) -> &'static [&'static str] {
    match scope {
        "profile" => &[
            "name",
            "family_name",
            "given_name",
            "middle_name",
            "nickname",
            "preferred_username",
            "profile",
            "picture",
            "website",
            "gender",
            "birthdate",
            "zoneinfo",
            "locale",
            "updated_at",
        ],
        "email" => &["email", "email_verified"],
        "phone" => &["phone_number", "phone_number_verified"],
        "address" => &["address"],
        "roles" => &["roles"],
        "groups" => &["groups"],
        _ => &[],
    }
}

/// Whether `client` may request `scope`: its registered scopes, or else the built-in ones and
/// the tenant's own (`custom`).
pub fn allowed(client: &ClientRecord, scope: &str, custom: &[ScopeDefinition]) -> bool {
    match &client.metadata.scope {
        Some(registered) => registered.split(' ').any(|s| s == scope),
        None => BUILT_IN.contains(&scope) || custom.iter().any(|c| c.name == scope),
    }
}

/// Every claim name this server can release, for discovery.
pub fn supported_claims() -> Vec<&'static str> {
    let mut claims =
        vec!["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "sid", "at_hash"];
    for scope in BUILT_IN {
        claims.extend(claims_of(scope));
    }
    claims
}
