//! The claims about a user released to a client: by scope (OIDC Core §5.4) and by the
//! `claims` request parameter (§5.5), for the ID token or for `userinfo`.

use portcullis_core::model::role::EffectiveAccess;
use portcullis_core::model::scope::ScopeDefinition;
use portcullis_core::model::user::User;
use serde_json::{Map, Value, json};

use crate::scopes::claims_of;

/// Where claims are going (the member of the `claims` request parameter that applies).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    IdToken,
    Userinfo,
}

impl Target {
    fn member(self) -> &'static str {
        match self {
            Self::IdToken => "id_token",
            Self::Userinfo => "userinfo",
        }
    }
}

/// The value of one claim of `user`, if the user has it.
fn claim(user: &User, access: &EffectiveAccess, name: &str) -> Option<Value> {
    let c = &user.claims;
    let text = |v: &Option<String>| v.as_ref().map(|s| json!(s));
    match name {
        "preferred_username" => Some(json!(user.username)),
        "email" => text(&user.email),
        "email_verified" => user.email.as_ref().map(|_| json!(user.email_verified)),
        "name" => text(&c.name),
        "given_name" => text(&c.given_name),
        "family_name" => text(&c.family_name),
        "middle_name" => text(&c.middle_name),
        "nickname" => text(&c.nickname),
        "profile" => text(&c.profile),
        "picture" => text(&c.picture),
        "website" => text(&c.website),
        "gender" => text(&c.gender),
        "birthdate" => text(&c.birthdate),
        "zoneinfo" => text(&c.zoneinfo),
        "locale" => text(&c.locale),
        "updated_at" => Some(json!(user.updated_at.unix_timestamp())),
        "phone_number" => text(&c.phone_number),
        "phone_number_verified" => c.phone_number.as_ref().map(|_| json!(c.phone_number_verified)),
        "address" => c.address.as_ref().and_then(|a| serde_json::to_value(a).ok()),
        "roles" => Some(json!(access.roles.iter().map(|r| r.name.as_str()).collect::<Vec<_>>())),
        "groups" => Some(json!(access.groups.iter().map(|g| g.name.as_str()).collect::<Vec<_>>())),
        _ => None,
    }
}

/// Whether releasing claims for `scope` and `requested` needs the user's groups and roles
/// (their query is skipped otherwise).
pub fn needs_access(scope: &str, requested: Option<&Value>, custom: &[ScopeDefinition]) -> bool {
    let by_scope = scope.split(' ').any(|s| {
        s == "roles"
            || s == "groups"
            || custom.iter().any(|c| c.name == s && c.claims.iter().any(|n| n == "roles" || n == "groups"))
    });
    let by_request = requested.and_then(Value::as_object).is_some_and(|members| {
        members.values().filter_map(Value::as_object).any(|m| m.contains_key("roles") || m.contains_key("groups"))
    });
    by_scope || by_request
}

/// The claims released for `scope` (space-separated) and the `claims` request parameter,
/// always with `sub`. Claims the user lacks are left out (OIDC Core §5.3.2). User-schema
/// attributes are released only through the tenant's own scopes (`custom`) that map them,
/// never merely because the `claims` parameter named them.
pub fn user_claims(
    user: &User,
    access: &EffectiveAccess,
    scope: &str,
    requested: Option<&Value>,
    target: Target,
    custom: &[ScopeDefinition],
) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("sub".into(), json!(user.id.to_string()));
    let mut names: Vec<&str> = scope.split(' ').flat_map(claims_of).copied().collect();
    let mapped: Vec<&str> = scope
        .split(' ')
        .filter_map(|s| custom.iter().find(|c| c.name == s))
        .flat_map(|c| c.claims.iter().map(String::as_str))
        .collect();
    if let Some(Value::Object(members)) = requested.and_then(|r| r.get(target.member())) {
        names.extend(members.keys().map(String::as_str));
    }
    for name in names.iter().chain(&mapped) {
        if out.contains_key(*name) {
            continue;
        }
        if let Some(value) = claim(user, access, name) {
            out.insert((*name).to_owned(), value);
        }
    }
    for name in mapped {
        if !out.contains_key(name)
            && let Some(value) = user.attributes.get(name)
        {
            out.insert(name.to_owned(), value.clone());
        }
    }
    out
}
