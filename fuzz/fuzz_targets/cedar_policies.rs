//! Cedar policy documents from the admin API (`PUT …/authz/policies`), as JSON or as bare Cedar
//! text: compile (parse, name, link, slice) or refuse; validate what compiles against a derived
//! schema; decide a request with it — never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_authz::Model;
use portcullis_authz::cedar::{EntityFacts, Policies, PolicyDocument, schema_json};
use serde_json::{Map, json};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let document = serde_json::from_str::<PolicyDocument>(text)
        .unwrap_or_else(|_| PolicyDocument { policies: text.to_owned(), ..Default::default() });
    let Ok(policies) = Policies::compile(&document) else { return };
    let model = Model { types: Default::default() };
    let _ = policies.validate(schema_json(&model, &[], &document));
    let principal = EntityFacts {
        kind: "user".into(),
        id: "anne".into(),
        attributes: json!({"username": "anne", "email_verified": true}).as_object().cloned().unwrap_or_default(),
        parents: vec![("role".into(), "admin".into()), ("group".into(), "eng".into())],
    };
    let resource = EntityFacts { kind: "doc".into(), id: "plan".into(), attributes: Map::new(), parents: Vec::new() };
    let mut context = Map::new();
    context.insert("ip".into(), json!("10.1.2.3"));
    context.insert("risk".into(), json!(50));
    for action in ["read", "viewer", "edit"] {
        let _ = policies.decide(&principal, action, &resource, &context);
    }
});
