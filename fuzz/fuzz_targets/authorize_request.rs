//! Authorization requests from untrusted browsers: any query string is validated or refused
//! with an OAuth error, never a panic, and what passes keeps the rules (scopes the client may
//! have, an S256 challenge of the right shape, prompt=none alone, a hybrid request with its
//! nonce and never in a query).
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_core::model::client::{ClientMetadata, ClientRecord};
use portcullis_oidc::Params;
use portcullis_oidc::authorize::check_request;

fuzz_target!(|data: &[u8]| {
    let metadata: ClientMetadata = serde_json::from_value(serde_json::json!({
        "client_name": "Fuzz", "redirect_uris": ["https://app.example.com/cb"],
        "scope": "openid email offline_access", "audiences": ["https://api.example.com"],
        "response_types": ["code", "code id_token"]
    }))
    .expect("metadata");
    let now = time::OffsetDateTime::UNIX_EPOCH;
    let client = ClientRecord {
        tenant_id: portcullis_types::TenantId::new(),
        client_id: "fuzz".into(),
        secret_digest: None,
        registration_digest: None,
        metadata,
        created_at: now,
        updated_at: now,
    };
    let params = Params::parse(data);
    if let Ok(request) = check_request(&client, "https://app.example.com/cb", &params, &[]) {
        assert!(request.scope.iter().all(|s| ["openid", "email", "offline_access"].contains(&s.as_str())));
        let challenge = request.code_challenge.clone().expect("PKCE is required");
        assert!((43..=128).contains(&challenge.len()));
        assert!(!request.prompt.contains(&"none".to_owned()) || request.prompt.len() == 1);
        assert!(request.resource.iter().all(|r| r == "https://api.example.com"));
        if request.response_type.is_some() {
            assert!(request.nonce.is_some() && request.scope.contains(&"openid".to_owned()));
            assert_ne!(request.response_mode.as_deref(), Some("query"));
        }
    }
});
