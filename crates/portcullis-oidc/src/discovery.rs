//! Discovery documents: OpenID Connect Discovery 1.0 §3 and RFC 8414 §2. They list exactly
//! what this server offers — nothing it would refuse.

use serde_json::{Value, json};

use crate::scopes;

/// The provider metadata of `issuer`; `openid` adds the OpenID-only members. `ui_locales`
/// are the languages of the hosted pages.
pub fn metadata(issuer: &str, openid: bool, ui_locales: &[&str]) -> Value {
    let auth_methods = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"];
    let mut doc = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "introspection_endpoint": format!("{issuer}/introspect"),
        "revocation_endpoint": format!("{issuer}/revoke"),
        "pushed_authorization_request_endpoint": format!("{issuer}/par"),
        "require_pushed_authorization_requests": false,
        "device_authorization_endpoint": format!("{issuer}/device_authorization"),
        "registration_endpoint": format!("{issuer}/register"),
        "end_session_endpoint": format!("{issuer}/logout"),
        "scopes_supported": scopes::BUILT_IN,
        "response_types_supported": portcullis_core::model::client::RESPONSE_TYPES,
        "response_modes_supported": crate::authorize::RESPONSE_MODES,
        "grant_types_supported": [
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "urn:ietf:params:oauth:grant-type:device_code"
        ],
        "token_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": &auth_methods[..3],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "ui_locales_supported": ui_locales,
    });
    if openid && let Value::Object(map) = &mut doc {
        map.insert("userinfo_endpoint".into(), json!(format!("{issuer}/userinfo")));
        map.insert("subject_types_supported".into(), json!(["public"]));
        map.insert("id_token_signing_alg_values_supported".into(), json!(["RS256", "ES256", "EdDSA"]));
        map.insert("claims_supported".into(), json!(scopes::supported_claims()));
        map.insert("claim_types_supported".into(), json!(["normal"]));
        map.insert("claims_parameter_supported".into(), json!(true));
        map.insert("request_parameter_supported".into(), json!(false));
        map.insert("request_uri_parameter_supported".into(), json!(false));
        map.insert("acr_values_supported".into(), json!(portcullis_core::model::auth_policy::ACR_VALUES));
        map.insert("backchannel_logout_supported".into(), json!(true));
        map.insert("backchannel_logout_session_supported".into(), json!(true));
    }
    doc
}
