//! Relationship tuples and authorization models (JSON and the text form) from the admin API:
//! parse or refuse, what parses prints back to itself, and a check on any valid model and tuples answers or errs —
//! never panics, never runs away (cycles, depth).
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_authz::{Checker, MemoryTuples, Model, ObjectRef, Subject, Tuple};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(model) = portcullis_authz::dsl::parse(text) {
        let written = portcullis_authz::dsl::to_dsl(&model);
        assert_eq!(portcullis_authz::dsl::parse(&written).as_ref(), Ok(&model), "{written}");
    }
    // A model in JSON, then tuples one per line, then a check `object relation subject`.
    let mut parts = text.splitn(3, "\n---\n");
    let (Some(model), Some(lines)) = (parts.next(), parts.next()) else {
        if let Ok(tuple) = Tuple::parse(text) {
            assert_eq!(tuple.to_string(), text);
        }
        return;
    };
    let Ok(model) = serde_json::from_str::<Model>(model) else { return };
    if model.validate().is_err() {
        return;
    }
    let mut tuples = MemoryTuples::default();
    for line in lines.lines().take(200) {
        if let Ok(tuple) = Tuple::parse(line) {
            tuples.insert(tuple);
        }
    }
    let question: Vec<&str> = parts.next().unwrap_or_default().split(' ').collect();
    if let [object, relation, subject] = question[..]
        && let (Ok(object), Ok(subject)) = (ObjectRef::parse(object), Subject::parse(subject))
    {
        let _ = Checker::new(&model, &tuples).check(&object, relation, &subject);
    }
});
